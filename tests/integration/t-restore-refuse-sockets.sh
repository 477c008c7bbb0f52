#!/bin/sh
# Sockets (and anon-inode files) can't be restored yet: restore refuses
# the image naming the pid and fd, before any process is created.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

start_target files
dump_kill "$TMP/img"
expect_fail 1 "pid [0-9]+ fd [0-9]+: (sockets|anonymous-inode files.*) can't be restored yet" \
	ckptctl restore -D "$TMP/img"
no_tree_left
