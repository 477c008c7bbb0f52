#!/bin/sh
# pidfds come back as pidfds of the same (restored, same-pid) processes:
# the pidfd target's parent holds pidfds of its child and of itself, and
# after the restore signals the child through one, polls it and reaps it
# with waitid(P_PIDFD); it also holds pidfds of one of its own threads
# (PIDFD_THREAD, made by the restorer blob once the thread exists), signals
# that thread through one and polls one until the thread exited. Refused at
# restore, and so by a killing dump before it kills: a pidfd of a process
# outside the tree, of one that exited and was reaped, and of a thread of
# another process of the tree.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

restore_cycle pidfd

# a pidfd of a process outside the tree (the shell that started it)
cat >"$TMP/outside.py" <<'PY'
import os, time
fd = os.pidfd_open(os.getppid())
with open(os.environ["CKPT_STATUS"], "w") as f:
    f.write("ready %d\n" % os.getpid())
time.sleep(600)
PY
start_prog outside python3 "$TMP/outside.py"
dump_refused "$TMP/img.outside" "pid $TPID fd [0-9]+: pidfd of pid [0-9]+, which is not in the dumped tree"
kill -KILL "$TPID"
wait_gone "$TPID"

# a pidfd of a child that exited and was reaped (fdinfo: Pid: -1)
cat >"$TMP/reaped.py" <<'PY'
import os, time
child = os.fork()
if child == 0:
    os._exit(0)
fd = os.pidfd_open(child)
os.waitpid(child, 0)
with open(os.environ["CKPT_STATUS"], "w") as f:
    f.write("ready %d\n" % os.getpid())
time.sleep(600)
PY
start_prog reaped python3 "$TMP/reaped.py"
dump_refused "$TMP/img.reaped" "pid $TPID fd [0-9]+: pidfd of a process that had exited and was reaped"
kill -KILL "$TPID"
wait_gone "$TPID"

# a pidfd of a thread of another process of the tree: the child holds one
# of its parent's (non-leader) thread
cat >"$TMP/otherthread.py" <<'PY'
import os, threading, time
ev = threading.Event()
th = threading.Thread(target=ev.wait, daemon=True)
th.start()
tid = th.native_id
r, w = os.pipe()
child = os.fork()
if child == 0:
    fd = os.pidfd_open(tid, os.O_EXCL)  # PIDFD_THREAD
    os.write(w, b"x")
    time.sleep(600)
    os._exit(0)
os.read(r, 1)
with open(os.environ["CKPT_STATUS"], "w") as f:
    f.write("ready %d\n" % os.getpid())
time.sleep(600)
PY
start_prog otherthread python3 "$TMP/otherthread.py"
OTHER=$(descendants "$TPID")
dump_refused "$TMP/img.otherthread" "pid [0-9]+ fd [0-9]+: pidfd of thread [0-9]+ of pid $TPID, another process"
for p in $OTHER; do
	kill -KILL "$p"
done
for p in $OTHER; do
	wait_gone "$p"
done
