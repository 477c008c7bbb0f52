#!/bin/sh
# A migration cut mid-way leaves the source's tree running and intact and
# the destination with nothing: receive killed (SIGKILL: the connection
# drops; SIGTERM) while round 0 streams, and the source's ckptctl migrate
# killed (SIGKILL, SIGTERM) likewise. A 512 MiB target makes round 0 last.
# A migrate killed by SIGKILL cannot remove its staging directory in
# /dev/shm: the next migrate sweeps it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate-lib.sh"

# 1, 2. the destination's receive killed while round 0 streams
for sig in KILL TERM; do
	start_target incr -b 512
	start_dest --insecure-plaintext
	rp=$(recv_pid) || fail "cannot find receive in the destination's namespace"
	migrate_bg -t "$TPID" --to 127.0.0.1:$RPORT --insecure-plaintext
	wait_for_path "$RDIR/.0.part" || fail "round 0 never reached the destination"
	kill -$sig "$rp"
	log "SIG$sig to receive (pid $rp) while round 0 streams"
	migrate_wait
	migrate_failed 'round 0: .*(connection .* dropped|gave up).*the tree runs on here'
	src_intact
	if [ $sig = TERM ]; then
		dest_clean 'Terminated while'
	else
		dest_wait
		[ "$RRC" != 0 ] || fail "receive exited 0"
		# killed, receive cannot clean up: the round it was receiving
		# stays in $RDIR, but nothing was restored
		rm -rf "$RDIR"
		dest_clean
	fi
	kill -KILL "$NSINIT"
done

# 3, 4. the source's ckptctl migrate killed while round 0 streams
for sig in KILL TERM; do
	start_target incr -b 512
	start_dest --insecure-plaintext
	migrate_bg -t "$TPID" --to 127.0.0.1:$RPORT --insecure-plaintext
	wait_for_path "$RDIR/.0.part" || fail "round 0 never reached the destination"
	kill -$sig "$MPID"
	log "SIG$sig to migrate (pid $MPID) while round 0 streams"
	migrate_wait
	[ "$MRC" != 0 ] || fail "migrate exited 0 after SIG$sig"
	dest_clean 'connection .* dropped'
	kill -KILL "$NSINIT"
	check_alive "$TPID"
	expect_status pass "$TSTATUS" "$TPID"
	if [ $sig = KILL ]; then
		LEFT=$MPID
		log "the SIGKILLed migrate left: $(ls -d /dev/shm/ckpt-migrate-$MPID-* 2>/dev/null)"
	else
		for f in /dev/shm/ckpt-migrate-$MPID-*; do
			if [ -e "$f" ]; then fail "migrate left $f after SIGTERM"; fi
		done
		grep -Eqi 'Terminated while .*the tree runs on here' "$MERR" ||
			fail "migrate does not say why it stopped: $(cat "$MERR")"
	fi
done
# the staging directory the SIGKILLed migrate left, swept by the next
for f in /dev/shm/ckpt-migrate-$LEFT-*; do
	if [ -e "$f" ]; then
		fail "$f, left by the SIGKILLed migrate $LEFT, was not swept by the next migrate"
	fi
done
