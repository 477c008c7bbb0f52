#!/bin/sh
# --file-validation, from the user's side. A process holds a log open for
# appending and follows it with a reader; it is dumped with --leave-running,
# the log grows (another writer), the process is killed. Then:
#  - strict refuses the grown log, naming pid, fd, path and sizes;
#  - an unknown mode is a usage error naming it;
#  - the log truncated below the reader's saved offset is refused (default
#    and path), naming pid, fd, path, offset and size;
#  - the log replaced by a copy is refused by default;
#  - the default restore takes the grown log: the process appends to it
#    and its reader finds what was added, then its own line;
#  - a second process whose log was replaced by a copy (as after copying
#    files to another host) comes back under --file-validation=path.
# Every refusal exits 1 and leaves no process of the tree.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

# start_applog LOG: start the target on LOG, dump it leaving it running
# into $TMP/img.N ($IMG), check the image saw both fds as the target
# says (writer O_APPEND; reader at its offset: $RFD, $ROFF), append to LOG
# as another writer would, then kill the target and wait for its pid.
start_applog()
{
	local log=$1
	start_target applog "$log"
	TREE_PIDS=$TPID
	IMG=$TMP/img.$_lib_nr
	dump_target "$IMG"
	set -- $(grep '^reader ' "$TSTATUS.info")
	RFD=$2
	ROFF=$3
	set -- $(grep '^writer ' "$TSTATUS.info")
	WFD=$2
	[ -n "$RFD" ] && [ -n "$WFD" ] && [ "$ROFF" -gt 0 ] || fail "no fd notes from applog"
	show_json "$IMG"
	PID=$TPID LOG=$log RFD=$RFD WFD=$WFD ROFF=$ROFF json_check "$TMP/show.json" '
e = os.environ
f = fds(e["PID"])
r, w = f[int(e["RFD"])], f[int(e["WFD"])]
assert r["file"]["path"] == e["LOG"] and w["file"]["path"] == e["LOG"], (r, w)
assert r["pos"] == int(e["ROFF"]), "reader saved at %s, not %s" % (r["pos"], e["ROFF"])
assert w["flags"] & os.O_APPEND and w["flags"] & os.O_ACCMODE == os.O_WRONLY, w["flags"]
assert r["file"]["size"] == int(e["ROFF"]), r["file"]
'
	printf 'another writer: line A\nanother writer: line B, after the dump\n' >"$log.grown"
	cat "$log.grown" >>"$log"
	kill -KILL "$TPID"
	wait_gone "$TPID"
}

# refused CODE REGEX ARGS...: restore -D $IMG ARGS fails so, and nothing of
# the tree is left.
refused()
{
	local code=$1 pat=$2
	shift 2
	expect_fail "$code" "$pat" ckptctl restore -D "$IMG" "$@"
	no_tree_left
}

log=$TMP/app.log
start_applog "$log"
pid=$TPID
grown=$(stat -c %s "$log")
[ "$grown" -gt "$ROFF" ] || fail "the log did not grow ($grown bytes)"

refused 1 "pid $pid fd [0-9]+: file $log changed size \\($grown bytes, the image has $ROFF\\)" \
	--file-validation=strict
refused 2 "unknown --file-validation mode 'bogus'" --file-validation=bogus
refused 2 "unknown --file-validation mode ''" --file-validation=

# truncated below the reader's offset: refused but for an append-only writer
cp "$log" "$TMP/log.keep"
truncate -s 10 "$log"
refused 1 "pid $pid fd $RFD: file $log was truncated: the saved offset $ROFF lies past its end \\(10 bytes, $ROFF at the dump\\)"
refused 1 "pid $pid fd $RFD: file $log was truncated: the saved offset $ROFF lies past its end" \
	--file-validation=path
cat "$TMP/log.keep" >"$log"	# the same file (inode) again, its bytes back

# replaced by a copy: refused by default; keep the very file aside
ln "$log" "$TMP/log.orig"
cp "$log" "$log.new" && mv "$log.new" "$log"
refused 1 "pid $pid fd [0-9]+: file $log was replaced \\(device/inode .*--file-validation=path" \
	--file-validation=default
mv "$TMP/log.orig" "$log"

# the default restore takes the grown log; the process checks it appends
# and reads on (expect_status), then so does the harness
restore_ok "$IMG"
check_alive "$pid"
expect_status pass
want=$(printf 'applog %d: written before the dump\n' "$pid"; cat "$log.grown";
	printf 'applog %d: written after the restore\n' "$pid")
[ "$(cat "$log")" = "$want" ] || fail "the log holds '$(cat "$log")', expected '$want'"
log "the default restore took the grown log; the process appended to it"

# path: a copy in place of the file (as on another host) will do
log2=$TMP/copied.log
start_applog "$log2"
pid2=$TPID
cp "$log2" "$log2.new" && mv "$log2.new" "$log2"
refused 1 "pid $pid2 fd [0-9]+: file $log2 was replaced"
ckpt_ok restore -D "$IMG" --file-validation=path --pidfile "$TMP/restored.pid"
[ "$(cat "$TMP/restored.pid")" = "$pid2" ] || fail "restored $(cat "$TMP/restored.pid"), not $pid2"
track_pid "$pid2"
check_alive "$pid2"
expect_status pass
log "--file-validation=path restored with a copy of the log"

# ckptd checks the mode too: a mode it does not know (a newer ckptctl's)
# is refused as a request it can't take (-EBADRQC), never read as default
"$CKPTD" --listen "$TMP/d.sock" --idle-timeout 30 >"$TMP/ckptd.log" 2>&1 &
track_pid $!
wait_path -S "$TMP/d.sock" || fail "ckptd does not listen at $TMP/d.sock"
python3 - "$TMP/d.sock" "$IMG" >"$TMP/raw.out" 2>&1 <<'PY' || fail "raw request: $(cat "$TMP/raw.out")"
import array, os, socket, sys
def varint(n):
    n &= (1 << 64) - 1
    out = b""
    while True:
        b, n = n & 0x7f, n >> 7
        if not n:
            return out + bytes([b])
        out += bytes([b | 0x80])
def field(no, data):
    return bytes([no << 3 | 2]) + varint(len(data)) + data
mode = b"paranoid"
# rpc_request: type RPC_RESTORE, restore_req { detach, file_validation }
req = b"\x08\x02" + field(3, b"\x08\x01" + field(2, mode))
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
fd = os.open(sys.argv[2], os.O_RDONLY | os.O_DIRECTORY)
s.sendmsg([req], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
s.settimeout(60)
resp = s.recv(65536)
assert b"\x10" + varint(-56) in resp, "not refused with -EBADRQC: %r" % resp
assert b"unknown file validation mode 'paranoid'" in resp, resp
print(resp)
PY
log "ckptd refuses an unknown mode: $(tr -cd '[:print:]' <"$TMP/raw.out" | head -c 200)"
