#!/bin/sh
# ckptd's own account of an operation, carried back to ckptctl: with -v a
# dump and a restore name each stage they went through with its duration,
# and end with a summary; -vv adds the debug lines (each stage's begin);
# --log-file gets every line (as -vv) whatever -v says, appended, mode
# 0600, and a failure too. Without them, nothing more is said.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

# stages_timed FILE CMD STAGE...: FILE names each STAGE of CMD with a time
stages_timed()
{
	local f=$1 cmd=$2 s
	shift 2
	for s in "$@"; do
		grep -Eq "^ckptctl $cmd: \[ *[0-9]+\.[0-9]{3} s\] $s: .*[0-9]+\.[0-9]{3} s" "$f" ||
			fail "$cmd: stage '$s' without its time in $f: $(cat "$f")"
	done
}

start_target memory -d 16
mkdir "$TMP/img"
ckpt_ok -v dump -t "$TPID" -D "$TMP/img" --log-file "$TMP/ckpt.log"
stages_timed "$LAST_ERR" dump freeze tasks pages check
grep -Eq "dump of pid $TPID: 1 tasks, [0-9]+ threads.*pages written" "$LAST_ERR" ||
	fail "dump -v: no summary: $(cat "$LAST_ERR")"
grep -q "begins" "$LAST_ERR" && fail "dump -v showed debug lines: $(cat "$LAST_ERR")"
TREE_PIDS=$TPID
wait_gone "$TPID"

ckpt_ok restore -D "$TMP/img" -v --log-file="$TMP/ckpt.log"
stages_timed "$LAST_ERR" restore "read images" "restore tree"
grep -Eq "restore: pid $TPID, 1 tasks, [0-9]+ pages" "$LAST_ERR" ||
	fail "restore -v: no summary: $(cat "$LAST_ERR")"
track_pid "$TPID"
check_alive

# the log file: every line, the debug ones too, of both operations
stages_timed "$TMP/ckpt.log" dump freeze tasks pages check
stages_timed "$TMP/ckpt.log" restore "read images" "restore tree"
grep -q "^ckptctl dump: \[ *[0-9.]* s\] freeze begins" "$TMP/ckpt.log" ||
	fail "the log file lacks the debug lines: $(cat "$TMP/ckpt.log")"
grep -q "the tree runs in" "$TMP/ckpt.log" || fail "no cgroup line: $(cat "$TMP/ckpt.log")"
[ "$(stat -c %a "$TMP/ckpt.log")" = 600 ] || fail "log file mode $(stat -c %a "$TMP/ckpt.log")"

# -vv shows the debug lines; the log file alone shows nothing on stderr
mkdir "$TMP/img2"
ckpt_ok dump -vv -t "$TPID" -D "$TMP/img2" --leave-running
grep -q "freeze begins" "$LAST_ERR" || fail "dump -vv: no debug lines: $(cat "$LAST_ERR")"
lines=$(wc -l <"$TMP/ckpt.log")
ckpt_ok dump -t "$TPID" -D "$TMP/img2" --leave-running --force --log-file "$TMP/ckpt.log"
[ ! -s "$LAST_ERR" ] || fail "dump with only --log-file wrote to stderr: $(cat "$LAST_ERR")"
[ "$(wc -l <"$TMP/ckpt.log")" -gt "$lines" ] || fail "the log file was not appended to"

# a failure goes to the log file too, once on stderr
expect_fail 4 "no process with pid 999999999" ckptctl dump -v -t 999999999 -D "$TMP/img3" \
	--log-file "$TMP/ckpt.log"
[ "$(grep -c "no process with pid 999999999" "$LAST_ERR")" -eq 1 ] ||
	fail "the failure is not said once: $(cat "$LAST_ERR")"
grep -q "ckptctl dump: no process with pid 999999999" "$TMP/ckpt.log" ||
	fail "the failure is not in the log file: $(tail -n 3 "$TMP/ckpt.log")"
expect_fail 1 "cannot open it" ckptctl check --log-file "$TMP/no/such/dir/log"
expect_fail 2 "needs an argument" ckptctl check --log-file

# without -v: nothing more than before
mkdir "$TMP/img4"
ckpt_ok dump -t "$TPID" -D "$TMP/img4" --leave-running
[ ! -s "$LAST_ERR" ] || fail "dump without -v wrote to stderr: $(cat "$LAST_ERR")"
check_alive
expect_status pass
