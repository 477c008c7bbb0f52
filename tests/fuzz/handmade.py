#!/usr/bin/env python3
"""Write the hand-made seeds of the fuzz corpus (tests/fuzz/corpus/*/hm-*).

Edge cases a real dump never produces: empty and truncated files, foreign
magics, versions and flags, end markers that lie, lengths past the end or
over the limit; RPC requests and answers of every type, with fields
missing, out of range or unknown. Run from the top of the tree:

	python3 tests/fuzz/handmade.py

The real images (set-*, img-*) come from tests/fuzz/mkseed instead."""
import os
import struct

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

# images/img.h, images/desc.c
SET_MAGIC = 0x54504B43
KINDS = [  # (index in enum img_kind, kind magic)
    (0, 0x564E4901), (1, 0x45525402), (2, 0x45524F03), (3, 0x004D4D04),
    (4, 0x50414D05), (5, 0x47415006), (6, 0x4C494607), (7, 0x00534608),
    (8, 0x4F484709),
]
EOF_MARK = 0xFFFFFFFF


def hdr(magic, version=2, flags=0):
    return struct.pack("<IIII", SET_MAGIC, magic, version, flags)


def eof(count):
    return struct.pack("<II", EOF_MARK, count)


def image_cases():
    """name -> file bytes, each for every kind."""
    for idx, magic in KINDS:
        cases = {
            "empty": b"",
            "short-header": hdr(magic)[:11],
            "bad-magic": struct.pack("<IIII", 0x464C457F, magic, 2, 0),
            "unknown-kind": hdr(0x12345678),
            "version-0": hdr(magic, 0),
            "version-1": hdr(magic, 1),
            "version-3": hdr(magic, 3),
            "flags": hdr(magic, 2, 1),
            "no-records": hdr(magic) + eof(0),
            "no-end": hdr(magic),
            "end-miscount": hdr(magic) + eof(3),
            "after-end": hdr(magic) + eof(0) + b"\0",
            "len-over-max": hdr(magic) + struct.pack("<II", (64 << 20) + 1, 0),
            "len-past-eof": hdr(magic) + struct.pack("<II", 4096, 0) + b"x" * 16,
            "bad-checksum": hdr(magic) + struct.pack("<II", 2, 0) + b"\x08\x01" + eof(1),
            "half-end": hdr(magic) + eof(0)[:6],
        }
        if idx == 5:  # pages: raw data from offset 4096
            cases["pages-padding"] = hdr(magic) + b"\1" + b"\0" * 4079
            cases["pages-one"] = hdr(magic) + b"\0" * 4080 + b"\xaa" * 4096
        for name, data in cases.items():
            yield idx, name, data


# Inputs that show a bug not fixed yet: kept in ../known, out of the corpus
# that make check runs (tests/fuzz/README.md).
KNOWN = set()


def write(sub, name, data):
    if (sub, name) in KNOWN:
        os.makedirs(os.path.join(TOP, "..", "known"), exist_ok=True)
        path = os.path.join(TOP, "..", "known", "%s-%s" % (sub, name))
    else:
        os.makedirs(os.path.join(TOP, sub), exist_ok=True)
        path = os.path.join(TOP, sub, "hm-" + name)
    with open(path, "wb") as f:
        f.write(data)


# ---- protobuf, by hand (proto/rpc.proto) ----

def varint(v):
    if v < 0:
        v += 1 << 64
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def fv(num, v):
    return varint(num << 3) + varint(v)


def fb(num, data):
    if isinstance(data, str):
        data = data.encode()
    return varint(num << 3 | 2) + varint(len(data)) + data


DUMP, RESTORE, CHECK, STATUS, PROGRESS = 1, 2, 3, 4, 5


def requests():
    yield "empty", b""
    yield "status", fv(1, STATUS) + fv(4, 1)
    yield "check", fv(1, CHECK) + fv(4, 1)
    yield "status-noversion", fv(1, STATUS)
    yield "version-2", fv(1, STATUS) + fv(4, 2)
    yield "unknown-type", fv(1, 99) + fv(4, 1)
    yield "progress-type", fv(1, PROGRESS) + fv(4, 1)
    yield "no-type", fv(4, 1)
    yield "dump-nodump", fv(1, DUMP) + fv(4, 1)
    yield "dump-pid1", fv(1, DUMP) + fb(2, fv(1, 1) + fv(2, 1) + fv(3, 0)) + fv(4, 1)
    yield "dump-pid0", fv(1, DUMP) + fb(2, fv(1, 0)) + fv(4, 1)
    yield "dump-pidneg", fv(1, DUMP) + fb(2, fv(1, -5)) + fv(4, 1)
    yield "dump-nopid", fv(1, DUMP) + fb(2, fv(2, 1)) + fv(4, 1)
    yield "restore", fv(1, RESTORE) + fv(4, 1)
    yield "restore-strict", fv(1, RESTORE) + fb(3, fv(1, 1) + fb(2, "strict")) + fv(4, 1)
    yield "restore-badfv", fv(1, RESTORE) + fb(3, fb(2, "lax\n\x1b[2J")) + fv(4, 1)
    yield "unknown-field", fv(1, STATUS) + fb(15, b"abc") + fv(4, 1)
    yield "truncated", (fv(1, DUMP) + fb(2, fv(1, 1234)))[:-1]


