#!/bin/sh
# Issue 7, hole 1: a non-root restore resolves and opens every path as the
# requester, never with ckptd's powers. A fresh user dumps a process of
# its own, forges its fs-PID.img and files.img (checksums recomputed) and
# restores it through a root ckptd. Each must be refused and leave nothing
# running:
#  - a root directory of the user's making (where its own ld.so and a
#    setuid program would give it root);
#  - a root through /proc/R/root of a root process R (a magic link that
#    ckptd could follow with CAP_SYS_PTRACE, the user could not);
#  - a cwd of /root, which the user may not search;
#  - a cwd through /proc/R/cwd, or the user's own process's /proc/PID/cwd;
#  - an open file through /proc/R/root/... (/etc/passwd, which the user
#    may read, but not there).
# The same image unforged is restored, as the user.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sec-lib.sh"

sec_dump img

# a root of the user's own making, with a /proc as a tree built in a user
# namespace has (through /proc/H/root/... of a process there)
mkdir -p "$U/evil/lib64" "$U/evil/tmp" "$U/evil/proc" && chown -R "$SEC_UID:$SEC_GID" "$U/evil"
mount --bind /proc "$U/evil/proc" || skip "cannot bind-mount /proc"
MOUNTS="$U/evil/proc $MOUNTS"
echo "$U/evil/proc" >>"$PIDS_FILE.mounts"
sec_copy img root-evil
sec_forge "$U/root-evil" fs "$SPID" root "$U/evil"
sec_forge "$U/root-evil" fs "$SPID" cwd /tmp
sec_refused "$U/root-evil" "pid $SPID: its root $U/evil is neither / nor the root of the requesting process"

# a root through a root process's /proc magic link (this shell's)
R=$$
sec_copy img root-proc
sec_forge "$U/root-proc" fs "$SPID" root "/proc/$R/root"
sec_forge "$U/root-proc" fs "$SPID" cwd /
sec_refused "$U/root-proc" "pid $SPID: uid $SEC_UID cannot open the root /proc/$R/root"

# a cwd the user may not search
chmod 0700 /root 2>/dev/null
[ "$(stat -c %a /root)" = 700 ] || skip "/root is not mode 0700"
sec_copy img cwd-root
sec_forge "$U/cwd-root" fs "$SPID" cwd /root
sec_refused "$U/cwd-root" "pid $SPID: uid $SEC_UID cannot change directory to /root: permission denied"

# a cwd through a magic link
sec_copy img cwd-proc
sec_forge "$U/cwd-proc" fs "$SPID" cwd "/proc/$R/cwd"
sec_refused "$U/cwd-proc" "pid $SPID: uid $SEC_UID cannot change directory to /proc/$R/cwd"

# an open file through a root process's root: /etc/passwd is readable by
# anyone, but not through that /proc entry
sec_copy img file-proc
sec_forge "$U/file-proc" file 0 "$SPID" "/proc/$R/root/etc/passwd"
sec_refused "$U/file-proc" "pid $SPID fd 0: file /proc/$R/root/etc/passwd cannot be reached" \
	--file-validation=path

# not even through a process of the user's own: no magic link at all
$AS_USER sleep 1000 </dev/null >/dev/null 2>&1 &
HPID=$!
track_pid $HPID
sec_copy img cwd-own
sec_forge "$U/cwd-own" fs "$SPID" cwd "/proc/$HPID/cwd"
sec_refused "$U/cwd-own" "cannot change directory to /proc/$HPID/cwd: too many levels of symbolic links"

# the image as dumped comes back, the user's
sec_restored "$U/img"
kill -0 $DPID || fail "ckptd died"
exit 0
