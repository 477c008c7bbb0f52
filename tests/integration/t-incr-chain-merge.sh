#!/bin/sh
# ckptctl merge of a pre-dump, pre-dump, dump chain: one set without
# parent, every page of it the page the chain restores (imgcmp against the
# tree restored from the chain), and restored it passes its own check too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/chain-lib.sh"
need_predump

start_target memory
predump_chain "$TMP/img"
dump_kill "$TMP/img/3" --prev ../2

ckpt_ok show --chain --json "$TMP/img/3"
json_check "$LAST_OUT" '
assert [l["kind"] for l in j] == ["incremental", "pre-dump", "pre-dump"], j
assert j[0]["pages_in_parent"] > 0, j[0]'
ckpt_ok merge "$TMP/img/3" -D "$TMP/flat" --json
json_check "$LAST_OUT" 'assert j["links"] == 3 and j["pages_from_parents"] > 0, j'
show_check "$TMP/flat" '
assert j["inventory"]["kind"] == "DUMP_FULL" and "parent" not in j["inventory"]
assert j["inventory"]["chain_depth"] == 0
for t in j["tasks"].values():
    assert all(e["flags"] != 2 for e in t["pagemap"]["entries"]), "IN_PARENT left"'
# restored from the chain, the tree's memory is the merged set's
restore_ok "$TMP/img/3"
imgcmp "$TMP/flat"
expect_status pass
for p in $TREE_PIDS; do
	wait_gone "$p"
done
# the merged set needs no chain; the first restore's check wrote to the
# target's shared file, so it is not the file of the dump any more
mv "$TMP/img" "$TMP/chain"
ckpt_ok restore -D "$TMP/flat" --file-validation path
[ "$(cat "$LAST_OUT")" = "$TPID" ] || fail "restored $(cat "$LAST_OUT"), not $TPID"
track_pid "$TPID"
expect_status pass
