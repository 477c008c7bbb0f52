#!/bin/sh
# The checker checks: imgcmp must notice a byte of live memory that no
# longer matches the image, a stored page where the image must have none,
# and a written page the image lacks; and pass again once the byte is back.
. "$(dirname "$0")/lib.sh"

start_target sample
IMG=$TMP/img
dump_target "$IMG"
imgcmp "$IMG"

# the first page of the largest stored block (the sample's table)
ckpt_ok show --json "$IMG"
addr=$(ROOT=$TPID python3 -c '
import json, os, sys
j = json.load(sys.stdin)
t = j["tasks"][os.environ["ROOT"]]
print("%x" % max((e for e in t["pagemap"]["entries"] if e["flags"] & 1), key=lambda e: e["nr_pages"])["vaddr"])
' <"$(ckpt_ok show --json "$IMG"; echo "$LAST_OUT")") || fail "no stored page found"

poke()	# ADDR(hex) -> flips one byte of live memory at ADDR + 123
{
	python3 -c '
import sys
pid, addr = int(sys.argv[1]), int(sys.argv[2], 16) + 123
with open("/proc/%d/mem" % pid, "r+b", buffering=0) as f:
    f.seek(addr); b = f.read(1); f.seek(addr); f.write(bytes([b[0] ^ 0xff]))' "$TPID" "$1"
}

out=$TMP/imgcmp.out
poke "$addr"
rc=0
"$TOOLS/imgcmp" "$IMG" "$TPID" >"$out" 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "imgcmp exited $rc on a changed byte: $(tail -n 3 "$out")"
grep -q "page 0x$addr differs from byte 123" "$out" || fail "imgcmp did not name the page: $(head -n 3 "$out")"
poke "$addr"
imgcmp "$IMG"

rc=0
"$TOOLS/imgcmp" --expect-absent "$addr-$(printf %x $((0x$addr + 4096)))" "$IMG" "$TPID" >"$out" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q "never written" "$out" || fail "imgcmp missed a stored page expected absent: $(tail -n 3 "$out")"

# a range in no stored entry: the stack guard below the lowest mapping
rc=0
"$TOOLS/imgcmp" --expect-present "$TPID:1000-3000" "$IMG" "$TPID" >"$out" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q "is not stored" "$out" || fail "imgcmp missed a page expected present: $(tail -n 3 "$out")"

rc=0
"$TOOLS/imgcmp" "$IMG" 1 >"$out" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "imgcmp matched the sample's image against pid 1"

check_alive
expect_status pass
