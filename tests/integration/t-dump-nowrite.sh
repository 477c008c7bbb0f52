#!/bin/sh
# Image directories that can't take a set: a read-only file system, a
# directory that does not exist, a path that is a file. The dump fails,
# says why naming the problem, writes nothing, and the target runs on.
. "$(dirname "$0")/lib.sh"

start_target sample
RO=$TMP/ro
mount_tmpfs "$RO" 1m ro
expect_fail 1 'read-only' ckptctl dump -t "$TPID" -D "$RO" --leave-running
[ -z "$(ls -A "$RO")" ] || fail "the read-only directory is not empty: $(ls -A "$RO")"
check_alive

expect_fail 1 "$TMP/missing" ckptctl dump -t "$TPID" -D "$TMP/missing/dir" --leave-running
[ ! -e "$TMP/missing" ] || fail "the dump created $TMP/missing"
check_alive

echo data >"$TMP/afile"
ckpt dump -t "$TPID" -D "$TMP/afile" --leave-running
[ $LAST_RC -ne 0 ] || fail "a dump into a regular file succeeded"
grep -q "afile" "$LAST_ERR" || fail "message does not name the path: $(cat "$LAST_ERR")"
[ "$(cat "$TMP/afile")" = data ] || fail "the dump changed $TMP/afile"
check_alive

expect_status pass
