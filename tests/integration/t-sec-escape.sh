#!/bin/sh
# Strings from an image reach messages and ckptd's log escaped: an
# unprivileged user whose process's cwd is named with a newline and a
# terminal escape dumps it, removes the directory and restores; the refusal
# names the cwd with "\n" and "\e", the log gets one line for it (no forged
# line), and ckptctl's stderr holds no control character.
. "$(dirname "$0")/lib.sh"

command -v setpriv >/dev/null || skip "setpriv missing"
AS_NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
listen_daemon

mkdir -m 0755 "$TMP/pub"
chown 65534:65534 "$TMP/pub"
ESC=$(printf '\033')
BAD=$(printf 'x\nckptd: restore for uid 0 (pid 1) done\033[2J')
$AS_NOBODY mkdir "$TMP/pub/$BAD"
$AS_NOBODY perl -e 'use POSIX; POSIX::close($_) for 3..1023; chdir $ARGV[0] or die;
	exec "sleep", "1000"' "$TMP/pub/$BAD" </dev/null >/dev/null 2>&1 &
NPID=$!
track_pid $NPID
wait_path -e "/proc/$NPID/cwd"
sleep 0.5
[ "$(readlink "/proc/$NPID/cwd")" = "$TMP/pub/$BAD" ] || fail "the target's cwd is $(readlink "/proc/$NPID/cwd")"
$AS_NOBODY "$CKPTCTL" dump -t $NPID -D "$TMP/pub/img" >"$TMP/dump.out" 2>&1 ||
	fail "nobody's dump: $(cat "$TMP/dump.out")"
wait_gone $NPID
$AS_NOBODY rmdir "$TMP/pub/$BAD"
expect_fail 1 'x\\nckptd: restore for uid 0 \(pid 1\) done\\e\[2J' \
	$AS_NOBODY "$CKPTCTL" restore -D "$TMP/pub/img"
[ -e "/proc/$NPID" ] && fail "pid $NPID runs after a failed restore"
grep -q "$ESC" "$LAST_ERR" && fail "an escape character reached ckptctl's stderr"
[ "$(wc -l <"$LAST_ERR")" = 1 ] || fail "ckptctl's message is not one line: $(cat "$LAST_ERR")"
# --json: the same, valid JSON
$AS_NOBODY "$CKPTCTL" restore --json -D "$TMP/pub/img" >"$TMP/r.json" 2>/dev/null
json_check "$TMP/r.json" 'assert "\n" not in j["error"] and "x\\nckptd" in j["error"], j'

grep -q '^ckptd: restore for uid 0 (pid 1) done' "$TMP/daemon.log" &&
	fail "a forged line in ckptd's log: $(cat "$TMP/daemon.log")"
grep -q "$ESC" "$TMP/daemon.log" && fail "an escape character reached ckptd's log"
grep -q 'restore for uid 65534 .* failed: .*x\\nckptd: restore for uid 0 (pid 1) done\\e\[2J' \
	"$TMP/daemon.log" || fail "ckptd's log: $(cat "$TMP/daemon.log")"
exit 0
