#!/bin/sh
# Targets that change under the dump. (1) threads created and exiting all
# the time: each of several dumps either succeeds with a consistent image
# or fails cleanly; none hangs, none leaves the target stopped or traced.
# (2) a target killed while its 1 GiB is being saved: the dump fails
# cleanly (or had finished), leaves no partial set, and no process of the
# test is left stopped.
. "$(dirname "$0")/lib.sh"

start_target churn -t 4 -d 64
ok=0
for n in 1 2 3 4 5; do
	ckpt dump -t "$TPID" -D "$TMP/churn.$n" --leave-running
	if [ $LAST_RC -eq 0 ]; then
		ok=$((ok + 1))
		show_json "$TMP/churn.$n"
	else
		log "dump $n failed ($LAST_RC): $(cat "$LAST_ERR")"
		no_partial_set "$TMP/churn.$n"
	fi
	check_alive
done
log "$ok of 5 dumps of the churning target succeeded"
expect_status pass

# (2) killed mid-dump
start_target memory -d 1024
IMG=$TMP/killed
mkdir -p "$IMG"
timeout -k 10 "$CKPT_TIMEOUT" "$CKPTCTL" dump -t "$TPID" -D "$IMG" --leave-running \
	>"$TMP/k.out" 2>"$TMP/k.err" &
dump=$!
i=0
while [ "$(sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$TPID/status" 2>/dev/null)" = 0 ]; do
	kill -0 $dump 2>/dev/null || break
	i=$((i + 1))
	[ $i -lt 3000 ] || fail "the dump never seized pid $TPID"
	sleep 0.01
done
sleep 0.05
kill -KILL "$TPID"
rc=0
wait $dump || rc=$?
[ $rc -ne 124 ] && [ $rc -ne 137 ] || fail "the dump of a killed target hung"
log "dump of the killed target exited $rc: $(cat "$TMP/k.out" "$TMP/k.err")"
if [ $rc -ne 0 ]; then
	no_partial_set "$IMG"
	grep -Eqi "$TPID" "$TMP/k.err" || fail "the failure does not name pid $TPID: $(cat "$TMP/k.err")"
fi
wait_gone "$TPID" 30
