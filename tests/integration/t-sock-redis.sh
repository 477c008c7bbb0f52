#!/bin/sh
# A real server nobody here wrote keeps its clients: redis-server (Debian
# package) on a loopback port, 200 keys set by a client that stays
# connected, is dumped with --tcp-established leaving it running (it
# serves on, unlocked), then dumped again (killed) and restored with
# it; the same client, on the same connection, then reads every key back
# and sets one more, and a new client finds them all.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

command -v python3 >/dev/null || skip "no python3"
command -v redis-server >/dev/null || skip "no redis-server (Debian package redis-server)"
command -v nft >/dev/null || skip "no nft (Debian package nftables)"
nft list tables >/dev/null 2>&1 || skip "nftables not usable here"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
setsid redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
	--protected-mode no --dir "$TMP" --logfile '' </dev/null >"$TMP/redis.log" 2>&1 &
TPID=$!
track_pid $TPID
trap 'rc=$?; nft delete table inet "ckpt-$TPID" 2>/dev/null; (exit $rc); cleanup' EXIT

# client MODE: "keep" sets the keys, says "set", waits for $TMP/go, then
# reads them back on the same connection; "check" reads them on a new one
cat >"$TMP/client.py" <<'EOF'
import os, socket, sys, time
port, mode, tmp = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for i in range(200):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        break
    except OSError:
        time.sleep(0.05)
else:
    sys.exit("cannot connect to redis")
f = s.makefile("rb")
def cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(out)
    line = f.readline()
    if not line:
        sys.exit("redis closed the connection")
    if line[:1] == b"$":
        n = int(line[1:])
        return None if n < 0 else f.read(n + 2)[:-2].decode()
    return line[1:].strip().decode()
def check(n):
    for i in range(n):
        v = cmd("GET", "key%d" % i)
        if v != "value-%d-%s" % (i, "x" * (i % 50)):
            sys.exit("key%d is %r" % (i, v))
if mode == "keep":
    for i in range(200):
        assert cmd("SET", "key%d" % i, "value-%d-%s" % (i, "x" * (i % 50))) == "OK"
    open(tmp + "/set", "w").write("set")
    while not os.path.exists(tmp + "/go"):
        time.sleep(0.05)
    check(200)
    assert cmd("SET", "key200", "value-200-" + "x" * 0) == "OK"
    print("same connection: 200 keys back, one more set")
else:
    check(201)
    print("new connection: 201 keys")
EOF
python3 "$TMP/client.py" "$PORT" keep "$TMP" >"$TMP/keep.out" 2>&1 &
CL=$!
track_pid $CL
wait_path -s "$TMP/set" 30 || fail "the client set no keys: $(cat "$TMP/keep.out") $(cat "$TMP/redis.log")"

# a dump that lets redis run on leaves repair mode (sending nothing) and
# removes its lock: redis serves on, the connected client's turn is later
dump_target "$TMP/kept" --tcp-established
nft list table inet "ckpt-$TPID" >/dev/null 2>&1 && fail "a --leave-running dump left its lock"
# key7 holds "value-7-" and 7 x's (the values set above: i % 50 x's)
[ "$(python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"*2\r\n$3\r\nGET\r\n$4\r\nkey7\r\n")
print(s.recv(100).decode().split()[1])' "$PORT")" = "value-7-xxxxxxx" ] ||
	fail "redis does not serve after a --leave-running dump"

dump_kill "$TMP/img" --tcp-established
[ -e "/proc/$CL" ] || fail "the client ended while redis was down: $(cat "$TMP/keep.out")"
ckpt_ok restore -D "$TMP/img" --tcp-established --pidfile "$TMP/restored.pid"
[ "$(cat "$TMP/restored.pid")" = "$TPID" ] || fail "restored root is $(cat "$TMP/restored.pid")"
for p in $TREE_PIDS; do
	track_pid "$p"
done
touch "$TMP/go"
wait $CL || fail "the connected client failed: $(cat "$TMP/keep.out")"
python3 "$TMP/client.py" "$PORT" check "$TMP" >"$TMP/check.out" 2>&1 ||
	fail "a new client failed: $(cat "$TMP/check.out")"
log "$(cat "$TMP/keep.out"); $(cat "$TMP/check.out")"
kill "$TPID"
wait_gone "$TPID"
