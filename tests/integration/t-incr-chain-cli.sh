#!/bin/sh
# ckptctl merge and show --chain on a set without parent (a chain of one),
# and their bad command lines: merge refuses an OUT that holds a set
# (unless --force) or that is the set itself, and its output restores.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

start_target memory
dump_target "$TMP/img"

ckpt_ok show --chain "$TMP/img"
[ "$(wc -l <"$LAST_OUT")" -eq 1 ] || fail "show --chain of a full dump: $(cat "$LAST_OUT")"
grep -q "^link 0: $TMP/img: full, .* pages stored, 0 in parent" "$LAST_OUT" ||
	fail "show --chain: $(cat "$LAST_OUT")"
ckpt_ok show --chain --json "$TMP/img"
json_check "$LAST_OUT" '
assert len(j) == 1 and j[0]["kind"] == "full" and j[0]["pages_in_parent"] == 0, j
assert j[0]["pages"] > 0'
expect_fail 2 "is a file" ckptctl show --chain "$TMP/img/inventory.img"

expect_fail 2 "both DIR and -D OUT" ckptctl merge "$TMP/img"
expect_fail 2 "unexpected argument" ckptctl merge "$TMP/img" x -D "$TMP/out"
expect_fail 5 "no inventory.img|cannot open the image directory" ckptctl merge "$TMP/nothing" -D "$TMP/out"
mkdir "$TMP/empty"
expect_fail 5 "not an image set" ckptctl merge "$TMP/empty" -D "$TMP/out"
expect_fail 2 "is link 0 .* merge into another directory" ckptctl merge "$TMP/img" -D "$TMP/img" --force

ckpt_ok merge "$TMP/img" -D "$TMP/flat" --json
json_check "$LAST_OUT" 'assert j["links"] == 1 and j["pages"] > 0 and j["pages_from_parents"] == 0, j'
imgcmp "$TMP/flat"
show_check "$TMP/flat" '
assert j["inventory"]["kind"] == "DUMP_FULL"
assert "parent" not in j["inventory"] and "chain" not in j'
expect_fail 3 "already holds an image set.*--force" ckptctl merge "$TMP/img" -D "$TMP/flat"
ckpt_ok merge "$TMP/img" -D "$TMP/flat" --force
for f in "$TMP"/flat/.ckpt-tmp-*; do
	[ -e "$f" ] && fail "$f left behind"
done

# the merged set restores as the original would
kill -9 "$TPID"
wait_gone "$TPID"
TREE_PIDS=$TPID
restore_ok "$TMP/flat"
expect_status pass
