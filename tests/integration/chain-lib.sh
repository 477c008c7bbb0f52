# Helpers of the client-side chain tests t-incr-chain-*.sh (sourced after
# lib.sh and restore-lib.sh).

# need_predump: skip unless this ckptctl has pre-dump (the dump side of
# incremental dumps).
need_predump()
{
	"$CKPTCTL" pre-dump --help >/dev/null 2>&1 || skip "ckptctl has no pre-dump"
}

# predump_chain DIR: $TPID pre-dumped into DIR/1, then DIR/2 --prev ../1;
# the target runs on.
predump_chain()
{
	mkdir -p "$1"
	ckpt_ok pre-dump -t "$TPID" -D "$1/1"
	ckpt_ok pre-dump -t "$TPID" -D "$1/2" --prev ../1
	check_alive
}

# parent_block TOP LINKDIR PID: "FILE OFFSET" of a byte in a page block of
# LINKDIR that TOP leaves in its parent (an IN_PARENT page of TOP stored
# PRESENT in LINKDIR), for a test to damage.
parent_block()
{
	"$CKPTCTL" show --json --no-verify "$1" >"$TMP/top.json" || fail "ckptctl show $1"
	"$CKPTCTL" show --json --no-verify "$2" >"$TMP/link.json" || fail "ckptctl show $2"
	python3 - "$TMP/top.json" "$TMP/link.json" "$3" <<'PY' || fail "no page of $1 lies in $2"
import json, sys
top, link, pid = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
ps = link["tasks"][pid]["pagemap"]["head"]["page_size"]
pid_ = link["tasks"][pid]["pagemap"]["head"]["pages_id"]
inpar = [(e["vaddr"], e["vaddr"] + e["nr_pages"] * ps)
         for e in top["tasks"][pid]["pagemap"]["entries"] if e["flags"] == 2]
for e in link["tasks"][pid]["pagemap"]["entries"]:
    if e["flags"] != 1:
        continue
    for s, t in inpar:
        if s <= e["vaddr"] < t:
            print("pages-%d.img %d" % (pid_, 4096 + e["off"] * ps + 100))
            sys.exit(0)
sys.exit(1)
PY
}

