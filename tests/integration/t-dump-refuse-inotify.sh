#!/bin/sh
# inotify can't be restored yet: a killing dump of `tail -f` is refused,
# and tail goes on following its file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

echo "line one" >"$TMP/log"
setsid tail -f "$TMP/log" </dev/null >"$TMP/tail.out" 2>&1 &
TPID=$!
track_pid $TPID
wait_path -s "$TMP/tail.out" 10 || fail "tail printed nothing"
grep -q inotify "/proc/$TPID/fdinfo/"* 2>/dev/null || ls -l "/proc/$TPID/fd" | grep -q inotify ||
	skip "this tail follows by polling, not inotify"
dump_refused "$TMP/img" "pid $TPID fd [0-9]+: anonymous-inode files.*can't be restored yet \\(anon_inode:inotify\\)"
echo "line two" >>"$TMP/log"
i=0
until grep -q "line two" "$TMP/tail.out"; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "tail no longer follows its file after the refused dump"
	sleep 0.1
done
