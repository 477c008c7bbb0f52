#!/bin/sh
# Restore of the memory target (anonymous, heap, stack, file maps shared
# and private, PROT_NONE, zero pages): dumped (and killed), restored
# it verifies itself and passes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

restore_cycle_same memory
