#!/bin/sh
# ckptctl migrate --post-copy: the final round holds back the pages of its
# anonymous memory; the destination restores it lazily at once and its
# lazy server is fed those pages after the restore, those it asks for
# first. The source's tree stays frozen until every byte is across.
#  (1) plaintext, no pre-copy round (--max-rounds 0): all of a 256 MiB
#      writer's memory comes after the restore; the writer checks every
#      byte at the destination;
#  (2) TLS, with the usual pre-copy rounds: the same check;
#  (3) migrate SIGKILLed as soon as the destination's lazy server is up
#      (its registry entry appears), so before the held pages are across:
#      the destination's tree is killed and its chain removed, and the
#      source's tree runs on, intact.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate-lib.sh"

# postcopy MIB SRC-ARGS -- DST-ARGS: migrate a fresh writer; checks it there
postcopy()
{
	local mib=$1 h src=
	shift
	while [ "$1" != -- ]; do
		src="$src $1"
		shift
	done
	shift
	start_target writer -m "$mib" -r 10240
	start_dest --json "$@"
	ckpt_ok migrate -t "$TPID" --to 127.0.0.1:$RPORT --post-copy --json $src
	log "migrate: $(cat "$LAST_OUT")"
	cp "$LAST_OUT" "$TMP/mig.json"
	wait_gone "$TPID"
	dest_wait
	[ "$RRC" = 0 ] || fail "receive exited $RRC: $(cat "$RERR")"
	log "receive: $(cat "$ROUT")"
	h=$(host_pid "$TPID") || fail "pid $TPID does not run in the destination's namespace"
	expect_status pass "$TSTATUS" "$h"
	ckpt_ok show --chain "$RDIR/$(ls "$RDIR" | sort -n | tail -n 1)"
	kill -KILL "$NSINIT"
	wait_gone "$NSINIT"
	rm -rf "$RDIR"
}

# (1)
postcopy 256 --insecure-plaintext --max-rounds 0 -- --insecure-plaintext
json_check "$TMP/mig.json" '
assert j["rounds"] == 1, j
assert j["postcopy_bytes"] >= 250 << 20, j
assert j["bytes_sent"] >= j["postcopy_bytes"], j'
json_check "$ROUT" '
assert j["lazy_server"] > 0, j
assert j["postcopy_bytes"] >= 250 << 20, j'

# (2)
postcopy 128 $(tls_src) -- $(tls_dst)
json_check "$TMP/mig.json" 'assert j["rounds"] >= 2 and "postcopy_bytes" in j, j'

# (3)
start_target writer -m 512 -r 10240
start_dest --insecure-plaintext
rm -f "/run/ckpt/lazy/$TPID"
migrate_bg -t "$TPID" --to 127.0.0.1:$RPORT --insecure-plaintext --post-copy --max-rounds 0
wait_for_path "/run/ckpt/lazy/$TPID" 60 ||
	fail "no lazy server came up at the destination: $(cat "$MERR")"
kill -KILL "$MPID"
log "SIGKILL to migrate (pid $MPID) once the destination's lazy server for $TPID is up"
migrate_wait
[ "$MRC" != 0 ] || fail "migrate exited 0 after SIGKILL"
dest_clean
kill -KILL "$NSINIT"
check_alive "$TPID"
expect_status pass "$TSTATUS" "$TPID"
rm -rf /dev/shm/ckpt-migrate-$MPID-*
rm -f "/run/ckpt/lazy/$TPID"	# the failed entry would be listed for 10 minutes
