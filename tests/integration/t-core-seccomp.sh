#!/bin/sh
# Seccomp filters come back per thread: a thread whose filter denies
# getpid() with EPERM (SECCOMP_FILTER_FLAG_LOG), one with a chain of three
# (uname() denied, getppid() killing the thread, prctl() - which the dump
# injects - killing the process), an unfiltered main thread. Dumped (killing), restored: the target checks from inside that
# every filtered call is still denied, only in its own thread.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

start_target core_seccomp
dump_kill "$TMP/img"
restore_ok "$TMP/img"
# the restored threads are filtered again (the main one is not)
for task in /proc/"$TPID"/task/*; do
	mode=$(sed -n 's/^Seccomp:[[:space:]]*//p' "$task/status")
	[ "${task##*/}" = "$TPID" ] && want=0 || want=2
	[ "$mode" = "$want" ] || fail "thread ${task##*/} has seccomp mode $mode, not $want"
done
expect_status pass
exit 0
