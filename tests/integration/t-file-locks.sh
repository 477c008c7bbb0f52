#!/bin/sh
# File locks come back held (locks target): an flock, a POSIX write lock,
# an OFD read lock, a read lease, a shared flock on a memfd, and a child
# still blocked in F_SETLKW. Checked from outside (another process's
# non-blocking attempts fail where a lock is held, and only there; each
# fd's fdinfo lock lines are as they were) and from inside by the target.
# A restore while another process holds a conflicting lock fails, naming
# pid, fd, file and lock, and leaves no process of the tree; a write lease
# is refused by a killing dump before it kills.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

# lock_lines PID...: every fd's fdinfo lock lines, without the lock's
# number, pid and device (the same once restored, but for the pid of an
# OFD lock, -1 anyway).
lock_lines()
{
	local p f
	for p in "$@"; do
		for f in /proc/$p/fdinfo/*; do
			sed -n "s/^lock:[[:space:]]*[0-9]*: *\([A-Z]*\) *\([A-Z]*\) *\([A-Z]*\) [-0-9]* [0-9a-f:]* \(.*\)/pid $p fd ${f##*/}: \1 \2 \3 \4/p" "$f"
		done
	done | sort
}

# outside_check: another process's non-blocking attempts.
outside_check()
{
	python3 - "$TMP" <<'PY' || fail "a lock is missing, seen from outside: $(cat "$TMP/outside.err")"
import fcntl, sys
d = sys.argv[1]
def busy(what, f):
    try:
        f()
    except (BlockingIOError, PermissionError):
        return
    sys.exit(what + ": not held")
def free(what, f):
    try:
        f()
    except OSError as e:
        sys.exit(what + ": held (%s)" % e)
fl = open(d + "/lk-flock")
busy("flock on lk-flock", lambda: fcntl.flock(fl, fcntl.LOCK_SH | fcntl.LOCK_NB))
r = open(d + "/lk-range", "r+")
busy("POSIX write lock 0-99", lambda: fcntl.lockf(r, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, 99))
busy("POSIX write lock 0-99", lambda: fcntl.lockf(r, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, 0))
free("OFD read lock 100-199 (read)", lambda: fcntl.lockf(r, fcntl.LOCK_SH | fcntl.LOCK_NB, 100, 100))
busy("OFD read lock 100-199", lambda: fcntl.lockf(r, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 199))
free("bytes 200-299", lambda: fcntl.lockf(r, fcntl.LOCK_EX | fcntl.LOCK_NB, 100, 200))
PY
}

# child_waits PID: PID sleeps, waiting for a POSIX lock (/proc/locks).
child_waits()
{
	grep -Eq "^[0-9]+: -> POSIX +ADVISORY +WRITE $1 " /proc/locks ||
		fail "child $1 does not wait for its lock: $(cat /proc/locks)"
}

start_target locks
CHILD=$(sed -n 's/^child //p' "$TSTATUS.info")
[ -n "$CHILD" ] || fail "the target noted no child"
child_waits "$CHILD"
outside_check 2>"$TMP/outside.err"
lock_lines "$TPID" "$CHILD" >"$TMP/locks.before"
[ "$(grep -c . "$TMP/locks.before")" -ge 8 ] || fail "too few lock lines: $(cat "$TMP/locks.before")"
dump_kill "$TMP/img"
[ -z "$(grep -E "^[0-9]+: .* ($TPID|$CHILD) " /proc/locks)" ] || fail "the tree's locks outlived it"

# someone else holds a conflicting lock: each refused, nothing left
hold()
{
	python3 -c '
import fcntl, sys, time
f = open(sys.argv[1], "r+")
if sys.argv[2] == "flock":
    fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
else:
    fcntl.lockf(f, fcntl.LOCK_SH | fcntl.LOCK_NB, 10, 0)
open(sys.argv[3], "w").write("held\n")
time.sleep(600)' "$1" "$2" "$TMP/held" &
	HOLDER=$!
	track_pid $HOLDER
	wait_path -s "$TMP/held" 10 || fail "the holder did not take its lock"
}
unhold()
{
	kill -KILL "$HOLDER"
	wait "$HOLDER" 2>/dev/null
	rm -f "$TMP/held"
}
hold "$TMP/lk-range" posix
expect_fail 1 "pid $TPID fd 10: $TMP/lk-range: POSIX write lock 0-99 is held by another process here" \
	ckptctl restore -D "$TMP/img"
no_tree_left
unhold
hold "$TMP/lk-flock" flock
expect_fail 1 "pid $TPID fd 13: $TMP/lk-flock: flock write lock is held by another process here" \
	ckptctl restore -D "$TMP/img"
no_tree_left
unhold

restore_ok "$TMP/img"
child_waits "$CHILD"
outside_check 2>"$TMP/outside.err"
lock_lines "$TPID" "$CHILD" >"$TMP/locks.after"
diff "$TMP/locks.before" "$TMP/locks.after" >"$TMP/locks.diff" ||
	fail "lock lines differ after restore: $(cat "$TMP/locks.diff")"
expect_status pass

# a write lease: refused before the tree is killed
cat >"$TMP/lease.py" <<'PY'
import fcntl, os, signal, time
signal.signal(signal.SIGIO, signal.SIG_IGN)
f = open(os.path.join(os.environ["TMPDIR"], "lk-wlease"), "w")
fcntl.fcntl(f, fcntl.F_SETLEASE, fcntl.F_WRLCK)
with open(os.environ["CKPT_STATUS"], "w") as s:
    s.write("ready %d\n" % os.getpid())
time.sleep(600)
PY
TMPDIR=$TMP start_prog lease python3 "$TMP/lease.py"
dump_refused "$TMP/img.lease" "pid $TPID fd [0-9]+: $TMP/lk-wlease: its write lease can't be restored: write leases can't be taken back yet"
kill -KILL "$TPID"
wait_gone "$TPID"
