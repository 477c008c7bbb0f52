#!/bin/sh
# pidfds come back as pidfds of the same (restored, same-pid) processes:
# the pidfd target's parent holds pidfds of its child and of itself, and
# after the restore signals the child through one, polls it and reaps it
# with waitid(P_PIDFD). Refused at restore, and so by a killing dump before
# it kills: a pidfd of a process outside the tree, and of one that exited
# and was reaped.
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
