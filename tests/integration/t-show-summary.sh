#!/bin/sh
# ckptctl show for a person: the summary of a real set, of a chain
# (pre-dump + dump --prev) and of a corrupt set (exit 5, nothing on
# stdout), each checked against the JSON of the same set (pids, comms,
# VMA ranges, page counts, fd numbers); -j is --json; show --pages dumps a
# page the memory target wrote with a known pattern, byte for byte, also
# through the chain, and says why when no page is stored at an address.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/chain-lib.sh"

# same_as_json SUMMARY JSON: every number the summary shows is the JSON's
same_as_json()
{
	python3 - "$1" "$2" <<'PY' || fail "the summary $1 disagrees with its JSON $2"
import json, re, sys
text = open(sys.argv[1]).read().split("\n")
j = json.load(open(sys.argv[2]))
inv = j["inventory"]
kind = {"DUMP_FULL": "full dump", "DUMP_INCREMENTAL": "incremental dump",
        "DUMP_PRE": "pre-dump"}[inv["kind"]]
assert any(l.startswith("  kind      " + kind) for l in text), "kind %s" % kind
assert "  root      pid %d, " % inv["root_pid"] in text[7] or \
    any(l.startswith("  root      pid %d, " % inv["root_pid"]) for l in text), "root"
# the tree table
i = next(n for n, l in enumerate(text) if l.startswith("Process tree ("))
rows = {}
for l in text[i + 2:]:
    if not l.strip():
        break
    f = l.split()
    rows[int(f[0])] = f
assert sorted(rows) == sorted(p["pid"] for p in j["pstree"]), (rows, j["pstree"])
for p in j["pstree"]:
    f = rows[p["pid"]]
    assert [int(x) for x in f[1:5]] == [p["ppid"], p["pgid"], p["sid"], len(p["threads"])], f
    t = j["tasks"].get(str(p["pid"]))
    if t and "core" in t:
        assert f[-1] == t["core"]["comm"], (f, t["core"]["comm"])
# every task: its VMA rows, pages per VMA and fds
ps = inv["page_size"]
total = [0, 0, 0]
for pid, t in j["tasks"].items():
    i = next(n for n, l in enumerate(text) if l.startswith("Task %s (" % pid))
    sec = []
    for l in text[i + 1:]:
        if l.startswith("Task ") or not l.strip():
            break
        sec.append(l)
    vrows = [l.split() for l in sec if re.match(r"^    [0-9a-f]+-[0-9a-f]+ ", l)]
    vmas = t["mm"]["vmas"]
    assert len(vrows) == len(vmas), (len(vrows), len(vmas))
    assert any(l == "  VMAs (%d):" % len(vmas) for l in sec)
    for r, v in zip(vrows, vmas):
        s, e = (int(x, 16) for x in r[0].split("-"))
        assert (s, e) == (v["start"], v["end"]), (r, v)
        want = [0, 0, 0]
        for en in t["pagemap"]["entries"]:
            lo, hi = max(en["vaddr"], s), min(en["vaddr"] + en["nr_pages"] * ps, e)
            if hi > lo:
                want[{1: 0, 4: 1, 2: 2}[en["flags"]]] += (hi - lo) // ps
        # RANGE SIZE UNIT PROT KIND(one or two words) STORED ZERO PARENT
        k = 6 if r[4] in ("anon", "file") else 5
        got = [int(x) for x in r[k:k + 3]]
        assert got == want, ("vma", r, want)
    st = sum(e["nr_pages"] for e in t["pagemap"]["entries"] if e["flags"] == 1)
    ze = sum(e["nr_pages"] for e in t["pagemap"]["entries"] if e["flags"] == 4)
    pa = sum(e["nr_pages"] for e in t["pagemap"]["entries"] if e["flags"] == 2)
    total = [total[0] + st, total[1] + ze, total[2] + pa]
    assert any(l.startswith("  pages: %d stored (" % st) and
               l.endswith(", %d zero, %d in parent" % (ze, pa)) for l in sec), (st, ze, pa)
    if "fs" in t:
        fds = [int(l.split()[0]) for l in sec if re.match(r"^ +[0-9]+  \S", l)]
        assert fds == [f["fd"] for f in t["fs"]["fds"]], (fds, t["fs"]["fds"])
sz = next(l for l in text if l.startswith("Sizes:"))
assert sz.startswith("Sizes:    %d pages stored (" % total[0]), (sz, total)
assert ", %d zero, %d left in the parent;" % (total[1], total[2]) in sz, (sz, total)
chk = next(l for l in text if l.startswith("Checked:"))
blocks = sum(1 for t in j["tasks"].values() for e in t["pagemap"]["entries"] if e["flags"] == 1)
assert chk.endswith(", %d page block checksums (%s): all good" % (blocks, chk.split("(")[-1].split(")")[0])), chk
# the chain: one line per link, as the JSON lists them
if "chain" in j:
    i = next(n for n, l in enumerate(text) if l.startswith("Chain ("))
    for k, link in enumerate(j["chain"]):
        l = text[i + 1 + k]
        assert l.startswith("  link %d: %s: %s, " % (k, link["dir"], link["kind"])), (l, link)
        assert l.endswith(": %d pages stored, %d in parent, %d zero"
                          % (link["pages"], link["pages_in_parent"], link["pages_zero"])), l
PY
}

