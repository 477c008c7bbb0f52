#!/bin/sh
# Dump of the README's sample program: three threads, a 32 MiB table, an
# O_APPEND log. The image matches the live process byte for byte, show
# decodes it, and the sample, left running, still passes its own checks.
. "$(dirname "$0")/lib.sh"

dump_check sample
ROOT=$TPID json_check "$TMP/show.json" '
root = int(os.environ["ROOT"])
assert len(j["pstree"]) == 1
assert len(threads(root)) == 3, "threads: %d" % len(threads(root))
assert task(root)["core"]["comm"] == "sample"
# the 32 MiB table is stored whole (8192 pages) and not much else
pages = sum(e["nr_pages"] for e in task(root)["pagemap"]["entries"] if e["flags"] & 1)
assert 8192 <= pages < 8192 + 2048, "pages stored: %d" % pages
assert j["inventory"]["pages_written"] == pages
logs = [d for d in fds(root).values() if d.get("file", {}).get("path", "").endswith("/sample.log")]
assert len(logs) == 1, "sample.log fd: %s" % logs
assert logs[0]["flags"] & os.O_APPEND, "sample.log lost O_APPEND"
assert logs[0]["cloexec"]
assert task(root)["fs"]["cwd"] == os.getcwd()
'

# --json: one JSON object whose counts are the image's
pages=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["inventory"]["pages_written"])' "$TMP/show.json")
ckpt_ok dump -t "$TPID" -D "$TMP/json" --leave-running --json
PAGES=$pages json_check "$LAST_OUT" '
r = j.get("dump", j)
assert r["tasks"] == 1 and r["threads"] == 3, r
assert abs(r["pages"] - int(os.environ["PAGES"])) < 64, "pages %d, first dump %s" % (r["pages"], os.environ["PAGES"])
assert r["vmas"] >= 20 and r["fds"] >= 4, r
'
check_alive
expect_status pass
grep -q verified "$TMP/sample.log" || fail "sample did not log its verification"
