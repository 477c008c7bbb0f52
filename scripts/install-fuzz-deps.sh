#!/bin/sh
# Install what `make fuzz` needs beyond scripts/install-deps.sh: clang and
# its compiler-rt (libclang_rt.fuzzer, the ASan and UBSan runtimes), from
# Debian's default LLVM. Run by `make fuzz` only (through a stamp file):
# `make check` builds the fuzz targets with gcc, whose ASan and UBSan
# runtimes (libasan8, libubsan1) come with gcc itself.
set -e
PKGS="clang libclang-rt-dev"
missing=""
for p in $PKGS; do
	# ${db:Status-Status}, not ${Status}: a package on hold ("hold ok
	# installed") is installed all the same; one line per architecture
	dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "ckpt: make fuzz needs:$missing (run it as root to install them)" >&2
	exit 1
fi
echo "ckpt: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends $missing >&2
