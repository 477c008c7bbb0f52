# Helpers of the security tests t-sec-*.sh (sourced after lib.sh): a root
# ckptd behind a socket (systemd-socket-activate, as ckptd.socket), a fresh
# user made by useradd (removed on exit), a process of that user's dumped
# by that user, and copies of its image set for the attacks to forge
# (tests/tools/imgedit keeps the checksums right); more users
# (sec_new_user) and test targets run as a user (sec_target) for the
# t-svc-*.sh tests of the service.

command -v systemd-socket-activate >/dev/null || skip "systemd-socket-activate missing"
command -v setpriv >/dev/null || skip "setpriv missing"
command -v useradd >/dev/null || skip "useradd missing"
need_file "$TOOLS/imgedit"

SEC_USER=ckptsec$$
SEC_MORE_USERS=
useradd -M -N -d /nonexistent -s /bin/false "$SEC_USER" || fail "useradd $SEC_USER"
_sec_cleanup()
{
	local rc=$? u
	kill_pids_file "$PIDS_FILE"
	for u in $SEC_USER $SEC_MORE_USERS; do
		userdel -f "$u" 2>/dev/null
	done
	(exit $rc)
	cleanup
}
trap _sec_cleanup EXIT
SEC_UID=$(id -u "$SEC_USER")
SEC_GID=$(id -g "$SEC_USER")
AS_USER="setpriv --reuid=$SEC_UID --regid=$SEC_GID --init-groups"

activate_daemon
U=$TMP/u
mkdir -m 0755 "$U" && chown "$SEC_UID:$SEC_GID" "$U" || fail "mkdir $U"

# sec_new_user NAME: one more fresh user (removed on exit, with the
# first). Sets NEW_UID, NEW_GID and NEW_AS (the setpriv prefix that runs a
# command as that user).
sec_new_user()
{
	useradd -M -N -d /nonexistent -s /bin/false "$1" || fail "useradd $1"
	SEC_MORE_USERS="$SEC_MORE_USERS $1"
	NEW_UID=$(id -u "$1")
	NEW_GID=$(id -g "$1")
	NEW_AS="setpriv --reuid=$NEW_UID --regid=$NEW_GID --init-groups"
}

# sec_target UID:GID DIR NAME [ARGS...]: start_target NAME as that user,
# its status, log and files in DIR, a directory of the user's. Sets TPID,
# TSTATUS, TLOG like start_target.
sec_target()
{
	local owner=$1 dir=$2
	shift 2
	TARGET_DIR=$dir TARGET_OWNER=$owner \
		TARGET_WRAP="setpriv --reuid=${owner%:*} --regid=${owner#*:} --init-groups" \
		start_target "$@"
	[ "$(stat -c %u "/proc/$TPID")" = "${owner%:*}" ] || fail "target $1 pid $TPID is not uid ${owner%:*}'s"
}

# sec_dump NAME: start a process of the user's (cwd $U, stdin $U/data,
# nothing else open) and dump it as the user into $U/NAME, which kills it.
# Sets SPID.
sec_dump()
{
	echo "the user's own data" >"$U/data"
	chown "$SEC_UID:$SEC_GID" "$U/data"
	(cd "$U" && exec $AS_USER perl -e 'use POSIX; POSIX::close($_) for 3..1023;
		exec "sleep", 1000' <"$U/data" >/dev/null 2>&1) &
	SPID=$!
	track_pid $SPID
	wait_path -e "/proc/$SPID" || fail "the user's process did not start"
	sleep 0.3	# perl execs sleep
	$AS_USER "$CKPTCTL" dump -t "$SPID" -D "$U/$1" >"$TMP/dump.$1.out" 2>&1 ||
		fail "the user's dump of its pid $SPID: $(cat "$TMP/dump.$1.out")"
	wait_gone "$SPID"
}

# sec_copy FROM TO: a copy of an image set for one attack, the user's.
sec_copy()
{
	rm -rf "$U/$2"
	cp -a "$U/$1" "$U/$2" && chown -R "$SEC_UID:$SEC_GID" "$U/$2" || fail "cp $1 $2"
}

# sec_forge DIR ARGS...: imgedit DIR ARGS..., as the user (the images are
# the user's, anything in them is up to the user).
sec_forge()
{
	local d=$1
	shift
	$AS_USER "$TOOLS/imgedit" "$d" "$@" || fail "imgedit $d $*"
}

# sec_refused DIR PATTERN [ckptctl options]: the user's restore of DIR must
# fail (exit ${SEC_RC:-1}) saying PATTERN, and leave no process at $SPID.
sec_refused()
{
	local d=$1 pat=$2
	shift 2
	expect_fail "${SEC_RC:-1}" "$pat" $AS_USER "$CKPTCTL" restore -D "$d" "$@"
	sec_gone "$d"
}

# sec_gone [WHAT]: no process at $SPID after a refused restore.
sec_gone()
{
	if [ -e "/proc/$SPID" ]; then
		track_pid "$SPID"
		fail "pid $SPID runs after a refused restore ${1:-}: $(grep -E 'Uid|Cap' "/proc/$SPID/status")"
	fi
}

# sec_restored DIR [ckptctl options]: the user's restore of DIR succeeds,
# as the user; the process is killed again.
sec_restored()
{
	local d=$1
	shift
	$AS_USER "$CKPTCTL" restore -D "$d" "$@" >"$TMP/restore.out" 2>&1 ||
		fail "the user's restore of $d: $(cat "$TMP/restore.out")"
	track_pid "$SPID"
	[ "$(stat -c %u "/proc/$SPID")" = "$SEC_UID" ] || fail "pid $SPID restored as uid $(stat -c %u /proc/$SPID)"
	check_alive "$SPID"
	kill -KILL "$SPID"
	wait_gone "$SPID"
}
