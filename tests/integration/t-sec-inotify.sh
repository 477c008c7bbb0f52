#!/bin/sh
# inotify and users, through the root ckptd of the service. A user's own
# dump of its inotify target is refused before it kills (naming a watch
# takes CAP_DAC_READ_SEARCH, which a user's dump runs without), and the
# target runs on. Root's dump of it is restored by the user: the watches
# come back. One of its watched files made unreadable to the user between
# dump and restore: the user's restore is refused (inotify wants read
# permission on what it watches, and a user's restore opens a watched file
# as the user, never by its handle with ckptd's powers).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sec-lib.sh"
. "$(dirname "$0")/restore-lib.sh"

sec_target "$SEC_UID:$SEC_GID" "$U" inotify
mkdir -p "$U/img-user" && chown "$SEC_UID:$SEC_GID" "$U/img-user"
expect_fail 8 "pid $TPID fd [0-9]+: inotify watch wd 1: its file .* was not named at the dump.*CAP_DAC_READ_SEARCH.*runs on" \
	$AS_USER "$CKPTCTL" dump -t "$TPID" -D "$U/img-user"
check_alive "$TPID"
kill -KILL "$TPID"
wait_gone "$TPID"

# root_dump NAME: the inotify target as the user, dumped (and killed) by
# root into $U/img-NAME, which the user may read
root_dump()
{
	sec_target "$SEC_UID:$SEC_GID" "$U" inotify
	ckpt_ok dump -t "$TPID" -D "$U/img-$1"
	chown -R "$SEC_UID:$SEC_GID" "$U/img-$1"
	wait_gone "$TPID"
}

root_dump a
$AS_USER "$CKPTCTL" restore -D "$U/img-a" >"$TMP/restore.out" 2>&1 ||
	fail "the user's restore: $(cat "$TMP/restore.out")"
track_pid "$TPID"
[ "$(stat -c %u "/proc/$TPID")" = "$SEC_UID" ] || fail "pid $TPID restored as uid $(stat -c %u /proc/$TPID)"
expect_status pass

root_dump b
chown root "$U/c" && chmod 0600 "$U/c" || fail "cannot take $U/c from the user"
rc=0
$AS_USER "$CKPTCTL" restore -D "$U/img-b" >"$TMP/restore.out" 2>&1 || rc=$?
track_pid "$TPID"	# a restore that wrongly succeeds leaves nothing running
[ $rc -eq 1 ] || fail "the user's restore of an unreadable watch exited $rc, expected 1"
grep -Eq "pid $TPID fd [0-9]+: inotify watch wd 4: cannot open $U/c: Permission denied" \
	"$TMP/restore.out" || fail "the user's restore: $(cat "$TMP/restore.out")"
[ ! -e "/proc/$TPID" ] || fail "pid $TPID exists after the refused restore"
