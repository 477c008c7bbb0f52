#!/bin/sh
# Copy-on-write sharing between a parent and its children (cow target: P,
# its child C, its grandchild G share most of a 32 MiB region since fork).
# A killing dump stores a shared page once, in the parent: C's and G's
# pagemaps record those pages PE_COW (flags 8) and store only the pages each
# wrote itself (96 and 32 of the region). Restore brings them back shared:
# the target checks every byte, that the shared pages are one frame in all
# the tasks that shared them (pagemap PFNs, as root), and that writes still
# copy (each task's own write is not seen by the others). The same with
# restore --lazy (such VMAs are restored eagerly).
# Then a chain, with each tracker: a full dump left running (PE_COW
# recorded) used as --prev of a killing dump: the later set records no
# PE_COW and never points at the base's (the child's pages are stored
# again), and the bytes come back right (sharing is not checked there).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

# cow_check PYTHON: json_check of show.json with count(pid, flags), the
# pages of the target's region with those flags, and p, c, g, n from its note
cow_check()
{
	json_check "$TMP/show.json" "
(_, p, c, g, start, n), = [l for l in info if l[0] == 'cow']
start, end = int(start), int(start) + int(n) * 4096
def count(pid, flags):
    got = 0
    for e in task(pid)['pagemap']['entries']:
        lo = max(e['vaddr'], start)
        hi = min(e['vaddr'] + e['nr_pages'] * 4096, end)
        if hi > lo and e['flags'] == flags:
            got += (hi - lo) // 4096
    return got
$1
"
}

start_target cow
dump_kill "$TMP/img"
show_json "$TMP/img"
cow_check '
n = int(n)
assert count(p, 8) == 0, "the root shares nothing: %d COW" % count(p, 8)
assert count(p, 1) == n, "the root stores %d of %d pages" % (count(p, 1), n)
assert count(c, 1) == 96 and count(c, 8) == n - 96, \
    "C: %d stored, %d COW; want 96, %d" % (count(c, 1), count(c, 8), n - 96)
assert count(g, 1) == 32 and count(g, 8) == n - 32, \
    "G: %d stored, %d COW; want 32, %d" % (count(g, 1), count(g, 8), n - 32)
'
ckpt_ok show "$TMP/img"
grep -q "shared with the parent task (COW)" "$LAST_OUT" ||
	fail "ckptctl show does not count the COW pages: $(head -c 2000 "$LAST_OUT")"
ckpt_ok show --chain --json "$TMP/img"
json_check "$LAST_OUT" 'assert j[0]["pages_cow"] > 0, j[0]'
restore_ok "$TMP/img"
expect_status pass

# restore --lazy: a VMA with COW pages is restored eagerly, still shared
# (the lazy server must never serve such a page, as zeros or otherwise)
# a dump that lets the tree run on (and a pre-dump) leaves its pages
# shared: reading them through process_vm_readv would pin them, and the
# kernel unshares a pinned copy-on-write page (the target checks the
# frames of all three after SIGUSR1)
start_target cow
ckpt_ok dump -t "$TPID" -D "$TMP/lr" --leave-running
ckpt_ok pre-dump -t "$TPID" -D "$TMP/lr-pre"
expect_status pass

start_target cow
dump_kill "$TMP/lazy"
ckpt_ok restore -D "$TMP/lazy" --lazy --pidfile "$TMP/restored.pid"
[ "$(cat "$TMP/restored.pid")" = "$TPID" ] || fail "restored root is not $TPID"
for p in $TREE_PIDS; do
	track_pid "$p"
done
expect_status pass

# a chain on a set with COW entries: the bytes must come back right
for tr in auto hash; do
	start_target cow
	mkdir -p "$TMP/$tr"
	ckpt_ok dump -t "$TPID" -D "$TMP/$tr/1" --leave-running --track "$tr"
	show_json "$TMP/$tr/1"
	cow_check 'assert count(c, 8) > 0, "the base set has no COW pages"'
	check_alive "$TPID"
	dump_kill "$TMP/$tr/2" --prev ../1
	show_json "$TMP/$tr/2"
	cow_check 'assert count(c, 8) == 0 and count(g, 8) == 0, "COW entries with --prev"'
	: >"$TSTATUS.noshare"
	restore_ok "$TMP/$tr/2"
	expect_status pass
done
