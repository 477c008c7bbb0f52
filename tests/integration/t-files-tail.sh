#!/bin/sh
# The long tail of open files (ftail target, issue 14): each comes back
# exactly after a killing dump, or the dump refuses it before killing,
# naming pid and fd, and the target runs on intact.
#
# Restored: a deleted file's owner, group, mode, atime and mtime; a
# deleted FIFO (with its bytes) and a deleted directory held open; an epoll
# watch whose fd was closed (and the number reused) while a dup kept the
# file; fds on /proc/CHILD and /proc/self/status, which name the restored
# processes. Refused: a file unlinked under one name and linked under
# another, an fd on /proc/PID of a process outside the tree, an fd table
# shared by clone(CLONE_FILES), an io_setup aio ring.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

for m in ghostattr delfifo deldir epoll procfd; do
	log "mode $m: restored"
	restore_cycle ftail $m
	rm -rf "$TMP/img"
done

# refused by the restore's check (exit 8): refused MODE PATTERN
refused()
{
	log "mode $1: refused"
	start_target ftail "$1"
	dump_refused "$TMP/img.$1" "pid $TPID fd [0-9]+: $2"
	expect_status pass
}
refused hardlink ".*/ftail-a was unlinked but keeps 1 other hard link"
refused procout "/proc/[0-9]+ is a /proc entry of pid [0-9]+, which is not a process of the dumped tree"

# refused by the dump itself (exit 1), before it kills: dump_error MODE PATTERN
dump_error()
{
	log "mode $1: refused"
	start_target ftail "$1"
	mkdir -p "$TMP/img.$1"
	expect_fail 1 "$2" ckptctl dump -t "$TPID" -D "$TMP/img.$1"
	no_partial_set "$TMP/img.$1"
	check_alive "$TPID"
	expect_status pass
}
dump_error sharedfiles "pid [0-9]+ shares its fd table with its parent, pid [0-9]+ \\(clone\\(CLONE_FILES\\)\\)"
dump_error aio "pid [0-9]+: [0-9a-f]+-[0-9a-f]+ '/\\[aio\\] \\(deleted\\)' cannot be saved: an io_setup\\(\\) aio ring"
exit 0
