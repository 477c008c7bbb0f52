#!/bin/sh
# ckptctl receive --lazy restores the final round lazily: a writer of
# 256 MiB whose pages a thread rewrites all along migrates to it; receive
# answers with the lazy server that serves it, the tree runs at the
# destination before its memory is in (the lazy restore is listed by
# status there, or done already), and the writer checks every byte of its
# memory there, its pages brought in from the received chain. The
# receive's restore_ms is far below a plain receive's of the same target.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate-lib.sh"

# migrate_writer RECEIVE-ARGS...: migrate a fresh 256 MiB writer to a
# receive with these arguments; the destination's restore_ms into RMS
migrate_writer()
{
	local h
	start_target writer -m 256 -r 10240
	start_dest --insecure-plaintext --json "$@"
	ckpt_ok migrate -t "$TPID" --to 127.0.0.1:$RPORT --insecure-plaintext --json
	log "migrate: $(cat "$LAST_OUT")"
	RMS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["restore_ms"])' \
		"$LAST_OUT")
	wait_gone "$TPID"
	dest_wait
	[ "$RRC" = 0 ] || fail "receive exited $RRC: $(cat "$RERR")"
	h=$(host_pid "$TPID") || fail "pid $TPID does not run in the destination's namespace"
	expect_status pass "$TSTATUS" "$h"
	kill -KILL "$NSINIT"
	wait_gone "$NSINIT"
	rm -rf "$RDIR"
}

migrate_writer --lazy
json_check "$ROUT" 'assert j["lazy_server"] > 0 and j["lazy_pages"] >= 60000, j'
LAZY_MS=$RMS
migrate_writer
json_check "$ROUT" 'assert "lazy_server" not in j, j'
log "destination restore: lazy $LAZY_MS ms, plain $RMS ms"
[ "$LAZY_MS" -lt "$RMS" ] || fail "the lazy restore ($LAZY_MS ms) is not quicker than the plain one ($RMS ms)"
