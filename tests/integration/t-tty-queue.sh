#!/bin/sh
# Bytes queued in a pty pair come back byte for byte, both ways: what the
# slave wrote that the master did not read, and what was written on the
# master that the slave did not read (complete lines, an unfinished one,
# lines ended by VEOF, in canonical and non-canonical mode, a slave held by
# no task, a master in packet mode). The dump reads them out, so it must put them back whenever
# the tree runs on: after a --leave-running dump and after a refused one
# the program reads the same bytes, and after a killing dump and a
# restore too, its termios unchanged and no echo of the write-back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

# dumped and killed, restored
start_target pty-queue
dump_kill "$TMP/img"
show_check "$TMP/img" '
ttys = [t for t in find(j, "tty") if t.get("master")]
assert len(ttys) == 5, ttys
assert all(t.get("queued_out") for t in ttys), ttys
assert sum(len(t.get("queued_in", [])) for t in ttys) == 7 + 1 + 2 + 7 + 61, ttys'
restore_ok "$TMP/img"
expect_status pass

# --leave-running: the bytes are back in the running program
start_target pty-queue
dump_target "$TMP/running"
check_alive "$TPID"
expect_status pass

# a dump refused (its stdout is a pipe to a reader outside the tree)
# after the bytes were read out: they are back too
TARGET_WRAP="python3 $TOP/tests/tools/stdio-wrap.py pipe" start_target pty-queue
dump_refused "$TMP/refused" "pid $TPID fd 1: the read end of pipe"
expect_status pass
