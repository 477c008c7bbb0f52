# Helpers of the migration tests (sourced after lib.sh): the destination is
# `ckptctl receive` in a PID namespace (and mount namespace, with its own
# /proc) of its own, on the same machine and network namespace (127.0.0.1),
# so the PIDs of a tree that still exists here are free there. The
# namespace's init is a shell that outlives receive (a PID namespace dies
# with its init), so the restored tree lives on after receive exits.
#
#	start_dest [ARGS...]	receive -D $RDIR --listen 127.0.0.1:0 ARGS in a
#				namespace of its own; sets NSINIT, RPORT
#	dest_wait		wait for receive to end; sets RRC ($ROUT, $RERR)
#	host_pid PID		the PID, in this namespace, of PID in the dest's
#	tls_src / tls_dst	the certificate options of either side
CERTS=$TOP/tests/certs

tls_src()
{
	echo --tls-cacert "$CERTS/ca.pem" --tls-cert "$CERTS/client.pem" \
		--tls-key "$CERTS/client-key.pem"
}

tls_dst()
{
	echo --tls-cacert "$CERTS/ca.pem" --tls-cert "$CERTS/server.pem" \
		--tls-key "$CERTS/server-key.pem"
}

# start_dest [ARGS...]: the destination's receive. The one-shot ckptd it
# starts runs in its namespace too (CKPT_SOCKET unset); DEST_ENV adds
# environment (e.g. CKPTD=/nonexistent to make its restore fail).
start_dest()
{
	local i=0
	RDIR=$TMP/in
	ROUT=$TMP/recv.out
	RERR=$TMP/recv.err
	RRCF=$TMP/recv.rc
	rm -f "$ROUT" "$RERR" "$RRCF"
	env -u CKPT_SOCKET ${DEST_ENV:-} unshare --pid --fork --mount-proc sh -c '
		out=$1 err=$2 rcf=$3
		shift 3
		"$@" >"$out" 2>"$err"
		echo $? >"$rcf"
		exec sleep 600' sh "$ROUT" "$RERR" "$RRCF" \
		"$CKPTCTL" receive -D "$RDIR" --listen 127.0.0.1:0 "$@" </dev/null &
	NSINIT=$!
	track_pid $NSINIT
	while ! RPORT=$(sed -n 's/.*listening on .*(port \([0-9]*\)).*/\1/p' "$RERR" 2>/dev/null) ||
		[ -z "$RPORT" ]; do
		[ -f "$RRCF" ] && fail "receive exited $(cat "$RRCF"): $(cat "$RERR")"
		i=$((i + 1))
		[ $i -le 100 ] || fail "receive does not listen: $(cat "$RERR" 2>/dev/null)"
		sleep 0.1
	done
	# unshare --fork: $! is unshare, the namespace's init its child
	NSINIT=$(cat /proc/$NSINIT/task/$NSINIT/children 2>/dev/null | cut -d' ' -f1)
	[ -n "$NSINIT" ] || fail "cannot find the destination namespace's init"
	track_pid $NSINIT
	log "receive listens on port $RPORT (namespace init $NSINIT)"
}

# dest_wait: receive's exit code into RRC (bounded).
dest_wait()
{
	local i=0
	while [ ! -s "$RRCF" ]; do
		i=$((i + 1))
		[ $i -le $((CKPT_TIMEOUT * 10)) ] || fail "receive did not finish"
		sleep 0.1
	done
	RRC=$(cat "$RRCF")
	log "receive exited $RRC: $(tail -n 1 "$RERR")"
}

# host_pid PID: this namespace's PID of the destination's PID.
host_pid()
{
	local want=$1 ns p nspid
	ns=$(readlink /proc/$NSINIT/ns/pid) || fail "the destination namespace is gone"
	for p in /proc/[0-9]*; do
		[ "$(readlink $p/ns/pid 2>/dev/null)" = "$ns" ] || continue
		nspid=$(sed -n 's/^NSpid:[[:space:]]*[0-9]*[[:space:]]*//p' $p/status 2>/dev/null)
		[ "$nspid" = "$want" ] && { echo ${p#/proc/}; return 0; }
	done
	return 1
}
