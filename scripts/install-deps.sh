#!/bin/sh
# Install the Debian packages ckpt builds and tests with, if any is missing.
# Run by `make` (once, through a stamp file); safe to run again.
#	sh scripts/install-deps.sh [PKG...]	other packages than these
# (scripts/install-fuzz-deps.sh names make fuzz's, scripts/vm/install-deps.sh
# make check-vm's).
# Beyond these, the tests use only what a minbase Debian has (coreutils,
# util-linux, mount, mawk, perl-base...): they read /proc rather than run
# ps (procps). libcap2-bin is capsh, for a restore without CAP_IPC_LOCK.
set -e
PKGS="gcc make pkg-config protobuf-c-compiler libprotobuf-c-dev libnl-3-dev
libnl-route-3-dev libcap-dev libsystemd-dev libcriterion-dev libxxhash-dev
libgnutls28-dev systemd python3 binutils libcap2-bin"
# the socket tests (issue 11): real servers and network locking
PKGS="$PKGS nftables redis-server"
# the terminal tests (issue 12): programs driven in tmux
PKGS="$PKGS tmux sqlite3"
[ $# -gt 0 ] && PKGS="$*"
missing=""
for p in $PKGS; do
	# ${db:Status-Status}, not ${Status}: a package on hold ("hold ok
	# installed") is installed all the same; one line per architecture
	dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "ckpt: missing packages:$missing (run 'make' as root to install them)" >&2
	exit 1
fi
echo "ckpt: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# no service a package brings (redis-server) may start: a policy-rc.d
# refusing them all, ours only when there was none
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	trap 'rm -f "$policy"' EXIT
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
fi
apt-get install -y -q --no-install-recommends $missing >&2
