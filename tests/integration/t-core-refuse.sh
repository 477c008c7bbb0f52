#!/bin/sh
# Targets a dump must refuse, each with a message naming the pid and why,
# leaving the target as it was and no image set behind: a pid that does
# not exist, a kernel thread, a tree holding the client itself (exit 4: not
# a target ckpt may touch), a process someone else traces, one in seccomp
# strict mode or with a filter it could not get back, a vfork parent
# that no ptrace stop can reach (named with its child) and a process whose
# main thread exited before its other threads (exit 1).
. "$(dirname "$0")/lib.sh"

dir=$TMP/img
mkdir -p "$dir"

max=$(cat /proc/sys/kernel/pid_max)
nopid=$((max - 1))
while [ -e "/proc/$nopid" ]; do nopid=$((nopid - 1)); done
expect_fail 4 "no process with pid $nopid" ckptctl dump -t "$nopid" -D "$dir"
no_partial_set "$dir"

kt=$(kthread_pid)
if [ -n "$kt" ]; then
	expect_fail 4 "pid $kt is a kernel thread" ckptctl dump -t "$kt" -D "$dir"
	no_partial_set "$dir"
else
	log "no kernel thread is visible in this pid namespace: that case is not run"
fi

start_target sample
victim=$TPID vstatus=$TSTATUS
start_target tracer "$victim"
tracer=$TPID
expect_fail 1 "pid $victim is already traced by pid $tracer" \
	ckptctl dump -t "$victim" -D "$dir" --leave-running
no_partial_set "$dir"
[ "$(sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$victim/status")" = "$tracer" ] ||
	fail "the refused dump changed the tracer of $victim"
expect_status pass		# the tracer checks it still traces its victim
check_alive "$victim"
expect_status pass "$vstatus" "$victim"

# seccomp strict mode (here in a thread) can't be restored, only filters
start_target core_seccomp -s
expect_fail 1 "pid $TPID \(thread [0-9]+\) runs in seccomp strict mode" \
	ckptctl dump -t "$TPID" -D "$dir"
no_partial_set "$dir"
check_alive
expect_status pass

# a filter installed without no_new_privs by a thread that has since lost
# CAP_SYS_ADMIN: the restorer could not install it again
start_target core_seccomp -p
expect_fail 1 "pid $TPID: thread $TPID runs under a seccomp filter but has neither no_new_privs nor CAP_SYS_ADMIN" \
	ckptctl dump -t "$TPID" -D "$dir"
no_partial_set "$dir"
check_alive
expect_status pass

# a vfork parent sleeps uninterruptibly until its child execs or exits
start_target core_vfork
i=0
until [ "$(proc_state "$TPID")" = D ]; do
	i=$((i + 1))
	[ $i -le 50 ] || fail "the vfork parent $TPID is not in D state"
	sleep 0.1
done
child=$(tr -d " " <"/proc/$TPID/task/$TPID/children")
expect_fail 1 "pid $TPID: thread $TPID is in uninterruptible sleep: it is a vfork parent waiting for its child pid $child" \
	ckptctl dump -t "$TPID" -D "$dir" --leave-running
no_partial_set "$dir"
for p in $TPID $(cat "/proc/$TPID/task/$TPID/children"); do
	tr=$(sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$p/status")
	[ "$tr" = 0 ] || fail "pid $p left traced by $tr"
done
kill -KILL $(cat "/proc/$TPID/task/$TPID/children")
check_alive
expect_status pass

# a main thread that exited (pthread_exit) while another thread runs
start_target core_leader
expect_fail 1 "pid $TPID: its main thread has exited while 1 other threads run" \
	ckptctl dump -t "$TPID" -D "$dir"
no_partial_set "$dir"
expect_status pass

# this shell's tree holds ckptctl (and its one-shot ckptd)
expect_fail 4 "pid [0-9]+ is (the requesting client|ckptd|the parent of ckptd)|client|ckptd" \
	ckptctl dump -t $$ -D "$dir" --leave-running
no_partial_set "$dir"
tracer=$(sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$$/status")
[ "$tracer" = 0 ] || fail "the test shell is left traced by $tracer"
exit 0
