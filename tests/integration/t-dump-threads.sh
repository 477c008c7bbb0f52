#!/bin/sh
# Threads: six workers each hold their own values in ymm0..ymm15 and in
# rbx, r12..r15 across the dump. The image must carry every thread, its
# name, and exactly those register values (xsave area and regs). Then the
# same with 60 workers.
. "$(dirname "$0")/lib.sh"

check='
import struct
root = int(os.environ["ROOT"])
M = (1 << 64) - 1
def pattern(seed, word):
    x = (seed * 0x9e3779b97f4a7c15 + word + 1) & M
    x ^= x >> 33
    x = (x * 0xff51afd7ed558ccd) & M
    x ^= x >> 33
    return x
ths = threads(root)
nr = int(os.environ["NR"])
assert len(ths) == nr + 1, "threads: %d" % len(ths)
assert ths[0]["tid"] == root
xsize = j["inventory"]["xsave_size"]
assert j["inventory"]["xfeatures"] & 4, "AVX state not among the saved xfeatures"
seen = set()
for th in ths[1:]:
    name = th.get("comm", "")
    assert name.startswith("worker-"), "thread %d named %r" % (th["tid"], name)
    idx = int(name[7:])
    seen.add(idx)
    seed = 0x5000 + idx
    xs = bytes.fromhex(th["xsave"])
    assert len(xs) == xsize, "thread %d: xsave of %d bytes, inventory says %d" % (th["tid"], len(xs), xsize)
    xstate_bv = struct.unpack_from("<Q", xs, 512)[0]
    for r in range(16):
        want = [pattern(seed, r * 4 + q) for q in range(4)]
        lo = list(struct.unpack_from("<2Q", xs, 160 + 16 * r))
        hi = list(struct.unpack_from("<2Q", xs, 576 + 16 * r)) if xstate_bv & 4 else [0, 0]
        assert lo == want[:2], "thread %d: xmm%d %s, expected %s" % (th["tid"], r, lo, want[:2])
        assert hi == want[2:], "thread %d: ymm%d upper half %s, expected %s" % (th["tid"], r, hi, want[2:])
    regs = th["regs"]
    for k, w in zip(("rbx", "r12", "r13", "r14", "r15"), range(100, 105)):
        assert regs[k] == pattern(seed, w), "thread %d: %s %#x" % (th["tid"], k, regs[k])
    assert regs["orig_rax"] == 202, "thread %d: not in futex (orig_rax %d)" % (th["tid"], regs["orig_rax"])
    assert regs["fs_base"] != ths[0]["regs"]["fs_base"], "thread %d shares the main TLS base" % th["tid"]
assert seen == set(range(nr)), seen
'
for nr in 6 60; do
	dump_check threads -n $nr
	NR=$nr ROOT=$TPID json_check "$TMP/show.json" "$check"
	expect_status pass
done
