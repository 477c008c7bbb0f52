# Helpers of the migration tests (sourced after lib.sh): the destination is
# `ckptctl receive` in a PID namespace (and mount namespace, with its own
# /proc) of its own, on the same machine and network namespace (127.0.0.1),
# so the PIDs of a tree that still exists here are free there
# (tests/pidns-run.sh). The
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

# _dest_port: wait (bounded) until receive says where it listens; sets RPORT.
_dest_port()
{
	local i=0
	while ! RPORT=$(sed -n 's/.*listening on .*(port \([0-9]*\)).*/\1/p' "$RERR" 2>/dev/null) ||
		[ -z "$RPORT" ]; do
		[ -f "$RRCF" ] && fail "receive exited $(cat "$RRCF"): $(cat "$RERR")"
		i=$((i + 1))
		[ $i -le 100 ] || fail "receive does not listen: $(cat "$RERR" 2>/dev/null)"
		sleep 0.1
	done
}

# start_dest [ARGS...]: the destination's receive. The one-shot ckptd it
# starts runs in its namespace too (CKPT_SOCKET unset); DEST_ENV adds
# environment (e.g. CKPTD=/nonexistent to make its restore fail).
start_dest()
{
	RDIR=$TMP/in
	ROUT=$TMP/recv.out
	RERR=$TMP/recv.err
	RRCF=$TMP/recv.rc
	rm -f "$ROUT" "$RERR" "$RRCF"
	env -u CKPT_SOCKET ${DEST_ENV:-} sh "$TOP/tests/pidns-run.sh" sh -c '
		out=$1 err=$2 rcf=$3
		shift 3
		"$@" >"$out" 2>"$err"
		echo $? >"$rcf"
		exec sleep 600' sh "$ROUT" "$RERR" "$RRCF" \
		"$CKPTCTL" receive -D "$RDIR" --listen 127.0.0.1:0 "$@" </dev/null &
	NSINIT=$!
	track_pid $NSINIT
	_dest_port
	# pidns-run.sh (unshare --fork): $! is unshare, the namespace's init its child
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

# --- the failure cases' helpers (t-migrate-fail*.sh) ----------------------
#
#	start_dest_here [ARGS]	receive in this PID namespace (the tree's PIDs
#				are taken); sets RPID, RPORT (no NSINIT)
#	migrate_bg ARGS		ckptctl migrate ARGS in the background; sets
#				MPID, MOUT, MERR (migrate_wait: MRC)
#	recv_pid		receive's PID (the namespace init's child)
#	child_named PID NAME	PID's child whose comm is NAME
#	wait_for_path PATH [S]	wait until PATH exists, polling fast
#	migrate_failed REGEX	migrate exited non-zero, stderr matches REGEX
#	src_intact		the source tree runs on, whole; nothing of this
#				migrate's staging is left in /dev/shm
#	dest_clean		receive failed; no chain, no restored process
#	gated_ckptd		a ckptd for DEST_ENV=CKPTD=... that waits for
#				$GATE.go before it starts ($GATE.started)

# start_dest_here [ARGS...]: receive -D $RDIR in the test's own PID
# namespace (so the PIDs of the source's tree are taken): RPID, RPORT.
start_dest_here()
{
	RDIR=$TMP/in
	ROUT=$TMP/recv.out
	RERR=$TMP/recv.err
	RRCF=$TMP/recv.rc
	rm -f "$ROUT" "$RERR" "$RRCF"
	NSINIT=
	( env -u CKPT_SOCKET "$CKPTCTL" receive -D "$RDIR" --listen 127.0.0.1:0 "$@" \
		</dev/null >"$ROUT" 2>"$RERR"; echo $? >"$RRCF" ) &
	RPID=$!
	track_pid $RPID
	_dest_port
	log "receive listens on port $RPORT (in the test's PID namespace)"
}

# migrate_bg ARGS...: ckptctl migrate ARGS (bounded) in the background.
migrate_bg()
{
	_lib_nr=$((_lib_nr + 1))
	MOUT=$TMP/migrate.$_lib_nr.out
	MERR=$TMP/migrate.$_lib_nr.err
	"$CKPTCTL" migrate "$@" >"$MOUT" 2>"$MERR" &
	MPID=$!
	track_pid $MPID
}

# migrate_wait: migrate's exit code into MRC (bounded).
migrate_wait()
{
	local i=0
	while kill -0 "$MPID" 2>/dev/null && [ "$(proc_state "$MPID")" != Z ]; do
		i=$((i + 1))
		[ $i -le $((CKPT_TIMEOUT * 10)) ] || fail "ckptctl migrate (pid $MPID) hung"
		sleep 0.1
	done
	MRC=0
	wait "$MPID" || MRC=$?
	log "migrate exited $MRC: $(tail -n 1 "$MERR")"
}

# child_named PID NAME: the PID of PID's child called NAME (comm), if any.
child_named()
{
	local c
	for c in $(cat /proc/$1/task/*/children 2>/dev/null); do
		[ "$(cat /proc/$c/comm 2>/dev/null)" = "$2" ] && { echo "$c"; return 0; }
	done
	return 1
}

# recv_pid: the destination's receive process (the child of its
# namespace's init).
recv_pid()
{
	child_named "$NSINIT" ckptctl
}

# wait_for_path PATH [SECONDS]: PATH exists (polled every 10 ms, for the
# cases that must strike while a round streams).
wait_for_path()
{
	local i=0 n=$((${2:-60} * 100))
	while [ ! -e "$1" ]; do
		i=$((i + 1))
		[ $i -le $n ] || return 1
		sleep 0.01
	done
}

# migrate_failed REGEX: migrate (migrate_wait'ed) failed, saying REGEX.
migrate_failed()
{
	[ "$MRC" != 0 ] || fail "ckptctl migrate succeeded where it must fail: $(cat "$MERR")"
	grep -Eqi -- "$1" "$MERR" ||
		fail "ckptctl migrate's stderr does not match '$1': $(head -c 2000 "$MERR")"
	log "migrate failed as expected: $(grep -Ei -- "$1" "$MERR" | head -n 1)"
}

# src_intact: the source's tree ($TPID) runs, not stopped nor traced, and
# every byte of its memory is right (the target exits after the check);
# this migrate ($MPID) left no staging directory in /dev/shm.
src_intact()
{
	check_alive "$TPID"
	expect_status pass "$TSTATUS" "$TPID"
	for f in /dev/shm/ckpt-migrate-$MPID-*; do
		[ -e "$f" ] && fail "ckptctl migrate left $f"
	done
	return 0
}

# dest_clean [REGEX]: receive exited non-zero (saying REGEX), left nothing
# in $RDIR, and no process but the namespace's init runs in its namespace
# (a zombie does not run).
dest_clean()
{
	local ns p i=0 left
	dest_wait
	[ "$RRC" != 0 ] || fail "receive exited 0 where it must fail: $(cat "$RERR")"
	if [ -n "${1:-}" ]; then
		grep -Eqi -- "$1" "$RERR" ||
			fail "receive's stderr does not match '$1': $(head -c 2000 "$RERR")"
	fi
	if [ -d "$RDIR" ] && [ -n "$(ls -A "$RDIR")" ]; then
		fail "receive left in $RDIR: $(ls -A "$RDIR" | tr '\n' ' ')"
	fi
	[ -n "${NSINIT:-}" ] || return 0
	ns=$(readlink /proc/$NSINIT/ns/pid) || fail "the destination namespace is gone"
	while :; do
		left=
		for p in /proc/[0-9]*; do
			[ "${p#/proc/}" = "$NSINIT" ] && continue
			[ "$(readlink $p/ns/pid 2>/dev/null)" = "$ns" ] || continue
			# a zombie is dead: its parent, the namespace's init (a
			# sleep), never reaps what is reparented to it
			[ "$(proc_state "${p#/proc/}")" = Z ] && continue
			left="$left ${p#/proc/}($(cat $p/comm 2>/dev/null), $(proc_state "${p#/proc/}"))"
		done
		[ -z "$left" ] && break
		i=$((i + 1))
		# the one-shot ckptd may take a moment to go after receive
		[ $i -le 50 ] || fail "left in the destination's namespace:$left"
		sleep 0.1
	done
	log "the destination is clean"
}

# gated_ckptd: $GATE, a ckptd that says $GATE.started and waits (bounded)
# for $GATE.go before it runs: with DEST_ENV="CKPTD=$GATE", receive's
# restore begins only once the test has done what it must while the
# source holds its tree for the final round.
gated_ckptd()
{
	GATE=$TMP/gated-ckptd
	rm -f "$GATE.started" "$GATE.go"
	cat >"$GATE" <<GATE_EOF
#!/bin/sh
: >"$GATE.started"
i=0
while [ ! -e "$GATE.go" ] && [ \$i -lt 600 ]; do
	sleep 0.1
	i=\$((i + 1))
done
exec "$CKPTD" "\$@"
GATE_EOF
	chmod +x "$GATE"
}
