#!/bin/sh
# Restore at size: the memory target with a 1 GiB sparse map (a page
# written every 64 MiB, the rest never touched) and a 256 MiB dense map.
# The restored target checks every byte of both; the sparse map must come
# back sparse (its never-written pages are not made resident).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

start_target memory -s -d 256
rss_before=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$TPID/status")
dump_kill "$TMP/img"
restore_ok "$TMP/img"
rss_after=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$TPID/status")
log "VmRSS ${rss_before} kB before, ${rss_after} kB after restore"
# 64 MiB of slack: the restore may touch a few more pages, never the 1 GiB
[ "$rss_after" -le $((rss_before + 65536)) ] ||
	fail "VmRSS grew from $rss_before kB to $rss_after kB: the sparse map was filled"
expect_status pass
