#!/bin/sh
# SIGTERM to a listening ckptd cancels the operations in flight and waits
# for their handlers: a dump being written stops, its ckptctl exits 9
# saying ckptd stopped it, the tree runs on, no set is left. A handler
# that does not stop within 10 s is killed, and SIGKILL of a handler
# mid-dump leaves the tree running too: not stopped, not traced, every
# byte as it was.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ops-lib.sh"

# dump_in_pages DIR: start a killing dump of $TPID into DIR and catch it
# writing pages (its handler stopped); sets C (ckptctl) and H (the handler)
dump_in_pages()
{
	mkdir -p "$1"
	"$CKPTCTL" dump -t "$TPID" -D "$1" >"$1.out" 2>&1 &
	C=$!
	catch_dump $TPID
	H=$OP_HANDLER
}

# daemon_exits SECONDS: the daemon ($DPID) exits 0 within SECONDS
daemon_exits()
{
	local i=0 rc=0
	while kill -0 $DPID 2>/dev/null && [ "$(proc_state $DPID)" != Z ]; do
		i=$((i + 1))
		[ $i -le $(($1 * 10)) ] || fail "ckptd still runs $1 s after SIGTERM"
		sleep 0.1
	done
	wait $DPID || rc=$?
	[ $rc -eq 0 ] || fail "ckptd exited $rc on SIGTERM: $(cat "$TMP/daemon.log")"
	[ ! -e "$SOCK" ] || fail "ckptd left $SOCK behind"
}

start_target memory -d 1024
REAL_CKPTD=$CKPTD

# --- SIGTERM cancels a dump in flight --------------------------------------
CKPTD=$REAL_CKPTD listen_daemon
dump_in_pages "$TMP/img1"
kill -TERM $DPID
i=0
until grep -q "stopping: 1 operations cancelled" "$TMP/daemon.log"; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "no log of the stop: $(cat "$TMP/daemon.log")"
	sleep 0.1
done
kill -CONT $H
daemon_exits 10
rc=0
wait $C || rc=$?
[ $rc -eq 9 ] || fail "the dump exited $rc, not 9, when ckptd stopped: $(cat "$TMP/img1.out")"
grep -q "cancelled by ckptd, which is stopping: cancelled at the pages stage: the tree runs on" \
	"$TMP/img1.out" || fail "the dump said: $(cat "$TMP/img1.out")"
grep -q "stopping: 1 operations cancelled" "$TMP/daemon.log" ||
	fail "no log of the stop: $(cat "$TMP/daemon.log")"
no_partial_set "$TMP/img1"
check_alive

# --- a handler that does not stop is killed after 10 s ---------------------
CKPTD=$REAL_CKPTD listen_daemon
dump_in_pages "$TMP/img2"
kill -TERM $DPID
sleep 2
kill -0 $DPID || fail "ckptd did not wait for its handler"
daemon_exits 20
grep -q "handler $H still runs after 10 s, killing it" "$TMP/daemon.log" ||
	fail "no log of the kill: $(cat "$TMP/daemon.log")"
rc=0
wait $C || rc=$?
[ $rc -eq 1 ] || fail "the dump exited $rc when its handler was killed: $(cat "$TMP/img2.out")"
[ ! -e "$TMP/img2/inventory.img" ] || fail "a killed dump left inventory.img"
check_alive

# --- SIGKILL of a handler mid-dump -----------------------------------------
CKPTD=$REAL_CKPTD listen_daemon
dump_in_pages "$TMP/img3"
kill -KILL $H
rc=0
wait $C || rc=$?
[ $rc -eq 1 ] || fail "the dump exited $rc when its handler was killed: $(cat "$TMP/img3.out")"
grep -q "ckptd closed the connection without an answer" "$TMP/img3.out" ||
	fail "the dump said: $(cat "$TMP/img3.out")"
[ ! -e "$TMP/img3/inventory.img" ] || fail "a killed dump left inventory.img"
check_alive
grep -q "State:.*[RS]" "/proc/$TPID/status" || fail "pid $TPID: $(grep State /proc/$TPID/status)"
grep -q "TracerPid:.*0$" "/proc/$TPID/status" || fail "pid $TPID is still traced"
# its slot is freed once the daemon reaps it
i=0
while :; do
	ckpt_ok status --json
	json_check "$LAST_OUT" "assert True" && grep -q '"operations":\[\]' "$LAST_OUT" && break
	i=$((i + 1))
	[ $i -le 100 ] || fail "the killed handler's operation is still listed: $(cat "$LAST_OUT")"
	sleep 0.1
done
kill -TERM $DPID
daemon_exits 10
expect_status pass
