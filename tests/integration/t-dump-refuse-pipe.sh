#!/bin/sh
# A program whose stdout is a pipe to a reader outside the dumped tree
# would die of SIGPIPE at its first write after a restore (the reader is
# not restored): a killing dump refuses it, naming the fd, and it runs on.
# With both ends inside the tree the same pipe is fine (t-restore-fds).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

TARGET_WRAP="python3 $TOP/tests/tools/stdio-wrap.py pipe" start_target memory
dump_refused "$TMP/img" "pid $TPID fd 1: the read end of pipe:\[[0-9]+\] is held only outside the dumped tree.*SIGPIPE"
expect_status pass
