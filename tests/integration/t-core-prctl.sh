#!/bin/sh
# prctl attributes come back: the root's PR_SET_THP_DISABLE and
# PR_SET_CHILD_SUBREAPER (its reparented grandchild is still its own to
# reap, and so is an orphan made after the restore), a child's
# PR_SET_PDEATHSIG (per thread, set after the credentials, which clear
# it; the root's is dropped: the restore's exit would fire it), and the
# threads' names. The target checks itself.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

start_target prctl
dump_kill "$TMP/img"
restore_ok "$TMP/img"
expect_status pass
exit 0
