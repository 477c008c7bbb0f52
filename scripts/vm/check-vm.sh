#!/bin/sh
# make check-vm: boot Debian 12's own kernel (linux-image-amd64, 6.1: soft-dirty
# on, no PAGEMAP_SCAN, no UFFD_FEATURE_WP_ASYNC, the two-area vdso) under
# qemu-system-x86_64 with an initramfs of busybox-static, ckpt's binaries,
# the test targets and the libraries ldd names for them; run every
# tests/vm/t-*.sh inside as root; read the results off the serial console.
#
#	sh scripts/vm/check-vm.sh BUILD_DIR
#
# BUILD_DIR is make's O= (already built: bin/, targets/, tools/, vm/bin/).
# Everything comes from Debian packages, fetched with `apt-get download`
# into BUILD_DIR/vm/debs and kept there: a second run downloads nothing.
# The guest prints one line per check, "VMTEST ok NAME", "VMTEST FAIL NAME:
# why" or "VMTEST skip NAME: why", then "VMTEST done" and powers off. Exit
# status 1 if a check failed, the guest never said "done" (it hung, was
# killed at the time limit, or panicked) or a check is missing.
#
# Environment: VM_TIMEOUT (seconds for the whole guest run, default 240),
# VM_MEM (MiB, default 1024), VM_SMP (default 2), VM_KERNEL_PKG (the
# kernel package, default the one linux-image-amd64 depends on), VM_TESTS
# (shell globs of test names to run inside, default all, e.g. 'softdirty').
# The serial log is BUILD_DIR/vm/serial.log.

set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -eq 1 ] || { echo "usage: sh scripts/vm/check-vm.sh BUILD_DIR" >&2; exit 2; }
case $1 in
/*) B=$1 ;;
*) B=$TOP/$1 ;;
esac
V=$B/vm
DEBS=$V/debs
VM_TIMEOUT=${VM_TIMEOUT:-240}
VM_MEM=${VM_MEM:-1024}
VM_SMP=${VM_SMP:-2}
VM_TESTS=${VM_TESTS:-}

say()
{
	echo "check-vm: $*" >&2
}

die()
{
	echo "check-vm: $*" >&2
	exit 1
}

command -v qemu-system-x86_64 >/dev/null ||
	die "qemu-system-x86_64 not installed (sh scripts/vm/install-deps.sh installs it)"
for f in bin/ckptctl bin/ckptd targets/memory vm/bin/softdirty-probe; do
	[ -x "$B/$f" ] || die "$B/$f is missing: run 'make O=${1%/} check-vm' (it builds it first)"
done
mkdir -p "$DEBS"

# --- the packages ----------------------------------------------------------
# apt-get download fetches the candidate version of a package into the
# current directory; its file name starts with "PKG_". An empty package list
# (a fresh container) has no candidate: update it first (root only).
have_candidate()
{
	apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [0-9]'
}

if ! have_candidate linux-image-amd64 || ! have_candidate busybox-static; then
	[ "$(id -u)" = 0 ] ||
		die "apt has no package lists (run 'apt-get update' as root, or make check-vm as root)"
	say "apt-get update (the package lists are empty)"
	apt-get update -q >&2
	have_candidate linux-image-amd64 ||
		die "apt knows no linux-image-amd64 even after apt-get update: is a Debian 12 (bookworm) main source configured?"
fi

# linux-image-amd64 is a metapackage: the kernel is in what it depends on
# (linux-image-6.1.0-N-amd64).
KPKG=${VM_KERNEL_PKG:-$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1)}
[ -n "$KPKG" ] || die "cannot tell which kernel package linux-image-amd64 depends on (apt-cache depends linux-image-amd64)"

# fetch PKG: the path of PKG's .deb in $DEBS, downloaded unless already there
fetch()
{
	local pkg=$1 deb
	deb=$(ls "$DEBS/${pkg}"_*.deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		say "apt-get download $pkg"
		if [ "$(id -u)" = 0 ]; then
			# root: apt would drop to _apt, who may not write here
			(cd "$DEBS" && apt-get download -q -o APT::Sandbox::User=root "$pkg") >&2
		else
			(cd "$DEBS" && apt-get download -q "$pkg") >&2
		fi || die "apt-get download $pkg failed (network? apt sources?)"
		deb=$(ls "$DEBS/${pkg}"_*.deb 2>/dev/null | head -n 1)
		[ -n "$deb" ] || die "apt-get download $pkg left no ${pkg}_*.deb in $DEBS"
	fi
	echo "$deb"
}

# extract DEB OUT MEMBER...: the files of a .deb's data that match the
# MEMBERs (paths as tar lists them, globs) into the directory OUT, flat,
# unless OUT already holds them from this very DEB.
extract()
{
	local deb=$1 out=$2 tmp f
	shift 2
	[ "$(cat "$out/.from" 2>/dev/null)" = "$(basename "$deb")" ] && return 0
	rm -rf "$out" "$out.tmp"
	mkdir -p "$out" "$out.tmp"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$out.tmp" --wildcards "$@" ||
		die "cannot extract $* from $deb"
	for f in "$@"; do
		set -- $out.tmp/$f
		[ -f "$1" ] || die "$deb holds no $f"
		mv "$@" "$out/"
	done
	rm -rf "$out.tmp"
	basename "$deb" >"$out/.from"
}

KDEB=$(fetch "$KPKG")
BBDEB=$(fetch busybox-static)
# kernel packages of an older ABI left from an earlier run
for d in "$DEBS"/linux-image-*.deb; do
	[ "$d" = "$KDEB" ] || rm -f "$d"
done
# The kernel, and the sock_diag modules a Debian system loads on demand
# (CONFIG_UNIX_DIAG=m...; the guest has no modprobe: its init insmods them).
KMODS="net/ipv4/inet_diag net/ipv4/tcp_diag net/ipv4/udp_diag net/unix/unix_diag
net/netlink/netlink_diag net/packet/af_packet_diag"
extract "$KDEB" "$V/kernel" './boot/vmlinuz-*' \
	$(for m in $KMODS; do echo "./lib/modules/*/kernel/$m.ko"; done)
