#!/bin/sh
# Issue 7: one user of the socket-activated service (a root ckptd under
# systemd-socket-activate, socket mode 0666) cannot touch another's or
# root's processes and images. Two fresh users, A and B, each run a test
# target of their own, root a third:
#  - A cannot dump B's process nor root's (exit 4), even into A's own
#    directory; nor its own process into B's directory. The refused
#    targets run on, neither stopped nor traced.
#  - A cannot read (show) nor restore B's image set (mode 0700, as a dump
#    makes it); once B lets everyone read it, A still cannot restore it, in
#    place or copied into a directory of A's, nor A's own set with B's uid
#    written in: no process of B's uid is ever made. Root's set, copied
#    into A's directory, is refused too.
#  - A dumps and restores its own target, which comes back as A's and
#    finds its memory intact; B's and root's targets, restored by their
#    owners, find theirs intact too (so the sets A was refused were good).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sec-lib.sh"

need_file "$TARGETS/memory"
# A is the user sec-lib.sh made; $U is A's directory
A_UID=$SEC_UID
A_GID=$SEC_GID
AS_A=$AS_USER
sec_new_user "ckptsb$$"
B_UID=$NEW_UID
B_GID=$NEW_GID
AS_B=$NEW_AS
B=$TMP/b
mkdir -m 0755 "$B" && chown "$B_UID:$B_GID" "$B" || fail "mkdir $B"
mkdir -m 0755 "$TMP/r"

# procs_of UID: the pids of every process with UID as its real, effective,
# saved or filesystem uid
procs_of()
{
	grep -El "^Uid:.*[[:space:]]$1([[:space:]]|\$)" /proc/[0-9]*/status 2>/dev/null |
		sed 's|^/proc/\([0-9]*\)/status$|\1|'
	return 0
}

sec_target "$A_UID:$A_GID" "$U" memory
APID=$TPID
ASTATUS=$TSTATUS
sec_target "$B_UID:$B_GID" "$B" memory
BPID=$TPID
BSTATUS=$TSTATUS
TARGET_DIR=$TMP/r start_target memory
RPID=$TPID
RSTATUS=$TSTATUS

# --- dump ---------------------------------------------------------------
expect_fail 4 "pid $BPID.*uid $B_UID.*uid $A_UID may only dump its own" \
	$AS_A "$CKPTCTL" dump -t "$BPID" -D "$U/b-proc"
no_partial_set "$U/b-proc"
check_alive "$BPID"
expect_fail 4 "pid $BPID.*uid $B_UID.*uid $A_UID may only dump its own" \
	$AS_A "$CKPTCTL" dump --leave-running -t "$BPID" -D "$U/b-proc"
no_partial_set "$U/b-proc"
check_alive "$BPID"
expect_fail 4 "pid $RPID.*uid 0.*uid $A_UID may only dump its own" \
	$AS_A "$CKPTCTL" dump -t "$RPID" -D "$U/r-proc"
no_partial_set "$U/r-proc"
check_alive "$RPID"
# A's own process, but into B's directory
expect_fail 1 "$B/a-proc.*permission denied" \
	$AS_A "$CKPTCTL" dump --leave-running -t "$APID" -D "$B/a-proc"
[ ! -e "$B/a-proc" ] || fail "A's refused dump left $B/a-proc"
check_alive "$APID"

# --- B's and root's image sets -----------------------------------------
$AS_B "$CKPTCTL" dump -t "$BPID" -D "$B/img" >"$TMP/b-dump.out" 2>&1 ||
	fail "B's dump of its pid $BPID: $(cat "$TMP/b-dump.out")"
wait_gone "$BPID"
[ "$(stat -c %u:%a "$B/img")" = "$B_UID:700" ] ||
	fail "B's image set is $(stat -c %u:%a "$B/img"), not B's and 0700"
ckpt_ok dump -t "$RPID" -D "$TMP/r/img"
wait_gone "$RPID"

# B's set as dumped: A may neither read nor restore it
expect_fail 1 "$B/img.*permission denied" $AS_A "$CKPTCTL" show "$B/img"
expect_fail 1 "image directory $B/img.*permission denied" \
	$AS_A "$CKPTCTL" restore -D "$B/img"
