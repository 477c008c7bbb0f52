#!/bin/sh
# A user's lazy restore through the root ckptd of the service
# (systemd-socket-activate): the user dumps its own lazymem and restores
# it with --lazy; the tree comes back as the user's, checks every byte of
# its memory and is left untraced. Then one byte of a block of the user's
# set is corrupted: the tree dies, and the failed lazy restore, with its
# error, is listed to the user and to root, never to another user.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sec-lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/lazy-lib.sh"

need_file "$TARGETS/lazymem"
sec_new_user "ckptlb$$"
AS_B=$NEW_AS

# user_dump NAME: lazymem 64 as the user, dumped by the user into $U/NAME
user_dump()
{
	sec_target "$SEC_UID:$SEC_GID" "$U" lazymem 64
	$AS_USER "$CKPTCTL" dump -t "$TPID" -D "$U/$1" >"$TMP/dump.out" 2>&1 ||
		fail "the user's dump of its pid $TPID: $(cat "$TMP/dump.out")"
	wait_gone "$TPID"
}

# user_status AS...: the status --json of that user (AS: a setpriv prefix,
# or nothing for root) into $LAZY_JSON
user_status()
{
	"$@" "$CKPTCTL" status --json >"$TMP/status.json" 2>"$TMP/status.err"
	LAZY_JSON=$TMP/status.json
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))["lazy"]' "$LAZY_JSON" ||
		fail "status --json has no lazy list: $(cat "$TMP/status.err")"
}

user_dump a
$AS_USER "$CKPTCTL" restore -D "$U/a" --lazy >"$TMP/restore.out" 2>&1 ||
	fail "the user's restore --lazy: $(cat "$TMP/restore.out")"
grep -q "arrive lazily, served by pid" "$TMP/restore.out" ||
	fail "the user's restore was not lazy: $(cat "$TMP/restore.out")"
track_pid "$TPID"
[ "$(stat -c %u "/proc/$TPID")" = "$SEC_UID" ] || fail "pid $TPID restored as uid $(stat -c %u /proc/$TPID)"
expect_status pass
i=0
while [ "$(tracer_of "$TPID")" != 0 ]; do
	i=$((i + 1))
	[ $i -le 300 ] || fail "pid $TPID still traced by $(tracer_of "$TPID") after 30 s"
	sleep 0.1
done
kill -KILL "$TPID"
wait_gone "$TPID"

# a corrupted block of the big map: the first data block inside it
user_dump b
set -- $(grep '^big ' "$TSTATUS.info")
show_json "$U/b"
OUT=$TMP/victim LO=$(($3)) HI=$(($4)) ROOT=$TPID json_check "$TMP/show.json" '
pm = task(os.environ["ROOT"])["pagemap"]
lo, hi = int(os.environ["LO"]), int(os.environ["HI"])
b = [e for e in pm["entries"] if e["flags"] == 1 and lo <= e["vaddr"] < hi][0]
ps = pm["head"]["page_size"]
with open(os.environ["OUT"], "w") as f:
    print("pages-%d.img" % pm["head"]["pages_id"], ps + b["off"] * ps, file=f)'
read -r PAGES OFF <"$TMP/victim"
flip "$U/b/$PAGES" "$((OFF + 100))" 0x80
$AS_USER "$CKPTCTL" restore -D "$U/b" --lazy >"$TMP/restore.out" 2>&1 ||
	fail "the user's restore --lazy of the corrupted set: $(cat "$TMP/restore.out")"
track_pid "$TPID"
all_gone 10 "$TPID"
for who in user root; do
	if [ $who = user ]; then user_status $AS_USER; else user_status; fi
	entry=$(lazy_entry "$TPID") || fail "$who: no entry of $TPID: $(cat "$LAZY_JSON")"
	case $entry in
	failed*) ;;
	*) fail "$who: the entry of $TPID is not failed: $entry" ;;
	esac
	lazy_error "$TPID" | grep -q "$PAGES offset $(printf '%#x' "$OFF").*checksum" ||
		fail "$who: the error does not name $PAGES at $(printf '%#x' "$OFF"): $(lazy_error "$TPID")"
done
user_status $AS_B
lazy_entry "$TPID" >/dev/null && fail "another user sees the lazy restore of $TPID: $(cat "$LAZY_JSON")"
rm -f "/run/ckpt/lazy/$TPID"
