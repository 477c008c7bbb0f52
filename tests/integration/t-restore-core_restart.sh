#!/bin/sh
# Restore of the core_restart target: dumped (and killed), restored with its pid,
# it verifies itself and passes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

restore_cycle_same core_restart
