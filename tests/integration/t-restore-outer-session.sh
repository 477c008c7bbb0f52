#!/bin/sh
# A target whose session and process group are led from outside the pid
# namespace ckpt runs in (a container's shell, a CI runner's session):
# /proc shows its sid and pgid as 0. The dump records that, and restore
# accepts it and puts the task in the restorer's session. The test re-runs
# itself as PID 1 of a new pid namespace, whose own session leader is
# outside; the namespace's end kills whatever is left in it.
#
# The new pid namespace needs its own /proc, mounted in a new mount
# namespace. `unshare --mount-proc` first makes every mount private there
# (mount --make-rprivate /), which fails with EINVAL when / is no mount
# point (a chroot into a plain directory). Then only /proc, a mount point
# in any usable chroot, is made private (so the new proc mount cannot
# propagate back to the outer namespace) and the new proc goes over it.
if [ -z "${CKPT_IN_PIDNS:-}" ]; then
	me=$(basename "$0" .sh)
	command -v unshare >/dev/null || { echo "SKIP: $me: no unshare(1)"; exit 77; }
	export CKPT_IN_PIDNS=1
	if mountpoint -q /; then
		exec unshare --pid --fork --mount-proc sh "$0" "$@"
	fi
	mountpoint -q /proc ||
		{ echo "SKIP: $me: neither / nor /proc is a mount point: no private /proc to mount"; exit 77; }
	echo "$me: / is not a mount point (a chroot?): making only /proc private" >&2
	exec unshare --pid --fork --mount --propagation unchanged sh -c '
		mount --make-rprivate /proc &&
		mount -t proc -o nosuid,nodev,noexec proc /proc ||
			{ echo "FAIL: ${0##*/}: cannot mount a private /proc" >&2; exit 1; }
		exec sh "$0" "$@"' "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

export CKPT_SOCKET=$TMP/no-daemon.sock

# no setsid: the target stays in this shell's group and session, both led
# from outside the namespace
CKPT_STATUS=$TMP/status "$TARGETS/sample" </dev/null >"$TMP/log" 2>&1 &
TPID=$!
TSTATUS=$TMP/status
track_pid $TPID
wait_path -s "$TSTATUS" "$READY_TIMEOUT" || fail "sample never became ready"
grep -q "^ready" "$TSTATUS" || fail "sample: $(cat "$TSTATUS")"
st=$(proc_stat $TPID)
set -- $st
[ "$3" = 0 ] && [ "$4" = 0 ] || fail "pgid/sid read as $3/$4, wanted 0/0 (not inside a fresh pid namespace?)"

ckpt_ok dump -t $TPID -D "$TMP/img"
show_check "$TMP/img" "
e = j['pstree'][0]
assert e['pid'] == $TPID and e.get('pgid', 0) == 0 and e.get('sid', 0) == 0, e"
wait_gone $TPID

ckpt_ok restore -D "$TMP/img"
track_pid $TPID
[ "$(cat "$LAST_OUT")" = "$TPID" ] || fail "restore printed '$(cat "$LAST_OUT")', not $TPID"
check_alive
expect_status pass
log "pid $TPID: restored with its session outside the namespace, and passes"
