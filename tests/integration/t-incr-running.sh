#!/bin/sh
# Freeze only to scan: a pre-dump lets the tree run while it copies pages.
# A thread of the target rewrites pages without a pause all along; pages
# it writes during a copy go into the next round, so after pre-dump,
# pre-dump, pre-dump, dump and restore every byte is what it wrote last
# (auto tracker, then hash).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/incr-lib.sh"

for t in auto hash; do
	d=$TMP/$t
	mkdir -p "$d"
	INCR_STEP=0
	start_target incr -w
	ckpt_ok pre-dump -t "$TPID" -D "$d/1" --track "$t"
	incr_step
	ckpt_ok pre-dump -t "$TPID" -D "$d/2" --prev ../1
	incr_step
	incr_step
	ckpt_ok pre-dump -t "$TPID" -D "$d/3" --prev ../2
	incr_step
	dump_kill "$d/4" --prev ../3
	restore_ok "$d/4"
	expect_status pass
	for p in $TREE_PIDS; do
		wait_gone "$p"
	done
done
