#!/bin/sh
# A program on a terminal (as in tmux or ssh) can't be restored yet: a
# killing dump refuses it, naming the pid and fd, and the program runs on
# intact; --leave-running keeps the set but warns that it can't be restored.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

TARGET_WRAP="python3 $TOP/tests/tools/stdio-wrap.py pty" start_target memory
dump_refused "$TMP/img" "pid $TPID fd 0: terminals can't be restored yet"

ckpt_ok dump -t "$TPID" -D "$TMP/kept" --leave-running --json
grep -q "warning: this image set cannot be restored: pid $TPID fd 0: terminals" "$LAST_ERR" ||
	fail "--leave-running did not warn: $(cat "$LAST_ERR")"
json_check "$LAST_OUT" '
assert j["restorable"] is False, j
assert "terminals" in j["unrestorable"], j
'
check_alive "$TPID"
expect_status pass
