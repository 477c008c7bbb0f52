#!/bin/sh
# A dump killed half way leaves its temporary directory (.ckpt-tmp-PID-X,
# PID the dumping process) in the image directory; the next dump there
# removes it once PID is gone, and leaves alone the directory of a dump
# whose process still runs and anything not named like one.
. "$(dirname "$0")/lib.sh"

start_target sample
dir=$TMP/img
mkdir -m 0700 "$dir"

# a real one first: a one-shot ckptd stopped while it writes, then killed
"$CKPTCTL" dump -t "$TPID" -D "$dir" --leave-running >"$TMP/killed.out" 2>&1 &
CPID=$!
track_pid $CPID
i=0
while :; do
	dpid=$(cat /proc/$CPID/task/*/children 2>/dev/null | tr -s ' ' '\n' | grep . | head -n 1)
	[ -n "$dpid" ] && break
	i=$((i + 1))
	[ $i -le 1000 ] || fail "ckptctl started no ckptd"
	sleep 0.01
done
track_pid $dpid
while [ -z "$(ls -A "$dir")" ] && kill -0 $dpid 2>/dev/null; do
	sleep 0.001
done
kill -KILL $dpid 2>/dev/null
wait $CPID
# the dump may have finished first: then make the leftover by hand
set -- "$dir"/.ckpt-tmp-*
if [ ! -e "$1" ]; then
	log "the dump finished before it could be killed; leaving a directory of pid $dpid"
	rm -f "$dir"/*.img
	mkdir "$dir/.ckpt-tmp-$dpid-1f"
	: >"$dir/.ckpt-tmp-$dpid-1f/core-$TPID.img"
fi
set -- "$dir"/.ckpt-tmp-*
[ -e "$1" ] || fail "no temporary directory left"
wait_gone $dpid
killed=$1
# (a dump killed half way can leave the target dead: take a fresh one)
kill -KILL $TPID 2>/dev/null
wait_gone $TPID
start_target sample

# one of a process that lives (this shell), and names that are no dump's
mkdir "$dir/.ckpt-tmp-$$-2f" "$dir/.ckpt-tmp-x" "$dir/keep"
dump_target "$dir" --force
[ ! -e "$killed" ] || fail "$killed is still there after the next dump"
for d in ".ckpt-tmp-$$-2f" .ckpt-tmp-x keep; do
	[ -d "$dir/$d" ] || fail "$d was removed"
done
check_alive
expect_status pass
