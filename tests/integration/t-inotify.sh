#!/bin/sh
# inotify comes back: the inotify target's watches (a file, a directory,
# different masks, a gap in the wds) under the same wds, and events after
# the restore arrive with them; `tail -f` (coreutils, inotify) dumped,
# killed and restored follows its file again. Refused at restore, and so
# by a killing dump before it kills: a watch on a deleted file, a watched
# file replaced by another (restore), and fanotify, named as such.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

restore_cycle inotify

# tail -f: lines appended after the restore show up in its output
echo "line one" >"$TMP/log"
setsid tail -f "$TMP/log" </dev/null >"$TMP/tail.out" 2>&1 &
TPID=$!
track_pid $TPID
wait_path -s "$TMP/tail.out" 10 || fail "tail printed nothing"
ls -l "/proc/$TPID/fd" | grep -q inotify || skip "this tail follows by polling, not inotify"
dump_kill "$TMP/img.tail"
restore_ok "$TMP/img.tail"
echo "line two" >>"$TMP/log"
i=0
until grep -q "line two" "$TMP/tail.out"; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "restored tail does not follow its file: $(cat "$TMP/tail.out")"
	sleep 0.1
done
kill -KILL "$TPID"
wait_gone "$TPID"

# a watch on a file deleted since (kept open, so the watch stays)
cat >"$TMP/deleted.py" <<'PY'
import ctypes, os, select, time
libc = ctypes.CDLL(None, use_errno=True)
path = os.environ["CKPT_STATUS"] + ".watched"
keep = open(path, "w")
fd = libc.inotify_init1(os.O_NONBLOCK)
assert fd >= 0 and libc.inotify_add_watch(fd, path.encode(), 0x4) == 1   # IN_ATTRIB
os.unlink(path)
time.sleep(0.1)
while select.select([fd], [], [], 0)[0]:
    os.read(fd, 4096)
with open(os.environ["CKPT_STATUS"], "w") as f:
    f.write("ready %d\n" % os.getpid())
time.sleep(600)
PY
start_prog deleted python3 "$TMP/deleted.py"
dump_refused "$TMP/img.deleted" "pid $TPID fd [0-9]+: inotify watch wd 1 is on .*watched, which was deleted"
kill -KILL "$TPID"
wait_gone "$TPID"

# the watched file replaced by another before the restore
cat >"$TMP/replaced.py" <<'PY'
import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(0)
assert fd >= 0 and libc.inotify_add_watch(fd, os.environ["WATCHED"].encode(), 0x2) == 1
with open(os.environ["CKPT_STATUS"], "w") as f:
    f.write("ready %d\n" % os.getpid())
time.sleep(600)
PY
echo old >"$TMP/watched"
export WATCHED="$TMP/watched"
start_prog replaced python3 "$TMP/replaced.py"
dump_kill "$TMP/img.replaced"
rm "$TMP/watched"
echo new >"$TMP/watched"
ckpt restore -D "$TMP/img.replaced"
track_pid "$TPID"	# a restore that wrongly succeeds leaves nothing running
[ $LAST_RC -eq 1 ] || fail "restore of a replaced watched file exited $LAST_RC, expected 1"
grep -Eq "pid $TPID fd [0-9]+: inotify watch wd 1: .*/watched is no longer the file it watched" \
	"$LAST_ERR" || fail "restore of a replaced watched file: $(cat "$LAST_ERR")"
no_tree_left

# fanotify (CAP_SYS_ADMIN: the tests run as root): refused by its name
cat >"$TMP/fanotify.py" <<'PY'
import ctypes, os, time
fd = ctypes.CDLL(None, use_errno=True).fanotify_init(0, os.O_RDONLY)
assert fd >= 0, os.strerror(ctypes.get_errno())
with open(os.environ["CKPT_STATUS"], "w") as f:
    f.write("ready %d\n" % os.getpid())
time.sleep(600)
PY
start_prog fanotify python3 "$TMP/fanotify.py"
dump_refused "$TMP/img.fanotify" "pid $TPID fd [0-9]+: fanotify can't be restored"
kill -KILL "$TPID"
wait_gone "$TPID"
