#!/bin/sh
# A program on a terminal whose other side is outside the tree (as in tmux
# or ssh, when only the program is dumped) can't be restored: a killing
# dump refuses it, naming the pid, fd and terminal, and the program runs
# on intact; --leave-running keeps the set but warns that it can't be
# restored. (A pty held whole by the tree comes back: t-tty-tmux.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

TARGET_WRAP="python3 $TOP/tests/tools/stdio-wrap.py pty" start_target memory
dump_refused "$TMP/img" "pid $TPID fd 0: the terminal /dev/pts/[0-9]+ is a pty whose master is held outside the dumped tree"

ckpt_ok dump -t "$TPID" -D "$TMP/kept" --leave-running --json
grep -q "warning: this image set cannot be restored: pid $TPID fd 0: the terminal /dev/pts/" "$LAST_ERR" ||
	fail "--leave-running did not warn: $(cat "$LAST_ERR")"
json_check "$LAST_OUT" '
assert j["restorable"] is False, j
assert "master is held outside the dumped tree" in j["unrestorable"], j
'
check_alive "$TPID"
expect_status pass
