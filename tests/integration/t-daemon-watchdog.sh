#!/bin/sh
# Under systemd (here systemd-socket-activate with the environment a
# service with WatchdogSec=1 gets), ckptd sends WATCHDOG=1 every half
# interval and STATUS= with the operations in flight: "idle", then the
# running dump with its stage, then "idle" again once it ends.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ops-lib.sh"

command -v systemd-socket-activate >/dev/null || skip "systemd-socket-activate missing"
SOCK=$TMP/ckptd.sock
NSOCK=$TMP/notify.sock
NOUT=$TMP/notify.out

start_notify_listener 120

wait_for_line()	# PATTERN [COUNT]
{
	local i=0
	while [ "$(grep -c -- "$1" "$NOUT" 2>/dev/null)" -lt "${2:-1}" ]; do
		i=$((i + 1))
		[ $i -le 300 ] || fail "not ${2:-1} '$1' from ckptd: $(tail -n 20 "$NOUT")"
		sleep 0.1
	done
}

start_target memory -d 1024
# systemd-socket-activate execs ckptd in its own process: WATCHDOG_PID is
# the shell's pid, which the exec keeps
sh -c 'WATCHDOG_PID=$$ exec systemd-socket-activate --seqpacket -l "$1" -E WATCHDOG_PID \
	-E WATCHDOG_USEC=1000000 -E NOTIFY_SOCKET="$2" "$3" --idle-timeout 0' \
	sh "$SOCK" "$NSOCK" "$CKPTD" >"$TMP/daemon.log" 2>&1 &
DPID=$!
track_pid $DPID
wait_path -S "$SOCK" || fail "systemd-socket-activate did not create $SOCK"
export CKPT_SOCKET=$SOCK CKPTD=/nonexistent/ckptd
ckpt_ok status
wait_for_line READY=1
wait_for_line STATUS=idle
wait_for_line WATCHDOG=1 3

mkdir -p "$TMP/img"
"$CKPTCTL" dump -t "$TPID" -D "$TMP/img" >"$TMP/dump.out" 2>&1 &
C=$!
catch_dump $TPID
wait_for_line "STATUS=1 operation: dump of pid $TPID for uid 0 (pages [0-9]*%)"
# ckptctl's SIGTERM cancels the dump
kill -TERM $C
kill -CONT $OP_HANDLER
rc=0
wait $C || rc=$?
[ $rc -eq 9 ] || fail "the cancelled dump exited $rc: $(cat "$TMP/dump.out")"
wait_for_line STATUS=idle 2
n=$(grep -c WATCHDOG=1 "$NOUT")
sleep 1.5
[ "$(grep -c WATCHDOG=1 "$NOUT")" -gt "$n" ] || fail "no WATCHDOG=1 after the dump"
kill -TERM $DPID
wait $DPID || fail "ckptd exited $? on SIGTERM"
wait_for_line STOPPING=1
check_alive
