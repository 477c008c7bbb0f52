#!/bin/sh
# A restored task that dies the moment it resumes fails the restore: an
# xsave area whose header XRSTOR refuses (XSTATE_BV with a bit no CPU
# has) makes the kernel's rt_sigreturn send SIGSEGV. ckptctl must say so,
# naming the pid, thread and signal, and leave no task of the tree, not
# report success for a tree that is dead. One thread of a multi-threaded
# process is enough to fail the whole restore.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

need_file "$TOOLS/imgedit"
start_target threads
dump_kill "$TMP/img"
cp -a "$TMP/img" "$TMP/bad"
# bit 63 of XSTATE_BV (byte 512 of the area): reserved, XRSTOR faults
"$TOOLS/imgedit" "$TMP/bad" xsave "$TPID" 512 0x8000000000000003 || fail "imgedit xsave"
expect_fail 1 "pid $TPID tid [0-9]+: signal 11 \\(SIGSEGV\\) as it resumed.*every task of this restore was killed" \
	ckptctl restore -D "$TMP/bad"
no_tree_left
log "$(cat "$LAST_ERR")"

# the same images, unedited, restore fine
restore_ok "$TMP/img"
expect_status pass
