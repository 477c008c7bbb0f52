#!/bin/sh
# Lazy restores that go wrong, and one with nothing to serve:
#  (a) one byte of a page block in the middle of the big map's pages is
#      corrupted after the dump: `restore --lazy` succeeds (it reads no
#      lazy block), then the lazy server finds the block's checksum wrong,
#      the tree dies by SIGKILL within seconds and the status keeps a
#      "failed" entry naming the pages file and the block's offset;
#  (b) the lazy server is killed (SIGKILL) while pages are still missing,
#      once while it traces the target and once the moment the restore
#      returns (b2): every process it served dies (PTRACE_O_EXITKILL), none
#      is left hanging on a fault or running on with zeros for its data;
#  (c) --lazy of a tree with nothing lazy (tests/targets/threads.c: small
#      maps and stacks) restores it and leaves no server and no entry;
#  (d) as (a), for a block of a chain's parent that the child set split
#      (it rewrote some of its pages): the server reads the parent's block
#      whole and checks it before it copies the pieces still in parent, so
#      the tree dies the same way, the error naming the parent's file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/lazy-lib.sh"

# bad_block_failed FILE: the lazy restore of $TPID is listed as failed, its
# error naming FILE (a path's tail), the offset $HEXOFF and the checksum
bad_block_failed()
{
	local entry err
	lazy_status
	entry=$(lazy_entry "$TPID") || fail "no entry of $TPID left in the status: $(cat "$LAZY_JSON")"
	err=$(lazy_error "$TPID")
	log "status: $entry: $err"
	case $entry in
	failed*) ;;
	*) fail "the entry of $TPID is not failed: $entry" ;;
	esac
	echo "$err" | grep -q "$1" || fail "the error does not name $1: $err"
	echo "$err" | grep -qi "offset $HEXOFF\b" || fail "the error does not name the offset $HEXOFF: $err"
	echo "$err" | grep -qi "checksum" || fail "the error does not say the checksum is wrong: $err"
}

# (a) a corrupted block
start_target lazymem 256
dump_kill "$TMP/a"
set -- $(grep '^big ' "$TSTATUS.info")
[ "$2" = "$TPID" ] || fail "no note of the big map in $TSTATUS.info"
show_json "$TMP/a"
OUT=$TMP/victim BIG_START=$(($3)) BIG_END=$(($4)) ROOT=$TPID json_check "$TMP/show.json" '
pm = task(os.environ["ROOT"])["pagemap"]
lo, hi = int(os.environ["BIG_START"]), int(os.environ["BIG_END"])
blocks = [e for e in pm["entries"] if e["flags"] == 1 and lo <= e["vaddr"] < hi]
assert len(blocks) > 10, "%d blocks of the big map" % len(blocks)
b = blocks[len(blocks) // 2]
ps = pm["head"]["page_size"]
with open(os.environ["OUT"], "w") as f:
    print("pages-%d.img" % pm["head"]["pages_id"], ps + b["off"] * ps, b["nr_pages"] * ps, b["vaddr"], file=f)'
read -r PAGES OFF LEN VADDR <"$TMP/victim"
[ -f "$TMP/a/$PAGES" ] || fail "no $PAGES in the image set"
# flip one byte in the middle of the block
AT=$((OFF + LEN / 2 + 7))
flip "$TMP/a/$PAGES" "$AT" 0x01
HEXOFF=$(printf '%#x' "$OFF")
log "corrupted $PAGES at $AT: the block at offset $HEXOFF ($LEN bytes, vaddr $(printf '%#x' "$VADDR"))"
restore_lazy "$TMP/a"
[ -n "$LAZY_SERVER" ] || fail "no lazy restore of $TPID listed right after the restore: $(cat "$LAZY_JSON")"
all_gone 10 $TREE_PIDS
log "the tree ($TREE_PIDS) is gone"
case $(cat "$TSTATUS" 2>/dev/null) in
pass|fail*) fail "the target gave a verdict ($(cat "$TSTATUS")): it ran on with a bad page" ;;
esac
bad_block_failed "$PAGES"
all_gone 5 "$LAZY_SERVER"
rm -f "/run/ckpt/lazy/$TPID"	# a failed entry would be listed for 10 minutes
rm -rf "$TMP/a"

# (b) the server killed mid-way, while it traces the target (it seizes
# it a moment after the restore returns, and detaches once every page is
# in; 512 MiB take it half a second or more). Its pid comes from the restore's own
# message, quicker than the status.
start_target lazymem -w 512
dump_kill "$TMP/b"
# server_of_restore: the pid the last restore --lazy says serves its pages
server_of_restore()
{
	sed -n 's/.*served by pid \([0-9][0-9]*\).*/\1/p' "$LAST_ERR"
}
ckpt_ok restore -D "$TMP/b" --lazy
srv=$(server_of_restore)
[ -n "$srv" ] || fail "restore --lazy does not say which pid serves the pages: $(cat "$LAST_ERR")"
track_pid "$srv"
for p in $TREE_PIDS; do
	track_pid "$p"
