#!/bin/sh
# Several views of one object (memshare target): a file mapped MAP_SHARED
# read-write and read-only plus private, and a memfd the same way. A
# killing dump stores only the private views' written pages (none of the
# untouched file pages); after restore the target checks every byte, that
# the read-only view can be mprotect()ed writable (the file was opened
# O_RDWR: VmFlags "mw"), and that a write through one shared view is seen
# through the other and through the private view's untouched pages (they
# keep following the file), not through its written page. Then the same
# with MAP_DROPPABLE memory, when the kernel has it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

start_target memshare
dump_kill "$TMP/img"
show_json "$TMP/img"
ROOT=$TPID json_check "$TMP/show.json" '
pid = int(os.environ["ROOT"])
ps = 4096
for name in ("memshare-file", "/memfd:ckpt-memshare"):
    vs = [v for v in vmas(pid) if name in v.get("name", "")]
    assert len(vs) == 3, (name, vs)
    sh = [v for v in vs if v["kind"] == "VMA_FILE_SHARED"]
    assert len(sh) == 2 and all(v.get("may_write") for v in sh), sh
    pv, = [v for v in vs if v["kind"] == "VMA_FILE_PRIVATE"]
    stored = 0
    for e in task(pid)["pagemap"]["entries"]:
        lo, hi = max(e["vaddr"], pv["start"]), min(e["vaddr"] + e["nr_pages"] * ps, pv["end"])
        stored += max(0, hi - lo) // ps
    assert stored == 1, "%s private view: %d pages stored, want its 1 written page" % (name, stored)
'
restore_ok "$TMP/img"
expect_status pass

# MAP_DROPPABLE memory (Linux 6.11+): mapped droppable again (VmFlags
# "dp", checked by the target) with its contents, and never lazy
if ! "$TARGETS/memshare" --probe-droppable >"$TMP/probe.out" 2>&1; then
	log "no MAP_DROPPABLE: $(cat "$TMP/probe.out")"
	exit 0
fi
start_target memshare -d
dump_kill "$TMP/drop"
show_json "$TMP/drop"
ROOT=$TPID json_check "$TMP/show.json" '
pid = int(os.environ["ROOT"])
drop = [v for v in vmas(pid) if v["flags"] & 0x08]
assert len(drop) == 1 and drop[0]["kind"] == "VMA_ANON_PRIVATE", drop
'
restore_ok "$TMP/drop"
expect_status pass
