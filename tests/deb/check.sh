#!/bin/sh
# make check-deb: install the Debian package `make deb` built into a fresh
# Debian 12 root, use it there, purge it, and check that nothing of it is
# left (tests/deb/inside.sh has the checks).
#
#	sh tests/deb/check.sh BUILD_DIR
#
# BUILD_DIR is make's O=; the package is BUILD_DIR/deb/ckpt_*.deb. The root
# is made by `debootstrap --variant=minbase bookworm` once and kept as a
# tarball (BUILD_DIR/deb/bookworm-minbase.tar.gz, or $CKPT_DEB_CACHE/...),
# so a second run downloads only the package's dependencies; each run
# unpacks it afresh into BUILD_DIR/deb/root, and removes that at the end.
# Everything in the root runs in a mount namespace of its own (unshare -m):
# /proc, /sys and /dev are mounted there, unmounted at the end, and gone
# with the namespace even if this script is killed. Needs root and the
# network (deb.debian.org, or DEB_MIRROR). Exit status 1 if a check failed.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd -P)
[ $# -eq 1 ] || { echo "usage: sh tests/deb/check.sh BUILD_DIR" >&2; exit 2; }
case $1 in
/*) B=$1 ;;
*) B=$TOP/$1 ;;
esac
D=$B/deb
R=$D/root
CACHE=${CKPT_DEB_CACHE:-$D}/bookworm-minbase.tar.gz
MIRROR=${DEB_MIRROR:-http://deb.debian.org/debian}

say()
{
	echo "check-deb: $*" >&2
}

die()
{
	echo "check-deb: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot, mount)"
set -- "$D"/ckpt_*_amd64.deb
[ $# -eq 1 ] && [ -f "$1" ] || die "no single $D/ckpt_*_amd64.deb: run 'make O=${B#"$TOP"/} deb' first"
DEB=$1
sh "$TOP/scripts/install-deps.sh" debootstrap

# rm_root DIR: remove a root, never through a mount still under it
rm_root()
{
	[ -e "$1" ] || return 0
	if awk -v r="$1" '$5 == r || index($5, r "/") == 1 { found = 1 } END { exit !found }' \
		/proc/self/mountinfo; then
		die "something is still mounted under $1: not removing it"
	fi
	rm -rf --one-file-system "$1"
}

# the processes whose root is R (a ckptd left running), killed by PID
leftovers()
{
	local p pids=
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$R" ] && pids="$pids ${p#/proc/}"
	done
	echo $pids
}

start=$(date +%s)
trap 'rm_root "$R"; rm_root "$D/bootstrap"' EXIT
trap 'exit 1' INT TERM HUP
mkdir -p "$(dirname "$CACHE")"
if ! [ -s "$CACHE" ]; then
	say "debootstrap --variant=minbase bookworm (once; log: $D/debootstrap.log)"
	rm_root "$D/bootstrap"
	# debootstrap mounts /proc and /sys in the root: in a namespace of its own
	unshare -m --propagation private \
		debootstrap --variant=minbase bookworm "$D/bootstrap" "$MIRROR" >"$D/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$D/debootstrap.log" >&2; die "debootstrap failed: see $D/debootstrap.log"; }
	tar -C "$D/bootstrap" -czf "$CACHE.tmp" . && mv "$CACHE.tmp" "$CACHE"
	rm_root "$D/bootstrap"
fi

rm_root "$R"
mkdir -p "$R"
tar -C "$R" -xzf "$CACHE"
cp "$DEB" "$TOP/tests/deb/inside.sh" "$R/tmp/"
chmod 0644 "$R/tmp/$(basename "$DEB")"
cp /etc/resolv.conf "$R/etc/resolv.conf"
say "installing $(basename "$DEB") in $R"
rc=0
unshare -m --propagation private sh -c '
	R=$1
	mount -t proc proc "$R/proc" && mount --rbind /sys "$R/sys" && mount --rbind /dev "$R/dev" ||
		exit 1
	chroot "$R" /bin/sh /tmp/inside.sh
	rc=$?
	umount -R "$R/dev"; umount -R "$R/sys"; umount "$R/proc"
	exit $rc' sh "$R" >"$D/check-deb.log" 2>&1 || rc=$?

left=$(leftovers)
if [ -n "$left" ]; then
	kill -9 $left 2>/dev/null || true
	echo "DEBTEST FAIL no-process-left: still running in the root, killed: $left" >>"$D/check-deb.log"
fi
for f in apt-install.log apt-purge.log check.out; do
	[ -f "$R/tmp/$f" ] && cp "$R/tmp/$f" "$D/$f"
done

fails=0
grep '^DEBTEST ok ' "$D/check-deb.log" | sed 's/^DEBTEST ok /  ok   /' >&2
if grep -q '^DEBTEST FAIL ' "$D/check-deb.log"; then
	grep '^DEBTEST FAIL ' "$D/check-deb.log" | sed 's/^DEBTEST FAIL /  FAIL /' >&2
	fails=1
fi
if ! grep -q '^DEBTEST done' "$D/check-deb.log"; then
	say "the checks did not run to their end (exit status $rc):"
	grep -v '^DEBTEST' "$D/check-deb.log" | tail -n 20 >&2
	fails=1
fi
[ -s "$D/check.out" ] && { say "ckptctl check in the root said:"; sed 's/^/  /' "$D/check.out" >&2; }
say "$([ $fails = 0 ] && echo passed || echo FAILED) in $(($(date +%s) - start)) s (log: $D/check-deb.log)"
exit $fails
