#!/bin/sh
# Issue 7: ten clients at once all succeed. Through the socket-activated
# service (a root ckptd under systemd-socket-activate), ten memory targets
# are dumped by ten concurrent `ckptctl dump`s, then brought back by ten
# concurrent `ckptctl restore`s, and each restored target finds every byte
# of its memory as it was. Once as root, once as one unprivileged user (ten
# is beyond the per-user limit, if ckptd has one: the rest wait their turn,
# none is refused); the user's targets come back as the user's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sec-lib.sh"

need_file "$TARGETS/memory"
N=10

# start_all OWNER: N memory targets (as start_target does, but all at
# once), each in a directory of its own (memory's files have fixed names),
# OWNER's (root, or the user); sets PID1..PIDN, ST1..STN (status files),
# DIR1..DIRN
start_all()
{
	local n d p wrap= line i=0
	[ "$1" = root ] || wrap=$AS_USER
	for n in $(seq 1 $N); do
		d=$TMP/$1$n
		mkdir -m 0755 "$d" && : >"$d/log" || fail "mkdir $d"
		[ "$1" = root ] || chown -R "$SEC_UID:$SEC_GID" "$d" || fail "chown $d"
		CKPT_STATUS=$d/status TMPDIR=$d setsid $wrap "$TARGETS/memory" \
			</dev/null >"$d/log" 2>&1 &
		track_pid $!
		eval "PID$n=$! ST$n=$d/status DIR$n=$d"
	done
	for n in $(seq 1 $N); do
		eval "p=\$PID$n d=\$DIR$n"
		while line=$(cat "$d/status" 2>/dev/null); [ "$line" != "ready $p" ]; do
			case $line in
			fail*) fail "target $n: $line" ;;
			esac
			kill -0 "$p" 2>/dev/null || fail "target $n exited: $(tail -c 500 "$d/log")"
			i=$((i + 1))
			[ $i -le $((READY_TIMEOUT * 10)) ] || fail "target $n not ready after ${READY_TIMEOUT}s"
			sleep 0.1
		done
	done
	log "$N memory targets of $1's running"
}

# all_at_once WHAT: run "WHAT N" (dump_one or restore_one) for N = 1..$N
# at once; each must exit 0 (its output in $TMP/WHAT.N.out and .err).
# Every PIDn that runs afterwards (restored) is tracked, even on failure.
all_at_once()
{
	local what=$1 n c rc bad=
	for n in $(seq 1 $N); do
		$what $n >"$TMP/$what.$n.out" 2>"$TMP/$what.$n.err" &
		eval "C$n=$!"
	done
	for n in $(seq 1 $N); do
		eval "c=\$C$n"
		rc=0
		wait "$c" || rc=$?
		[ $rc -eq 0 ] || bad="${bad:-$what $n of $N at once exited $rc: $(cat "$TMP/$what.$n.err")}"
	done
	for n in $(seq 1 $N); do
		eval "track_pid \$PID$n"
	done
	[ -z "$bad" ] || fail "$bad"
	log "$N of $what at once: all succeeded"
}

# dump_one N, restore_one N: ckptctl for target N, as $AS (empty: root)
dump_one()
{
	eval "timeout -k 10 120 $AS \"\$CKPTCTL\" dump -t \$PID$1 -D \"\$DIR$1/img\""
}
restore_one()
{
	eval "timeout -k 10 120 $AS \"\$CKPTCTL\" restore -D \"\$DIR$1/img\""
}

# round OWNER: start N targets, dump them all at once, restore them all at
# once, each verifies its memory
round()
{
	local owner=$1 n p d st uid=0
	[ "$owner" = root ] || uid=$SEC_UID
	start_all "$owner"
	all_at_once dump_one
	for n in $(seq 1 $N); do
		eval "p=\$PID$n d=\$DIR$n"
		[ -f "$d/img/inventory.img" ] || fail "dump $n wrote no image set in $d/img"
		wait_gone "$p"
	done
	all_at_once restore_one
	for n in $(seq 1 $N); do
		eval "p=\$PID$n"
		track_pid "$p"
		[ "$(cat "$TMP/restore_one.$n.out")" = "$p" ] ||
			fail "restore $n: $(cat "$TMP/restore_one.$n.out"), not pid $p"
		[ "$(stat -c %u "/proc/$p")" = "$uid" ] ||
			fail "pid $p restored as uid $(stat -c %u "/proc/$p"), not $uid"
		check_alive "$p"
	done
	# every target checks its memory, all at once
	for n in $(seq 1 $N); do
		eval "p=\$PID$n"
		kill -USR1 "$p" || fail "cannot signal pid $p"
	done
	for n in $(seq 1 $N); do
		eval "p=\$PID$n st=\$ST$n"
		wait_verdict "$st" "$p"
	done
	log "$N restored targets of $owner's: every byte as it was"
}

# wait_verdict STATUSFILE PID: the target's verdict (after SIGUSR1) is pass
wait_verdict()
{
	local i=0 line
	while :; do
		line=$(cat "$1" 2>/dev/null)
		case $line in
		pass) return 0 ;;
		fail*) fail "pid $2: $line" ;;
		esac
		i=$((i + 1))
		[ $i -le $((STATUS_TIMEOUT * 10)) ] || { diag_pid "$2"; fail "pid $2: no verdict (status '$line')"; }
		sleep 0.1
	done
}

AS=
round root
AS=$AS_USER
round user
# how many of the user's waited for a slot (--max-per-user): a fact for
# the log, as it depends on timing
ckpt_ok status --json
limit=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("max_per_user", "none"))' "$LAST_OUT")
log "per-user limit: $limit; the user's requests that waited: $(grep -c "uid $SEC_UID .*waits" "$TMP/daemon.log")"
kill -0 "$DPID" || fail "ckptd died"
exit 0
