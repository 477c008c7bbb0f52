#!/bin/sh
# hugetlb memory (memshare target): private anonymous MAP_HUGETLB memory
# is dumped (killing) and restored into 2 MiB pages again, byte for byte
# (the target checks smaps' KernelPageSize and every byte); the images
# record its page size and it is never left to a lazy server. Without a
# pool on the restoring machine, restore refuses before creating anything
# and names the page size and the count it needs; with the pool back the
# same images restore; so do a pre-dump and a killing dump on it, with
# each tracker. Shared hugetlb memory (MAP_SHARED|MAP_HUGETLB and a
# MFD_HUGETLB memfd) comes back too (more in t-mem-hugetlb-shared.sh).
# The pool (/proc/sys/vm/nr_hugepages) is set back after.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

HP=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
[ -w "$HP" ] || skip "no 2 MiB huge pages here ($HP)"
HP_OLD=$(cat "$HP")
_huge_cleanup()
{
	local rc=$?
	kill_pids_file "$PIDS_FILE"
	wait 2>/dev/null
	echo "$HP_OLD" >"$HP"
	(exit $rc)
	cleanup
}
trap _huge_cleanup EXIT
pool()
{
	echo "$1" >"$HP"
	[ "$(cat "$HP")" -ge "$1" ] || skip "cannot get $1 huge pages of 2 MiB (got $(cat "$HP"))"
}
pool $((HP_OLD + 4))

start_target memshare -h
dump_kill "$TMP/img"
show_json "$TMP/img"
ROOT=$TPID json_check "$TMP/show.json" '
pid = int(os.environ["ROOT"])
huge = [v for v in vmas(pid) if v.get("hugetlb_kb")]
assert len(huge) == 1 and huge[0]["hugetlb_kb"] == 2048, huge
assert huge[0]["kind"] == "VMA_ANON_PRIVATE" and huge[0]["flags"] & 0x40000, huge[0]
'

# no pool: refused before anything is created, naming what it needs
echo 0 >"$HP"
expect_fail 1 "hugetlb memory: the tree needs 2 huge pages of 2048 kB, the pool has 0" \
	ckptctl restore -D "$TMP/img"
no_tree_left

pool $((HP_OLD + 4))
restore_ok "$TMP/img"
expect_status pass

# through a chain: a pre-dump with each tracker, then a killing dump
# (hugetlb memory is saved whole in every round)
for t in auto hash; do
	start_target memshare -h
	mkdir -p "$TMP/$t"
	ckpt_ok pre-dump -t "$TPID" -D "$TMP/$t/1" --track "$t"
	dump_kill "$TMP/$t/2" --prev ../1
	restore_ok "$TMP/$t/2"
	expect_status pass
done

# shared hugetlb memory: restored, in huge pages
start_target memshare -s
dump_kill "$TMP/shared"
restore_ok "$TMP/shared"
expect_status pass
