#!/bin/sh
# ckptctl migrate moves a running tree to ckptctl receive, in plaintext and
# over TLS with certificates on both sides: a thread of the target rewrites
# pages without a pause all along (so rounds never converge and
# --max-rounds ends them), the source's tree is gone afterwards, the
# destination runs it with the same PID and it checks every byte of its
# memory there; the destination keeps a normal image chain (ckptctl show
# reads it) and the source leaves nothing in /dev/shm.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate-lib.sh"

for mode in plaintext tls; do
	if [ $mode = tls ]; then
		src=$(tls_src) dst=$(tls_dst)
	else
		src=--insecure-plaintext dst=--insecure-plaintext
	fi
	start_target incr -w
	start_dest $dst --json
	ckpt_ok migrate -t "$TPID" --to 127.0.0.1:$RPORT $src --max-rounds 3 --json
	json_check "$LAST_OUT" '
assert 2 <= j["rounds"] <= 4, j    # at most 3 pre-copy rounds, then the final
assert j["pages_sent"] > 0 and j["downtime_ms"] > 0 and j["total_ms"] >= j["downtime_ms"], j
assert j["dest_pid"] == j["pid"], j
assert len(j["round"]) == j["rounds"] and j["round"][-1]["final"], j'
	wait_gone "$TPID"
	dest_wait
	[ "$RRC" = 0 ] || fail "receive exited $RRC: $(cat "$RERR")"
	json_check "$ROUT" "assert j['pid'] == $TPID and j['rounds'] >= 2, j"
	ckpt_ok show --chain "$RDIR/$(ls "$RDIR" | sort -n | tail -n 1)"
	grep -q . "$LAST_OUT" || fail "show --chain printed nothing"
	h=$(host_pid "$TPID") || fail "pid $TPID does not run in the destination's namespace"
	log "pid $TPID runs at the destination (host pid $h)"
	expect_status pass "$TSTATUS" "$h"
	ls /dev/shm | grep -q "^ckpt-migrate-" && fail "the source left $(ls /dev/shm | grep ckpt-migrate)"
	kill -KILL "$NSINIT"
	rm -rf "$RDIR"
done
