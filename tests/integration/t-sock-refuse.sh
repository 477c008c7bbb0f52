#!/bin/sh
# Sockets a restore can't bring back yet are refused by name: a killing
# dump refuses before it kills, and the program runs on with its sockets
# whole (it checks them itself): a TCP connection (to its own listener),
# a unix socket connected to a
# process outside the tree, a unix socket with an fd in flight.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

start_target sockets established
dump_refused "$TMP/est" "pid $TPID fd [0-9]+: TCP connection 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:[0-9]+ \(established\) can't be restored: dump and restore it with --tcp-established"
expect_status pass

# a unix socketpair whose other end a process outside the tree holds
start_target unixsk outside
OUT=$(cat "$TSTATUS.outside") || fail "no pid of the process outside"
track_pid "$OUT"
dump_refused "$TMP/unix" "pid $TPID fd [0-9]+: unix stream socket \(inode [0-9]+\) is connected to inode [0-9]+ held outside the tree: a restore can't connect it again"
expect_status pass
wait_gone "$OUT"

# a file descriptor in flight (SCM_RIGHTS queued, not received)
start_target unixsk scm
dump_refused "$TMP/scm" "pid $TPID fd [0-9]+: unix stream socket \(inode [0-9]+\) has 1 file descriptors in flight \(SCM_RIGHTS messages queued to it, not received yet\): ckpt can't restore them"
expect_status pass
