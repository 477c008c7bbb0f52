#!/bin/sh
# Restoring more than once.
#  1. A restored process is an ordinary process: it can be dumped and
#     restored again (nothing of the restorer is left in it), and passes.
#  2. One image set restored twice: the set is not used up by a restore
#     (ghost files, shared memory, pipes, the tree with its zombie and
#     stopped child are rebuilt from it again). While the first restored
#     tree runs, a second restore is refused (its pids are taken) without
#     harming it; once it finished, the same set restores again and the
#     target passes again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

start_target threads
dump_kill "$TMP/img1"
restore_ok "$TMP/img1"
check_alive "$TPID"
if grep -q rwxp "/proc/$TPID/maps"; then
	fail "the restorer's region is still mapped: $(grep rwxp "/proc/$TPID/maps")"
fi
dump_kill "$TMP/img2"
restore_ok "$TMP/img2"
expect_status pass

for tgt in memobj procs; do
	start_target $tgt
	dump_kill "$TMP/img.$tgt"
	restore_ok "$TMP/img.$tgt"
	expect_fail 1 "in use|exists|busy" ckptctl restore -D "$TMP/img.$tgt"
	check_alive "$TPID"
	expect_status pass
	for p in $TREE_PIDS; do
		kill -KILL "$p" 2>/dev/null	# a stopped child stays: it is ours
		wait_gone "$p"
	done
	restore_ok "$TMP/img.$tgt"
	log "$tgt: the same set restored a second time"
	expect_status pass
done
