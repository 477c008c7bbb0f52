#!/bin/sh
# The harness itself: a target starts, passes, and cleanup kills what a
# test leaves behind (its whole session) by PID.
. "$(dirname "$0")/lib.sh"

start_target sample
check_alive
expect_status pass
grep -q verified "$TMP/sample.log" || fail "sample did not log its verification"

# a target left running is killed by the EXIT trap of a sub-test
sub=$TMP/sub.sh
cat >"$sub" <<SUB
. "$TOP/tests/integration/lib.sh"
start_target sample
echo \$TPID >"$TMP/leftover.pid"
exit 0
SUB
CKPT_TOP=$TOP CKPT_TEST_PIDS= sh "$sub" 2>/dev/null || fail "sub-test failed"
left=$(cat "$TMP/leftover.pid")
i=0
while [ "$(proc_state "$left" 2>/dev/null)" != "" ] && [ "$(proc_state "$left")" != Z ]; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "pid $left survived its test's cleanup"
	sleep 0.1
done

# expect_fail matches exit code and message
expect_fail 2 'usage|unknown|command' ckptctl no-such-command
exit 0
