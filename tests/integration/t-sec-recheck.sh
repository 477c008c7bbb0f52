#!/bin/sh
# Ownership is checked again on the frozen tree. An unprivileged user wins
# the race between ckptd's first check and the seize on purpose: its
# process vforks a child that waits a moment, then execs a setuid-root
# program (passwd, which then waits on its stdin). While the child waits
# the parent is in uninterruptible sleep (a vfork parent), which the freeze
# waits out; ckptd's first check, made then, sees only nobody's tasks; by
# the time the child is seized it runs as root. The dump must be refused,
# naming the child, and the tree left running.
. "$(dirname "$0")/lib.sh"

command -v setpriv >/dev/null || skip "setpriv missing"
command -v cc >/dev/null || skip "no C compiler"
PASSWD=$(command -v passwd)
[ -n "$PASSWD" ] && [ -u "$PASSWD" ] || skip "passwd is not setuid here"
AS_NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
listen_daemon

# vforker GO DELAY_MS PROG...: wait for GO to exist, vfork a child that
# sleeps DELAY_MS and execs PROG; then wait forever
cat >"$TMP/vforker.c" <<'EOC'
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	while (access(argv[1], F_OK) != 0)
		usleep(10000);
	if (vfork() == 0) {
		usleep(atoi(argv[2]) * 1000);
		execv(argv[3], argv + 3);
		_exit(127);
	}
	for (;;)
		pause();
}
EOC
cc -O1 -o "$TMP/vforker" "$TMP/vforker.c" || fail "cannot build the vforker"
chmod 0755 "$TMP/vforker"

mkdir -m 0755 "$TMP/pub"
chown 65534:65534 "$TMP/pub"
mkfifo -m 0666 "$TMP/pub/stdin"
$AS_NOBODY sh -c 'exec 0<>"$1"; shift; exec "$@"' sh "$TMP/pub/stdin" \
	"$TMP/vforker" "$TMP/pub/go" 700 "$PASSWD" >/dev/null 2>&1 &
NPID=$!
track_pid $NPID
sleep 0.3
$AS_NOBODY touch "$TMP/pub/go"
# the child exists, still nobody's, and its parent waits for its exec
for _ in $(seq 1 50); do
	KID=$(cat /proc/$NPID/task/*/children 2>/dev/null | tr -d ' ')
	[ -n "$KID" ] && break
	sleep 0.01
done
[ -n "$KID" ] || fail "the vfork child did not show"
[ "$(stat -c %u /proc/$KID/status)" = 65534 ] || fail "the child is not nobody's yet"

expect_fail 4 "pid $KID \(thread $KID\) now runs with uid 0; uid 65534 may only dump" \
	$AS_NOBODY "$CKPTCTL" dump --leave-running -t $NPID -D "$TMP/pub/img"
no_partial_set "$TMP/pub/img"
# the child did become root meanwhile, and both run on, released
grep -Eq '^Uid:.*[[:space:]]0[[:space:]]' /proc/$KID/status || fail "the child never ran passwd"
check_alive $NPID
check_alive $KID
grep -q "failed: pid $KID (thread $KID) now runs with uid 0" "$TMP/daemon.log" ||
	fail "ckptd's log: $(cat "$TMP/daemon.log")"
exit 0
