#!/bin/sh
# pidns-run.sh CMD [ARGS...]: run CMD as PID 1 of a new PID namespace, with
# a /proc of its own in a new mount namespace (the migration tests' and
# benchmark's destination "host").
#
# `unshare --mount-proc` first makes every mount private there (mount
# --make-rprivate /), which fails with EINVAL when / is no mount point (a
# chroot into a plain directory, as a fresh debootstrap root is). Then only
# /proc, a mount point in any usable chroot, is made private, so that the
# new proc mount cannot propagate back to the outer namespace, and the new
# proc goes over it. As with unshare --fork, this process is unshare and
# CMD its only child.
if mountpoint -q /; then
	exec unshare --pid --fork --mount-proc "$@"
fi
mountpoint -q /proc || {
	echo "pidns-run: neither / nor /proc is a mount point: no private /proc to mount" >&2
	exit 1
}
exec unshare --pid --fork --mount --propagation unchanged sh -c '
	mount --make-rprivate /proc &&
	mount -t proc -o nosuid,nodev,noexec proc /proc ||
		{ echo "pidns-run: cannot mount a private /proc" >&2; exit 1; }
	exec "$@"' sh "$@"
