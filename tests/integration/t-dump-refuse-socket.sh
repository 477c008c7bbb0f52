#!/bin/sh
# Unix sockets come back (t-sock-unix.sh has every kind); what a restore
# can't bring back is refused before anything is killed. Here: programs
# nobody wrote for the test. The files target's socketpair (with its
# other files) and a python asyncio loop (its self-pipe is a socketpair,
# which a signal wakes through set_wakeup_fd) are dumped, killed and
# restored, and work. A unix socket connected to a process outside the
# tree is refused by a killing dump (the program runs on, whole); a set
# kept with --leave-running is refused by restore too, before any
# process is created.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

start_target files
dump_kill "$TMP/img"
restore_ok "$TMP/img"
expect_status pass
log "the files target came back with its socketpair"

# a real asyncio program: its loop wakes on SIGUSR1 through its socketpair
command -v python3 >/dev/null || skip "no python3"
python3 -c '
import asyncio, os, signal, sys
async def main():
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.add_signal_handler(signal.SIGUSR1, lambda: done.set_result(1))
    open(sys.argv[1] + ".tmp", "w").write("ready %d" % os.getpid())
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    await done
    open(sys.argv[1] + ".tmp", "w").write("pass")
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
asyncio.run(main())' "$TMP/py.ready" </dev/null >/dev/null 2>&1 &
PY=$!
track_pid $PY
wait_path -s "$TMP/py.ready" 30 || fail "the asyncio program did not start"
TPID=$PY
dump_kill "$TMP/img2"
restore_ok "$TMP/img2"
expect_status pass "$TMP/py.ready"
log "the asyncio loop woke through its restored socketpair"

start_target unixsk outside
OUT=$(cat "$TSTATUS.outside") || fail "no pid of the process outside"
track_pid "$OUT"
dump_refused "$TMP/img3" "pid $TPID fd [0-9]+: unix stream socket \(inode [0-9]+\) is connected to inode [0-9]+ held outside the tree"
dump_target "$TMP/kept"
TREE_PIDS=$(tree_pids "$TMP/kept") || fail "cannot read the pstree of $TMP/kept"
grep -q "cannot be restored: .*held outside the tree" "$LAST_ERR" || fail "no warning: $(cat "$LAST_ERR")"
expect_status pass
wait_gone "$OUT"
expect_fail 1 "pid [0-9]+ fd [0-9]+: unix stream socket \(inode [0-9]+\) is connected to inode [0-9]+ held outside the tree" ckptctl restore -D "$TMP/kept"
no_tree_left
