#!/bin/sh
# Dump of every kind of mapping (heap, anonymous private and shared, file
# private with modified pages, file shared, PROT_NONE holes and data behind
# PROT_NONE, never-written and only-read maps): imgcmp checks each stored
# page against live memory and the target's notes (pages it wrote must be
# stored, pages it never wrote must not); show types the VMAs right. With
# -a: madvise bits, mlock and MAP_GROWSDOWN are in the VMAs' records.
. "$(dirname "$0")/lib.sh"

dump_check memory -a
ROOT=$TPID json_check "$TMP/show.json" '
root = int(os.environ["ROOT"])
kinds = {}
for v in vmas(root):
    kinds.setdefault(v["kind"], []).append(v)
for k in ("VMA_ANON_PRIVATE", "VMA_ANON_SHARED", "VMA_FILE_PRIVATE", "VMA_FILE_SHARED",
          "VMA_STACK", "VMA_HEAP", "VMA_VDSO"):
    assert k in kinds, "no %s VMA" % k
def by_path(suffix):
    return [v for v in vmas(root) if v.get("file", {}).get("path", "").endswith(suffix)]
sh = by_path("/memory-shared.dat")
assert len(sh) == 1 and sh[0]["kind"] == "VMA_FILE_SHARED", sh
pv = by_path("/memory-private.dat")
assert len(pv) == 1 and pv[0]["kind"] == "VMA_FILE_PRIVATE", pv
assert pv[0]["file"]["size"] == 16 * 4096
st = os.stat(pv[0]["file"]["path"])
assert pv[0]["file"]["ino"] == st.st_ino, "inode %d, file has %d" % (pv[0]["file"]["ino"], st.st_ino)
assert any(v["prot"] == 0 for v in vmas(root)), "no PROT_NONE VMA"
assert any(v["prot"] == 1 and v["kind"] == "VMA_ANON_PRIVATE" for v in vmas(root)), "no read-only anon VMA"
# nothing of vdso/vvar is stored
for e in task(root)["pagemap"]["entries"]:
    if e["flags"] & 1:
        v = vma_at(root, e["vaddr"])
        assert v and v["kind"] not in ("VMA_VDSO", "VMA_VVAR", "VMA_VVAR_VCLOCK", "VMA_FILE_SHARED"), \
            "page %#x of %s stored" % (e["vaddr"], v and v["kind"])
# -a: advice and attributes
MADV_DONTFORK, MADV_DONTDUMP, MADV_WIPEONFORK = 10, 16, 18
MAP_GROWSDOWN, MAP_LOCKED = 0x100, 0x2000
madv = [v.get("madv", 0) for v in vmas(root)]
assert any(m & (1 << MADV_DONTFORK) and m & (1 << MADV_DONTDUMP) for m in madv), "no DONTFORK+DONTDUMP VMA"
assert any(m & (1 << MADV_WIPEONFORK) for m in madv), "no WIPEONFORK VMA"
assert any(v["flags"] & MAP_LOCKED for v in vmas(root)), "no locked VMA"
gd = [v for v in vmas(root) if v["flags"] & MAP_GROWSDOWN and v["kind"] != "VMA_STACK"]
assert gd, "no MAP_GROWSDOWN VMA besides the stack"
'
expect_status pass
