#!/bin/sh
# A restore that fails half way leaves nothing running: every task of the
# tree already created is killed, and the error names the task and what
# failed. Two ways to fail late: the tree's working directory is gone
# (every task exists by then, each fails its chdir), and a page block of
# one task is corrupt (found by the restorer blob inside the new process,
# after the whole tree is built).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

mkdir -p "$TMP/cwd"
cd "$TMP/cwd" || fail "cd"
start_target procs
cd "$TMP" || fail "cd"
dump_kill "$TMP/img"

cp -a "$TMP/img" "$TMP/bad"
# a stored block of the root that lies inside one VMA (checked by the blob)
set -- $("$CKPTCTL" show --json "$TMP/img" | python3 -c '
import json, sys
t = json.load(sys.stdin)["tasks"][sys.argv[1]]
vmas = t["mm"]["vmas"]
for e in t["pagemap"]["entries"]:
    if not int(e["flags"]) & 1:
        continue
    a, n = int(e["vaddr"]), int(e["nr_pages"])
    if any(int(v["start"]) <= a and a + n * 4096 <= int(v["end"]) for v in vmas):
        print(t["mm"]["pages_id"], 4096 + int(e["off"]) * 4096 + 100)
        break' "$TPID") || fail "show"
[ $# -eq 2 ] || fail "no page block of $TPID inside one VMA"
printf 'X' | dd of="$TMP/bad/pages-$1.img" bs=1 seek="$2" conv=notrunc 2>/dev/null
expect_fail 5 "pid $TPID tid $TPID: restorer failed filling pages at address 0x[0-9a-f]+" \
	ckptctl restore -D "$TMP/bad"
no_tree_left

mv "$TMP/cwd" "$TMP/cwd.gone"
# an image set that is fine, referring to a directory that is gone: 1
expect_fail 1 "pid [0-9]+: cannot change directory to .*/cwd" ckptctl restore -D "$TMP/img"
no_tree_left

# and with the directory back, the same images restore fine
mv "$TMP/cwd.gone" "$TMP/cwd"
restore_ok "$TMP/img"
expect_status pass
