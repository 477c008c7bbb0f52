# Helpers of the incremental-dump tests (sourced after lib.sh and
# restore-lib.sh): the incr target steps on SIGUSR2 and says "step N".

# incr_step: one step of $TPID's tree; waits for its "step N".
incr_step()
{
	local want i=0
	INCR_STEP=$((${INCR_STEP:-0} + 1))
	want="step $INCR_STEP"
	kill -USR2 "$TPID" || fail "cannot signal $TPID"
	while [ "$(cat "$TSTATUS" 2>/dev/null)" != "$want" ]; do
		i=$((i + 1))
		[ $i -le 300 ] || fail "$TPID did not finish step $INCR_STEP: $(cat "$TSTATUS")"
		sleep 0.02
	done
}

# need_tracker NAME: skip unless this kernel offers it (ckptctl check).
need_tracker()
{
	ckpt_ok check --json
	python3 - "$1" "$LAST_OUT" <<'PY' || skip "this kernel lacks the $1 tracker"
import json, sys
c = json.load(open(sys.argv[2]))
sys.exit(0 if c.get("tracker_" + sys.argv[1].replace("-", "_")) else 1)
PY
}

# json_pages: "pages" of the last ckptctl --json answer.
json_pages()
{
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pages"])' "$LAST_OUT"
}

# no_keeper PID: nothing tracks PID any more (no ckpt-keeper registered
# for it, daemon/track/keeper.h).
no_keeper()
{
	local f
	for f in /run/ckpt/track/"$1"-*; do
		[ -e "$f" ] || continue
		fail "pid $1 is still tracked: $f holds $(cat "$f")"
	done
	return 0
}

# incr_chain TRACKER: pre-dump, two steps, pre-dump --prev, four steps,
# then the final dump --prev (killing) and a restore through the chain:
# the target checks every byte of every region, in the root and in the
# child it forked mid-chain. Nothing may track the tree afterwards.
incr_chain()
{
	local t=$1 d=$TMP/chain
	mkdir -p "$d"
	start_target incr
	ckpt_ok pre-dump -t "$TPID" -D "$d/1" --track "$t" --json
	log "round 1 ($t): $(json_pages) pages"
	incr_step
	incr_step
	ckpt_ok pre-dump -t "$TPID" -D "$d/2" --prev ../1 --json
	log "round 2: $(json_pages) pages"
	# the child forked at step 2 is new in round 2: saved whole, and said
	grep -q "warning: pid [0-9]* saved whole: it is new since --prev" "$LAST_ERR" ||
		fail "round 2 does not say the child was saved whole: $(cat "$LAST_ERR")"
	incr_step
	incr_step
	incr_step
	incr_step
	dump_kill "$d/3" --prev ../2 --json
	log "round 3 (final): $(json_pages) pages"
	[ "$(echo $TREE_PIDS | wc -w)" -eq 2 ] || fail "expected the root and its child, got $TREE_PIDS"
	no_keeper "$TPID"
	restore_ok "$d/3"
	expect_status pass
}
