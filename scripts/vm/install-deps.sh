#!/bin/sh
# Install what `make check-vm` needs beyond scripts/install-deps.sh:
# qemu-system-x86 (qemu-system-x86_64). Run by `make check-vm` only
# (through a stamp file); `make check` runs check-vm only when
# qemu-system-x86_64 is already installed. The guest's kernel and
# busybox-static are not installed: scripts/vm/check-vm.sh fetches them
# with `apt-get download` into the build directory. Its initramfs is
# written by busybox's own cpio, so the host needs no cpio package.
exec sh "$(dirname "$0")/../install-deps.sh" qemu-system-x86
