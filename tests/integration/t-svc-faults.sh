#!/bin/sh
# Issue 7: faults of the socket-activated service (a root ckptd under
# systemd-socket-activate) leave every target running. A killing dump of a
# 1 GiB memory target is cut off while it writes pages:
#  - its client is SIGKILLed (the connection closes with no cancel);
#  - the handler serving it (ckptd's child) is SIGKILLed.
# Each time the target runs on, not stopped, not traced, no image set is
# left, and ckptd serves the next request; at the end the target finds
# every byte of its memory as it was. (A killed handler cannot remove its
# temporary directory: the next dump there does, as t-dump-stale checks
# for a killed one-shot ckptd.)
. "$(dirname "$0")/lib.sh"

command -v systemd-socket-activate >/dev/null || skip "systemd-socket-activate missing"
activate_daemon
ckpt_ok status	# ckptd runs from here on, as $DPID
[ "$(cat /proc/$DPID/comm)" = ckptd ] || fail "pid $DPID is $(cat /proc/$DPID/comm), not ckptd"

# dump_started DIR: a killing dump of $TPID into DIR in the background,
# until it is writing pages (8 MiB of them: well before it ends); sets
# CPID (ckptctl) and HANDLER (ckptd's child serving it)
dump_started()
{
	local i=0 f sz
	mkdir -p "$1"
	"$CKPTCTL" dump -t "$TPID" -D "$1" >"$1.out" 2>"$1.err" &
	CPID=$!
	while :; do
		for f in "$1"/.ckpt-tmp-*/pages-*.img; do
			[ -f "$f" ] || continue
			sz=$(stat -c %s "$f" 2>/dev/null || echo 0)
			[ "$sz" -gt 8388608 ] && break 2
		done
		kill -0 "$CPID" 2>/dev/null || fail "the dump ended before it wrote 8 MiB: $(cat "$1.err")"
		i=$((i + 1))
		[ $i -le 1200 ] || fail "the dump wrote no pages in 60 s"
		sleep 0.05
	done
	# the one request in flight: ckptd's only child
	HANDLER=$(cat /proc/$DPID/task/*/children 2>/dev/null | tr ' ' '\n' | grep -v '^$')
	[ "$(echo "$HANDLER" | wc -l)" = 1 ] && [ -n "$HANDLER" ] ||
		fail "not one handler for the dump: '$HANDLER'"
	log "dump into $1 under way: ckptctl $CPID, handler $HANDLER"
}

# after_fault DIR [LEFT]: the handler ends, the target runs on untraced,
# no image set is left in DIR, nothing at all but what matches LEFT (a
# shell pattern), and ckptd still serves
after_fault()
{
	local f
	wait_gone "$HANDLER" 30
	check_alive "$TPID"
	[ ! -e "$1/inventory.img" ] || fail "$1/inventory.img left behind by a failed dump"
	for f in $(ls -A "$1"); do
		case $f in
		${2:-}) ;;
		*) fail "$1/$f left behind by a failed dump" ;;
		esac
	done
	kill -0 "$DPID" 2>/dev/null || fail "ckptd died"
	ckpt_ok check
}

start_target memory -d 1024

# --- the client gone, mid-dump ---------------------------------------------
dump_started "$TMP/img-client"
kill -KILL "$CPID"
wait "$CPID" 2>/dev/null
after_fault "$TMP/img-client"
grep -q "dump of pid $TPID for uid 0 (pid $CPID) failed: cancelled" "$TMP/daemon.log" ||
	fail "ckptd did not log the lost client: $(cat "$TMP/daemon.log")"

# --- the handler killed, mid-dump ------------------------------------------
dump_started "$TMP/img-handler"
kill -KILL "$HANDLER"
rc=0
wait "$CPID" || rc=$?
[ $rc -ne 0 ] || fail "ckptctl reported success for a dump whose handler was killed"
grep -q "ckptd closed the connection without an answer" "$TMP/img-handler.err" ||
	fail "ckptctl said: $(cat "$TMP/img-handler.err")"
after_fault "$TMP/img-handler" ".ckpt-tmp-$HANDLER-*"
grep -q "connection handler $HANDLER killed by signal 9" "$TMP/daemon.log" ||
	fail "ckptd's log: $(cat "$TMP/daemon.log")"
# the next dump there succeeds and removes the killed one's directory
dump_target "$TMP/img-handler"
check_alive "$TPID"
ls -A "$TMP/img-handler" | grep -q '^\.ckpt-tmp-' &&
	fail "the next dump left $(ls -A "$TMP/img-handler" | grep '^\.ckpt-tmp-')"
rm -rf "$TMP/img-handler"

# every byte as it was
expect_status pass
exit 0
