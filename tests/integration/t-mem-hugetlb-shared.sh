#!/bin/sh
# hugetlb memory with an object of its own (hugetlb-shared target): shared
# anonymous MAP_HUGETLB memory shared by a parent and its child, a SysV
# SHM_HUGETLB segment, a
# MFD_HUGETLB memfd held as an fd, sealed and mapped, a file on a hugetlbfs
# mount mapped shared and private (a COW'd huge page), and an unlinked
# hugetlbfs file mapped shared are dumped (killing) and restored: the
# target checks every byte, that each mapping is hugetlb of 2 MiB pages
# again, that the shared views are one object (a write through one is
# seen through the other, by the other task, in the file on the mount),
# and the memfd's size and seals. The images record the page sizes, one
# shmid for both tasks. With the pool short of what the tree needs (the
# shared object counted once), restore refuses before creating anything,
# naming the count; with the pages back the same images restore.
# The pool is raised by what the test needs and set back after, once the
# hugetlbfs mount (whose file holds pages) is unmounted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

HP=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
[ -w "$HP" ] || skip "no 2 MiB huge pages here ($HP)"
# anon 1 + SysV 1 + memfd 2 + file 2 + its COW copy 1 + unlinked file 1, a spare
NEED=9
HP_OLD=$(cat "$HP")
# Set back, not lowered by what was added: a shrink the kernel could not
# do (pages in use) would otherwise leave those pages in the pool. Pages
# a dying restored task still holds are freed as surplus.
_hs_cleanup()
{
	local rc=$?
	kill_pids_file "$PIDS_FILE"
	wait 2>/dev/null
	_lib_umount_all
	echo "$HP_OLD" >"$HP"
	(exit $rc)
	cleanup
}
trap _hs_cleanup EXIT
# pool_add N: N more huge pages (a negative N gives them back)
pool_add()
{
	local want=$(($(cat "$HP") + $1))
	echo "$want" >"$HP"
	[ "$(cat "$HP")" -ge "$want" ] || skip "cannot get $1 more huge pages of 2 MiB (got $(cat "$HP") of $want)"
}
pool_add $NEED

HUGE=$TMP/huge
mkdir -p "$HUGE"
mount -t hugetlbfs -o pagesize=2M ckpt-test "$HUGE" || skip "cannot mount hugetlbfs on $HUGE"
MOUNTS="$HUGE $MOUNTS"
echo "$HUGE" >>"$PIDS_FILE.mounts"

start_target hugetlb-shared -f "$HUGE" -u
dump_kill "$TMP/img"
show_json "$TMP/img"
ROOT=$TPID json_check "$TMP/show.json" '
root = int(os.environ["ROOT"])
pids = [t["pid"] for t in j["pstree"]]
assert len(pids) == 2, pids
shm = []
for pid in pids:
    huge = [v for v in vmas(pid) if v.get("hugetlb_kb")]
    assert all(v["hugetlb_kb"] == 2048 for v in huge), huge
    anon = [v for v in huge if v["kind"] == "VMA_ANON_SHARED"]
    assert len(anon) == 2, (pid, huge)
    shm.append(sorted(v["shmid"] for v in anon))
    if pid == root:
        kinds = sorted(v["kind"] for v in huge)
        assert kinds.count("VMA_FILE_SHARED") >= 3 and "VMA_FILE_PRIVATE" in kinds, kinds
assert shm[0] == shm[1], shm
memfds = [d for d in fds(root).values() if d.get("memfd_name") == "ckpt-hugetlb-shared"]
assert len(memfds) == 1 and memfds[0].get("hugetlb_kb") == 2048, memfds
'

# a short pool: refused before anything is created, the shared object
# counted once (6 new pages; the file's 2 stay in it)
pool_add -$NEED
if [ "$(cat "$HP")" -lt 6 ]; then
	expect_fail 1 "is hugetlb memory: the tree needs 6 huge pages of 2048 kB, the pool has" \
		ckptctl restore -D "$TMP/img"
	no_tree_left
else
	log "the pool has $(cat "$HP") pages without ours: the refusal is not checked"
fi

pool_add $NEED
restore_ok "$TMP/img"
expect_status pass
