#!/bin/sh
# ckptd's connection handler killed (SIGKILL) in the middle of a restore:
# the half-built tree dies with it, and ckptctl says so, instead of
# reporting a failure for a tree that then runs. The restore is held half
# way by stopping the new root as soon as it exists (restore_held); the
# handler is killed, the root continued. The same images restore fine
# afterwards.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

listen_daemon
start_target procs
dump_kill "$TMP/img"
root=$TPID

held=0
for try in 1 2 3 4 5; do
	restore_held "$TMP/img" "$root" && { held=1; break; }
done
[ $held -eq 1 ] || skip "could not hold the restore half way in 5 tries"
log "root $root stopped under the restore process $RST_INTER, handler $RST_HANDLER"

kill -KILL "$RST_HANDLER"
kill -CONT "$root" 2>/dev/null
i=0
while kill -0 "$RST_PID" 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "ckptctl still waits 10 s after its handler died"
	sleep 0.1
done
rc=0
wait "$RST_PID" || rc=$?
[ $rc -eq 1 ] || fail "ckptctl exited $rc, not 1, though its handler died mid-restore: $(cat "$TMP/rst.err")"
no_tree_left
case $(proc_state "$RST_INTER") in
""|Z) ;;	# gone, or dead and not reaped yet by whoever inherited it
*) fail "the restore process $RST_INTER outlived its handler: $(proc_stat "$RST_INTER")" ;;
esac
grep -q "handler died mid-restore.*nothing restored is left running" "$TMP/rst.err" ||
	fail "ckptctl's message: $(cat "$TMP/rst.err")"
log "ckptctl (exit $rc): $(cat "$TMP/rst.err")"

# nothing of it is left in the way: the same images restore fine
restore_ok "$TMP/img"
expect_status pass
