#!/bin/sh
# A real interpreter nobody here wrote: python3 builds a heap of known
# state (a dict of 200000 entries, lists of bytes and floats), starts a
# thread that ticks every few milliseconds into an eventfd, and waits in
# its default selector (epoll) on that eventfd and on a FIFO of requests.
# Each tick read adds to a counter; on each request it writes
# "REQUEST COUNTER DIGEST EXPECTED" (the digest of its heap now and when
# it started) to a file. Asked before the dump and after the restore, it
# must answer with the same digest, the next request number and a counter
# that went on from where it was.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

command -v python3 >/dev/null || skip "no python3"
mkfifo "$TMP/req" || fail "mkfifo"
cat >"$TMP/prog.py" <<'PY'
import hashlib, os, selectors, sys, threading, time

class State:
    def __init__(self):
        self.table = {i: "v%d" % (i * i) * (1 + i % 5) for i in range(200000)}
        self.blobs = [bytes((i * 7 + j) & 255 for j in range(i % 300)) for i in range(20000)]
        self.floats = [i / 7.0 for i in range(50000)]
        self.requests = 0

    def digest(self):
        h = hashlib.sha256()
        for k in sorted(self.table):
            h.update(b"%d=%s;" % (k, self.table[k].encode()))
        for b in self.blobs:
            h.update(b)
        h.update(repr(self.floats).encode())
        return h.hexdigest()

state = State()
expect = state.digest()
req = os.open(sys.argv[1], os.O_RDWR | os.O_CLOEXEC)   # never sees EOF
out = sys.argv[2]
ticks = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
counter = 0

def ticker():
    while True:
        time.sleep(0.005)
        os.eventfd_write(ticks, 1)

def answer():
    state.requests += 1
    with open(out + ".tmp", "w") as f:
        f.write("%d %d %s %s\n" % (state.requests, counter, state.digest(), expect))
    os.rename(out + ".tmp", out)

sel = selectors.DefaultSelector()
sel.register(req, selectors.EVENT_READ, "req")
sel.register(ticks, selectors.EVENT_READ, "tick")
threading.Thread(target=ticker, daemon=True).start()
with open(os.environ["CKPT_STATUS"] + ".tmp", "w") as f:
    f.write("ready %d\n" % os.getpid())
os.rename(os.environ["CKPT_STATUS"] + ".tmp", os.environ["CKPT_STATUS"])
while True:
    for key, _ in sel.select():
        if key.data == "tick":
            counter += os.eventfd_read(ticks)
            continue
        for c in os.read(req, 64).decode().split():
            if c == "q":
                answer()
            elif c == "exit":
                sys.exit(0)
PY

# ask TAG: one request, the answer in $TMP/answer.TAG
ask()
{
	rm -f "$TMP/answer"
	echo q >"$TMP/req"
	wait_file "$TMP/answer" 60
	mv "$TMP/answer" "$TMP/answer.$1"
	log "$1: $(cut -c 1-40 "$TMP/answer.$1")..."
}

start_prog python3 python3 "$TMP/prog.py" "$TMP/req" "$TMP/answer"
for kind in eventpoll eventfd; do
	ls -l "/proc/$TPID/fd/" | grep -q "anon_inode:\[$kind\]" ||
		fail "python3 has no $kind fd: $(ls -l "/proc/$TPID/fd/")"
done
[ "$(ls "/proc/$TPID/task" | wc -l)" -ge 2 ] || fail "python3 runs no second thread"
ask before
read -r n1 c1 d1 e1 <"$TMP/answer.before"
[ "$n1" = 1 ] && [ "$d1" = "$e1" ] || fail "python3 answers badly before the dump: $(cat "$TMP/answer.before")"
sleep 0.3	# let the counter run on
dump_kill "$TMP/img"
restore_ok "$TMP/img"
check_alive "$TPID"
ask after
read -r n2 c2 d2 e2 <"$TMP/answer.after"
[ "$n2" = 2 ] || fail "request number $n2 after restore, want 2 (the heap's counter was lost?)"
[ "$d2" = "$d1" ] || fail "heap digest after restore $d2, before $d1"
[ "$e2" = "$e1" ] || fail "remembered digest $e2 after restore, was $e1"
[ "$c2" -gt "$c1" ] || fail "loop counter $c2 after restore, was $c1 before the dump"
c_before_kill=$c2
# still counting, and it exits cleanly when asked
ask again
read -r n3 c3 d3 e3 <"$TMP/answer.again"
[ "$n3" = 3 ] && [ "$c3" -gt "$c2" ] || fail "third answer: $(cat "$TMP/answer.again")"
echo exit >"$TMP/req"
wait_gone "$TPID" 10
log "python3 $TPID: counter $c1 before the dump, $c2 and $c3 after restore, digest kept"
