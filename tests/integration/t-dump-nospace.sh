#!/bin/sh
# A full disk: a 4 MiB tmpfs and a target with 64 MiB to save. The dump
# fails with a message that names the pages file and offset and says the
# space ran out, leaves no set and no temporary directory behind, and the
# target runs on and passes.
. "$(dirname "$0")/lib.sh"

start_target memory -d 64
FULL=$TMP/full
mount_tmpfs "$FULL" 4m
expect_fail 1 'pages-[0-9]+\.img at offset [0-9]+: .*no space' ckptctl dump -t "$TPID" -D "$FULL" --leave-running
no_partial_set "$FULL"
[ -z "$(ls -A "$FULL")" ] || fail "left in the full directory: $(ls -A "$FULL")"
df -k "$FULL" | awk 'NR == 2 && $3 > 64 { exit 1 }' || fail "the full tmpfs still holds data: $(df -k "$FULL" | tail -n 1)"
check_alive

# and the same target dumps fine where there is room
dump_target "$TMP/img"
imgcmp "$TMP/img"
expect_status pass
