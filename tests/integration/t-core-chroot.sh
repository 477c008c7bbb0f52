#!/bin/sh
# A chroot'd process (root != /) with its cwd inside comes back chroot'd
# in the same directory, its cwd inside it (issue 14). The target chroots
# itself into $TMP/root (which holds its status file) and checks itself:
# "/" and "/.." are the directory, cwd /sub, paths resolve inside, its fd
# reads the same file. From outside: /proc/PID/root and cwd.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

mkdir -p "$TMP/root/sub"
printf 'abcinside the chroot\n' >"$TMP/root/sub/file"
TARGET_DIR=$TMP/root start_target chrooted "$TMP/root"
[ "$(readlink "/proc/$TPID/root")" = "$TMP/root" ] ||
	fail "the target did not chroot: root $(readlink "/proc/$TPID/root")"
dump_kill "$TMP/img"
restore_ok "$TMP/img"
root=$(readlink "/proc/$TPID/root") cwd=$(readlink "/proc/$TPID/cwd")
[ "$root" = "$TMP/root" ] || fail "restored root is '$root', not $TMP/root"
[ "$cwd" = "$TMP/root/sub" ] || fail "restored cwd is '$cwd', not $TMP/root/sub"
expect_status pass
exit 0
