#!/bin/sh
# A pid held by a zombie: restore waits (up to 5 s) for its parent to reap
# it. The target runs under latereap, a parent that leaves it a zombie for
# a while once it exits. The dump kills it; while its pid is a zombie:
#  - reaped 2 s later: the restore waits, then succeeds, after the reap;
#  - never reaped: the restore fails after 5 s, exit 1, naming the pid and
#    the parent that holds it, and the zombie is left as it was.
# A live process holding the pid fails at once.
# ^C while the restore waits for the zombie cancels it: exit 9, nothing
# restored (the pid stays free once the zombie is reaped).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

need_file "$TARGETS/latereap"

now_ms()
{
	echo $(( $(date +%s%N) / 1000000 ))
}

# zombie_of PID PARENT: PID is a zombie that PARENT has not reaped
zombie_of()
{
	local st
	st=$(proc_stat "$1") || fail "pid $1 is gone: the test restores too late"
	set -- $st "$2"
	[ "$1" = Z ] && [ "$2" = "$6" ] ||
		fail "pid is not a zombie of $6 (state $1, parent $2)"
}

# start_held SECONDS: the sample target under latereap SECONDS, dumped
# (and killed): $TPID is left a zombie of $HOLDER; the set in $IMG.
start_held()
{
	start_target latereap "$1" "$TARGETS/sample"
	HOLDER=$(proc_stat "$TPID" | cut -d' ' -f2)
	[ -n "$HOLDER" ] && [ "$HOLDER" != "$TPID" ] || fail "no parent for $TPID"
	IMG=$TMP/img.$_lib_nr
	mkdir -p "$IMG"
	ckpt_ok dump -t "$TPID" -D "$IMG"
	zombie_of "$TPID" "$HOLDER"
	log "pid $TPID is a zombie of $HOLDER"
}

# 1. reaped 2 s after it died: restored once the pid is free
start_held 2
pid=$TPID
TREE_PIDS=$pid
t0=$(now_ms)
restore_ok "$IMG"
t1=$(now_ms)
[ -s "$TSTATUS.reaped" ] || fail "latereap has not reaped $pid, yet the restore succeeded"
set -- $(cat "$TSTATUS.reaped")
[ "$1" = "$pid" ] || fail "latereap reaped $1, not $pid"
[ $(( $2 / 1000000 )) -le "$t1" ] || fail "the restore ended before the zombie was reaped"
log "restore waited $((t1 - t0)) ms for the zombie"
check_alive "$pid"
expect_status pass

# 2. never reaped (within the test): refused after the 5 s wait
start_held 600
pid=$TPID
TREE_PIDS=
t0=$(now_ms)
expect_fail 1 "pid $pid is held by a zombie \\(not yet reaped by its parent pid $HOLDER\\); waited 5 s" \
	ckptctl restore -D "$IMG"
t1=$(now_ms)
[ $((t1 - t0)) -ge 4900 ] || fail "the restore gave up after $((t1 - t0)) ms, before 5 s"
[ $((t1 - t0)) -lt 30000 ] || fail "the restore took $((t1 - t0)) ms"
zombie_of "$pid" "$HOLDER"

# 3. ^C during the wait: cancelled before the tree is built
start_held 2
pid=$TPID
TREE_PIDS=
python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$CKPTCTL" restore -D "$IMG" >"$TMP/cancel.out" 2>"$TMP/cancel.err" &
RPID=$!
sleep 0.5
kill -INT $RPID
rc=0
wait $RPID || rc=$?
[ $rc -eq 9 ] || fail "the cancelled restore exited $rc, not 9: $(cat "$TMP/cancel.out" "$TMP/cancel.err")"
grep -q "cancelled before the tree was built: nothing was restored" "$TMP/cancel.err" ||
	fail "the cancelled restore said: $(cat "$TMP/cancel.err")"
[ -s "$TSTATUS.reaped" ] || fail "the restore ended before latereap reaped $pid"
[ -d /proc/$pid ] && fail "pid $pid runs after a cancelled restore: $(proc_stat $pid)"
log "a restore cancelled by ^C restored nothing"

# 4. a live process holds the pid: refused at once
start_target sample
dump_target "$TMP/live"
t0=$(now_ms)
expect_fail 1 "pid $TPID is in use" ckptctl restore -D "$TMP/live"
t1=$(now_ms)
[ $((t1 - t0)) -lt 4000 ] || fail "refusing a live pid took $((t1 - t0)) ms"
check_alive
expect_status pass
log "zombies waited for, live processes refused at once"
