#!/bin/sh
# A memfd of 256 MiB of data: its ghost image holds every byte, the dump's
# memory stays bounded (chunks of 1 MiB, not the whole file), and the target
# finds its contents unchanged.
. "$(dirname "$0")/lib.sh"

MIB=256
start_target files big $MIB
dir=$TMP/img
dump_target "$dir" --json
rss=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peak_rss_kb"])' "$LAST_OUT") ||
	fail "dump --json: no peak_rss_kb in $(head -c 500 "$LAST_OUT")"
log "ckptd peak RSS ${rss} KiB for a ${MIB} MiB ghost"
[ "$rss" -lt $((MIB * 1024 / 2)) ] || fail "ckptd peak RSS ${rss} KiB: ghost contents held in memory"

show_json "$dir"
json_check "$TMP/show.json" "
g = j['ghosts']
g = list(g.values()) if isinstance(g, dict) else g
big = [x for x in g if x['head'].get('name') == '/memfd:ckpt-big']
assert len(big) == 1, g
assert int(big[0]['bytes']) == $MIB << 20, big[0]
assert int(big[0]['chunks']) >= $MIB, 'chunks of at most 1 MiB: %r' % big[0]
"
expect_status pass
exit 0