# page_is ADDR SEED OUT: the hex dump in OUT is the page at ADDR holding
# target_pattern(SEED, word) (tests/targets/target.h)
page_is()
{
	python3 - "$1" "$2" "$3" <<'PY' || fail "show --pages $1: not the page the target wrote"
import re, struct, sys
addr, seed = int(sys.argv[1], 16), int(sys.argv[2])
M = (1 << 64) - 1
def pattern(seed, w):
    x = (seed * 0x9e3779b97f4a7c15 + w + 1) & M
    x ^= x >> 33
    x = (x * 0xff51afd7ed558ccd) & M
    x ^= x >> 33
    return x
want = b"".join(struct.pack("<Q", pattern(seed, w)) for w in range(512))
got, at = b"", []
for l in open(sys.argv[3]):
    if l.startswith("#"):
        continue
    m = re.match(r"^([0-9a-f]+):((?: [0-9a-f]{4}){8})  (.{16})$", l.rstrip("\n"))
    assert m, "not a hex dump line: %r" % l
    at.append(int(m.group(1), 16))
    got += bytes.fromhex(m.group(2).replace(" ", ""))
    asc = "".join(chr(b) if 0x20 <= b < 0x7f else "." for b in bytes.fromhex(m.group(2).replace(" ", "")))
    assert asc == m.group(3), (asc, m.group(3))
assert at == [addr + 16 * i for i in range(256)], "offsets"
assert got == want, "bytes differ"
PY
}

# --- a single set -------------------------------------------------------
start_target memory
dump_target "$TMP/img"
ckpt_ok show "$TMP/img"
cp "$LAST_OUT" "$TMP/sum"
grep -q '^Image set '"$TMP"'/img$' "$TMP/sum" || fail "summary head: $(head -3 "$TMP/sum")"
grep -q '^  kind      full dump, format ' "$TMP/sum" || fail "summary kind: $(head -3 "$TMP/sum")"
grep -q '^  parent    none$' "$TMP/sum" || fail "summary parent: $(head -9 "$TMP/sum")"
ckpt_ok show --json "$TMP/img"
cp "$LAST_OUT" "$TMP/json"
ckpt_ok show -j "$TMP/img"
cmp -s "$LAST_OUT" "$TMP/json" || fail "show -j differs from show --json"
same_as_json "$TMP/sum" "$TMP/json"
ckpt_ok show -D "$TMP/img"
cmp -s "$LAST_OUT" "$TMP/sum" || fail "show -D DIR differs from show DIR"
ckpt_ok show --no-verify "$TMP/img"
grep -q '^Checked: .*page blocks not read (--no-verify)$' "$LAST_OUT" ||
	fail "show --no-verify: $(tail -n 2 "$LAST_OUT")"
ckpt_ok show "$TMP/img/mm-$TPID.img"
[ "$(grep -c '^    [0-9a-f]*-[0-9a-f]* ' "$LAST_OUT")" -eq \
	"$(grep -c '^    [0-9a-f]*-[0-9a-f]* ' "$TMP/sum")" ] || fail "show mm-$TPID.img: $(cat "$LAST_OUT")"

