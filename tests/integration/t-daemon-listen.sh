#!/bin/sh
# ckptd --listen PATH, standalone: sd_notify READY=1 once it serves and
# STOPPING=1 when it leaves, the idle timeout, SIGTERM, a stale socket file
# replaced, a live one left alone, and the socket removed at exit.
. "$(dirname "$0")/lib.sh"

SOCK=$TMP/run/ckptd.sock
NSOCK=$TMP/notify.sock
NOUT=$TMP/notify.out

# a NOTIFY_SOCKET receiver: one line per datagram, until STOPPING=1
wait_for_line()	# FILE PATTERN
{
	local i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 100 ] || fail "no '$2' in $1: $(cat "$1" 2>/dev/null)"
		sleep 0.1
	done
}

# --- idle timeout, notifications, a request -----------------------------
# the target first: started between two requests, it could outlast the
# 2 s idle timeout on a loaded machine
start_target sample
start_notify_listener
NOTIFY_SOCKET=$NSOCK "$CKPTD" --listen "$SOCK" --idle-timeout 2 >"$TMP/d1.log" 2>&1 &
D=$!
track_pid $D
wait_for_line "$NOUT" READY=1
[ -S "$SOCK" ] || fail "ckptd --listen did not create $SOCK"
[ "$(stat -c %a "$SOCK")" = 666 ] || fail "$SOCK has mode $(stat -c %a "$SOCK"), not 666"
CKPT_SOCKET=$SOCK CKPTD=/nonexistent ckpt_ok check --json
json_check "$LAST_OUT" 'assert j["pagemap_scan"] is True and j["soft_dirty"] is False, j'
CKPT_SOCKET=$SOCK ckpt_ok status --json
json_check "$LAST_OUT" "assert j['pid'] == $D and j['mode'] == 'listen' and j['idle_timeout_s'] == 2, j"
# a tree restored by a listening daemon outlives the daemon
CKPT_SOCKET=$SOCK CKPTD=/nonexistent ckpt_ok dump -t "$TPID" -D "$TMP/img"
wait_gone "$TPID"
CKPT_SOCKET=$SOCK CKPTD=/nonexistent ckpt_ok restore -D "$TMP/img"
track_pid "$TPID"
# a second daemon on a live socket refuses, and leaves it alone
expect_fail 1 "cannot listen on .*: Address already in use" "$CKPTD" --listen "$SOCK"
rc=0
wait $D || rc=$?
[ $rc -eq 0 ] || fail "ckptd exited $rc after its idle timeout: $(cat "$TMP/d1.log")"
wait_for_line "$NOUT" STOPPING=1
[ ! -e "$SOCK" ] || fail "ckptd left $SOCK behind"
# status asks the service only: with none, exit 6 and no one-shot daemon
CKPT_SOCKET=$SOCK expect_fail 6 "ckptctl status: no ckptd answers at $SOCK" ckptctl status
CKPT_SOCKET=$SOCK ckpt status --json
[ $LAST_RC -eq 6 ] || fail "status --json exited $LAST_RC: $(cat "$LAST_ERR")"
json_check "$LAST_OUT" 'assert j["errno"] == 2 and "no ckptd answers" in j["error"], j'
grep -q "check for uid 0 .* done" "$TMP/d1.log" || fail "no log of the check: $(cat "$TMP/d1.log")"
check_alive
expect_status pass

# --- SIGTERM, over a stale socket file ----------------------------------
/usr/bin/python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(sys.argv[1])' "$SOCK"
[ -S "$SOCK" ] || fail "cannot make a stale socket"
start_notify_listener
NOTIFY_SOCKET=$NSOCK "$CKPTD" --listen "$SOCK" >"$TMP/d2.log" 2>&1 &
D=$!
track_pid $D
wait_for_line "$NOUT" READY=1
CKPT_SOCKET=$SOCK CKPTD=/nonexistent ckpt_ok check
sleep 2.5
kill -0 $D 2>/dev/null || fail "ckptd --listen without --idle-timeout exited on its own"
kill -TERM $D
rc=0
wait $D || rc=$?
[ $rc -eq 0 ] || fail "ckptd exited $rc on SIGTERM: $(cat "$TMP/d2.log")"
wait_for_line "$NOUT" STOPPING=1
[ ! -e "$SOCK" ] || fail "ckptd left $SOCK behind after SIGTERM"

# --- a handler that dies mid-dump loses its request, not the daemon ------
"$CKPTD" --listen "$SOCK" >"$TMP/d3.log" 2>&1 &
D=$!
track_pid $D
wait_path -S "$SOCK" || fail "ckptd --listen did not create $SOCK"
# a target big enough that its dump takes a while
perl -e 'use POSIX; POSIX::close($_) for 3..1023; $x = "a" x (1 << 30); sleep 1000' \
	</dev/null >/dev/null 2>&1 &
BIG=$!
track_pid $BIG
i=0
while [ "$(awk '/^VmRSS/ { print $2 }' /proc/$BIG/status)" -lt 1000000 ]; do
	i=$((i + 1))
	[ $i -le 300 ] || fail "the perl target did not grow"
	sleep 0.1
done
CKPT_SOCKET=$SOCK CKPTD=/nonexistent "$CKPTCTL" dump -t $BIG -D "$TMP/big" --leave-running \
	>"$TMP/big.out" 2>&1 &
C=$!
i=0
handler=
while [ -z "$handler" ]; do
	# ckptd's first child (every thread's children file: "PID PID ...")
	handler=$(cat /proc/$D/task/*/children 2>/dev/null | awk '{ print $1; exit }')
	i=$((i + 1))
	[ $i -le 300 ] || fail "no handler for the dump"
	sleep 0.01
done
kill -KILL "$handler"
rc=0
wait $C || rc=$?
if [ $rc -eq 0 ]; then
	log "the dump finished before its handler was killed; nothing to check"
else
	[ $rc -eq 1 ] || fail "ckptctl exited $rc when its handler died: $(cat "$TMP/big.out")"
	grep -q "ckptd closed the connection without an answer" "$TMP/big.out" ||
		fail "ckptctl said: $(cat "$TMP/big.out")"
	[ ! -e "$TMP/big/inventory.img" ] || fail "a killed dump left inventory.img"
fi
kill -0 $D || fail "ckptd died with its handler"
# ckptctl may see the connection close before ckptd reaps the handler
[ $rc -eq 0 ] || wait_for_line "$TMP/d3.log" "connection handler $handler killed by signal 9"
check_alive $BIG
CKPT_SOCKET=$SOCK CKPTD=/nonexistent ckpt_ok check
kill -TERM $D
wait $D || fail "ckptd exited $? on SIGTERM"

# --- bad invocations ----------------------------------------------------
expect_fail 2 "at most one" "$CKPTD" --listen "$SOCK" --oneshot-fd 3
expect_fail 2 "invalid number" "$CKPTD" --idle-timeout soon
expect_fail 1 "expected one socket from systemd" "$CKPTD"
expect_fail 1 "not a connected SOCK_SEQPACKET" "$CKPTD" --oneshot-fd 0
"$CKPTD" --help | grep -q -- "--oneshot-fd" || fail "ckptd --help"
"$CKPTD" --version | grep -Eq '^ckptd [0-9]' || fail "ckptd --version"
exit 0
