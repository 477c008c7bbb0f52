#!/bin/sh
# Restore of anon-inode files (anonfd target): eventfd counters (one past
# 32 bits, one in semaphore mode), epoll watches with their events and
# data under their fd numbers (a disarmed one-shot, an edge-triggered
# one, an epoll inside an epoll), an epoll file shared with a child, a
# signalfd with a signal pending, timerfds (periodic, absolute, expired
# with an expiration not read).
# Then what can't be restored: an epoll watch whose fd was closed while
# only another process's dup keeps the file alive (the dump records it, the
# restore refuses it naming the fd; a dup in the epoll's own process brings
# it back: t-files-tail), and a userfaultfd (refused naming it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

restore_cycle_same anonfd

# an epoll watch under an fd number that no longer names the file, which
# only a child holds
cat >"$TMP/closed.py" <<'PY'
import os, select, signal, time
r, w = os.pipe()
ep = select.epoll()
ep.register(r, select.EPOLLIN)
kid = os.fork()
if kid == 0:
    time.sleep(600)
    os._exit(0)
os.close(r)
with open(os.environ["CKPT_STATUS"], "w") as f:
    f.write("ready %d\n" % os.getpid())
time.sleep(600)
PY
start_prog closed python3 "$TMP/closed.py"
closed=$TPID
dump_target "$TMP/img.closed"
TREE_PIDS=$(tree_pids "$TMP/img.closed") || fail "cannot read the pstree of img.closed"
for p in $TREE_PIDS; do
	kill -KILL "$p"
	wait_gone "$p"
done
expect_fail 1 "epoll watches a file under fd [0-9]+, which was closed" \
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