done
i=0
while [ "$(tracer_of "$TPID")" != "$srv" ] && [ $i -lt 200 ]; do
	i=$((i + 1))
	sleep 0.01
done
# a dump meanwhile is refused by name (--leave-running: should the server
# finish first, the dump succeeds and the target runs on)
if [ "$(tracer_of "$TPID")" = "$srv" ]; then
	ckpt dump --leave-running -t "$TPID" -D "$TMP/b-again"
	if [ "$LAST_RC" = 0 ]; then
		log "SKIP of one check: the server was done before the dump could meet it"
	else
		grep -q "pid $TPID is still being restored lazily: its pages come from ckpt-lazy pid $srv" \
			"$LAST_ERR" || fail "a dump of a tree served lazily: exit $LAST_RC, $(cat "$LAST_ERR")"
		[ ! -e "$TMP/b-again/inventory.img" ] || fail "a refused dump left an image set"
	fi
fi
if [ "$(tracer_of "$TPID")" = "$srv" ]; then
	kill -KILL "$srv"
	log "killed the lazy server $srv while it traced $TPID"
	all_gone 3 "$srv" $TREE_PIDS
	log "the server and the tree ($TREE_PIDS) are gone"
	lazy_status
	set -- $(lazy_entry "$TPID") ""
	[ -z "$1" ] || [ "$1" = failed ] || fail "the entry of $TPID says '$*' once its server is dead"
	rm -f "/run/ckpt/lazy/$TPID"
else
	lazy_status
	log "SKIP of one check: pid $TPID is traced by '$(tracer_of "$TPID")', not by its server $srv (status: $(lazy_entry "$TPID")): done before it could be killed mid-way?"
	kill -KILL "$TPID"
	wait_gone "$TPID"
fi

# (b2) the server killed the moment the restore returns (its pid from the
# restore's own message): pages are missing from the start, so the tree
# must die all the same, never run on with zeros where its data was
ckpt_ok restore -D "$TMP/b" --lazy
srv=$(server_of_restore)
[ -n "$srv" ] || fail "restore --lazy does not say which pid serves the pages: $(cat "$LAST_ERR")"
kill -KILL "$srv"
for p in $TREE_PIDS; do
	track_pid "$p"
done
log "killed the lazy server $srv as the restore returned (TracerPid of $TPID: $(tracer_of "$TPID"))"
all_gone 3 "$srv" $TREE_PIDS
log "the server and the tree ($TREE_PIDS) are gone"
rm -f "/run/ckpt/lazy/$TPID"
rm -rf "$TMP/b"

# (c) nothing lazy
start_target threads -n 2
dump_kill "$TMP/c"
restore_lazy "$TMP/c"
[ -z "$LAZY_STATE" ] || [ "$LAZY_STATE" = serving ] || fail "the lazy restore of $TPID: $LAZY_STATE"
wait_lazy_gone "$TPID" 5
[ -z "$LAZY_SERVER" ] || all_gone 5 "$LAZY_SERVER"
check_alive "$TPID"
expect_status pass

rm -rf "$TMP/c"

# (d) a corrupted block of a parent that the child set split
start_target writer -m 64 -r 20480
mkdir -p "$TMP/d"
ckpt_ok pre-dump -t "$TPID" -D "$TMP/d/0"
sleep 1
dump_kill "$TMP/d/1" --prev ../0
show_json "$TMP/d/1"
mv "$TMP/show.json" "$TMP/show1.json"
show_json "$TMP/d/0"
OUT=$TMP/victim CHILD=$TMP/show1.json ROOT=$TPID json_check "$TMP/show.json" '
pm = task(os.environ["ROOT"])["pagemap"]
ps = pm["head"]["page_size"]
child = json.load(open(os.environ["CHILD"]))["tasks"][os.environ["ROOT"]]["pagemap"]["entries"]
def split(b):
    lo, hi = b["vaddr"], b["vaddr"] + b["nr_pages"] * ps
    mine = [e for e in child if lo <= e["vaddr"] < hi]
    return any(e["flags"] == 1 for e in mine) and any(e["flags"] == 2 for e in mine)
blocks = [e for e in pm["entries"] if e["flags"] == 1 and e["nr_pages"] >= 64 and split(e)]
assert blocks, "no block of the parent is split by the child set"
b = blocks[len(blocks) // 2]
with open(os.environ["OUT"], "w") as f:
    print("pages-%d.img" % pm["head"]["pages_id"], ps + b["off"] * ps, b["nr_pages"] * ps, file=f)'
read -r PAGES OFF LEN <"$TMP/victim"
flip "$TMP/d/0/$PAGES" "$((OFF + LEN - 5))" 0x80
HEXOFF=$(printf '%#x' "$OFF")
log "corrupted the parent's $PAGES near the end of the split block at $HEXOFF"
restore_lazy "$TMP/d/1"
all_gone 10 $TREE_PIDS
log "the tree ($TREE_PIDS) is gone"
bad_block_failed "0/$PAGES"
[ -z "$LAZY_SERVER" ] || all_gone 5 "$LAZY_SERVER"
rm -f "/run/ckpt/lazy/$TPID"