def resp(type_, err=0, msg=None, **sub):
    out = fv(1, type_) + fv(2, err)
    if msg is not None:
        out += fb(3, msg)
    for num, data in sub.items():
        out += fb(int(num[1:]), data)
    return out


def frame(msgs):
    return b"".join(struct.pack("<H", len(m)) + m for m in msgs)


STATUS_RES = (fb(1, "0.1") + fv(2, 1) + fv(3, 123) + fb(4, "listen") + fv(5, 4567)
              + fv(6, 0) + fv(7, 16))
FEATURES = b"".join(fb(1, fb(1, n) + fv(2, a) + (fb(3, d) if d else b""))
                    for n, a, d in [("kernel", 1, "6.1.0"), ("soft_dirty", 0, "off"),
                                    ("uffd", 1, None), ("evil\x1b]0;x\x07", 1, "\n\t\"")])
DUMP_RES = fv(1, 1) + fv(2, 2) + fv(3, 48) + fv(4, 900) + fv(5, 15000) + fv(6, 29) + fv(7, 4)
RESTORE_RES = fv(1, 4242) + fv(2, 1) + fv(3, 48) + fv(4, 12)
PROG = fb(1, "pages") + fv(2, 5) + fv(3, 10)


def responses():
    # selector: bits 0-1 status, check, dump, restore; 0x10 --json; 0x20 --pidfile
    for json in (0, 0x10):
        yield "status%x" % json, bytes([0 | json]) + frame([resp(STATUS, f8=STATUS_RES)])
        yield "check%x" % json, bytes([1 | json]) + frame([resp(CHECK, f7=FEATURES)])
        yield "dump%x" % json, bytes([2 | json]) + frame(
            [resp(PROGRESS, f4=PROG), resp(PROGRESS), resp(DUMP, f5=DUMP_RES)])
        yield "dump-unrestorable%x" % json, bytes([2 | json]) + frame(
            [resp(DUMP, f5=DUMP_RES + fv(8, 99) + fb(9, "a tty\n"))])
        yield "restore%x" % json, bytes([3 | json | 0x20]) + frame(
            [resp(RESTORE, f6=RESTORE_RES)])
        yield "error%x" % json, bytes([2 | json]) + frame(
            [resp(DUMP, -74, "core-1.img at offset 16: \x1b[31mbad\n")])
    yield "error-nomsg", bytes([3]) + frame([resp(RESTORE, -2)])
    yield "error-positive", bytes([3]) + frame([resp(RESTORE, 5)])
    yield "error-intmin", bytes([3]) + frame([resp(RESTORE, -(1 << 31))])
    yield "no-result", bytes([0]) + frame([resp(STATUS)])
    yield "wrong-result", bytes([1]) + frame([resp(CHECK, f8=STATUS_RES)])
    yield "garbage", bytes([0]) + frame([b"\xff\xff\xff"])
    yield "hangup", bytes([2])
    yield "progress-only", bytes([2]) + frame([resp(PROGRESS, f4=PROG)] * 3)
    yield "empty-msg", bytes([1]) + frame([b""])


def main():
    for idx, name, data in image_cases():
        write("img", "k%d-%s" % (idx, name), bytes([idx]) + data)
    # a set of one kind's broken file each, and a set with no files
    write("imgset", "none", b"")
    for idx, name, data in image_cases():
        if name in ("no-records", "end-miscount", "len-past-eof") or idx == 0:
            write("imgset", "k%d-%s" % (idx, name),
                  bytes([idx]) + struct.pack("<II", 1, len(data)) + data)
    for name, data in requests():
        write("rpc_req", name, data)
    for name, data in responses():
        write("rpc_resp", name, data)


if __name__ == "__main__":
    main()
