#!/bin/sh
# Ten rounds of one chain (auto tracker): a --leave-running dump that
# starts it, then pre-dumps and --leave-running incremental dumps in turn,
# each after steps that write, map, unmap, grow, move, re-protect, drop and
# fork; the final dump kills the tree. The last set restores; so does a
# --leave-running dump from the middle of the chain (the tree as it was
# then, checked by itself). Each round writes far less than the first.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/incr-lib.sh"

C=$TMP/c
mkdir -p "$C"
start_target incr
ckpt_ok dump -t "$TPID" -D "$C/1" --leave-running --track auto --json
first=$(json_pages)
for i in 2 3 4 5 6 7 8 9; do
	incr_step
	if [ $((i % 2)) -eq 0 ]; then
		ckpt_ok pre-dump -t "$TPID" -D "$C/$i" --prev "../$((i - 1))" --json
	else
		ckpt_ok dump -t "$TPID" -D "$C/$i" --prev "../$((i - 1))" --leave-running --json
	fi
	n=$(json_pages)
	log "round $i: $n pages (round 1: $first)"
	# the child forked at step 2 is new in round 3: saved whole
	[ "$i" -eq 3 ] || [ "$n" -lt $((first / 4)) ] ||
		fail "round $i wrote $n pages, round 1 $first"
done
incr_step
dump_kill "$C/10" --prev ../9
ckpt_ok show --chain "$C/10"
log "chain: $(tr '\n' ' ' <"$LAST_OUT")"
restore_ok "$C/10"
expect_status pass
for p in $TREE_PIDS; do
	wait_gone "$p"
done

# the middle of the chain: round 5, a --leave-running dump
restore_ok "$C/5"
expect_status pass
