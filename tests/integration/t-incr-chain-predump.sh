#!/bin/sh
# A pre-dump holds memory only: restore refuses it (alone, or the last of
# a chain of pre-dumps) before starting anything, saying to restore the
# final dump; the target runs on. show and merge take it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/chain-lib.sh"
need_predump

start_target memory
predump_chain "$TMP/img"
expect_fail 1 "$TMP/img/1: the set is a pre-dump: it holds memory only; restore the final dump made with --prev" \
	ckptctl restore -D "$TMP/img/1"
expect_fail 1 "$TMP/img/2: the set is a pre-dump.*--prev" ckptctl restore -D "$TMP/img/2"
ckpt restore -D "$TMP/img/2" --json
[ $LAST_RC -eq 1 ] || fail "restore --json of a pre-dump exited $LAST_RC: $(cat "$LAST_ERR")"
json_check "$LAST_OUT" 'assert "pre-dump" in j["error"], j'
check_alive

ckpt_ok show --chain "$TMP/img/2"
[ "$(wc -l <"$LAST_OUT")" -eq 2 ] || fail "show --chain: $(cat "$LAST_OUT")"
grep -q "^link 0: $TMP/img/2: pre-dump, " "$LAST_OUT" || fail "show --chain: $(cat "$LAST_OUT")"
grep -q "^link 1: $TMP/img/2/\.\./1: pre-dump, " "$LAST_OUT" || fail "show --chain: $(cat "$LAST_OUT")"

# a merged chain of pre-dumps is one pre-dump: still refused
ckpt_ok merge "$TMP/img/2" -D "$TMP/flat"
show_check "$TMP/flat" 'assert j["inventory"]["kind"] == "DUMP_PRE" and "parent" not in j["inventory"]'
expect_fail 1 "pre-dump" ckptctl restore -D "$TMP/flat"
check_alive
expect_status pass
