#!/bin/sh
# Incremental dumps on a real soft-dirty kernel (issue 9), with --track
# soft-dirty, --track auto (which must pick soft-dirty on 6.1: no
# PAGEMAP_SCAN, no WP_ASYNC) and --track hash (every kernel's): incr-writer (tests/vm/incr-writer.c) writes
# and drops pages between the rounds of pre-dump, pre-dump --prev, dump
# --prev; the last set is restored and the target checks every page. The
# second pre-dump must be small (only what round 1 wrote). While ckptctl
# has no pre-dump this reports one skip.
. "$(dirname "$0")/lib.sh"

"$CKPTCTL" --help >"$T/help" 2>&1
if ! grep -q 'pre-dump' "$T/help"; then
	vm_skip incremental "ckptctl has no pre-dump yet"
	exit 0
fi

# tracker_of DIR: the tracker inventory.img names ("soft-dirty"...)
tracker_of()
{
	"$CKPTCTL" show --json --no-verify "$1" 2>/dev/null | tr ',{' '\n\n' |
		sed -En 's/^ *"tracker" *: *"([^"]*)" *$/\1/p' | head -n 1
}

# chain TRACK: one chain with --track TRACK, reported as the check
# incremental-TRACK. Run in a subshell: a failure (fail) ends only it, and
# kills the target.
chain()
{
	local track=$1 d=$T/chain-$1 got want k1 k2
	VM_TEST=incremental-$track
	trap '[ -n "$TPID" ] && kill -KILL "$TPID" 2>/dev/null' EXIT
	mkdir -p "$d/1" "$d/2" "$d/3"
	start_target "$VMBIN/incr-writer"
	ckpt_ok pre-dump -t "$TPID" -D "$d/1" --track "$track"
	got=$(tracker_of "$d/1")
	want=soft-dirty
	[ "$track" = hash ] && want=hash
	[ "$got" = "$want" ] || fail "pre-dump --track $track used tracker '$got', want $want"
	kill -USR2 "$TPID"
	expect_status_line "round 1"
	ckpt_ok pre-dump -t "$TPID" -D "$d/2" --prev ../1 --track "$track"
	# round 1 wrote about one small page in 16 (and every huge page, where
	# THP is on, in full: 4 MiB): set 2 must be well under a full copy
	k1=$(du -sk "$d/1" | cut -f1)
	k2=$(du -sk "$d/2" | cut -f1)
	log "set 1: ${k1} KiB, set 2 (after round 1): ${k2} KiB"
	[ $((k2 * 2)) -le "$k1" ] ||
		fail "the second pre-dump holds ${k2} KiB, the first ${k1} KiB: not incremental"
	kill -USR2 "$TPID"
	expect_status_line "round 2"
	dump_kill "$d/3" --prev ../2
	restore_ok "$d/3"
	expect_pass
	vm_ok "$VM_TEST"
}

for track in soft-dirty auto hash; do
	(chain "$track")
done
exit 0
