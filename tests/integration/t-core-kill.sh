#!/bin/sh
# Without --leave-running a dump ends the tree (as CRIU does): the image set
# is complete, every task of the tree is killed (SIGKILL) and its parent
# sees it die; nothing is reaped by ckptd on the way.
. "$(dirname "$0")/lib.sh"

start_target procs
notes=$TSTATUS.info
pids=$(awk '{ print $2 }' "$notes")
dir=$TMP/img
mkdir -p "$dir"
ckpt_ok dump -t "$TPID" -D "$dir"
[ -f "$dir/inventory.img" ] || fail "no inventory.img"
[ -f "$dir/core-$TPID.img" ] || fail "no core-$TPID.img"
wait "$TPID"
rc=$?
[ $rc -eq 137 ] || fail "the root's parent saw exit status $rc, want 137 (SIGKILL)"
for p in $pids; do
	wait_gone "$p" 30
done
log "every task of the tree is gone: $(echo $pids)"
exit 0
