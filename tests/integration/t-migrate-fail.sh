#!/bin/sh
# ckptctl migrate that cannot start or cannot finish leaves the source's
# tree running and intact, and the destination with nothing: a certificate
# of the wrong CA on either side, TLS on one side only, a PID of the tree
# taken at the destination (refused at hello, before anything is dumped),
# and a restore that fails at the destination (its ckptd cannot start).
# Each case checks: migrate exits non-zero saying why, the source's target
# runs, untraced, with every byte of its memory right, nothing staged is
# left in /dev/shm, receive exits non-zero with no chain left and no
# process restored in its namespace.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/migrate-lib.sh"

OTHER="--tls-cacert $CERTS/ca.pem --tls-cert $CERTS/other.pem --tls-key $CERTS/other-key.pem"

# 1a. the source's certificate is signed by another CA
start_target incr
start_dest $(tls_dst)
migrate_bg -t "$TPID" --to 127.0.0.1:$RPORT $OTHER
migrate_wait
migrate_failed 'refused our certificate.*other.pem'
grep -qi "round 0" "$MERR" && fail "round 0 ran with a refused certificate: $(cat "$MERR")"
src_intact
dest_clean 'not signed by --tls-cacert'
kill -KILL "$NSINIT"

# 1b. the destination's certificate is signed by another CA
start_target incr
start_dest $OTHER
migrate_bg -t "$TPID" --to 127.0.0.1:$RPORT $(tls_src)
migrate_wait
migrate_failed 'its certificate.*not signed by --tls-cacert'
src_intact
dest_clean 'refused our certificate.*other.pem'
kill -KILL "$NSINIT"

# 2a. TLS source, plaintext destination
start_target incr
start_dest --insecure-plaintext
migrate_bg -t "$TPID" --to 127.0.0.1:$RPORT $(tls_src)
migrate_wait
migrate_failed 'TLS handshake .*failed.*insecure-plaintext'
src_intact
dest_clean 'no ckpt migration frame.*insecure-plaintext must be given on both sides'
kill -KILL "$NSINIT"

# 2b. plaintext source, TLS destination
start_target incr
start_dest $(tls_dst)
migrate_bg -t "$TPID" --to 127.0.0.1:$RPORT --insecure-plaintext
migrate_wait
migrate_failed 'insecure-plaintext must be given on both sides'
src_intact
dest_clean 'TLS handshake .*failed.*insecure-plaintext'
kill -KILL "$NSINIT"

# 3. a PID of the tree is taken at the destination: refused at hello
start_target incr
start_dest_here --insecure-plaintext
migrate_bg -t "$TPID" --to 127.0.0.1:$RPORT --insecure-plaintext
migrate_wait
migrate_failed "pid $TPID of the tree is taken here"
grep -qi "nothing was dumped" "$MERR" ||
	fail "migrate does not say nothing was dumped: $(cat "$MERR")"
grep -qi "round 0" "$MERR" && fail "round 0 ran although a PID is taken: $(cat "$MERR")"
src_intact
dest_clean "pid $TPID of the tree is taken here"

# 4. the destination's restore fails (its one-shot ckptd cannot start)
start_target incr
DEST_ENV="CKPTD=/nonexistent/ckptd" start_dest --insecure-plaintext
migrate_bg -t "$TPID" --to 127.0.0.1:$RPORT --insecure-plaintext --max-rounds 1
migrate_wait
migrate_failed 'restore failed on the destination: no ckptd answers there'
src_intact
dest_clean 'cannot start /nonexistent/ckptd'
kill -KILL "$NSINIT"
