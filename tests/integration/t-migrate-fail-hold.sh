#!/bin/sh
# The daemons of a migration die at its worst moments: the source's ckptd
# SIGKILLed while it holds the tree frozen for the final round (the
# destination's ckptd waits at a gate meanwhile, so the kill comes before
# its answer; the restore then succeeds there, but the source never
# confirms), and the destination's ckptd SIGKILLed while it restores the
# tree. Either way the source's tree runs on, intact, and the destination
# keeps neither the chain nor any restored process.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate-lib.sh"

# 1. the source's ckptd killed while it holds the final round
gated_ckptd
start_target incr -b 64
DEST_ENV="CKPTD=$GATE" start_dest --insecure-plaintext
migrate_bg -t "$TPID" --to 127.0.0.1:$RPORT --insecure-plaintext --max-rounds 1
wait_path -e "$GATE.started" 60 || fail "the destination never began its restore: $(cat "$MERR")"
sd=$(child_named "$MPID" ckptd) || fail "cannot find the source's one-shot ckptd (child of $MPID)"
tracer=$(sed -n 's/^TracerPid:[[:space:]]*//p' /proc/$TPID/status)
[ "$tracer" = "$sd" ] || fail "the source's tree is not held by its ckptd $sd (TracerPid $tracer)"
kill -KILL "$sd"
log "SIGKILL to the source's ckptd (pid $sd) while it holds pid $TPID"
: >"$GATE.go"
migrate_wait
migrate_failed 'ckptd died while it held the tree'
src_intact
dest_clean 'did not confirm that its tree is gone.*was killed'
kill -KILL "$NSINIT"

# 2. the destination's ckptd killed while it restores the tree: struck
# once it has forked the restored tree's first process
gated_ckptd
start_target incr -b 512
DEST_ENV="CKPTD=$GATE" start_dest --insecure-plaintext
migrate_bg -t "$TPID" --to 127.0.0.1:$RPORT --insecure-plaintext --max-rounds 1
wait_path -e "$GATE.started" 60 || fail "the destination never began its restore: $(cat "$MERR")"
rp=$(recv_pid) || fail "cannot find receive in the destination's namespace"
dd=$(child_named "$rp" gated-ckptd) || fail "cannot find the destination's ckptd (child of $rp)"
: >"$GATE.go"
i=0
while [ -z "$(cat /proc/$dd/task/*/children 2>/dev/null)" ] ||
	[ "$(cat /proc/$dd/comm 2>/dev/null)" != ckptd ]; do
	i=$((i + 1))
	[ $i -le 5000 ] || fail "the destination's ckptd never forked"
done
kill -KILL "$dd"
log "SIGKILL to the destination's ckptd (pid $dd) while it restores"
migrate_wait
migrate_failed 'restore failed on the destination'
src_intact
dest_clean 'mid-restore'
kill -KILL "$NSINIT"

# 3. SIGTERM to the source's migrate while the destination restores
gated_ckptd
start_target incr -b 64
DEST_ENV="CKPTD=$GATE" start_dest --insecure-plaintext
migrate_bg -t "$TPID" --to 127.0.0.1:$RPORT --insecure-plaintext --max-rounds 1
wait_path -e "$GATE.started" 60 || fail "the destination never began its restore: $(cat "$MERR")"
kill -TERM "$MPID"
log "SIGTERM to migrate (pid $MPID) while the destination restores"
sleep 0.2
: >"$GATE.go"
migrate_wait
migrate_failed 'not confirmed \(the client said no-go\): the tree runs on'
src_intact
dest_clean 'did not confirm that its tree is gone.*was killed'
kill -KILL "$NSINIT"

# 4. SIGTERM to receive while its restore waits to start
gated_ckptd
start_target incr -b 64
DEST_ENV="CKPTD=$GATE" start_dest --insecure-plaintext
rp=$(recv_pid) || fail "cannot find receive in the destination's namespace"
migrate_bg -t "$TPID" --to 127.0.0.1:$RPORT --insecure-plaintext --max-rounds 1
wait_path -e "$GATE.started" 60 || fail "the destination never began its restore: $(cat "$MERR")"
kill -TERM "$rp"
log "SIGTERM to receive (pid $rp) before its restore"
sleep 0.2
: >"$GATE.go"
migrate_wait
migrate_failed 'restore failed on the destination'
src_intact
dest_clean 'cancel'
kill -KILL "$NSINIT"
