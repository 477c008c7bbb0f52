#!/bin/sh
# Many mappings: 30000 one-page VMAs (alternately writable and read-only,
# so the kernel can't merge them), each written. The dump keeps up with
# them all: imgcmp checks every VMA against /proc/PID/maps and every page.
. "$(dirname "$0")/lib.sh"

dump_check memory -v 30000
ROOT=$TPID json_check "$TMP/show.json" '
root = int(os.environ["ROOT"])
assert len(vmas(root)) > 30000, "%d VMAs" % len(vmas(root))
'
expect_status pass
