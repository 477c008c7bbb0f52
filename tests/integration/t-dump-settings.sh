#!/bin/sh
# Task settings: handlers with flags and masks, the blocked mask, pending
# signals (thread and process queues, two queued RT instances), a
# sigaltstack, itimers, two POSIX timers, cwd, umask, rlimits, timer slack,
# personality, comm: all in the image, all intact afterwards.
. "$(dirname "$0")/lib.sh"

dump_check settings
ROOT=$TPID json_check "$TMP/show.json" '
import signal
root = int(os.environ["ROOT"])
core = task(root)["core"]
assert core["comm"] == "settings-tgt", core["comm"]
assert core["personality"] == 0x0040000, "personality %#x" % core["personality"]
assert core["timerslack_ns"] == 123456
sa = {s["sig"]: s for s in core["sigactions"]}
SA_SIGINFO, SA_ONSTACK, SA_RESTART, SA_NODEFER, SA_RESETHAND = 4, 0x08000000, 0x10000000, 0x40000000, 0x80000000
u2 = sa[signal.SIGUSR2]
assert u2["handler"] > 1 and u2["flags"] & (SA_SIGINFO | SA_ONSTACK | SA_RESTART) == SA_SIGINFO | SA_ONSTACK | SA_RESTART, u2
assert u2["mask"] == (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGQUIT - 1)), "SIGUSR2 mask %#x" % u2["mask"]
assert sa[signal.SIGHUP]["handler"] == 1 and sa[signal.SIGPIPE]["handler"] == 1
assert sa[signal.SIGTERM]["handler"] == 0
w = sa[signal.SIGWINCH]
assert w["flags"] & (SA_NODEFER | SA_RESETHAND) == SA_NODEFER | SA_RESETHAND, w
rtq = signal.SIGRTMIN + 3
th = threads(root)[0]
for s in (signal.SIGUSR2, signal.SIGWINCH, rtq, signal.SIGRTMIN + 5):
    assert th["sigmask"] & (1 << (s - 1)), "signal %d not blocked: %#x" % (s, th["sigmask"])
assert th["sigaltstack"]["size"] == 64 << 10 and th["sigaltstack"]["sp"], th["sigaltstack"]
def signo(si):
    return int.from_bytes(bytes.fromhex(si["siginfo"])[:4], "little")
thr = [signo(s) for s in th.get("pending", [])]
shd = [signo(s) for s in core.get("shared_pending", [])]
assert signal.SIGUSR2 in thr, "thread pending %s" % thr
assert shd.count(rtq) == 2 and signal.SIGWINCH in shd, "shared pending %s" % shd
it = {i["which"]: i for i in core["itimers"]}
assert it[0]["interval_us"] == 500000000 and 700e6 < it[0]["value_us"] <= 1000e6, it[0]
assert 1900e6 < it[1]["value_us"] <= 2001e6, it[1]	# rounded up to a tick
assert len(core["posix_timers"]) == 2, core["posix_timers"]
pt = sorted(core["posix_timers"], key=lambda t: t["interval_ns"], reverse=True)
assert pt[0]["interval_ns"] == 100 * 10**9 and pt[0]["signo"] == signal.SIGRTMIN + 5 and pt[0]["sival"] & 0xffffffff == 0xabcd, pt[0]
assert pt[1]["notify"] == 1, pt[1]	# SIGEV_NONE
rl = {r["resource"]: r for r in core["rlimits"]}
assert rl[7]["cur"] == 777, "RLIMIT_NOFILE %s" % rl[7]
assert rl[4]["cur"] == 0, "RLIMIT_CORE %s" % rl[4]
# the second thread: its own mask, pending signal, alternate stack
t2 = int([l for l in info if l[0] == "thread"][0][1])
th2 = [t for t in threads(root) if t["tid"] == t2]
assert th2, "thread %d missing" % t2
th2 = th2[0]
sig_t2 = signal.SIGRTMIN + 7
assert th2["sigmask"] & (1 << (sig_t2 - 1)) and th2["sigmask"] & (1 << (signal.SIGUSR1 - 1)), "thread %d mask %#x" % (t2, th2["sigmask"])
assert not th["sigmask"] & (1 << (signal.SIGUSR1 - 1)), "main thread blocks SIGUSR1"
assert [signo(s) for s in th2.get("pending", [])] == [sig_t2], "thread %d pending %s" % (t2, th2.get("pending"))
assert sig_t2 not in thr and sig_t2 not in shd
assert th2["sigaltstack"]["size"] == 32 << 10 and th2["sigaltstack"]["sp"] != th["sigaltstack"]["sp"], th2["sigaltstack"]
fs = task(root)["fs"]
assert fs["cwd"].endswith("/cwd dir"), fs["cwd"]
assert fs["umask"] == 0o27, "umask %#o" % fs["umask"]
'
expect_status pass
