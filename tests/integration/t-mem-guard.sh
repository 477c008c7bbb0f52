#!/bin/sh
# Guard regions (MADV_GUARD_INSTALL, guard target): a killing dump records
# the guard runs in the VMA's record (single pages, a run in the middle,
# the last page) and stores none of their pages (reading one faults);
# restore installs them again: the target checks every other page's bytes
# and that exactly the guard pages fault. Then the same through a chain
# (pre-dump with each tracker, killing dump --prev): a guard page is never
# read nor IN_PARENT. Skips on a kernel without guard regions.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

need_file "$TARGETS/guard"
"$TARGETS/guard" --probe >"$TMP/probe.out" 2>&1
rc=$?
[ $rc -ne 77 ] || skip "$(cat "$TMP/probe.out")"
[ $rc -eq 0 ] || fail "guard --probe: exit $rc: $(cat "$TMP/probe.out")"

start_target guard
dump_kill "$TMP/img"
show_json "$TMP/img"
json_check "$TMP/show.json" '
(_, pid, start, npages), = [l for l in info if l[0] == "region"]
pid, start, npages = int(pid), int(start), int(npages)
ps = 4096
want = [(1, 2), (6, 7), (12, 17), (npages - 1, npages)]
want = [{"start": start + a * ps, "end": start + b * ps} for a, b in want]
v = vma_at(pid, start)
assert v is not None, "no VMA at the region %#x" % start
got = [g for g in v.get("guards", []) if start <= g["start"] < start + npages * ps]
assert got == want, "guards %s, want %s" % (got, want)
for e in task(pid)["pagemap"]["entries"]:
    lo, hi = e["vaddr"], e["vaddr"] + e["nr_pages"] * ps
    for g in want:
        assert hi <= g["start"] or lo >= g["end"], "pagemap entry %s covers guard %s" % (e, g)
'
restore_ok "$TMP/img"
expect_status pass

for t in auto hash; do
	start_target guard
	mkdir -p "$TMP/$t"
	ckpt_ok pre-dump -t "$TPID" -D "$TMP/$t/1" --track "$t"
	dump_kill "$TMP/$t/2" --prev ../1
	ckpt_ok show --chain --json "$TMP/$t/2"
	json_check "$LAST_OUT" 'assert j[0]["pages_in_parent"] > 0, j[0]'
	restore_ok "$TMP/$t/2"
	expect_status pass
done
