#!/bin/sh
# make bench, part 6: a real server with many connections (issue 11).
# redis-server (Debian package) holding 256 MiB of keys (DEBUG POPULATE:
# 65536 keys of 4 KiB) is dumped (killed) and restored, both with
# --tcp-established, REPS times: once with 100 client connections open (a
# python3 process outside the tree holding them, each having said PING),
# and once without any, in the same run. After each restore DBSIZE must
# be 65536 (and with connections, every client must still get PONG on its
# own connection), else exit status 1. Each column is the median of REPS:
# dump_ms and restore_ms are ckptctl's wall times. Skipped (exit 0) without
# redis-server, redis-cli or nft.
#
#	BENCH_REPS=1        rounds per variant
#	CKPT_BUILD / O      the build directory (default build)
#
# Every process started here is killed by PID and every file removed.

set -u
. "$(dirname "$0")/../only-stdio.sh"
. "$(dirname "$0")/lib.sh"

REPS=${BENCH_REPS:-1}
KEYS=65536
CONNS=100
TMP=
RPID=

cleanup()
{
	trap - EXIT INT TERM HUP
	kill_tracked
	wait 2>/dev/null
	[ -n "$RPID" ] && nft delete table inet "ckpt-$RPID" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
}

for b in redis-server redis-cli nft python3; do
	command -v $b >/dev/null || { echo "bench redis: skipped (no $b)"; exit 0; }
done
[ -x "$CKPTCTL" ] || die "$CKPTCTL is missing: run make bench (with the same O=)"
bench_tmp
: >"$TMP/pids"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

rcli()
{
	redis-cli -p "$PORT" "$@"
}

# start_redis: 256 MiB of keys, answering; sets RPID
start_redis()
{
	local i=0
	setsid redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
		--protected-mode no --enable-debug-command yes --dir "$TMP" --logfile '' \
		--maxclients 1000 </dev/null >>"$TMP/redis.log" 2>&1 &
	RPID=$!
	track_pid $RPID
	until rcli PING 2>/dev/null | grep -q PONG; do
		i=$((i + 1))
		[ $i -le 300 ] || die "redis-server does not answer: $(cat "$TMP/redis.log")"
		sleep 0.1
	done
	rcli DEBUG POPULATE $KEYS key 4096 >/dev/null || die "DEBUG POPULATE failed"
}

# start_clients: CONNS connections, each PINGed; on $TMP/go each PINGs
# again and the process exits 0 only if every one got PONG
start_clients()
{
	rm -f "$TMP/conns.ready" "$TMP/go"
	python3 - "$PORT" $CONNS "$TMP" >"$TMP/clients.out" 2>&1 <<'EOF' &
import os, socket, sys, time
port, n, tmp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(b"PING\r\n")
    assert s.recv(100) == b"+PONG\r\n"
    socks.append(s)
open(tmp + "/conns.ready", "w").write("ready")
while not os.path.exists(tmp + "/go"):
    time.sleep(0.02)
for s in socks:
    s.sendall(b"PING\r\n")
    if s.recv(100) != b"+PONG\r\n":
        sys.exit("a connection lost its PONG")
EOF
	CL=$!
	track_pid $CL
	local i=0
	until [ -e "$TMP/conns.ready" ]; do
		kill -0 $CL 2>/dev/null || die "the clients failed: $(cat "$TMP/clients.out")"
		i=$((i + 1))
		[ $i -le 600 ] || die "the clients did not connect"
		sleep 0.1
	done
}

# round CONNS: dump and restore once; appends "dump_ms restore_ms"
round()
{
	local t0 t1 t2 n
	start_redis
	[ "$1" -gt 0 ] && start_clients
	rm -rf "$TMP/img"
	t0=$(now_us)
	"$CKPTCTL" dump -t "$RPID" -D "$TMP/img" --tcp-established >/dev/null 2>"$TMP/err" ||
		die "dump: $(cat "$TMP/err")"
	t1=$(now_us)
	wait_gone "$RPID"
	"$CKPTCTL" restore -D "$TMP/img" --tcp-established >/dev/null 2>"$TMP/err" ||
		die "restore: $(cat "$TMP/err")"
	t2=$(now_us)
	track_pid $RPID
	n=$(rcli DBSIZE)
	[ "$n" = $KEYS ] || die "the restored redis has $n keys, not $KEYS"
	if [ "$1" -gt 0 ]; then
		touch "$TMP/go"
		wait $CL || die "after the restore: $(cat "$TMP/clients.out")"
	fi
	echo "$(((t1 - t0) / 1000)) $(((t2 - t1) / 1000))" >>"$TMP/rounds.$1"
	kill -KILL "$RPID"
	wait_gone "$RPID"
}

printf '%-34s %8s %10s\n' "redis-server, 256 MiB of keys" dump_ms restore_ms
for c in 0 $CONNS; do
	for r in $(seq "$REPS"); do
		round $c
	done
	d=$(cut -d' ' -f1 "$TMP/rounds.$c" | median)
	s=$(cut -d' ' -f2 "$TMP/rounds.$c" | median)
	printf '%-34s %8s %10s\n' "$c client connections" "$d" "$s"
done
