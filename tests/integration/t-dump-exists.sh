#!/bin/sh
# A directory that already holds an image set: the dump refuses (exit 3)
# and leaves the set alone; with --force it replaces it, and no file of the
# old set stays behind (the old set had five tasks, the new one has one).
. "$(dirname "$0")/lib.sh"

start_target procs
ppid=$TPID
pstatus=$TSTATUS
IMG=$TMP/img
dump_target "$IMG"
cksum "$IMG"/* >"$TMP/old.sum"

start_target sample
expect_fail 3 'exist|already|image set' ckptctl dump -t "$TPID" -D "$IMG" --leave-running
cksum "$IMG"/* | cmp -s - "$TMP/old.sum" || fail "a refused dump changed the old set"
for f in "$IMG"/.ckpt-tmp-*; do
	[ -e "$f" ] && fail "$f left behind by a refused dump"
done

dump_target "$IMG" --force
# every per-task file of the old tree's processes must be gone
for p in $(awk '$1 == "task" { print $2 }' "$pstatus.info"); do
	for f in "$IMG"/*-"$p".img; do
		[ -e "$f" ] && fail "stale file $(basename "$f") of the old set left after --force"
	done
done
for f in "$IMG"/.ckpt-tmp-*; do
	[ -e "$f" ] && fail "$f left after --force"
done
check_alive
imgcmp "$IMG"
ROOT=$TPID show_check "$IMG" '
assert j["inventory"]["root_pid"] == int(os.environ["ROOT"])
assert len(j["pstree"]) == 1
'
# a non-image file the user keeps there is not the set's to remove
echo keep >"$IMG/notes.txt"
dump_target "$IMG" --force
[ -f "$IMG/notes.txt" ] || fail "--force removed a file that is not part of the set"

expect_status pass
check_alive "$ppid"
expect_status pass "$pstatus" "$ppid"