# one page, by the address of the target's first "present" region (its
# 4 MiB anonymous map, seed 11) and an address inside its third page
anon=$(awk '$1 == "present" { print $3; exit }' "$TSTATUS.info")
[ -n "$anon" ] || fail "memory noted no present range"
ckpt_ok show --pages "$anon" "$TMP/img"
page_is "$anon" 11 "$LAST_OUT"
head -n 1 "$LAST_OUT" | grep -q "^# pid $TPID, page $anon: link 0 .*checksum verified$" ||
	fail "show --pages header: $(head -n 1 "$LAST_OUT")"
third=$(printf '%#x' $((anon + 2 * 4096)))
ckpt_ok show --pages "$(printf '%x' $((anon + 2 * 4096 + 123)))" -t "$TPID" "$TMP/img"
cp "$LAST_OUT" "$TMP/third"
ckpt_ok show --pages "$third" "$TMP/img" --json
python3 - "$TMP/third" "$LAST_OUT" <<'PY' || fail "show --pages --json: not the hex dump's bytes"
import json, sys
j = json.load(open(sys.argv[2]))
hexd = "".join("".join(l.split(":", 1)[1].split("  ")[0].split()) for l in open(sys.argv[1]) if not l.startswith("#"))
assert j["verified"] and j["data"] == hexd and len(hexd) == 8192, j.get("vaddr")
PY
# no page: zero, not dumped, outside every VMA, a pid not in the set
zero=$(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["tasks"][sys.argv[2]]
print(next("%x" % e["vaddr"] for e in t["pagemap"]["entries"] if e["flags"] == 4))' "$TMP/json" "$TPID") ||
	fail "no zero page in the set"
expect_fail 1 "0x$zero: pid $TPID: a zero page" ckptctl show --pages "$zero" "$TMP/img"
[ -s "$LAST_OUT" ] && fail "show --pages of a zero page printed $(head -n 2 "$LAST_OUT")"
untouched=$(awk '$1 == "absent" { n++ } $1 == "absent" && n == 1 { print $3 }' "$TSTATUS.info")
expect_fail 1 "pid $TPID: not dumped: inside the VMA" ckptctl show --pages "$untouched" "$TMP/img"
expect_fail 1 "0x1000: outside every VMA of every task" ckptctl show --pages 1000 "$TMP/img"
expect_fail 4 "-t 1: no such task in $TMP/img/pstree.img" ckptctl show --pages "$anon" -t 1 "$TMP/img"
expect_fail 2 "--pages 'zz': give an address in hex" ckptctl show --pages zz "$TMP/img"
expect_fail 2 "is a file" ckptctl show --pages "$anon" "$TMP/img/inventory.img"

# --- a corrupt set: refused, with the file and offset, nothing on stdout --
cp -a "$TMP/img" "$TMP/bad"
off=$(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["tasks"][sys.argv[2]]
e = next(e for e in t["pagemap"]["entries"] if e["flags"] == 1 and e["vaddr"] == int(sys.argv[3], 16))
print(4096 + e["off"] * 4096 + 100, t["pagemap"]["head"]["pages_id"])' "$TMP/json" "$TPID" "$anon") ||
	fail "no block at $anon"
set -- $off
flip "$TMP/bad/pages-$2.img" "$1"
expect_fail 5 "pages-$2\.img.*offset [0-9]+" ckptctl show "$TMP/bad"
[ -s "$LAST_OUT" ] && fail "show of a corrupt set printed $(head -n 3 "$LAST_OUT")"
# with --json the error is said once: the JSON object on stdout alone
ckpt show --json "$TMP/bad"
[ "$LAST_RC" = 5 ] && [ ! -s "$LAST_ERR" ] || fail "show --json of a corrupt set: exit $LAST_RC, stderr $(cat "$LAST_ERR")"
PAGES=pages-$2.img json_check "$LAST_OUT" 'assert os.environ["PAGES"] in j["error"] and "offset" in j["error"] and j["errno"] > 0, j'
expect_fail 5 "pages-$2\.img.*offset [0-9]+" ckptctl show --pages "$anon" "$TMP/bad"
[ -s "$LAST_OUT" ] && fail "show --pages of a corrupt block printed $(head -n 3 "$LAST_OUT")"
ckpt_ok show --no-verify "$TMP/bad"
expect_fail 5 "$TMP/nothing: No such file" ckptctl show "$TMP/nothing"
ckpt show --json "$TMP/nothing"
[ "$LAST_RC" = 5 ] && [ ! -s "$LAST_ERR" ] || fail "show --json of nothing: exit $LAST_RC, stderr $(cat "$LAST_ERR")"
json_check "$LAST_OUT" 'assert "No such file" in j["error"] and j["errno"] == 2, j'

# --- a chain: pre-dump, then dump --prev ----------------------------------
need_predump
mkdir -p "$TMP/c"
ckpt_ok pre-dump -t "$TPID" -D "$TMP/c/1"
ckpt_ok dump -t "$TPID" -D "$TMP/c/2" --prev ../1 --leave-running
check_alive
ckpt_ok show "$TMP/c/2"
cp "$LAST_OUT" "$TMP/csum"
ckpt_ok show --json "$TMP/c/2"
cp "$LAST_OUT" "$TMP/cjson"
same_as_json "$TMP/csum" "$TMP/cjson"
grep -q '^  kind      incremental dump, ' "$TMP/csum" || fail "chain summary kind: $(head -4 "$TMP/csum")"
grep -q "^  link 1: $TMP/c/2/\.\./1: pre-dump, " "$TMP/csum" ||
	fail "chain summary: $(grep -A3 '^Chain' "$TMP/csum")"
grep -q '^Sizes: .* [1-9][0-9]* left in the parent;' "$TMP/csum" ||
	fail "the final dump left nothing in its parent: $(grep '^Sizes' "$TMP/csum")"
ckpt_ok show "$TMP/c/1"
grep -q '^  kind      pre-dump ' "$LAST_OUT" || fail "pre-dump summary: $(head -4 "$LAST_OUT")"
grep -q 'fds: none recorded (a pre-dump saves memory only)' "$LAST_OUT" ||
	fail "pre-dump summary fds: $(cat "$LAST_OUT")"
# the anonymous map did not change since the pre-dump: read from link 1
ckpt_ok show --pages "$anon" "$TMP/c/2"
head -n 1 "$LAST_OUT" | grep -q "^# pid $TPID, page $anon: link 1 ($TMP/c/2/\.\./1)" ||
	fail "show --pages through the chain: $(head -n 1 "$LAST_OUT")"
page_is "$anon" 11 "$LAST_OUT"
# a parent's block is verified before its page is shown; a broken chain
# is refused, naming the link
cp -a "$TMP/c" "$TMP/cbad"
ckpt_ok show --json "$TMP/c/1"
set -- $(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["tasks"][sys.argv[2]]
e = next(e for e in t["pagemap"]["entries"] if e["flags"] == 1 and e["vaddr"] == int(sys.argv[3], 16))
print(4096 + e["off"] * 4096 + 100, t["pagemap"]["head"]["pages_id"])' "$LAST_OUT" "$TPID" "$anon") ||
	fail "no block at $anon in the pre-dump"
flip "$TMP/cbad/1/pages-$2.img" "$1"
expect_fail 5 "$TMP/cbad/2/\.\./1/pages-$2\.img.*offset [0-9]+" \
	ckptctl show --pages "$anon" "$TMP/cbad/2"
[ -s "$LAST_OUT" ] && fail "show --pages of a corrupt parent block printed $(head -n 2 "$LAST_OUT")"
rm -rf "$TMP/cbad/1"
for opt in "" "--pages $anon"; do
	expect_fail 5 "$TMP/cbad/2: link 1 \(\.\./1\)" ckptctl show $opt "$TMP/cbad/2"
	[ -s "$LAST_OUT" ] && fail "show $opt of a broken chain printed $(head -n 2 "$LAST_OUT")"
done
ckpt show --json "$TMP/cbad/2"
[ "$LAST_RC" = 5 ] && [ ! -s "$LAST_ERR" ] || fail "show --json of a broken chain: exit $LAST_RC, stderr $(cat "$LAST_ERR")"
D=$TMP/cbad/2 json_check "$LAST_OUT" 'assert j["error"].startswith(os.environ["D"] + ": link 1 (../1)"), j'
expect_status pass
