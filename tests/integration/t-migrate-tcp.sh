#!/bin/sh
# ckptctl migrate passes --tcp-established and --ext-unix-sk to the final
# dump and to the destination's restore.
#
# Without --tcp-established a tree holding an established TCP connection
# is refused, naming the option, and the source runs on. With it, the
# final dump saves the connection (TCP_REPAIR, locked) and the option
# reaches the destination's restore. The destination here (migrate-lib.sh)
# has a PID namespace of its own but shares the host's network namespace,
# where the source's held tree still owns the connection's addresses: so
# the restore fails on them ("in use here"), and the test checks that the
# source then runs on, its connection unlocked and working. A connection
# really moving needs the destination on another host (each host's
# initial network namespace passes the restore's namespace check) with
# the address moved along: not something one host can show.
#
# --ext-unix-sk migrates end to end: the tree comes back at the
# destination connected to the unix server outside it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate-lib.sh"

command -v nft >/dev/null || skip "no nft (Debian package nftables)"
nft list tables >/dev/null 2>&1 || skip "nftables not usable here"

# without the option: refused by name, the source runs on
start_target sockets established
start_dest --insecure-plaintext
migrate_bg -t "$TPID" --to 127.0.0.1:$RPORT --insecure-plaintext --max-rounds 1
migrate_wait
migrate_failed "TCP connection 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:[0-9]+ \(established\) can't be restored: dump and restore it with --tcp-established"
src_intact
kill -KILL "$NSINIT"
rm -rf "$RDIR"
log "refused without --tcp-established; the source ran on"

# with it the final dump saves the connection (TCP_REPAIR, locked) and the
# destination's restore repairs it: here, in the same network namespace,
# the source still holds the addresses (a migration keeps the source's
# tree until the destination runs it), so the restore fails on them, and
# the source runs on, its connection unlocked and carrying bytes
start_target sockets established
# a failed migration that left the source's lock: not past the test
trap 'rc=$?; nft delete table inet "ckpt-$TPID" 2>/dev/null; (exit $rc); cleanup' EXIT
start_dest --insecure-plaintext
migrate_bg -t "$TPID" --to 127.0.0.1:$RPORT --insecure-plaintext --max-rounds 1 --tcp-established
migrate_wait
migrate_failed "the restore failed on the destination: pid $TPID fd [0-9]+: cannot bind its TCP socket: 127\.0\.0\.1:[0-9]+ is in use here"
nft list table inet "ckpt-$TPID" >/dev/null 2>&1 && fail "the source's lock stays after the failed migration"
src_intact
kill -KILL "$NSINIT"
rm -rf "$RDIR"
log "--tcp-established reached the final dump and the destination's restore"

# --ext-unix-sk goes along too: a tree connected to a unix server outside
# it comes back at the destination connected to the same paths
S=$TMP/srv
mkdir -p "$S"
python3 -c '
import socket, sys, threading
d = sys.argv[1]
out = open(d + "/log", "a", buffering=1)
def conn(c, kind):
    while True:
        x = c.recv(4096)
        if not x:
            return
        out.write("%s %s\n" % (kind, x.decode().strip()))
        if x in (b"ping\n", b"ping"):
            c.send(b"pong\n" if kind == "stream" else b"pong")
        elif kind == "seqpacket":
            c.send(b"ok")
def serve(l, kind):
    while True:
        c, _ = l.accept()
        threading.Thread(target=conn, args=(c, kind), daemon=True).start()
dg = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
dg.bind(d + "/dgram.sock")
ts = []
for kind, t in (("stream", socket.SOCK_STREAM), ("seqpacket", socket.SOCK_SEQPACKET)):
    l = socket.socket(socket.AF_UNIX, t)
    l.bind(d + "/" + kind + ".sock")
    l.listen(8)
    ts.append(threading.Thread(target=serve, args=(l, kind), daemon=True))
for t in ts:
    t.start()
out.write("ready\n")
while True:
    out.write("dgram %s\n" % dg.recv(4096).decode())
' "$S" </dev/null >"$S/out" 2>&1 &
track_pid $!
start_target unix-ext plain "$S/dgram.sock" "$S/stream.sock" "$S/seqpacket.sock"
start_dest --insecure-plaintext --json
ckpt_ok migrate -t "$TPID" --to 127.0.0.1:$RPORT --insecure-plaintext --max-rounds 1 \
	--ext-unix-sk --json
json_check "$LAST_OUT" 'assert j["dest_pid"] == j["pid"], j'
wait_gone "$TPID"
dest_wait
[ "$RRC" = 0 ] || fail "receive exited $RRC: $(cat "$RERR")"
h=$(host_pid "$TPID") || fail "pid $TPID does not run in the destination's namespace"
expect_status pass "$TSTATUS" "$h"
grep -qx "dgram after" "$S/log" || fail "the server got no datagram after: $(cat "$S/log")"
log "migrated with --ext-unix-sk: connected again to the outside server there, and talking"
kill -KILL "$NSINIT"
