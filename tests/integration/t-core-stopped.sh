#!/bin/sh
# A group-stopped process (SIGSTOP) whose threads sleep in syscalls: the
# dump records it as stopped by signal 19, and with --leave-running every
# thread is still stopped afterwards and no longer traced; once continued,
# every interrupted syscall goes on correctly (the target checks them).
. "$(dirname "$0")/lib.sh"

start_target core_restart 4
kill -STOP "$TPID"
i=0
until [ "$(proc_state "$TPID")" = T ]; do
	i=$((i + 1))
	[ $i -le 50 ] || fail "pid $TPID did not stop"
	sleep 0.1
done

dir=$TMP/img
dump_target "$dir"
sleep 0.2
for t in /proc/$TPID/task/*; do
	st=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "$t/status")
	tr=$(sed -n 's/^TracerPid:[[:space:]]*//p' "$t/status")
	[ "$st" = T ] || fail "thread ${t##*/}: state $st after the dump, want T (stopped)"
	[ "$tr" = 0 ] || fail "thread ${t##*/}: still traced by $tr"
done

show_json "$dir"
json_check "$TMP/show.json" "
e = j['pstree'][0]
assert e['state'] in ('TASK_STOPPED', 2), e['state']
assert int(e['stop_signal']) == 19, e.get('stop_signal')
assert len(e['threads']) == 5, e['threads']
"
kill -CONT "$TPID"
check_alive
expect_status pass
exit 0
