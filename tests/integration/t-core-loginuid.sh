#!/bin/sh
# The audit loginuid comes back: a target sets its own (4242), is dumped
# (killing) and restored, and checks it still has it. The restored task
# sets it on itself, which the kernel allows once while ckptd's (inherited)
# is unset; where ckptd's is set (a login session), the dump must warn
# that it will not be restored instead.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

[ -e /proc/self/loginuid ] || skip "no audit loginuid on this kernel"
start_target core_loginuid 4242
if [ "$(cat /proc/self/loginuid)" != 4294967295 ]; then
	ckpt_ok dump -t "$TPID" -D "$TMP/img" --leave-running
	grep -q "pid $TPID: its loginuid 4242 will not be restored" "$LAST_OUT" "$LAST_ERR" ||
		fail "no warning that loginuid 4242 is lost: $(cat "$LAST_OUT" "$LAST_ERR")"
	expect_status pass
	exit 0
fi
dump_kill "$TMP/img"
restore_ok "$TMP/img"
[ "$(cat "/proc/$TPID/loginuid")" = 4242 ] ||
	fail "restored loginuid is $(cat "/proc/$TPID/loginuid"), not 4242"
expect_status pass
exit 0
