# Helpers of the tests of a listening ckptd's operations (t-daemon-*.sh),
# sourced after lib.sh.

# catch_dump PID: wait (60 s at most) until ckptctl status shows the dump of
# PID writing pages, well before its end, and stop (SIGSTOP) the handler
# serving it there, so that the test can look, cancel or signal at its
# own pace; SIGCONT to $OP_HANDLER lets it go on. Sets OP_ID, OP_HANDLER.
catch_dump()
{
	local out
	out=$(python3 - "$CKPTCTL" "$1" <<'PY'
import json, os, signal, subprocess, sys, time
ckptctl, pid = sys.argv[1], int(sys.argv[2])
def find_once():
    out = subprocess.run([ckptctl, "status", "--json"], capture_output=True, text=True).stdout
    try:
        ops = json.loads(out).get("operations", [])
    except ValueError:
        return None
    for o in ops:
        if o["kind"] == "dump" and o.get("target_pid") == pid:
            return o
    return None
def find():
    # a status that failed (a loaded machine) is asked again
    for _ in range(20):
        o = find_once()
        if o:
            return o
        time.sleep(0.05)
    return None
end = time.time() + 60
o = None
while time.time() < end and not o:
    o = find()
if not o:
    sys.exit(1)
# stop the handler at once, then let it run in small steps until it is
# writing pages, well before the end (the table lags the dump by up to a
# tenth of a second: progress is recorded at most ten times a second)
h = o["handler_pid"]
while time.time() < end:
    os.kill(h, signal.SIGSTOP)
    o = find()
    if not o:
        sys.exit(1)
    if o.get("stage") == "pages" and 0 < o["done"] < o["total"] * 0.6:
        print(o["id"], h)
        sys.exit(0)
    if o.get("stage") not in (None, "freeze", "check", "tasks", "pages"):
        print("catch_dump: missed the pages stage: %r" % o, file=sys.stderr)
        sys.exit(1)
    if o.get("stage") == "pages" and o["done"] >= o["total"] * 0.6:
        print("catch_dump: caught too late: %r" % o, file=sys.stderr)
        sys.exit(1)
    os.kill(h, signal.SIGCONT)
    time.sleep(0.01)
sys.exit(1)
PY
) || fail "ckptctl status never showed the dump of pid $1 writing pages"
	OP_ID=${out% *}
	OP_HANDLER=${out#* }
}
