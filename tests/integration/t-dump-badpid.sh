#!/bin/sh
# Targets ckpt must refuse, each with exit status 4 and a message naming
# the pid: a pid that does not exist, a kernel thread (kthreadd), a thread
# that is not a process, PID 1 and the test's own shell (ancestors of the
# requester). A bystander target must not notice any of it.
. "$(dirname "$0")/lib.sh"

start_target threads -n 2
tpid=$TPID
tstatus=$TSTATUS
tid=$(ls "/proc/$tpid/task" | grep -vx "$tpid" | head -n 1)

pid_max=$(cat /proc/sys/kernel/pid_max)
nopid=$((pid_max - 7))
while [ -e "/proc/$nopid" ]; do nopid=$((nopid - 1)); done

expect_fail 4 "$nopid" ckptctl dump -t "$nopid" -D "$TMP/d1"
no_partial_set "$TMP/d1"
kt=$(kthread_pid)
if [ -n "$kt" ]; then
	expect_fail 4 'kernel thread' ckptctl dump -t "$kt" -D "$TMP/d2"
	grep -q "\\b$kt\\b" "$LAST_ERR" || fail "message does not name pid $kt: $(cat "$LAST_ERR")"
	no_partial_set "$TMP/d2"
else
	log "no kernel thread is visible in this pid namespace: that case is not run"
fi
expect_fail 4 "$tid" ckptctl dump -t "$tid" -D "$TMP/d3"
no_partial_set "$TMP/d3"
expect_fail 4 'pid 1\b' ckptctl dump -t 1 -D "$TMP/d4"
expect_fail 4 "$$" ckptctl dump -t $$ -D "$TMP/d5"

# a pid that is not a number is a usage error, never a dump of something
ckpt dump -t 12abc -D "$TMP/d6"
[ $LAST_RC -eq 2 ] || fail "dump -t 12abc exited $LAST_RC, expected 2"
ckpt dump -t 0 -D "$TMP/d6"
[ $LAST_RC -eq 2 ] || [ $LAST_RC -eq 4 ] || fail "dump -t 0 exited $LAST_RC"

check_alive "$tpid"
expect_status pass "$tstatus" "$tpid"
