#!/bin/sh
# Unix sockets come back. A dump with --leave-running leaves every
# queued byte to the target, which then passes its checks. The unixsk target (stream, dgram and seqpacket
# pairs with data queued both ways, a shut-down end, a pair split across
# a parent and its child, a listener bound to a path with a connection
# accepted and one not yet, an abstract dgram server with two clients,
# one bound to a path, a stream whose other end was closed) is
# dumped, killed and restored: it finds every byte, message boundary,
# option and name as it was, and talks over each again. The listener's
# socket file, left behind by the killed target, is stale: the restore
# removes it. The same set restores a second time; while a live socket
# holds the path, the restore fails naming it and leaves nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

# a dump that leaves the target running reads its queues without taking
# anything from them (nor changing its peek offset or options)
start_target unixsk
dump_target "$TMP/live"
expect_status pass
log "the queues were read without consuming them"

start_target unixsk
SOCK=$TMP/unixsk.sock
dump_kill "$TMP/img"
show_check "$TMP/img" '
socks = [s for s in find(j, "socket") if s.get("family") == 1]
msgs = [len(s.get("rcv_queue", [])) for s in socks]
assert len(socks) == 16, len(socks)
assert sum(msgs) == 26, msgs
assert [len(s.get("icons", [])) for s in socks].count(1) == 1, "no pending connection"'
[ -S "$SOCK" ] || fail "the killed target left no socket file at $SOCK"
restore_ok "$TMP/img"
expect_status pass
log "restored: queues, boundaries, shutdown, names and the pending connection came back"

# the same set again, over the socket file the restored target left
for p in $TREE_PIDS; do
	wait_gone "$p"
done
restore_ok "$TMP/img"
expect_status pass
log "the same set restored a second time"

# a live socket at the path: refused by name, nothing of the tree left
for p in $TREE_PIDS; do
	wait_gone "$p"
done
rm -f "$SOCK"
OLD_TPID=$TPID OLD_STATUS=$TSTATUS
start_target unixsk hold "$SOCK"
HOLD=$TPID
TPID=$OLD_TPID
expect_fail 1 "pid $TPID fd [0-9]+: unix stream socket listening on $SOCK: $SOCK is a live socket here \(a process is bound to it\): stop it, then restore again" \
	ckptctl restore -D "$TMP/img"
no_tree_left
expect_status pass "$TSTATUS" "$HOLD"
TSTATUS=$OLD_STATUS
[ -S "$SOCK" ] || fail "the live socket's file is gone"
restore_ok "$TMP/img"
expect_status pass
log "a live socket at $SOCK was refused by name; once gone, the set restored"
