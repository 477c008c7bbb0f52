#!/bin/sh
# ^C (SIGINT), SIGTERM or SIGHUP to ckptctl during a killing dump cancels
# it: ckptctl exits 9 saying so, the tree runs on intact, not traced, and
# no image set is left. A nohup'ed ckptctl (SIGHUP ignored) is not cancelled
# by a hang-up.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

# run ckptctl dump in the background with SIGINT at its default (a shell
# without job control starts background commands with SIGINT ignored)
dump_bg()	# DIR [nohup]
{
	python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGHUP, signal.SIG_IGN if sys.argv[1] == "nohup" else signal.SIG_DFL)
os.execv(sys.argv[2], sys.argv[2:])' "${2:-}" "$CKPTCTL" dump -t "$TPID" -D "$1" \
		>"$1.out" 2>"$1.err" &
	DUMP_PID=$!
}

# wait until the dump is writing pages (well before it ends: 1.5 GiB)
wait_pages()	# DIR
{
	local i=0 f sz
	while :; do
		for f in "$1"/.ckpt-tmp-*/pages-*.img; do
			[ -f "$f" ] || continue
			sz=$(stat -c %s "$f" 2>/dev/null || echo 0)
			[ "$sz" -gt 8388608 ] && return 0
		done
		kill -0 "$DUMP_PID" 2>/dev/null || fail "the dump ended before it wrote 8 MiB"
		i=$((i + 1))
		[ $i -le 1200 ] || fail "the dump wrote no pages in 60 s"
		sleep 0.05
	done
}

start_target memory -d 1536
for sig in INT TERM HUP; do
	dir=$TMP/img-$sig
	mkdir -p "$dir"
	dump_bg "$dir"
	wait_pages "$dir"
	kill -$sig "$DUMP_PID"
	rc=0
	wait "$DUMP_PID" || rc=$?
	[ $rc -eq 9 ] || fail "SIG$sig: ckptctl exited $rc, not 9: $(cat "$dir.err")"
	grep -q "cancelled at the pages stage: the tree runs on" "$dir.err" ||
		fail "SIG$sig: no cancel message: $(cat "$dir.err")"
	no_partial_set "$dir"
	check_alive "$TPID"
	log "SIG$sig: $(tail -n 1 "$dir.err")"
done

# after three cancelled dumps, every byte is as it was
expect_status pass

# nohup: the hang-up is not for ckptctl; the dump ends and kills the tree
start_target memory -d 1536
dir=$TMP/img-nohup
mkdir -p "$dir"
dump_bg "$dir" nohup
wait_pages "$dir"
kill -HUP "$DUMP_PID"
rc=0
wait "$DUMP_PID" || rc=$?
[ $rc -eq 0 ] || fail "nohup: ckptctl exited $rc: $(cat "$dir.err")"
[ -f "$dir/inventory.img" ] || fail "nohup: no image set"
wait_gone "$TPID"
