#!/bin/sh
# TCP listeners and UDP sockets come back. The sockets target (listeners
# on 127.0.0.1 and ::1, UDP sockets bound, unbound and connected, with
# options set) is dumped, killed and restored: it finds every address,
# option, backlog and flag as it was, and a client is served on each
# listener and answered on the UDP socket. Then a real server nobody here
# wrote, python3 -m http.server, serves a file after a restore. The
# datagrams queued on UDP sockets are received after a restore. Last, a
# set restored while its port is taken fails naming the address, leaves
# nothing of the tree, and restores once the port is free.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

command -v python3 >/dev/null || skip "no python3"
[ -e /proc/sys/net/ipv6 ] || skip "no IPv6"

# client OUT: talk to the sockets target (ports from $TSTATUS.ports) in
# the background; its answers go to OUT. Sets CL.
client()
{
	python3 - "$TSTATUS.ports" >"$1" 2>&1 <<'EOF' &
import socket, sys
ports = dict(l.split() for l in open(sys.argv[1]))
for tag, fam, host in (("tcp4", socket.AF_INET, "127.0.0.1"), ("tcp6", socket.AF_INET6, "::1")):
    s = socket.create_connection((host, int(ports[tag])), timeout=20)
    s.sendall(b"hello " + tag.encode())
    print(s.recv(100).decode())
    s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(20)
u.sendto(b"hello udp", ("127.0.0.1", int(ports["udp"])))
print(u.recvfrom(100)[0].decode())
EOF
	CL=$!
	track_pid $CL
}

start_target sockets
dump_kill "$TMP/img"
show_check "$TMP/img" '
socks = find(j, "socket")
assert len(socks) == 5, socks
assert sum(1 for s in socks if s.get("backlog") in (7, 3)) == 2, socks'
restore_ok "$TMP/img"
client "$TMP/client.out"
expect_status pass
wait $CL || fail "the client failed: $(cat "$TMP/client.out")"
printf 'tcp4 hello tcp4\ntcp6 hello tcp6\nudp hello udp\n' | cmp -s - "$TMP/client.out" ||
	fail "the restored target answered: $(cat "$TMP/client.out")"
log "the restored target served TCP on 127.0.0.1 and ::1 and answered UDP"

# --- datagrams queued on UDP sockets ------------------------------------
# 127.0.0.1: from itself, empty, 60000 bytes from a socket closed since,
# from itself again; ::1 (connected): from its peer. The target checks
# each is back, in order, whole, from its sender's address.
start_target sockets udpqueue
dump_kill "$TMP/udpq"
show_check "$TMP/udpq" '
q = sorted(len(s.get("rcv_queue", [])) for s in find(j, "socket"))
assert q == [0, 0, 1, 4], q'
restore_ok "$TMP/udpq"
expect_status pass
log "the restored target found its queued datagrams whole, in order, from their senders"

# --- python3 -m http.server ---------------------------------------------
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$TMP/www"
echo "served after a restore $$" >"$TMP/www/file.txt"
# get URL OUT: fetch URL with urllib (curl is not on a minimal Debian)
get()
{
	python3 -c '
import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "$1" >"$2" 2>&1
}
setsid python3 -m http.server --bind 127.0.0.1 --directory "$TMP/www" "$PORT" \
	</dev/null >"$TMP/http.log" 2>&1 &
TPID=$!
track_pid $TPID
i=0
until get "http://127.0.0.1:$PORT/file.txt" "$TMP/got0"; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "http.server does not answer: $(cat "$TMP/http.log")"
	sleep 0.1
done
dump_kill "$TMP/http"
get "http://127.0.0.1:$PORT/file.txt" "$TMP/got1" && fail "http.server still answers after its dump"
restore_ok "$TMP/http"
get "http://127.0.0.1:$PORT/file.txt" "$TMP/got2" ||
	fail "the restored http.server does not answer: $(cat "$TMP/got2")"
cmp -s "$TMP/www/file.txt" "$TMP/got2" || fail "the restored http.server sent: $(cat "$TMP/got2")"
log "the restored http.server served $TMP/www/file.txt"
kill "$TPID"
wait_gone "$TPID"

# --- a port taken at restore ---------------------------------------------
start_target sockets
dump_target "$TMP/kept"
TREE_PIDS=$(tree_pids "$TMP/kept") || fail "cannot read the pstree of $TMP/kept"
kill -KILL "$TPID"
wait_gone "$TPID"
P4=$(sed -n 's/^tcp4 //p' "$TSTATUS.ports")
python3 -c '
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
open(sys.argv[2], "w").write("ready")
time.sleep(120)' "$P4" "$TMP/holder.ready" </dev/null >/dev/null 2>&1 &
HOLDER=$!
track_pid $HOLDER
wait_path -s "$TMP/holder.ready" 30 || fail "nothing holds port $P4"
expect_fail 1 "pid $TPID fd [0-9]+: cannot bind its TCP socket: 127\.0\.0\.1:$P4 is in use here" \
	ckptctl restore -D "$TMP/kept"
no_tree_left
kill "$HOLDER"
wait_gone "$HOLDER"
restore_ok "$TMP/kept"
client "$TMP/client2.out"
expect_status pass
wait $CL || fail "the client failed after the second restore: $(cat "$TMP/client2.out")"
log "a restore with its port taken failed cleanly, and succeeded once it was free"
