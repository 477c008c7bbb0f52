#!/bin/sh
# A process another tracer holds: the dump fails (exit 1) saying who traces
# it, leaves no image set, and does not disturb the tracer: afterwards it
# still traces the target, and both pass their checks.
. "$(dirname "$0")/lib.sh"

start_target sample
spid=$TPID
sstatus=$TSTATUS
start_target tracer "$spid"
tracer=$TPID

expect_fail 1 "pid $spid.*traced by pid $tracer|traced by pid $tracer" \
	ckptctl dump -t "$spid" -D "$TMP/img" --leave-running
no_partial_set "$TMP/img"
now=$(sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$spid/status")
[ "$now" = "$tracer" ] || fail "pid $spid: tracer is now '$now', was $tracer"
st=$(proc_state "$spid")
case $st in
S|R) ;;
*) fail "pid $spid left in state $st" ;;
esac

expect_status pass		# the tracer: still the tracer, then detaches
check_alive "$spid"
expect_status pass "$sstatus" "$spid"
