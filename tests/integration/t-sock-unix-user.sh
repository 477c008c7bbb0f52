#!/bin/sh
# A unix socket bound to a path comes back for a user other than root as
# that user could have bound it, nothing more: the stale socket file is
# removed and the path bound again with the requester's identity. A user
# restores its own unixsk target (dumped by itself) once its socket
# directory is its own again; while root owns that directory, the restore
# fails naming the file it may not remove, and leaves nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/sec-lib.sh"

mkdir -m 0755 "$U/sock" && chown "$SEC_UID:$SEC_GID" "$U/sock" || fail "mkdir $U/sock"
export UNIXSK_DIR="$U/sock"
sec_target "$SEC_UID:$SEC_GID" "$U" unixsk
unset UNIXSK_DIR
mkdir -p "$U/img" && chown "$SEC_UID:$SEC_GID" "$U/img" || fail "mkdir $U/img"
$AS_USER "$CKPTCTL" dump -t "$TPID" -D "$U/img" >"$TMP/dump.out" 2>&1 ||
	fail "the user's dump: $(cat "$TMP/dump.out")"
TREE_PIDS=$(tree_pids "$U/img") || fail "cannot read the pstree of $U/img"
for p in $TREE_PIDS; do
	wait_gone "$p"
done
[ -S "$U/sock/unixsk.sock" ] || fail "no stale socket file"

chown root:root "$U/sock" || fail "chown"
expect_fail 1 "pid $TPID fd [0-9]+: unix stream socket listening on $U/sock/unixsk.sock: cannot remove the stale socket file $U/sock/unixsk.sock: Permission denied" \
	$AS_USER "$CKPTCTL" restore -D "$U/img"
no_tree_left
[ -S "$U/sock/unixsk.sock" ] || fail "the restore removed a file the user may not remove"

chown "$SEC_UID:$SEC_GID" "$U/sock" || fail "chown"
$AS_USER "$CKPTCTL" restore -D "$U/img" >"$TMP/restore.out" 2>&1 ||
	fail "the user's restore: $(cat "$TMP/restore.out")"
for p in $TREE_PIDS; do
	track_pid "$p"
done
[ "$(stat -c %u "$U/sock/unixsk.sock")" = "$SEC_UID" ] || fail "the socket file is not the user's"
expect_status pass
log "the user's unix sockets came back, bound as the user"
