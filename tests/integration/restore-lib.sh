# Helpers of the restore tests (sourced after lib.sh).

# tree_pids DIR: every pid of the image set's pstree.img, one per line.
tree_pids()
{
	"$CKPTCTL" show "$1" | python3 -c '
import json, sys
for t in json.load(sys.stdin)["pstree"]:
    print(t["pid"])'
}

# dump_kill DIR: dump $TPID (its tree is killed, as CRIU does by default)
# and wait until every pid of the tree is free again. Sets TREE_PIDS.
dump_kill()
{
	local dir=$1 p
	mkdir -p "$dir"
	ckpt_ok dump -t "$TPID" -D "$dir"
	TREE_PIDS=$(tree_pids "$dir") || fail "cannot read the pstree of $dir"
	for p in $TREE_PIDS; do
		wait_gone "$p"
	done
	log "dumped and killed $TPID (tree: $(echo $TREE_PIDS))"
}

# restore_ok DIR: restore; the root must come back with its pid.
restore_ok()
{
	local dir=$1 p
	ckpt_ok restore -D "$dir" --pidfile "$TMP/restored.pid"
	[ "$(cat "$TMP/restored.pid")" = "$TPID" ] ||
		fail "restored root is $(cat "$TMP/restored.pid"), not $TPID"
	for p in $TREE_PIDS; do
		track_pid "$p"
	done
	log "restored $TPID"
}

# no_tree_left: no pid of the tree exists (after a failed restore).
no_tree_left()
{
	local p i
	for p in $TREE_PIDS; do
		i=0
		while [ -e "/proc/$p" ]; do
			i=$((i + 1))
			[ $i -le 50 ] || fail "pid $p of the tree is left after a failed restore: $(proc_stat "$p")"
			sleep 0.1
		done
	done
}

# restore_cycle TARGET [ARGS...]: start, dump (killing), restore, check.
restore_cycle()
{
	start_target "$@"
	dump_kill "$TMP/img"
	restore_ok "$TMP/img"
	expect_status pass
}
