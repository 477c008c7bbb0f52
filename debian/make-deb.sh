#!/bin/sh
# make deb: build ckpt's Debian package into BUILD_DIR/deb/ and run lintian
# on it.
#
#	sh debian/make-deb.sh BUILD_DIR
#
# The package is built from a copy of the tree in BUILD_DIR/deb/src: the
# last commit (git archive HEAD) with the working tree's debian/, or with
# DEB_FROM=worktree the working tree's files that git tracks or would
# track. No build directory, nothing git ignores, no uncommitted change
# (by default) ends up in the package, and dpkg-buildpackage's leftovers
# stay out of the tree; the copy is removed afterwards. The build's output is BUILD_DIR/deb/build.log.
# debhelper, dpkg-dev and lintian are installed first when missing
# (scripts/install-deps.sh). Exit status 1 when the build fails or lintian
# reports an error; its warnings are printed (debian/README.source says why
# those that remain do).
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 1 ] || { echo "usage: sh debian/make-deb.sh BUILD_DIR" >&2; exit 2; }
case $1 in
/*) B=$1 ;;
*) B=$TOP/$1 ;;
esac
D=$B/deb

die()
{
	echo "make deb: $*" >&2
	exit 1
}

sh "$TOP/scripts/install-deps.sh" debhelper dpkg-dev lintian $(
	# and the Build-Depends, as debian/control names them
	sed -n '/^Build-Depends:/,/^[^ ]/p' "$TOP/debian/control" | sed 's/^Build-Depends://' |
		tr ',' '\n' | sed -n 's/^[[:space:]]*\([a-z0-9][a-z0-9.+-]*\).*/\1/p' |
		grep -v '^debhelper-compat$')

mkdir -p "$D"
rm -rf "$D/src" "$D"/ckpt_* "$D"/ckpt-dbgsym_*
mkdir "$D/src"
if [ "${DEB_FROM:-HEAD}" = worktree ]; then
	# the working tree as it is: the files git tracks or would track (a
	# tracked file deleted from it is left out; so is BUILD_DIR when it is
	# in the tree and git does not ignore it)
	case $B/ in
	"$TOP"/*) rel=${B#"$TOP"/} ;;
	*) rel=/ ;;
	esac
	(cd "$TOP" && git ls-files -c -o --exclude-standard --deduplicate) |
		while IFS= read -r f; do
			case $f in "$rel"/*) continue ;; esac
			if [ -e "$TOP/$f" ] || [ -L "$TOP/$f" ]; then echo "$f"; fi
		done | tar -C "$TOP" -cf - -T - | tar -C "$D/src" -xf -
else
	# the last commit, with debian/ as it is in the working tree (so that
	# packaging changes can be tried before they are committed)
	git -C "$TOP" rev-parse --verify -q HEAD >/dev/null ||
		die "$TOP is not a git checkout with a commit: build with DEB_FROM=worktree"
	git -C "$TOP" archive --format=tar HEAD | tar -C "$D/src" -xf -
	rm -rf "$D/src/debian"
	tar -C "$TOP" -cf - debian | tar -C "$D/src" -xf -
fi

# The package's version is ckpt's (native package): they must agree.
v=$(sed -n 's/^#define CKPT_VERSION[[:space:]]*"\(.*\)"/\1/p' "$D/src/common/version.h")
cv=$(dpkg-parsechangelog -l "$D/src/debian/changelog" -S Version)
[ "$v" = "$cv" ] ||
	die "debian/changelog's version $cv is not CKPT_VERSION $v (common/version.h): add a changelog entry (dch -v $v)"
chmod 0755 "$D/src/debian/rules"

echo "make deb: dpkg-buildpackage in $D/src (log: $D/build.log)"
if ! (cd "$D/src" && dpkg-buildpackage -b -us -uc) >"$D/build.log" 2>&1; then
	tail -n 40 "$D/build.log" >&2
	die "dpkg-buildpackage failed: see $D/build.log"
fi
rm -rf "$D/src"
deb=$(ls "$D"/ckpt_*.deb)
changes=$(ls "$D"/ckpt_*.changes)
echo "make deb: $deb"
dpkg-deb --info "$deb" | sed -n 's/^ \(Package\|Version\|Architecture\|Depends\|Installed-Size\):/  &/p'

# lintian: the .changes names the .deb and the .buildinfo. Its exit status
# is non-zero on an error only.
echo "make deb: lintian $(basename "$changes")"
rc=0
lintian --display-info --pedantic "$changes" >"$D/lintian.log" 2>&1 || rc=$?
# (as root lintian says so first: not a finding)
sed -i '/^running with root privileges is not recommended!$/d' "$D/lintian.log"
if [ -s "$D/lintian.log" ]; then
	sed 's/^/  /' "$D/lintian.log"
else
	echo "  clean"
fi
[ "$rc" = 0 ] || die "lintian reported errors (above; $D/lintian.log)"
