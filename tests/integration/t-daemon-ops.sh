#!/bin/sh
# ckptctl status lists the operations in flight and ckptctl cancel stops
# one: root sees every operation, a user only their own (the others only
# as a count) and may cancel only their own. A cancelled dump exits 9
# saying who cancelled it, writes no set, and its tree runs on, untraced.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sec-lib.sh"
. "$(dirname "$0")/ops-lib.sh"

# big MIB [user]: a memory target (as root or the user) with MIB MiB of
# written memory, so that its dump takes a while; sets BIG
big()
{
	local as= st=$U/big.$1.${2:-root} i=0
	[ "${2:-}" = user ] && as=$AS_USER
	rm -f "$st"
	(cd "$U" && CKPT_STATUS=$st TMPDIR=$U exec setsid $as perl -e 'use POSIX;
		POSIX::close($_) for 3..1023; exec @ARGV' "$TARGETS/memory" -d "$1") \
		</dev/null >/dev/null 2>&1 &

	BIG=$!
	track_pid $BIG
	while ! grep -q "^ready" "$st" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 600 ] || fail "the memory target did not get ready"
		kill -0 $BIG 2>/dev/null || fail "the memory target died"
		sleep 0.1
	done
}

big 1024 user
UBIG=$BIG
big 1024
RBIG=$BIG
$AS_USER "$CKPTCTL" dump -t $UBIG -D "$U/cancelled" >"$TMP/u.out" 2>&1 &
UC=$!
catch_dump $UBIG
UID_OP=$OP_ID UH=$OP_HANDLER
# the second dump starts only once the first is held: started together,
# it ran on while the first was being caught and was often past its
# pages by then
mkdir -p "$TMP/root"
"$CKPTCTL" dump -t $RBIG -D "$TMP/root" >"$TMP/r.out" 2>&1 &
RC=$!
catch_dump $RBIG
ROOT_OP=$OP_ID RH=$OP_HANDLER

# root sees both, the user their own and a count
ckpt_ok status --json
json_check "$LAST_OUT" "
ops = {o['id']: o for o in j['operations']}
assert $UID_OP in ops and $ROOT_OP in ops, j
u = ops[$UID_OP]
assert u['uid'] == $SEC_UID and u['target_pid'] == $UBIG and u['dir'] == '$U/cancelled', u
assert 0 < u['done'] <= u['total'] and u['age_ms'] > 0, u
assert j['others'] == 0 and j['max_per_user'] == 4, j"
ckpt_ok status
grep -Eq "^ +$ROOT_OP +dump +0 +pid $RBIG +pages +[0-9]+%" "$LAST_OUT" ||
	fail "root's status does not list operation $ROOT_OP: $(cat "$LAST_OUT")"
$AS_USER "$CKPTCTL" status --json >"$TMP/ustatus.json" || fail "the user's status"
json_check "$TMP/ustatus.json" "
assert [o['id'] for o in j['operations']] == [$UID_OP], j
assert j['others'] == 1, j"
$AS_USER "$CKPTCTL" status >"$TMP/ustatus.txt" || fail "the user's status"
grep -q "operations: 1 in flight (and 1 of other users)" "$TMP/ustatus.txt" ||
	fail "the user's status: $(cat "$TMP/ustatus.txt")"
grep -q "pid $RBIG" "$TMP/ustatus.txt" && fail "the user sees root's target: $(cat "$TMP/ustatus.txt")"

# the user may not cancel root's dump, and learns nothing of it
expect_fail 4 "no operation $ROOT_OP of uid $SEC_UID in flight" $AS_USER "$CKPTCTL" cancel $ROOT_OP
# the user cancels their own
$AS_USER "$CKPTCTL" cancel $UID_OP >"$TMP/ucancel.out" 2>&1 ||
	fail "the user's cancel of $UID_OP: $(cat "$TMP/ucancel.out")"
grep -q "cancelling operation $UID_OP: dump of pid $UBIG for uid $SEC_UID" "$TMP/ucancel.out" ||
	fail "cancel said: $(cat "$TMP/ucancel.out")"
kill -CONT $UH
rc=0
wait $UC || rc=$?
[ $rc -eq 9 ] || fail "the cancelled dump exited $rc, not 9: $(cat "$TMP/u.out")"
grep -q "operation $UID_OP cancelled by uid $SEC_UID (pid [0-9]*): cancelled at the pages stage: the tree runs on" \
	"$TMP/u.out" || fail "the cancelled dump said: $(cat "$TMP/u.out")"
no_partial_set "$U/cancelled"
check_alive $UBIG

# root cancels its own (any would do), with --json
ckpt_ok cancel --json $ROOT_OP
json_check "$LAST_OUT" "assert j['id'] == $ROOT_OP and 'dump of pid $RBIG' in j['cancelled'], j"
kill -CONT $RH
rc=0
wait $RC || rc=$?
[ $rc -eq 9 ] || fail "root's cancelled dump exited $rc, not 9: $(cat "$TMP/r.out")"
grep -q "cancelled by uid 0" "$TMP/r.out" || fail "root's cancelled dump said: $(cat "$TMP/r.out")"
no_partial_set "$TMP/root"
check_alive $RBIG

# nothing left to cancel; bad invocations
ckpt_ok status --json
json_check "$LAST_OUT" "assert j['operations'] == [] and j['queued'] == 0, j"
expect_fail 4 "no operation $ROOT_OP in flight" ckptctl cancel $ROOT_OP
expect_fail 2 "invalid operation id 'x1'" ckptctl cancel x1
expect_fail 2 "which operation" ckptctl cancel
expect_fail 2 "give one operation id" ckptctl cancel 1 2
"$CKPTCTL" cancel --help | grep -q "Usage: ckptctl cancel ID" || fail "cancel --help"
"$CKPTCTL" --help | grep -q "cancel" || fail "ckptctl --help lacks cancel"
grep -q "cancel of operation $UID_OP for uid $SEC_UID .* done" "$TMP/daemon.log" ||
	fail "no log of the user's cancel: $(cat "$TMP/daemon.log")"
exit 0
