#!/bin/sh
# Threads asleep in restartable syscalls (pause, nanosleep, read, futex,
# ppoll with a temporary signal mask) come out of a --leave-running dump as
# they went in: every syscall goes on (no EINTR, no -ERESTART* leaking to
# user space, the ppoll mask intact), the maps are identical, and every
# readable byte is unchanged -- the rseq areas aside, which the kernel
# itself rewrites on each return to user space. The image holds the raw
# registers the threads were caught with (orig_rax = the syscall, rax =
# -ERESTART*): restore applies the restart, not the dump.
. "$(dirname "$0")/lib.sh"

# memsnap PID OUT [RSEQ_JSON]: the maps and the bytes of every readable
# mapping into OUT (a directory); with RSEQ_JSON (a list of [ptr, len])
# those ranges read as zeros.
memsnap()
{
	python3 - "$@" <<'PY' || fail "memsnap $*"
import json, os, sys
pid, out = sys.argv[1], sys.argv[2]
masks = json.load(open(sys.argv[3])) if len(sys.argv) > 3 else []
os.makedirs(out, exist_ok=True)
maps = open('/proc/%s/maps' % pid).read()
open(os.path.join(out, 'maps'), 'w').write(maps)
mem = os.open('/proc/%s/mem' % pid, os.O_RDONLY)
with open(os.path.join(out, 'mem'), 'wb') as f:
    for line in maps.splitlines():
        rng, perms = line.split()[:2]
        if perms[0] != 'r' or line.endswith(('[vsyscall]', '[vvar]', '[vvar_vclock]')):
            continue
        lo, hi = (int(x, 16) for x in rng.split('-'))
        try:
            data = bytearray(os.pread(mem, hi - lo, lo))
        except OSError:
            continue
        for ptr, ln in masks:
            a, b = max(ptr, lo), min(ptr + ln, hi)
            if a < b:
                data[a - lo:b - lo] = bytes(b - a)
        f.write(b'%x-%x\n' % (lo, hi))
        f.write(data)
PY
}

start_target core_restart 10
# one CPU: the threads' rseq cpu ids then have no reason to change
taskset -a -p -c 0 "$TPID" >/dev/null 2>&1 || log "taskset failed; going on"
memsnap "$TPID" "$TMP/before"

dir=$TMP/img
dump_target "$dir"
check_alive
show_json "$dir"

json_check "$TMP/show.json" "
import json
core = j['tasks'][str($TPID)]['core']
ths = core['threads']
assert len(ths) == 5, 'want 5 threads, got %d' % len(ths)
assert ths[0]['tid'] == $TPID, 'main thread first'
s64 = lambda v: v - (1 << 64) if v >= 1 << 63 else v
# syscall -> the -ERESTART* the kernel leaves in rax when interrupted
want = {34: -514, 35: -516, 0: -512, 202: -512, 271: -514}
seen = {}
for t in ths:
    r = t['regs']
    nr, rax = s64(int(r['orig_rax'])), s64(int(r['rax']))
    assert nr in want, 'thread %d caught in syscall %d' % (t['tid'], nr)
    assert rax == want[nr], 'thread %d: syscall %d with rax %d, want %d (raw)' % (t['tid'], nr, rax, want[nr])
    seen[nr] = t['tid']
assert sorted(seen) == sorted(want), 'syscalls seen: %r' % seen
assert s64(int(ths[0]['regs']['orig_rax'])) == 34, 'main thread in pause()'
masks = [[int(t['rseq']['ptr']), int(t['rseq']['len'])] for t in ths if 'rseq' in t]
json.dump(masks, open('$TMP/rseq.json', 'w'))
"
memsnap "$TPID" "$TMP/after" "$TMP/rseq.json"
memsnap_mask()
{
	python3 - "$1" "$2" <<'PY'
import json, sys
masks = json.load(open(sys.argv[2]))
d = open(sys.argv[1] + '/mem', 'rb').read()
out = bytearray()
i = 0
while i < len(d):
    j = d.index(b'\n', i)
    lo, hi = (int(x, 16) for x in d[i:j].split(b'-'))
    data = bytearray(d[j + 1:j + 1 + hi - lo])
    for ptr, ln in masks:
        a, b = max(ptr, lo), min(ptr + ln, hi)
        if a < b:
            data[a - lo:b - lo] = bytes(b - a)
    out += d[i:j + 1] + data
    i = j + 1 + hi - lo
open(sys.argv[1] + '/mem.masked', 'wb').write(out)
PY
}
memsnap_mask "$TMP/before" "$TMP/rseq.json" || fail "masking the rseq areas"
cmp -s "$TMP/before/maps" "$TMP/after/maps" ||
	fail "the maps changed: $(diff "$TMP/before/maps" "$TMP/after/maps" | head -20)"
cmp -s "$TMP/before/mem.masked" "$TMP/after/mem" ||
	fail "memory changed: $(cmp "$TMP/before/mem.masked" "$TMP/after/mem" 2>&1 | head -3)"
log "maps and $(wc -c <"$TMP/after/mem") bytes of memory unchanged"

expect_status pass
exit 0
