#!/bin/sh
# Dump (killing the tree) and restore of the memobj target: the shared
# anonymous memory of parent and child, SysV shm, memfd and deleted-file
# maps come back from their ghosts, the COW pages of the private maps and
# the one behind PROT_NONE from the pagemap; the target verifies them all.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

restore_cycle memobj
