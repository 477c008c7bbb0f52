#!/bin/sh
# Restore of anon-inode files (anonfd target): eventfd counters (one past
# 32 bits, one in semaphore mode), epoll watches with their events and
# data under their fd numbers (a disarmed one-shot, an edge-triggered
# one, an epoll inside an epoll), an epoll file shared with a child, a
# signalfd with a signal pending, timerfds (periodic, absolute, expired
# with an expiration not read).
# Then what can't be restored: an epoll watch whose fd was closed while a
# dup keeps the file alive (the dump records it, the restore refuses it
# naming the fd), and a userfaultfd (refused naming it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

restore_cycle_same anonfd

# an epoll watch under an fd number that no longer names the file
cat >"$TMP/closed.py" <<'PY'
import os, select, time
r, w = os.pipe()
ep = select.epoll()
ep.register(r, select.EPOLLIN)
keep = os.dup(r)
os.close(r)
with open(os.environ["CKPT_STATUS"], "w") as f:
    f.write("ready %d\n" % os.getpid())
time.sleep(600)
PY
start_prog closed python3 "$TMP/closed.py"
closed=$TPID
TREE_PIDS=$closed
dump_target "$TMP/img.closed"
kill -KILL "$closed"
wait_gone "$closed"
expect_fail 1 "epoll watched a file under fd [0-9]+, which was closed" \
	ckptctl restore -D "$TMP/img.closed"
no_tree_left

cat >"$TMP/uffd.py" <<'PY'
import ctypes, os, time
fd = ctypes.CDLL(None, use_errno=True).syscall(323, os.O_CLOEXEC)	# userfaultfd
assert fd >= 0, os.strerror(ctypes.get_errno())
with open(os.environ["CKPT_STATUS"], "w") as f:
    f.write("ready %d\n" % os.getpid())
time.sleep(600)
PY
start_prog uffd python3 "$TMP/uffd.py"
TREE_PIDS=$TPID
dump_target "$TMP/img.uffd"
kill -KILL "$TPID"
wait_gone "$TPID"
expect_fail 1 "fd [0-9]+: anonymous-inode files other than .* can't be restored yet \\(anon_inode:\\[userfaultfd\\]\\)" \
	ckptctl restore -D "$TMP/img.uffd"
no_tree_left
