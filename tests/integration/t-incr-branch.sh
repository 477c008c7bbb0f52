#!/bin/sh
# A chain that goes back: --prev names an older round than the one live
# tracking (uffd-wp) counts from. Pages written between the two would be
# taken for unchanged; the round saves the tree whole instead, and says
# why. The final set restores with every byte the target wrote last.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/incr-lib.sh"
need_tracker uffd-wp

d=$TMP/b
mkdir -p "$d"
start_target incr
ckpt_ok pre-dump -t "$TPID" -D "$d/1" --track uffd-wp
incr_step
ckpt_ok pre-dump -t "$TPID" -D "$d/2" --prev ../1
incr_step
ckpt_ok pre-dump -t "$TPID" -D "$d/3" --prev ../1 --json
grep -q "saved whole: its tracking counts from set [0-9a-f]*, a later round than --prev" "$LAST_ERR" ||
	fail "no warning for a round that went back: $(cat "$LAST_ERR")"
python3 -c 'import json,sys; w=json.load(open(sys.argv[1]))["warnings"]; assert "saved whole" in w, w' \
	"$LAST_OUT" || fail "--json has no warnings: $(cat "$LAST_OUT")"
incr_step
dump_kill "$d/4" --prev ../3
restore_ok "$d/4"
expect_status pass
