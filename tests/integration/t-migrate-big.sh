#!/bin/sh
# Migration of a big, busy target (tests/targets/writer.c): 1 GiB whose
# pages a thread rewrites at 10 MiB/s all along. It must move in two
# rounds or more, send at least every page of the target, and check every
# byte on the destination. Then a writer that rewrites pages as fast as it
# can (faster than any round sends them: the written set never shrinks
# below the threshold) must still converge by --max-rounds 2 (two
# pre-copy rounds and the final one) and pass there too.
#
#	MIGRATE_BIG_MIB=1024	the size of the first target
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate-lib.sh"

MIB=${MIGRATE_BIG_MIB:-1024}

# migrate_writer ARGS...: migrate $TPID in plaintext to a fresh receive
# (ARGS go to migrate), check the source is gone, receive succeeded, and
# the target passes its own check under its PID in the destination.
migrate_writer()
{
	local h
	start_dest --insecure-plaintext --json
	ckpt_ok migrate -t "$TPID" --to 127.0.0.1:$RPORT --insecure-plaintext --json "$@"
	log "migrate: $(cat "$LAST_OUT")"
	MIG_JSON=$TMP/mig.$_lib_nr.json
	cp "$LAST_OUT" "$MIG_JSON"
	wait_gone "$TPID"
	dest_wait
	[ "$RRC" = 0 ] || fail "receive exited $RRC: $(cat "$RERR")"
	h=$(host_pid "$TPID") || fail "pid $TPID does not run in the destination's namespace"
	expect_status pass "$TSTATUS" "$h"
	log "$(cat "$TLOG")"
	kill -KILL "$NSINIT"
	wait_gone "$NSINIT"
	rm -rf "$RDIR"
}

start_target writer -m "$MIB" -r 10240
migrate_writer
PAGES=$((MIB * 256)) json_check "$MIG_JSON" '
pages = int(os.environ["PAGES"])
assert j["rounds"] >= 2, "%d rounds: the final one alone is no pre-copy" % j["rounds"]
assert j["pages_sent"] >= pages, "%d pages sent, the target has %d" % (j["pages_sent"], pages)
assert j["round"][0]["pages"] >= pages, "round 0 sent %d pages of %d" % (j["round"][0]["pages"], pages)
assert j["round"][-1]["final"] and j["round"][-1]["pages"] < pages // 4, j["round"][-1]
assert 0 < j["downtime_ms"] <= j["total_ms"], j'

start_target writer -m 64 -r 0
migrate_writer --max-rounds 2
json_check "$MIG_JSON" '
assert j["rounds"] == 3, "%d rounds with --max-rounds 2" % j["rounds"]
assert j["round"][-1]["final"] and not j["round"][1]["final"], j
assert j["round"][1]["pages"] > 0 and j["round"][2]["pages"] > 0, "rounds sent nothing: %s" % j["round"]'
