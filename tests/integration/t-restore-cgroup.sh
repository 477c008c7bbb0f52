#!/bin/sh
# Issue 7: a restored tree does not stay in ckptd's cgroup. Without systemd
# as init it goes to the requester's cgroup (cgroup2, and every cgroup v1
# hierarchy), and ckptctl restore says where. That is --cgroup=requester
# since issue 14 (the default puts tasks back where they were dumped from:
# t-core-cgroup.sh).
#  - root: ckptctl runs in a cgroup2 child (and a pids v1 one, when that
#    hierarchy is mounted) made here, ckptd (socket-activated) outside it;
#    every task of a restored tree (procs: children, a grandchild, a
#    stopped one) must be in those cgroups, and the output (plain and
#    --json) must name them;
#  - a user in a cgroup delegated to it (as systemd delegates) whose
#    common ancestor with ckptd's it may not write: the move is refused,
#    the restore still succeeds, with a warning, and the task stays with
#    ckptd.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/sec-lib.sh"

CG2_MNT=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
[ -n "$CG2_MNT" ] || skip "no cgroup2 hierarchy mounted"
CG2_ROOT=$(awk '$0 ~ / - cgroup2 / { print $4; exit }' /proc/self/mountinfo)
[ "$CG2_ROOT" = / ] || skip "the cgroup2 mount is not the hierarchy's root ($CG2_ROOT)"
NAME=ckpt-test-$$
CG2=$CG2_MNT/$NAME
CGU=$CG2_MNT/$NAME-user
V1=
if awk '$5 == "/sys/fs/cgroup/pids" && $0 ~ / - cgroup .*pids/ { f = 1 } END { exit !f }' \
	/proc/self/mountinfo; then
	V1=/sys/fs/cgroup/pids/$NAME
fi

# every task still in our cgroups is ours: kill it, then remove them
_cg_cleanup()
{
	local rc=$? d p
	for d in "$CG2" "$CGU" $V1; do
		[ -d "$d" ] || continue
		for p in $(cat "$d/cgroup.procs" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
	done
	for d in "$CG2" "$CGU" $V1; do
		[ -d "$d" ] || continue
		rmdir_wait "$d"
	done
	(exit $rc)
	_sec_cleanup
}
trap _cg_cleanup EXIT
mkdir "$CG2" "$CGU" || fail "cannot make cgroups under $CG2_MNT"
[ -z "$V1" ] || mkdir "$V1" || fail "mkdir $V1"

# in_cgroups OUT CMD...: run CMD with stdout/stderr into OUT.out/.err, as a
# process that first moved itself into our cgroups
in_cgroups()
{
	local out=$1 rc=0
	shift
	timeout -k 10 "$CKPT_TIMEOUT" sh -c 'echo $$ >"$0/cgroup.procs" &&
		{ [ -z "$1" ] || echo $$ >"$1/cgroup.procs"; } && shift && exec "$@"' \
		"$CG2" "$V1" "$@" >"$out.out" 2>"$out.err" || rc=$?
	[ $rc -eq 0 ] || fail "$* in $CG2 exited $rc: $(head -c 2000 "$out.err")"
}

# the 0::/pids: line of a pid's /proc/PID/cgroup
cg_of()
{
	sed -n "s/^$2:\(.*\)/\1/p" "/proc/$1/cgroup"
}

# check_tree: every live task of $TREE_PIDS is in our cgroups
check_tree()
{
	local p st
	for p in $TREE_PIDS; do
		st=$(proc_state "$p") || fail "pid $p did not come back"
		[ "$st" = Z ] && continue
		[ "$(cg_of "$p" 0:)" = "/$NAME" ] ||
			fail "pid $p is in cgroup2 $(cg_of "$p" 0:), not the requester's /$NAME"
		[ -z "$V1" ] || [ "$(cg_of "$p" '[0-9]*:pids')" = "/$NAME" ] ||
			fail "pid $p is in pids:$(cg_of "$p" '[0-9]*:pids'), not the requester's /$NAME"
	done
}

[ "$(cg_of "$DPID" 0:)" != "/$NAME" ] || fail "ckptd itself is in /$NAME"
start_target procs
dump_kill "$TMP/img"
in_cgroups "$TMP/r1" "$CKPTCTL" restore -D "$TMP/img" --cgroup=requester
for p in $TREE_PIDS; do track_pid "$p"; done
[ "$(cat "$TMP/r1.out")" = "$TPID" ] || fail "restore printed '$(cat "$TMP/r1.out")', not $TPID"
check_tree
grep -q "^ckptctl restore: pid $TPID runs in cgroup 0::/$NAME (the requester's" "$TMP/r1.err" ||
	fail "restore does not name the cgroup: $(cat "$TMP/r1.err")"
if [ -n "$V1" ]; then
	grep -q "and in [0-9]* cgroup v1 hierarch" "$TMP/r1.err" ||
		fail "restore does not say it moved v1 hierarchies too: $(cat "$TMP/r1.err")"
fi
log "$(cat "$TMP/r1.err")"
expect_status pass
for p in $TREE_PIDS; do wait_gone "$p"; done

# --json, with a one-process target
start_target sample
dump_kill "$TMP/img2"
in_cgroups "$TMP/r2" "$CKPTCTL" restore -D "$TMP/img2" --json --cgroup=requester
track_pid "$TPID"
check_tree
json_check "$TMP/r2.out" "assert j['pid'] == $TPID and j['cgroup'].startswith(\"cgroup 0::/$NAME (the requester's\"), j"
expect_status pass
wait_gone "$TPID"

# a user in a cgroup of its own: refused, a warning, the restore succeeds
chown "$SEC_UID:$SEC_GID" "$CGU" "$CGU/cgroup.procs" || fail "chown $CGU"
sec_dump uimg
timeout -k 10 "$CKPT_TIMEOUT" sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' \
	"$CGU" $AS_USER "$CKPTCTL" restore -D "$U/uimg" --cgroup=requester >"$TMP/r3.out" 2>"$TMP/r3.err" ||
	fail "the user's restore failed: $(cat "$TMP/r3.err")"
track_pid "$SPID"
[ "$(cat "$TMP/r3.out")" = "$SPID" ] || fail "the user's restore printed '$(cat "$TMP/r3.out")'"
grep -q "^ckptctl restore: pid $SPID runs in ckptd's cgroup (warning: not moved to the requester's: .*$NAME-user/cgroup.procs: Permission denied" "$TMP/r3.err" ||
	fail "no warning for the refused move: $(cat "$TMP/r3.err")"
[ "$(cg_of "$SPID" 0:)" = "$(cg_of "$DPID" 0:)" ] ||
	fail "the user's pid $SPID is in $(cg_of "$SPID" 0:), not with ckptd"
check_alive "$SPID"
log "$(cat "$TMP/r3.err")"
exit 0
