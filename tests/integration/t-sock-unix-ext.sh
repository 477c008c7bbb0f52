#!/bin/sh
# Unix sockets connected to servers outside the tree (--ext-unix-sk). A
# python3 server outside the tree listens on a dgram path (as /dev/log), a
# stream path and a seqpacket path; the unix-ext target connects to each.
# Without the option the dump is refused naming it, and the target runs
# on. With it, the dump records each peer's path; a restore without the
# option is refused naming it; with it the target comes back connected to
# the same paths (the stream and seqpacket servers accept new
# connections) and talks over each. With nobody listening at the path,
# the restore fails naming pid, fd and path and leaves nothing. Bytes the
# server sent that the target has not read are refused at dump.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

# server DIR: the outside server, its paths in DIR, its log DIR/log
server()
{
	mkdir -p "$1"
	python3 -c '
import socket, sys, threading
d = sys.argv[1]
out = open(d + "/log", "a", buffering=1)
lock = threading.Lock()
def note(s):
    with lock:
        out.write(s + "\n")
dg = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
dg.bind(d + "/dgram.sock")
def dgram():
    while True:
        note("dgram " + dg.recv(4096).decode())
def conn(c, kind, k):
    buf = b""
    while True:
        x = c.recv(4096)
        if not x:
            note("%s %d eof" % (kind, k))
            return
        if kind == "seqpacket":
            note("seqpacket %d %s" % (k, x.decode()))
            c.send(b"ok" if x == b"before" else b"pong")
            continue
        buf += x
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            note("stream %d %s" % (k, line.decode()))
            if line == b"ping":
                c.sendall(b"pong\n")
            if line == b"please-send":
                c.sendall(b"unread\n")
def serve(l, kind):
    k = 0
    while True:
        c, _ = l.accept()
        k += 1
        note("%s %d accepted" % (kind, k))
        threading.Thread(target=conn, args=(c, kind, k), daemon=True).start()
ls = []
for kind, t in (("stream", socket.SOCK_STREAM), ("seqpacket", socket.SOCK_SEQPACKET)):
    l = socket.socket(socket.AF_UNIX, t)
    l.bind(d + "/" + kind + ".sock")
    l.listen(8)
    ls.append(threading.Thread(target=serve, args=(l, kind), daemon=True))
ls.append(threading.Thread(target=dgram, daemon=True))
for t in ls:
    t.start()
note("ready")
ls[0].join()
' "$1" </dev/null >"$1/out" 2>&1 &
	SRV=$!
	track_pid $SRV
	i=0
	until grep -q '^ready$' "$1/log" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 100 ] || fail "the outside server in $1 did not start: $(cat "$1/out")"
		sleep 0.1
	done
}

# has DIR LINE: the server of DIR logged LINE (waits up to 5 s)
has()
{
	i=0
	until grep -qx -- "$2" "$1/log"; do
		i=$((i + 1))
		[ $i -le 50 ] || fail "the outside server did not see '$2': $(cat "$1/log")"
		sleep 0.1
	done
}

# without the option: refused by name, the target runs on and talks
A=$TMP/a
server "$A"
start_target unix-ext ok "$A/dgram.sock" "$A/stream.sock" "$A/seqpacket.sock"
dump_refused "$TMP/no" "pid $TPID fd [0-9]+: unix datagram socket [^:]* is connected to $A/dgram.sock \(inode [0-9]+\) held outside the tree: dump and restore it with --ext-unix-sk"
expect_status pass
has "$A" "stream 1 ping"
has "$A" "dgram after"
log "refused without --ext-unix-sk; the target ran on"

# with it: dumped, killed, restored connected to the same paths
B=$TMP/b
server "$B"
SRV_B=$SRV
start_target unix-ext ok "$B/dgram.sock" "$B/stream.sock" "$B/seqpacket.sock"
dump_kill "$TMP/img" --ext-unix-sk
show_check "$TMP/img" "
socks = [s for s in find(j, 'socket') if s.get('family') == 1]
names = sorted(bytes.fromhex(s['peer_name']).rstrip(b'\\0').decode() for s in socks if 'peer_name' in s)
assert names == ['$B/' + n + '.sock' for n in ('dgram', 'seqpacket', 'stream')], names
assert all(s.get('ext_unix_sk') for s in socks), socks"
has "$B" "stream 1 eof"
expect_fail 1 "pid $TPID fd [0-9]+: unix datagram socket [^:]* is connected to $B/dgram.sock \(inode [0-9]+\) held outside the tree: restore it with --ext-unix-sk" \
	ckptctl restore -D "$TMP/img"
no_tree_left
ckpt_ok restore -D "$TMP/img" --ext-unix-sk --pidfile "$TMP/restored.pid"
[ "$(cat "$TMP/restored.pid")" = "$TPID" ] || fail "restored root is $(cat "$TMP/restored.pid")"
track_pid "$TPID"
expect_status pass
for l in "dgram before" "dgram after" "stream 1 before" "stream 2 accepted" "stream 2 ping" \
	"seqpacket 1 before" "seqpacket 2 ping"; do
	has "$B" "$l"
done
grep -qx "stream 1 ping" "$B/log" && fail "the old stream connection carried the ping"
log "restored: dgram, stream and seqpacket connected again to their paths, and talking"

# nobody listens at the path any more (the server is gone, its socket
# files left): the restore fails naming pid, fd and path; nothing is left
wait_gone "$TPID"
kill "$SRV_B"
wait_gone "$SRV_B"
[ -S "$B/dgram.sock" ] || fail "the server left no socket file"
expect_fail 1 "pid $TPID fd [0-9]+: unix datagram socket [^:]*: cannot connect it again to $B/dgram.sock, outside the tree: nobody listens there" \
	ckptctl restore -D "$TMP/img" --ext-unix-sk
no_tree_left
rm -f "$B/dgram.sock"
expect_fail 1 "cannot connect it again to $B/dgram.sock, outside the tree: there is no socket there" \
	ckptctl restore -D "$TMP/img" --ext-unix-sk
no_tree_left
log "no listener: refused by path, nothing left"

# bytes the outside server sent, not read: refused at dump, target intact
C=$TMP/c
server "$C"
start_target unix-ext queued "$C/stream.sock"
mkdir -p "$TMP/q"
expect_fail 8 "restore would refuse this tree.*pid $TPID fd [0-9]+: unix stream socket \(inode [0-9]+\) has 7 bytes its peer $C/stream.sock outside the tree sent, not read yet.*runs on" \
	ckptctl dump -t "$TPID" -D "$TMP/q" --ext-unix-sk
no_partial_set "$TMP/q"
expect_status pass
log "unread bytes from the outside peer: refused at dump, the target ran on"
