#!/bin/sh
# Issue 14: each task comes back in the cgroups it was dumped from (cgroup2
# and cgroup v1), where they exist, and the restore says why not where not.
#  - a thread in another cgroup than its process: refused at dump;
#  - a tree (procs: children, a grandchild, a zombie, a stopped one) whose
#    root and one child sit in different cgroups of their own (cgroup2, and
#    the pids and memory v1 hierarchies where mounted): after a killing
#    dump and a restore every live task is in the cgroups it was in;
#  - the child's cgroup2 cgroup removed between dump and restore: it goes
#    to the requester's there (pids as dumped still), and the restore names
#    the pid, the hierarchy and the missing cgroup (text and --json);
#  - --cgroup=requester: the whole tree goes where ckptctl runs, as before
#    (the same tree each time, dumped again; it checks itself at the end);
#  - a user restoring a process that was in a root-owned cgroup: the move
#    is refused by the kernel's delegation rules, a note, not a failure.
# Run through a socket-activated ckptd (sec-lib.sh), outside the cgroups.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/sec-lib.sh"

CG2_MNT=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
[ -n "$CG2_MNT" ] || skip "no cgroup2 hierarchy mounted"
[ "$(awk '$0 ~ / - cgroup2 / { print $4; exit }' /proc/self/mountinfo)" = / ] ||
	skip "the cgroup2 mount is not the hierarchy's root"
NAME=ckpt-cg-$$
# the hierarchies used: cgroup2, then the v1 ones mounted at their root
HIERS="$CG2_MNT"
for c in pids memory; do
	if awk -v c="$c" '$4 == "/" && $5 == "/sys/fs/cgroup/" c && $0 ~ " - cgroup .*" c \
		{ f = 1 } END { exit !f }' /proc/self/mountinfo; then
		HIERS="$HIERS /sys/fs/cgroup/$c"
	fi
done

# every task still in our cgroups is ours: kill it, then remove them
_cg_cleanup()
{
	local rc=$? h d p
	for h in $HIERS; do
		for d in "$h/$NAME"/*/ "$h/$NAME"; do
			[ -d "$d" ] || continue
			for p in $(cat "$d/cgroup.procs" 2>/dev/null); do
				kill -KILL "$p" 2>/dev/null
			done
		done
	done
	for h in $HIERS; do
		for d in "$h/$NAME"/*/ "$h/$NAME"; do
			[ -d "$d" ] || continue
			rmdir_wait "$d"
		done
	done
	(exit $rc)
	_sec_cleanup
}
trap _cg_cleanup EXIT
for h in $HIERS; do
	mkdir "$h/$NAME" "$h/$NAME/a" "$h/$NAME/b" "$h/$NAME/rq" "$h/$NAME/u" ||
		fail "cannot make cgroups under $h"
done

# put PID HIER_PATH CG: move PID into $HIER_PATH/$NAME/$CG
put()
{
	echo "$1" >"$2/$NAME/$3/cgroup.procs" || fail "cannot move pid $1 to $2/$NAME/$3"
}

# the cgroup2 path of a pid
cg2_of()
{
	sed -n 's/^0:://p' "/proc/$1/cgroup"
}

# live_pids: the tree's tasks that are neither zombies nor gone
live_pids()
{
	local p st
	for p in $TREE_PIDS; do
		st=$(proc_state "$p") || continue
		[ "$st" = Z ] || echo "$p"
	done
}

# 0. a thread in another cgroup than its process: refused at dump (restore
# moves a process whole), the process runs on
case $HIERS in
*/pids*)
	start_target threads -n 2
	TID=$(ls "/proc/$TPID/task" | grep -vx "$TPID" | head -n 1)
	echo "$TID" >"/sys/fs/cgroup/pids/$NAME/b/tasks" || fail "cannot move thread $TID"
	mkdir -p "$TMP/img0"
	expect_fail 1 "pid $TPID: thread $TID is in cgroup [0-9]+:pids:/$NAME/b, its process in" \
		ckptctl dump -t "$TPID" -D "$TMP/img0"
	no_partial_set "$TMP/img0"
	check_alive "$TPID"
	expect_status pass
	wait_gone "$TPID"
	;;
esac

start_target procs
CHILD=
for p in $(cat "/proc/$TPID/task/$TPID/children"); do
	case $(proc_state "$p") in
	S|R) CHILD=$p; break ;;
	esac
done
[ -n "$CHILD" ] || fail "procs $TPID has no running child"
# root: a in every hierarchy; child: b in each but memory (it stays in the
# test's there); the rest stays where it was forked
for h in $HIERS; do
	put "$TPID" "$h" a
	case $h in */memory) ;; *) put "$CHILD" "$h" b ;; esac
done
[ "$(cg2_of "$CHILD")" = "/$NAME/b" ] || fail "child $CHILD is not in /$NAME/b"
for p in $(cat "/proc/$TPID/task/$TPID/children") $TPID; do
	[ "$(proc_state "$p")" = Z ] || cp "/proc/$p/cgroup" "$TMP/cg.$p"
