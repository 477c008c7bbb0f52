#!/bin/sh
# A ckptd that ckptctl does not understand, or that does not understand
# ckptctl: exit 7, with the daemon's own words. The daemon here is a
# stand-in on $CKPT_SOCKET that answers each connection with one canned
# reply: a well-formed refusal (-EBADRQC, as ckptd gives for another
# protocol version or a malformed request), then bytes that are no answer.
# That the real ckptd refuses such requests with -EBADRQC is tested in
# tests/unit/test_rpc.c.
. "$(dirname "$0")/lib.sh"

SOCK=$TMP/fake.sock
export CKPT_SOCKET=$SOCK

/usr/bin/python3 - "$SOCK" <<'PY' &
import socket, sys

def varint(n):
    n &= (1 << 64) - 1
    out = b""
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])

msg = b"protocol version 1 (ckptd speaks 9)"
# rpc_response: type = RPC_CHECK (3), err = -EBADRQC (-56), message
refusal = b"\x08" + varint(3) + b"\x10" + varint(-56) + b"\x1a" + varint(len(msg)) + msg
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])
s.listen(4)
s.settimeout(60)
for reply in (refusal, refusal, b"\xff\xff\xff\xff"):
    c, _ = s.accept()
    c.recv(65536)
    c.send(reply)
    c.close()
PY
track_pid $!
wait_path -S "$SOCK" || fail "the stand-in daemon did not start"

expect_fail 7 "ckptctl check: protocol version 1 \(ckptd speaks 9\)" ckptctl check
ckpt check --json
[ $LAST_RC -eq 7 ] && [ ! -s "$LAST_ERR" ] || fail "check --json: $LAST_RC, $(cat "$LAST_ERR")"
json_check "$LAST_OUT" 'assert j["errno"] == 56 and "protocol version" in j["error"], j'
expect_fail 7 "ckptctl check: bad answer from ckptd" ckptctl check
