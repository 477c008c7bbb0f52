#!/bin/sh
# Flags and owners of open files (fdflags target): O_PATH fds on a file and
# on a symlink itself, F_GETFL flags (O_APPEND, O_NONBLOCK, O_NOATIME,
# O_DIRECT where taken; a memfd's set by F_SETFL), F_SETOWN, F_SETOWN_EX
# (a thread, a process group) and F_SETSIG come back as they were.
# Then an owner outside the tree: the dump refuses it, naming pid and fd.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

restore_cycle_same fdflags

# a file owned by a process outside the tree (its parent shell)
cat >"$TMP/owner.py" <<'PY'
import fcntl, os, time
f = open(os.path.join(os.environ["TMPDIR"], "owned-out"), "w")
fcntl.fcntl(f, fcntl.F_SETOWN, os.getppid())
with open(os.environ["CKPT_STATUS"], "w") as s:
    s.write("ready %d\n" % os.getpid())
time.sleep(600)
PY
TMPDIR=$TMP start_prog owner python3 "$TMP/owner.py"
TREE_PIDS=$TPID
expect_fail 1 "pid $TPID fd [0-9]+ \\([^)]*/owned-out\\): owned by pid [0-9]+ \\(F_SETOWN\\), which is outside the tree" \
	ckptctl dump -t "$TPID" -D "$TMP/img.owner"
kill -KILL "$TPID"
wait_gone "$TPID"
