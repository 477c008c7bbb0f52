#!/bin/sh
# Scheduling comes back per thread (SCHED_BATCH at nice 5, SCHED_IDLE,
# SCHED_FIFO priority 3 with reset-on-fork), and oom_score_adj per process
# (500; -300 where this root may lower it, else the refusal of what ckptd
# can't set, before a killing dump). The target checks itself.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

start_target sched fifo 500
dump_kill "$TMP/img"
restore_ok "$TMP/img"
expect_status pass

# lowering oom_score_adj needs CAP_SYS_RESOURCE, which root may lack here
if sh -c 'echo -300 >/proc/self/oom_score_adj' 2>/dev/null; then
	start_target sched fifo -300
	dump_kill "$TMP/img2"
	restore_ok "$TMP/img2"
	expect_status pass
elif [ -z "${CKPT_SOCKET:-}" ]; then
	# nor can ckptd: a task below ckptd's own oom_score_adj is refused
	# before the killing dump (the one-shot ckptd inherits ckptctl's 600)
	start_target sched fifo 500
	mkdir -p "$TMP/img2"
	expect_fail 8 "restore would refuse this tree.*pid $TPID: oom_score_adj 500 is below 600, the lowest ckptd may set without CAP_SYS_RESOURCE.*runs on" \
		sh -c 'echo 600 >/proc/self/oom_score_adj && exec "$0" "$@"' \
		"$CKPTCTL" dump -t "$TPID" -D "$TMP/img2"
	no_partial_set "$TMP/img2"
	check_alive "$TPID"
	expect_status pass
fi

# a user's restore (through a root ckptd) gets its own tree's scheduling
# back, but no oom_score_adj below the requester's own
command -v systemd-socket-activate >/dev/null && command -v setpriv >/dev/null &&
	command -v useradd >/dev/null || exit 0
. "$(dirname "$0")/sec-lib.sh"
sec_target "$SEC_UID:$SEC_GID" "$U" sched nofifo 500
$AS_USER "$CKPTCTL" dump -t "$TPID" -D "$U/img" >"$TMP/udump.out" 2>&1 ||
	fail "the user's dump: $(cat "$TMP/udump.out")"
wait_gone "$TPID"
expect_fail 1 "pid $TPID: oom_score_adj 500 is below 600, the lowest the requesting process" \
	sh -c 'echo 600 >/proc/self/oom_score_adj && exec "$0" "$@"' \
	$AS_USER "$CKPTCTL" restore -D "$U/img"
[ ! -e "/proc/$TPID" ] || fail "pid $TPID runs after a refused restore"
$AS_USER "$CKPTCTL" restore -D "$U/img" >"$TMP/urestore.out" 2>&1 ||
	fail "the user's restore: $(cat "$TMP/urestore.out")"
track_pid "$TPID"
expect_status pass
exit 0
