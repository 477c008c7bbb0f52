#!/bin/sh
# A task of the tree killed while the restore builds it (the middle one of
# root -> child -> grandchild): the restore fails at once, not after a
# timeout, naming the pid and the signal, and no task of it is left. The
# restore is held half way by stopping the grandchild as soon as it exists
# (restore_held), then the child is killed. The same images restore fine
# afterwards.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

listen_daemon
start_target procs
notes=$TSTATUS.info
# the root's running child that has a child of its own, and that one
mid=$(awk -v r="$TPID" '$1 == "task" && $3 == r && $4 == "alive" { print $2 }' "$notes" |
	while read -r c; do
		grep -q "^task [0-9]* $c alive" "$notes" && echo "$c"
	done | head -n 1)
[ -n "$mid" ] || fail "no middle task in $(cat "$notes")"
leaf=$(awk -v m="$mid" '$1 == "task" && $3 == m { print $2; exit }' "$notes")
dump_kill "$TMP/img"

held=0
for try in 1 2 3 4 5; do
	restore_held "$TMP/img" "$leaf" && { held=1; break; }
done
[ $held -eq 1 ] || skip "could not hold the restore half way in 5 tries"
log "leaf $leaf stopped; killing its parent $mid"

kill -KILL "$mid"
i=0
while kill -0 "$RST_PID" 2>/dev/null; do
	i=$((i + 1))
	# immediate, but the machine may be loaded: well under the 30 s and
	# 120 s the restore gives a tree to be built and its tasks to report
	[ $i -le 50 ] || fail "ckptctl still waits 5 s after pid $mid was killed"
	sleep 0.1
done
rc=0
wait "$RST_PID" || rc=$?
[ $rc -eq 1 ] || fail "ckptctl exited $rc, not 1: $(cat "$TMP/rst.err")"
grep -q "pid $mid was killed by signal 9 (SIGKILL) .*every task of this restore was killed" \
	"$TMP/rst.err" || fail "ckptctl's message: $(cat "$TMP/rst.err")"
log "ckptctl (exit $rc, $i/10 s): $(cat "$TMP/rst.err")"
no_tree_left

restore_ok "$TMP/img"
expect_status pass
