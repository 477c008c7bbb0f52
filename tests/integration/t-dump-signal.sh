#!/bin/sh
# A signal sent to the target while a dump holds it frozen must not be
# lost: it stays pending and is delivered once the dump lets go. The
# target (512 MiB to save, so the dump takes a while) gets SIGUSR1 as soon
# as the dump has seized it, and must then pass; the dump itself may
# succeed or fail (the target may exit before it ends), but not hang.
. "$(dirname "$0")/lib.sh"

start_target memory -d 512
IMG=$TMP/img
mkdir -p "$IMG"
timeout -k 10 "$CKPT_TIMEOUT" "$CKPTCTL" dump -t "$TPID" -D "$IMG" --leave-running \
	>"$TMP/dump.out" 2>"$TMP/dump.err" &
dump=$!
i=0
while :; do
	tracer=$(sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$TPID/status" 2>/dev/null)
	[ "${tracer:-0}" != 0 ] && break
	if ! kill -0 $dump 2>/dev/null; then
		skip "the dump ended before the test saw the target seized"
	fi
	i=$((i + 1))
	[ $i -lt 3000 ] || fail "the dump never seized pid $TPID"
	sleep 0.01
done
kill -USR1 "$TPID"
rc=0
wait $dump || rc=$?
[ $rc -ne 124 ] && [ $rc -ne 137 ] || fail "the dump hung"
log "dump exited $rc: $(cat "$TMP/dump.out" "$TMP/dump.err")"
[ $rc -eq 0 ] || no_partial_set "$IMG"

i=0
while :; do
	line=$(cat "$TSTATUS")
	case $line in
	pass) break ;;
	fail*) fail "target: $line" ;;
	esac
	i=$((i + 1))
	if [ $i -gt 300 ]; then
		diag_pid "$TPID"
		fail "SIGUSR1 sent during the dump was lost: pid $TPID still waits (status '$line')"
	fi
	sleep 0.1
done
