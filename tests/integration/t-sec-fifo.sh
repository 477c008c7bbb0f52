#!/bin/sh
# A FIFO (or a symlink) where an image should be wedges nothing: an
# unprivileged user's restores from a set whose inventory.img is a FIFO are
# refused at once, with every handler slot free for root after them, and
# `ckptctl show` of a FIFO returns too. A handler that stays wedged anyway
# is ended by --handler-timeout.
. "$(dirname "$0")/lib.sh"

command -v setpriv >/dev/null || skip "setpriv missing"
command -v python3 >/dev/null || skip "python3 missing"

AS_NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
CKPT_TIMEOUT=20		# a hang is the failure here
DAEMON=$CKPTD
listen_daemon

# nobody's image directory: inventory.img is a FIFO no one writes
mkdir -m 0755 "$TMP/pub"
chown 65534:65534 "$TMP/pub"
$AS_NOBODY mkdir "$TMP/pub/fifo"
$AS_NOBODY mkfifo "$TMP/pub/fifo/inventory.img"
expect_fail 1 "inventory.img: is a FIFO, not an image file" \
	$AS_NOBODY "$CKPTCTL" restore -D "$TMP/pub/fifo"

# more restores at once than ckptd has handler slots (16): none may stay
pids=
for n in $(seq 1 20); do
	$AS_NOBODY timeout -k 5 20 "$CKPTCTL" restore -D "$TMP/pub/fifo" \
		>"$TMP/par.$n.out" 2>&1 &
	pids="$pids $!"
done
for p in $pids; do
	wait $p && fail "a restore from a FIFO succeeded"
done
for n in $(seq 1 20); do
	grep -q "is a FIFO" "$TMP/par.$n.out" || fail "restore $n: $(cat "$TMP/par.$n.out")"
done
# ... and root is served at once
ckpt_ok status
start_target sample
dump_target "$TMP/img"
check_alive

# a symlink to an image nobody may read is not followed
$AS_NOBODY mkdir "$TMP/pub/link"
$AS_NOBODY ln -s "$TMP/img/inventory.img" "$TMP/pub/link/inventory.img"
expect_fail 1 "inventory.img: is a symbolic link" \
	$AS_NOBODY "$CKPTCTL" restore -D "$TMP/pub/link"

# ckptctl show (no daemon) of a FIFO, alone or in a set
$AS_NOBODY mkfifo "$TMP/pub/fifo.img"
expect_fail 1 "fifo.img: is a FIFO" $AS_NOBODY "$CKPTCTL" show "$TMP/pub/fifo.img"
expect_fail 1 "inventory.img: is a FIFO" $AS_NOBODY "$CKPTCTL" show "$TMP/pub/fifo"

kill -0 $DPID || fail "ckptd died"

# the deadline: a handler still running after --handler-timeout is killed
# (here one whose peer connects and never asks: without the deadline it
# would wait for the request 30 s)
SOCK2=$TMP/ckptd2.sock
"$DAEMON" --listen "$SOCK2" --handler-timeout 2 >"$TMP/daemon2.log" 2>&1 &
D2=$!
track_pid $D2
wait_path -S "$SOCK2" || fail "the second ckptd did not create $SOCK2: $(cat "$TMP/daemon2.log")"
start=$(date +%s)
$AS_NOBODY python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.settimeout(25)
print(s.recv(65536))' "$SOCK2" >"$TMP/idle.out" 2>&1
took=$(($(date +%s) - start))
[ $took -le 10 ] || fail "the idle connection was served for $took s with --handler-timeout 2"
wait_path_grep()
{
	for _ in $(seq 1 50); do
		grep -q "$1" "$2" && return 0
		sleep 0.1
	done
	return 1
}
wait_path_grep "killed: still running after 2 s (--handler-timeout)" "$TMP/daemon2.log" ||
	fail "ckptd did not log the deadline: $(cat "$TMP/daemon2.log")"
CKPT_SOCKET=$SOCK2 ckpt_ok status
exit 0