extract "$BBDEB" "$V/busybox" './bin/busybox'
BB=$V/busybox/busybox
chmod 0755 "$BB"

# --- the initramfs -----------------------------------------------------------
# / is busybox (every applet a symlink in /bin), /init (scripts/vm/init),
# /ckpt/tests/vm (tests/vm), /ckpt/build/{bin,targets,tools,vm/bin}, and
# every shared library those programs load, at the path ldd names.
R=$V/root
rm -rf "$R"
mkdir -p "$R/bin" "$R/etc" "$R/proc" "$R/sys" "$R/dev" "$R/run" "$R/tmp" "$R/root" \
	"$R/ckpt/build" "$R/ckpt/tests"
cp "$BB" "$R/bin/busybox"
for a in $("$BB" --list); do
	[ "$a" = busybox ] || ln -s busybox "$R/bin/$a"
done
mkdir -p "$R/lib/modules"
for m in $KMODS; do
	cp "$V/kernel/${m##*/}.ko" "$R/lib/modules/"
done
cp "$TOP/scripts/vm/init" "$R/init"
chmod 0755 "$R/init"
cp -R "$TOP/tests/vm" "$R/ckpt/tests/vm"
rm -f "$R"/ckpt/tests/vm/*.c
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
	>"$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$R/etc/group"
[ -n "$VM_TESTS" ] && echo "$VM_TESTS" >"$R/ckpt/tests/vm/selected"

progs=
for d in bin targets tools vm/bin; do
	[ -d "$B/$d" ] || continue
	mkdir -p "$R/ckpt/build/$d"
	for f in "$B/$d"/*; do
		# programs only: no .d files, no directories
		[ -f "$f" ] && [ -x "$f" ] || continue
		cp "$f" "$R/ckpt/build/$d/"
		progs="$progs $f"
	done
done
# ldd prints "name => /path (addr)" or "/path (addr)" (the loader); the
# vdso has no path
libs=$(for f in $progs; do ldd "$f" 2>/dev/null || true; done |
	sed -n 's/.*=> \(\/[^ ]*\) (.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p' | sort -u)
[ -n "$libs" ] || die "ldd named no library for $B/bin/ckptd (is ldd installed?)"
for l in $libs; do
	mkdir -p "$R${l%/*}"
	cp -L "$l" "$R$l"
done

(cd "$R" && find . | sort | "$BB" cpio -o -H newc -R 0:0 2>/dev/null) >"$V/initrd.cpio" ||
	die "cannot write $V/initrd.cpio"

# --- boot --------------------------------------------------------------------
# KVM when /dev/kvm is usable (qemu falls back to the next -accel when one
# fails to start), else TCG. -cpu max: the targets are built with -mavx,
# which TCG (qemu 7.2) emulates. The guest powers off at the end; a panic
# (panic=-1) reboots, which -no-reboot turns into an exit.
accel="-accel tcg"
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	accel="-accel kvm -accel tcg"
fi
LOG=$V/serial.log
VMLINUZ=$(ls "$V"/kernel/vmlinuz-*)
say "booting $(basename "$KDEB" .deb) ($accel, ${VM_MEM} MiB, $VM_SMP CPUs, at most ${VM_TIMEOUT}s); log: $LOG"
start=$(date +%s)
rc=0
# timeout kills only the qemu it started
timeout -k 5 "$VM_TIMEOUT" qemu-system-x86_64 $accel -cpu max -m "$VM_MEM" -smp "$VM_SMP" \
	-nodefaults -nographic -serial stdio -no-reboot \
	-kernel "$VMLINUZ" -initrd "$V/initrd.cpio" \
	-append "console=ttyS0 panic=-1 quiet loglevel=3 rdinit=/init" \
	</dev/null >"$LOG" 2>&1 || rc=$?
secs=$(( $(date +%s) - start ))

# --- results -----------------------------------------------------------------
res=$V/results
tr -d '\r' <"$LOG" | sed -n 's/^.*\(VMTEST .*\)$/\1/p' >"$res"
nok=0 nfail=0 nskip=0
printf '%-28s %s\n' CHECK RESULT
while read -r tag kind rest; do
	case $kind in
	ok)
		nok=$((nok + 1))
		printf '%-28s %s\n' "$rest" ok
		;;
	FAIL)
		nfail=$((nfail + 1))
		printf '%-28s FAIL: %s\n' "${rest%%:*}" "${rest#*: }"
		;;
	skip)
		nskip=$((nskip + 1))
		printf '%-28s skip: %s\n' "${rest%%:*}" "${rest#*: }"
		;;
	esac
done <"$res"
# what each test with a failed check printed: run.sh prefixes its output
# with its name ("kernel| ..."), ends it with "kernel| (exit N...)", and
# prints its VMTEST lines after that
tr -d '\r' <"$LOG" | awk '
	/^[^ |]+\| \(exit / { last = substr($0, 1, index($0, "|") - 1) }
	/^VMTEST FAIL / && last != "" && !(last in seen) { seen[last] = 1; print last }' |
while read -r name; do
	echo "--- tests/vm/t-$name.sh printed in the guest:"
	tr -d '\r' <"$LOG" | grep "^$name| " | tail -n 40
done
done=0
grep -qx 'VMTEST done' "$res" && done=1
if [ $done -eq 0 ]; then
	nfail=$((nfail + 1))
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		why="the guest did not finish within ${VM_TIMEOUT}s (killed)"
	elif grep -q 'Kernel panic' "$LOG"; then
		why="the guest kernel panicked: $(grep -m1 'Kernel panic' "$LOG" | tr -d '\r')"
	else
		why="the guest stopped before the end (qemu exit $rc)"
	fi
	printf '%-28s FAIL: %s\n' "(vm)" "$why"
	echo "--- last lines of $LOG:"
	tail -n 30 "$LOG" | tr -d '\r'
fi
echo "check-vm: $nok ok, $nfail failed, $nskip skipped (${secs}s in the guest; log: $LOG)"
[ $nfail -eq 0 ] && [ $nok -gt 0 ]
