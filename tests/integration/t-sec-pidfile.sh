#!/bin/sh
# restore --pidfile never follows what someone else planted beside the pid
# file: with the pid file in a directory an unprivileged user may write, a
# symlink that user put at the old temporary's name (PATH.tmp.<pid of
# ckptctl>) pointing to a file of root's leaves that file untouched, and
# the pid file is written.
. "$(dirname "$0")/lib.sh"

command -v setpriv >/dev/null || skip "setpriv missing"
AS_NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
chmod 0711 "$TMP"

start_target sample
ckpt_ok dump -t "$TPID" -D "$TMP/img"
wait_gone "$TPID"

mkdir -m 0755 "$TMP/run"
chown 65534:65534 "$TMP/run"
echo precious >"$TMP/victim"
chmod 0644 "$TMP/victim"

# ckptctl's pid is known before it runs: the shell it execs in
mkfifo "$TMP/go"
sh -c 'read x <"$1"; shift; exec "$@"' sh "$TMP/go" \
	"$CKPTCTL" restore -D "$TMP/img" --pidfile "$TMP/run/pid" \
	>"$TMP/restore.out" 2>"$TMP/restore.err" &
P=$!
$AS_NOBODY ln -s "$TMP/victim" "$TMP/run/pid.tmp.$P"
echo go >"$TMP/go"
wait $P || fail "restore: $(cat "$TMP/restore.err")"
RPID=$(cat "$TMP/restore.out")
track_pid "$RPID"

[ "$(cat "$TMP/victim")" = precious ] || fail "the planted symlink was followed: \
$TMP/victim holds '$(cat "$TMP/victim")'"
[ -f "$TMP/run/pid" ] && ! [ -L "$TMP/run/pid" ] || fail "the pid file is not a regular file"
[ "$(cat "$TMP/run/pid")" = "$RPID" ] || fail "pid file: '$(cat "$TMP/run/pid")', want $RPID"
[ "$(stat -c %u "$TMP/run/pid")" = 0 ] || fail "the pid file is not root's"
# the planted link is left alone, and no temporary of ckptctl's stays
[ -L "$TMP/run/pid.tmp.$P" ] || fail "the planted link is gone"
left=$(ls "$TMP/run" | grep -v "^pid\$" | grep -v "^pid.tmp.$P\$")
[ -z "$left" ] || fail "left in the directory: $left"
TPID=$RPID
check_alive
expect_status pass
exit 0