done

# 1. back where each was
dump_kill "$TMP/img"
ckpt_ok show "$TMP/img"
grep -q "cgroups 0::/$NAME/a" "$LAST_OUT" || fail "show does not name the dumped cgroup: $(grep -n cgroup "$LAST_OUT")"
ckpt_ok restore -D "$TMP/img"
for p in $TREE_PIDS; do track_pid "$p"; done
for p in $(live_pids); do
	[ -f "$TMP/cg.$p" ] || continue
	[ "$(cat "/proc/$p/cgroup")" = "$(cat "$TMP/cg.$p")" ] ||
		fail "pid $p is in $(tr '\n' ' ' <"/proc/$p/cgroup"), dumped from $(tr '\n' ' ' <"$TMP/cg.$p")"
done
grep -q "^ckptctl restore: pid $TPID runs in cgroup 0::/$NAME/a (each task as dumped, in every hierarchy)" "$LAST_ERR" ||
	fail "restore does not say the tree is as dumped: $(cat "$LAST_ERR")"
log "$(cat "$LAST_ERR")"

# 2. (the restored tree dumped again) the child's cgroup2 cgroup is gone:
# the requester's there, a note
dump_kill "$TMP/img2"
rmdir "$CG2_MNT/$NAME/b" || fail "rmdir $CG2_MNT/$NAME/b"
ckpt_ok restore -D "$TMP/img2" --json
for p in $TREE_PIDS; do track_pid "$p"; done
[ "$(cg2_of "$CHILD")" = "$(cg2_of $$)" ] ||
	fail "child $CHILD is in $(cg2_of "$CHILD"), not the requester's $(cg2_of $$)"
[ "$(cg2_of "$TPID")" = "/$NAME/a" ] || fail "root $TPID is in $(cg2_of "$TPID"), not /$NAME/a"
if [ -e "/sys/fs/cgroup/pids/$NAME/b" ]; then
	grep -qx "[0-9]*:pids:/$NAME/b" "/proc/$CHILD/cgroup" ||
		fail "child $CHILD left its pids cgroup: $(cat "/proc/$CHILD/cgroup")"
fi
json_check "$LAST_OUT" "assert j['pid'] == $TPID and \"pid $CHILD 0::/$NAME/b: no such cgroup here\" in j['cgroup'], j"
log "$(cat "$LAST_OUT")"

# 3. --cgroup=requester: where ckptctl runs, every task
dump_kill "$TMP/img3"
timeout -k 10 "$CKPT_TIMEOUT" sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' \
	"$CG2_MNT/$NAME/rq" "$CKPTCTL" restore -D "$TMP/img3" --cgroup=requester \
	>"$TMP/r3.out" 2>"$TMP/r3.err" || fail "restore --cgroup=requester: $(cat "$TMP/r3.err")"
for p in $TREE_PIDS; do track_pid "$p"; done
for p in $(live_pids); do
	[ "$(cg2_of "$p")" = "/$NAME/rq" ] || fail "pid $p is in $(cg2_of "$p"), not the requester's /$NAME/rq"
done
grep -q "^ckptctl restore: pid $TPID runs in cgroup 0::/$NAME/rq (the requester's" "$TMP/r3.err" ||
	fail "restore --cgroup=requester does not name the requester's cgroup: $(cat "$TMP/r3.err")"
expect_fail 2 "unknown --cgroup 'x'" ckptctl restore -D "$TMP/img3" --cgroup=x
expect_status pass
for p in $TREE_PIDS; do wait_gone "$p"; done

# 4. a user's process dumped from a root-owned cgroup: the kernel refuses
# the user's move back there; a note, the restore succeeds
# (as sec_dump starts one: nothing open it could not reach)
(cd "$U" && exec $AS_USER perl -e 'use POSIX; POSIX::close($_) for 3..1023;
	exec "sleep", 1000' </dev/null >/dev/null 2>&1) &
SPID=$!
track_pid "$SPID"
wait_path -e "/proc/$SPID" || fail "the user's process did not start"
sleep 0.3	# perl execs sleep
put "$SPID" "$CG2_MNT" u
$AS_USER "$CKPTCTL" dump -t "$SPID" -D "$U/uimg" >"$TMP/u.out" 2>&1 ||
	fail "the user's dump: $(cat "$TMP/u.out")"
wait_gone "$SPID"
$AS_USER "$CKPTCTL" restore -D "$U/uimg" >"$TMP/u.out" 2>"$TMP/u.err" ||
	fail "the user's restore failed: $(cat "$TMP/u.err")"
track_pid "$SPID"
grep -q "pid $SPID 0::/$NAME/u: writing .*/$NAME/u/cgroup.procs: Permission denied" "$TMP/u.err" ||
	fail "no note for the refused move: $(cat "$TMP/u.err")"
[ "$(cg2_of "$SPID")" != "/$NAME/u" ] || fail "the user moved pid $SPID into root's /$NAME/u"
check_alive "$SPID"
log "$(cat "$TMP/u.err")"
exit 0
