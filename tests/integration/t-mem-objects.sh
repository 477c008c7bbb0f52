#!/bin/sh
# Memory whose contents are not the task's own anonymous pages (memobj
# target): shared anonymous memory seen by parent and child is one object
# (same shmid, one ghost image) and none of its pages are in a pagemap;
# SysV shm, memfd and deleted-file maps carry their ghost; private maps of
# a memfd and of a deleted file store only their COW pages (imgcmp with the
# target's notes); a COW page behind PROT_NONE is stored; madvise flags
# are kept. Then a mapping ckpt cannot save (io_uring) is refused by name
# and leaves the target running and no partial set.
. "$(dirname "$0")/lib.sh"

dump_check memobj
CHILD=$(cat "/proc/$TPID/task/$TPID/children" | tr -d ' ')
[ -n "$CHILD" ] || fail "memobj has no child"
ROOT=$TPID CHILD=$CHILD json_check "$TMP/show.json" '
root, child = int(os.environ["ROOT"]), int(os.environ["CHILD"])
def named(pid, pred):
    return [v for v in vmas(pid) if pred(v.get("name", ""))]
def stored_in(pid, v):
    """pages of v held by PRESENT entries (an entry may span several VMAs)"""
    n = 0
    for e in task(pid)["pagemap"]["entries"]:
        if e["flags"] & 1:
            lo = max(e["vaddr"], v["start"])
            hi = min(e["vaddr"] + e["nr_pages"] * 4096, v["end"])
            n += max(0, hi - lo) // 4096
    return n

# shared anonymous: one object in both tasks
sa = [named(p, lambda n: n == "/dev/zero (deleted)") for p in (root, child)]
assert len(sa[0]) == 1 and len(sa[1]) == 1, sa
for v in sa[0] + sa[1]:
    assert v["kind"] == "VMA_ANON_SHARED", v
    assert "ghost_id" in v and "shmid" in v, v
assert sa[0][0]["shmid"] == sa[1][0]["shmid"], "shmid differs between parent and child"
assert sa[0][0]["ghost_id"] == sa[1][0]["ghost_id"], "two ghosts for one object"
assert not stored_in(root, sa[0][0]), "pages of shared anonymous memory stored"

sysv = named(root, lambda n: n.startswith("/SYSV"))
assert len(sysv) == 1 and sysv[0]["kind"] == "VMA_ANON_SHARED" and "ghost_id" in sysv[0], sysv

memfd = named(root, lambda n: n.startswith("/memfd:ckpt-memobj"))
kinds = sorted(v["kind"] for v in memfd)
assert kinds == ["VMA_FILE_PRIVATE", "VMA_FILE_SHARED"], kinds
assert len({v["ghost_id"] for v in memfd}) == 1, "memfd maps use different ghosts"
for v in memfd:
    assert v["deleted"] and v["file"]["path"] == "/memfd:ckpt-memobj", v
    if v["kind"] == "VMA_FILE_SHARED":
        assert not stored_in(root, v), "pages of a shared memfd map stored"
    else:
        n = stored_in(root, v)
        assert n == 2, "private memfd map: %d pages stored, expected its 2 COW pages" % n

dele = named(root, lambda n: "memobj-deleted" in n)
assert len(dele) == 1 and dele[0]["deleted"] and "ghost_id" in dele[0], dele
assert not dele[0]["file"]["path"].endswith("(deleted)"), dele[0]["file"]["path"]
assert stored_in(root, dele[0]) == 2, "deleted file map: %d pages stored" % stored_in(root, dele[0])

none = named(root, lambda n: "memobj-none" in n)
assert len(none) == 1 and none[0]["prot"] == 0 and none[0]["kind"] == "VMA_FILE_PRIVATE", none
assert stored_in(root, none[0]), "the COW page behind PROT_NONE is not stored"

advice = [l for l in info if l[0] == "advice" and int(l[1]) == root]
assert len(advice) >= 5, advice
for _, _, addr, adv in advice:
    v = vma_at(root, int(addr, 16))
    assert v and v.get("madv", 0) & (1 << int(adv)), "madvise %s missing at %s: %s" % (adv, addr, v)
'
expect_status pass

# a mapping that cannot be saved: refused, named, nothing left behind
if [ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" != 0 ]; then
	log "io_uring is disabled here: no unsupported mapping to try"
	exit 0
fi
start_target memobj -u
mkdir -p "$TMP/bad"
expect_fail 1 'io_uring.*cannot be saved' ckptctl dump -t "$TPID" -D "$TMP/bad" --leave-running
no_partial_set "$TMP/bad"
check_alive
expect_status pass
