#!/bin/sh
# The per-user limit (ckptd --max-per-user, 4 by default): a user's
# requests beyond it wait their turn instead of being refused, and ten at
# once all succeed; the user's status and root's requests are not held
# back; a waiting client that hangs up, or gives up (^C), is dropped and
# its request never runs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sec-lib.sh"

# user_sleeper: a process of the user's with nothing open but stdio; sets SPID
user_sleeper()
{
	(cd "$U" && exec $AS_USER perl -e 'use POSIX; POSIX::close($_) for 3..1023;
		exec "sleep", 1000' </dev/null >/dev/null 2>&1) &
	SPID=$!
	track_pid $SPID
}

# hold N: N connections of the user's that send no request, each keeping
# a handler (one of the user's slots) busy; the handlers are stopped so
# that no request timeout ends them. release lets them go. Sets HOLDER,
# HANDLERS.
hold()
{
	local i=0
	rm -f "$TMP/held"
	$AS_USER /usr/bin/python3 -c '
import socket, sys, time
ss = []
for i in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    ss.append(s)
print("held", flush=True)
time.sleep(600)' "$SOCK" "$1" >"$TMP/held" 2>&1 &
	HOLDER=$!
	track_pid $HOLDER
	while :; do
		HANDLERS=$("$CKPTCTL" status --json | python3 -c '
import json, sys
h = [str(o["handler_pid"]) for o in json.load(sys.stdin)["operations"]
     if o["kind"] == "waiting" and o["uid"] == int(sys.argv[1])]
if len(h) == int(sys.argv[2]):
    print(" ".join(h))' $SEC_UID "$1")
		[ -n "$HANDLERS" ] && break
		i=$((i + 1))
		[ $i -le 300 ] || fail "the holder's $1 connections are not served"
		sleep 0.1
	done
	kill -STOP $HANDLERS
}

release()
{
	kill -KILL $HOLDER
	kill -CONT $HANDLERS

}

# wait_log PATTERN COUNT: the daemon's log has COUNT lines matching PATTERN
wait_log()
{
	local i=0
	while [ "$(grep -c -- "$1" "$TMP/daemon.log")" -lt "$2" ]; do
		i=$((i + 1))
		[ $i -le 300 ] || fail "not $2 lines '$1' in the log: $(cat "$TMP/daemon.log")"
		sleep 0.1
	done
}

# the daemon is socket-activated on the first connection: make it run
ckpt_ok status
grep -q "4 per user" "$LAST_OUT" || fail "status does not show the limit: $(cat "$LAST_OUT")"

# --- ten at once: all wait while the user's 4 slots are held, then run -----
hold 4
pids=
for n in 0 1 2 3 4 5 6 7 8 9; do
	user_sleeper
	eval "S$n=$SPID"
	pids="$pids $SPID"
done
sleep 0.3	# perl execs sleep
for n in 0 1 2 3 4 5 6 7 8 9; do
	eval "p=\$S$n"
	$AS_USER "$CKPTCTL" dump -t $p -D "$U/d$n" >"$TMP/d$n.out" 2>&1 &
	eval "C$n=$!"
done
wait_log "waits: uid $SEC_UID has 4 requests running (--max-per-user 4)" 10
# the user's quick requests and root's dumps are not held back
$AS_USER timeout 10 "$CKPTCTL" status --json >"$TMP/ustatus.json" ||
	fail "the user's status while at the limit"
json_check "$TMP/ustatus.json" "assert j['queued'] == 10, j"
user_sleeper
ROOTS=$SPID
start_target sample
timeout 20 "$CKPTCTL" dump -t "$TPID" -D "$TMP/root" --leave-running >"$TMP/root.out" 2>&1 ||
	fail "root's dump while the user is at its limit: $(cat "$TMP/root.out")"
for n in 0 1 2 3 4 5 6 7 8 9; do
	[ -e "$U/d$n/inventory.img" ] && fail "request $n ran while the user's slots were held"
done
release
for n in 0 1 2 3 4 5 6 7 8 9; do
	eval "c=\$C$n"
	rc=0
	wait $c || rc=$?
	[ $rc -eq 0 ] || fail "the user's dump $n exited $rc: $(cat "$TMP/d$n.out")"
	[ -f "$U/d$n/inventory.img" ] || fail "dump $n wrote no set"
done
for p in $pids; do
	wait_gone $p
done
ckpt_ok status --json
json_check "$LAST_OUT" "assert j['queued'] == 0 and j['operations'] == [], j"

# --- a waiting client that hangs up or gives up is dropped -----------------
hold 4
user_sleeper
GONE=$SPID
user_sleeper
INT=$SPID
sleep 0.3
$AS_USER "$CKPTCTL" dump -t $GONE -D "$U/gone" >/dev/null 2>&1 &
KILLED=$!
# ckptctl with SIGINT at its default, as from a terminal
python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' setpriv --reuid=$SEC_UID --regid=$SEC_GID --init-groups \
	"$CKPTCTL" dump -t $INT -D "$U/int" >"$TMP/int.out" 2>&1 &
INTC=$!
wait_log "request of uid $SEC_UID .* waits" 12
# ^C only once ckptctl catches it (its cancel guard is up): a SIGINT that
# reached the python wrapper first would be lost, and the request would
# wait for good
i=0
until [ $(( 0x$(sed -n 's/^SigCgt:[[:space:]]*//p' /proc/$INTC/status 2>/dev/null || echo 0) & 2 )) -ne 0 ] &&
	[ "$(readlink /proc/$INTC/exe)" = "$(readlink -f "$CKPTCTL")" ]; do
	i=$((i + 1))
	[ $i -le 300 ] || fail "ckptctl (pid $INTC) never caught SIGINT"
	sleep 0.1
done
kill -KILL $KILLED
kill -INT $INTC
i=0
while kill -0 $INTC 2>/dev/null && [ -z "$(sed -n 's/^State:[[:space:]]*Z.*/Z/p' /proc/$INTC/status 2>/dev/null)" ]; do
	i=$((i + 1))
	[ $i -le 300 ] || { release; fail "ckptctl interrupted while waiting did not end"; }
	sleep 0.1
done
rc=0
wait $INTC || rc=$?
[ $rc -eq 9 ] || fail "ckptctl interrupted while waiting exited $rc: $(cat "$TMP/int.out")"
grep -q "cancelled while waiting for its turn" "$TMP/int.out" ||
	fail "ckptctl interrupted while waiting said: $(cat "$TMP/int.out")"
wait_log "dropped: cancelled while waiting" 2
release
sleep 1
check_alive $GONE
check_alive $INT
[ ! -e "$U/gone/inventory.img" ] && [ ! -e "$U/int/inventory.img" ] ||
	fail "a dropped request ran"
ckpt_ok status --json
json_check "$LAST_OUT" "assert j['queued'] == 0 and j['operations'] == [], j"
exit 0
