#!/bin/sh
# The daemon's memory does not grow with the target's: a 512 MiB dense map
# of small pages is dumped by a ckptd whose peak RSS stays under 64 MiB
# (its page buffers are a few MiB), every byte compared by imgcmp, and the
# dump result counts every page it wrote.
. "$(dirname "$0")/lib.sh"

start_target memory -d 512
IMG=$TMP/img
dump_target "$IMG" --json
check_alive
imgcmp "$IMG"
python3 - "$LAST_OUT" <<'PY' || fail "dump result: $(cat "$LAST_OUT")"
import json, sys
r = json.load(open(sys.argv[1]))
pages, rss = r["pages"], r.get("peak_rss_kb")
assert pages >= 512 * 256, "only %d pages written" % pages
assert rss is not None, "no peak_rss_kb in the dump result"
assert rss < 64 * 1024, "ckptd peak RSS %d KiB for a 512 MiB target" % rss
print("t-mem-bounded: %d pages, ckptd peak RSS %d KiB" % (pages, rss), file=sys.stderr)
PY
expect_status pass
