#!/bin/sh
# Unix sockets can't be restored yet (TCP listeners and UDP sockets can:
# t-sock-inet.sh). A killing dump of a program holding them (the files
# target's socketpair, an asyncio loop's socketpair) is refused before
# anything is killed; the program runs on and finds every file, offset
# and buffered byte as it was. A set kept with --leave-running is refused by restore
# too, before any process is created.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

start_target files
dump_refused "$TMP/img" "pid [0-9]+ fd [0-9]+: unix sockets can't be restored yet"

# a real asyncio program: its loop holds a socketpair
python3 -c '
import asyncio, os, sys
async def main():
    open(sys.argv[1] + ".tmp", "w").write("ready %d" % os.getpid())
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    await asyncio.sleep(3600)
asyncio.run(main())' "$TMP/py.ready" </dev/null >/dev/null 2>&1 &
PY=$!
track_pid $PY
wait_path -s "$TMP/py.ready" 30 || fail "the asyncio program did not start"
TPID=$PY dump_refused "$TMP/img2" "pid $PY fd [0-9]+: unix sockets can't be restored yet"

dump_target "$TMP/kept"
TREE_PIDS=$(tree_pids "$TMP/kept") || fail "cannot read the pstree of $TMP/kept"
grep -q "cannot be restored: .*unix sockets" "$LAST_ERR" || fail "no warning: $(cat "$LAST_ERR")"
expect_status pass
for p in $TREE_PIDS; do
	wait_gone "$p"
done
expect_fail 1 "pid [0-9]+ fd [0-9]+: unix sockets can't be restored yet" ckptctl restore -D "$TMP/kept"
no_tree_left
