#!/bin/sh
# Open files: regular files at offsets, a dup (one description), O_APPEND,
# close-on-exec, a pipe of 128 KiB capacity filled to the brim, a FIFO
# with unread bytes, a deleted-but-open file, a sealed memfd, /dev/null, a
# directory. Then again with the deleted file and the memfd mapped.
. "$(dirname "$0")/lib.sh"

check='
root = int(os.environ["ROOT"])
f = fds(root)
def want(fd, typ, acc, cloexec):
    d = f.get(fd)
    assert d, "fd %d missing from the image" % fd
    assert d["type"] == typ, "fd %d: %s, expected %s" % (fd, d["type"], typ)
    assert d["flags"] & 3 == acc, "fd %d: flags %#o" % (fd, d["flags"])
    assert d["cloexec"] == cloexec, "fd %d: cloexec %s" % (fd, d["cloexec"])
    return d
reg = want(10, "FD_REG", os.O_RDWR, False)
assert reg["pos"] == 12345, "fd 10 pos %s" % reg.get("pos")
assert reg["file"]["path"].endswith("/fds-regular.dat") and reg["file"]["size"] == 256 << 10
dup = want(11, "FD_REG", os.O_RDWR, False)
assert dup["id"] == reg["id"], "fd 11 is not the description of fd 10"
ro = want(20, "FD_REG", os.O_RDONLY, True)
assert ro["id"] != reg["id"] and ro["pos"] == 4321
app = want(12, "FD_REG", os.O_WRONLY, True)
assert app["flags"] & os.O_APPEND, "fd 12 lost O_APPEND"
pr = want(13, "FD_PIPE", os.O_RDONLY, False)
pw = want(14, "FD_PIPE", os.O_WRONLY, True)
assert pr["pipe_ino"] == pw["pipe_ino"], "pipe ends differ"
data = pr.get("pipe_data") or pw.get("pipe_data")
assert data and len(data) == 2 * (128 << 10), "pipe data: %d hex digits" % len(data or "")
if "pipe_size" in pr or "pipe_size" in pw:
    assert (pr.get("pipe_size") or pw.get("pipe_size")) == 128 << 10, "pipe capacity"
fifo = want(15, "FD_FIFO", os.O_RDWR, False)
assert fifo["flags"] & os.O_NONBLOCK
assert len(fifo.get("pipe_data", "")) == 2 * 700, "fifo data: %d hex digits" % len(fifo.get("pipe_data", ""))
dl = want(16, "FD_REG", os.O_RDWR, False)
assert dl.get("deleted"), "fd 16 not marked deleted"
assert dl["pos"] == 777
assert "ghost_id" in dl, "deleted file without a ghost image"
mf = want(17, "FD_MEMFD", os.O_RDWR, False)
assert mf.get("memfd_name", "").startswith("ckpt-test-memfd"), mf.get("memfd_name")
assert mf["pos"] == 999
want(18, "FD_CHR", os.O_WRONLY, True)
want(19, "FD_DIR", os.O_RDONLY, False)
'

dump_check fds
[ -n "$(ls "$IMG"/ghost-*.img 2>/dev/null)" ] || fail "no ghost image for the deleted file"
ROOT=$TPID json_check "$TMP/show.json" "$check"
expect_status pass

dump_check fds -m
ROOT=$TPID json_check "$TMP/show.json" "$check"'
m = [v for v in vmas(root) if v.get("file", {}).get("path", "").endswith("/fds-deleted.dat")]
assert len(m) == 1 and m[0]["kind"] == "VMA_FILE_SHARED" and m[0].get("deleted"), m
'
expect_status pass
