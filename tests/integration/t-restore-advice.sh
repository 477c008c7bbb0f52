#!/bin/sh
# Restore of mappings with advice and attributes (memory -a): DONTFORK,
# DONTDUMP, WIPEONFORK, an mlock()ed map and a MAP_GROWSDOWN one come back
# with their VmFlags ("dc dd", "wf", "lo", "gd") and contents; /proc of
# the restored process matches the dumped one, VmLck included.
# The target runs with RLIMIT_MEMLOCK 0 (root locks through CAP_IPC_LOCK):
# the restore must lock with that limit in place, and a restore without
# CAP_IPC_LOCK must fail naming the mlock, leaving nothing behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

start_target memory -a
prlimit --pid "$TPID" --memlock=0:0 || fail "prlimit --memlock=0:0 on $TPID"
TREE_PIDS=$TPID
snapshot_tree before
lck_before=$(sed -n 's/^VmLck:[[:space:]]*//p' "/proc/$TPID/status")
[ "$lck_before" != "0 kB" ] || fail "the target locked nothing (VmLck $lck_before)"
dump_kill "$TMP/img"

if command -v capsh >/dev/null; then
	# a one-shot ckptd (no daemon socket), started without the capability
	CKPT_SOCKET=$TMP/no-daemon.sock expect_fail 1 "mlock 0x[0-9a-f]+-0x[0-9a-f]+.*CAP_IPC_LOCK" \
		capsh --drop=cap_ipc_lock -- -c "exec $CKPTCTL restore -D $TMP/img"
	no_tree_left
else
	log "no capsh: restore without CAP_IPC_LOCK not tried"
fi

restore_ok "$TMP/img"
lck_after=$(sed -n 's/^VmLck:[[:space:]]*//p' "/proc/$TPID/status")
[ "$lck_after" = "$lck_before" ] || fail "VmLck is $lck_after after restore, was $lck_before"
same_as_before
expect_status pass
