#!/bin/sh
# Established TCP connections come back with --tcp-established. The
# sockets target (tcpconn) holds a connection to its own listener with
# bytes queued each way, one whose writer filled its send queue, and one
# from a client outside the tree (python3, here) whose bytes it has not
# read. Dumped with --tcp-established (killing), the connections are
# locked (an nftables table ckpt-PID) while the tree is down; a restore
# without the option is refused naming the connection; restored with it,
# the lock is gone and the target finds every queued byte, in order, and
# talks both ways on each connection, the outside client on the very
# connection it had (no reset) and its byte counts matching.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

command -v python3 >/dev/null || skip "no python3"
command -v nft >/dev/null || skip "no nft (Debian package nftables)"
nft list tables >/dev/null 2>&1 || skip "nftables not usable here"

ckpt_ok check
grep -Eq '^tcp_established +yes' "$LAST_OUT" || fail "ckptctl check: $(grep tcp_ "$LAST_OUT")"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# the client outside the tree: connects (retrying while the target starts),
# sends 1000 bytes, then waits for the target's 2000 (after the restore)
# and answers with 3; any reset or error fails it
python3 - "$PORT" >"$TMP/client.out" 2>&1 <<'EOF' &
import socket, sys, time
port = int(sys.argv[1])
pat = lambda n, seed: bytes((i * 13 + seed) & 0xff for i in range(n))
for i in range(200):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        break
    except OSError:
        time.sleep(0.05)
else:
    sys.exit("cannot connect")
s.settimeout(60)
s.sendall(pat(1000, 4))
got = b""
while len(got) < 2000:
    b = s.recv(2000 - len(got))
    if not b:
        sys.exit("the connection ended after %d bytes" % len(got))
    got += b
if got != pat(2000, 5):
    sys.exit("the 2000 bytes changed")
s.sendall(pat(3, 6))
print("sent 1003 received 2000")
EOF
CL=$!
track_pid $CL

start_target sockets tcpconn "$PORT"
# a failed restore leaves the lock (for another try): not past the test
trap 'rc=$?; nft delete table inet "ckpt-$TPID" 2>/dev/null; (exit $rc); cleanup' EXIT
dump_kill "$TMP/img" --tcp-established
nft list table inet "ckpt-$TPID" >"$TMP/lock.nft" 2>&1 ||
	fail "no lock table ckpt-$TPID while the tree is down: $(cat "$TMP/lock.nft")"
# the set's elements are "saddr . sport . daddr . dport", both ways
grep -Eq "\. $PORT \. |\. $PORT(,|\$| )" "$TMP/lock.nft" ||
	fail "the lock misses port $PORT: $(cat "$TMP/lock.nft")"
show_check "$TMP/img" '
tcp = [s for s in find(j, "socket") if "tcp" in s]
assert len(tcp) == 5, tcp
assert sorted(len(s["tcp"].get("inq", "")) > 0 for s in tcp).count(True) >= 3, tcp'
[ -e "/proc/$CL" ] || fail "the outside client ended while the tree was down: $(cat "$TMP/client.out")"

expect_fail 1 "pid $TPID fd [0-9]+: TCP connection 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:[0-9]+ \(established\) can't be restored: restore it with --tcp-established" \
	ckptctl restore -D "$TMP/img"
no_tree_left

ckpt_ok restore -D "$TMP/img" --tcp-established --pidfile "$TMP/restored.pid"
for p in $TREE_PIDS; do
	track_pid "$p"
done
nft list table inet "ckpt-$TPID" >/dev/null 2>&1 && fail "the lock stays after the restore"
expect_status pass
wait $CL || fail "the outside client failed: $(cat "$TMP/client.out")"
grep -qx "sent 1003 received 2000" "$TMP/client.out" || fail "the client says: $(cat "$TMP/client.out")"
log "every connection came back with its queues; the outside client kept its connection"
