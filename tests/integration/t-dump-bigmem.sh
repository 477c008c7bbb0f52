#!/bin/sh
# Large memory: a 1 GiB sparse map with a page written every 64 MiB (only
# those pages may be stored) and a 256 MiB dense map on transparent huge
# pages (stored whole). imgcmp compares every byte.
. "$(dirname "$0")/lib.sh"

dump_check memory -s -d 256 -H
ROOT=$TPID json_check "$TMP/show.json" '
root = int(os.environ["ROOT"])
pages = sum(e["nr_pages"] for e in task(root)["pagemap"]["entries"] if e["flags"] & 1)
dense = 256 << 8
# the dense map, about 9 MiB of heap and maps, the sparse pages; never the 1 GiB
assert dense <= pages < dense + 16384, "pages stored: %d" % pages
big = [v for v in vmas(root) if v["end"] - v["start"] >= (1 << 30)]
assert big, "no 1 GiB VMA"
for e in task(root)["pagemap"]["entries"]:
    assert e["nr_pages"] <= j["tasks"][str(root)]["pagemap"]["head"]["max_block_pages"]
'
expect_status pass
