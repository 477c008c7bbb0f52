#!/bin/sh
# membarrier registrations come back: a target registered for the private
# and global expedited commands is dumped (killing) and restored, and
# finds the same registrations (MEMBARRIER_CMD_GET_REGISTRATIONS, Linux
# 6.3+) and a private expedited barrier that still works.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

set -- $(uname -r | tr '.-' '  ')
[ "$1" -gt 6 ] || { [ "$1" -eq 6 ] && [ "$2" -ge 3 ]; } ||
	skip "this kernel can't tell membarrier registrations (before 6.3)"
start_target core_membarrier
dump_kill "$TMP/img"
restore_ok "$TMP/img"
expect_status pass
exit 0