# B lets everyone read it: A reads it, but restores it neither there nor
# from a copy of its own (every file A's), nor its own set claiming B's uid
$AS_B chmod -R go+rX "$B/img" || fail "chmod $B/img"
$AS_A "$CKPTCTL" show "$B/img" >/dev/null 2>"$TMP/show.err" ||
	fail "A cannot show B's readable set: $(cat "$TMP/show.err")"
expect_fail 1 "uid $A_UID may restore only its own" $AS_A "$CKPTCTL" restore -D "$B/img"
$AS_A cp -r "$B/img" "$U/b-copy" || fail "A cannot copy B's readable set"
expect_fail 1 "uid $A_UID may restore only its own" $AS_A "$CKPTCTL" restore -D "$U/b-copy"

# root's set, made readable and copied by A
chmod -R go+rX "$TMP/r/img"
$AS_A cp -r "$TMP/r/img" "$U/r-copy" || fail "A cannot copy root's readable set"
expect_fail 1 "uid $A_UID may restore only its own" $AS_A "$CKPTCTL" restore -D "$U/r-copy"
[ -e "/proc/$RPID" ] && { track_pid "$RPID"; fail "pid $RPID runs after A's refused restore of root's set"; }

# A's own set with B's real uid in it (A's euid, files, everything else)
$AS_A "$CKPTCTL" dump -t "$APID" -D "$U/forged" >"$TMP/a-dump.out" 2>&1 ||
	fail "A's dump of its pid $APID: $(cat "$TMP/a-dump.out")"
wait_gone "$APID"
sec_forge "$U/forged" core "$APID" uid "$B_UID"
expect_fail 1 "uid $A_UID may restore only its own" $AS_A "$CKPTCTL" restore -D "$U/forged"
[ -e "/proc/$APID" ] && { track_pid "$APID"; fail "pid $APID runs after a restore with B's uid"; }
[ -e "/proc/$BPID" ] && { track_pid "$BPID"; fail "pid $BPID runs after A's refused restore of B's set"; }
left=$(procs_of "$B_UID")
[ -z "$left" ] || fail "processes of B's uid $B_UID after A's restores: $left"
kill -0 "$DPID" || fail "ckptd died"

# --- what each may do: its own -------------------------------------------
sec_target "$A_UID:$A_GID" "$U" memory
APID=$TPID
ASTATUS=$TSTATUS
$AS_A "$CKPTCTL" dump -t "$APID" -D "$U/img" >"$TMP/a-dump.out" 2>&1 ||
	fail "A's dump of its pid $APID: $(cat "$TMP/a-dump.out")"
wait_gone "$APID"
rc=0
$AS_A "$CKPTCTL" restore -D "$U/img" >"$TMP/a-restore.out" 2>&1 || rc=$?
track_pid "$APID"
[ $rc -eq 0 ] || fail "A's restore of its pid $APID: $(cat "$TMP/a-restore.out")"
[ "$(stat -c %u "/proc/$APID")" = "$A_UID" ] || fail "pid $APID restored as uid $(stat -c %u "/proc/$APID")"
grep -Eq "^Uid:[[:space:]]+$A_UID[[:space:]]+$A_UID[[:space:]]+$A_UID[[:space:]]+$A_UID\$" "/proc/$APID/status" ||
	fail "pid $APID: $(grep ^Uid "/proc/$APID/status")"
check_alive "$APID"
expect_status pass "$ASTATUS" "$APID"

# the sets A was refused are good: their owners restore them
rc=0
$AS_B "$CKPTCTL" restore -D "$B/img" >"$TMP/b-restore.out" 2>&1 || rc=$?
track_pid "$BPID"
[ $rc -eq 0 ] || fail "B's restore of its pid $BPID: $(cat "$TMP/b-restore.out")"
[ "$(stat -c %u "/proc/$BPID")" = "$B_UID" ] || fail "pid $BPID restored as uid $(stat -c %u "/proc/$BPID")"
expect_status pass "$BSTATUS" "$BPID"
ckpt restore -D "$TMP/r/img"
track_pid "$RPID"
[ $LAST_RC -eq 0 ] || fail "root's restore of pid $RPID: $(cat "$LAST_ERR")"
expect_status pass "$RSTATUS" "$RPID"
kill -0 "$DPID" || fail "ckptd died"
exit 0
