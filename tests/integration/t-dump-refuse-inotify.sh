#!/bin/sh
# inotify events queued and not read can't be restored (the kernel gives
# them out only by consuming them): a killing dump of a program with such
# events is refused, naming pid, fd and the bytes waiting, and the program
# goes on and reads them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

cat >"$TMP/queued.py" <<'PY'
import ctypes, os, select, signal, struct, time
libc = ctypes.CDLL(None, use_errno=True)
path = os.environ["CKPT_STATUS"] + ".watched"
open(path, "w").close()
fd = libc.inotify_init1(0)
assert fd >= 0 and libc.inotify_add_watch(fd, path.encode(), 0x2) == 1   # IN_MODIFY
with open(path, "a") as f:
    f.write("x")
def verdict(sig, frame):
    ok = select.select([fd], [], [], 1)[0]
    wd, mask = struct.unpack("iI", os.read(fd, 4096)[:8]) if ok else (0, 0)
    with open(os.environ["CKPT_STATUS"], "w") as f:
        f.write("pass\n" if (wd, mask) == (1, 2) else "fail: event %d %#x\n" % (wd, mask))
    os._exit(0)
signal.signal(signal.SIGUSR1, verdict)
with open(os.environ["CKPT_STATUS"], "w") as f:
    f.write("ready %d\n" % os.getpid())
while True:
    time.sleep(600)
PY
start_prog queued python3 "$TMP/queued.py"
dump_refused "$TMP/img" "pid $TPID fd [0-9]+: inotify has [0-9]+ bytes of events not read.*dump again once"
expect_status pass
