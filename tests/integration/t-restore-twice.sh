#!/bin/sh
# A restored process is an ordinary process: it can be dumped and restored
# again (nothing of the restorer is left in it), and still passes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

start_target threads
dump_kill "$TMP/img1"
restore_ok "$TMP/img1"
check_alive "$TPID"
if grep -q rwxp "/proc/$TPID/maps"; then
	fail "the restorer's region is still mapped: $(grep rwxp "/proc/$TPID/maps")"
fi
dump_kill "$TMP/img2"
restore_ok "$TMP/img2"
expect_status pass
