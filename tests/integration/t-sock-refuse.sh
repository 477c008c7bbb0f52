#!/bin/sh
# Sockets a restore can't bring back yet are refused by name: a killing
# dump refuses before it kills, and the program runs on with its sockets
# whole (it checks them itself): a TCP connection (to its own listener),
# a UDP socket with a datagram queued, a unix socketpair.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

start_target sockets established
dump_refused "$TMP/est" "pid $TPID fd [0-9]+: TCP connection 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:[0-9]+ \(established\) can't be restored yet: restore it with --tcp-established \(not yet supported\)"
expect_status pass

start_target sockets udpqueue
dump_refused "$TMP/udp" "pid $TPID fd [0-9]+: UDP socket 127\.0\.0\.1:[0-9]+ can't be restored yet: datagrams wait to be received"
expect_status pass

start_target sockets unix
dump_refused "$TMP/unix" "pid $TPID fd [0-9]+: unix sockets can't be restored yet \(a stream socket\)"
expect_status pass
