#!/bin/sh
# Progress of a dump, as ckptctl draws it on a terminal: the "pages" count
# runs on across the tasks of a tree (each task's pages add to those of the
# tasks before it), never passes its total, and ends at the pages the
# inventory says were written; the stages come in the order of the dump.
# The inventory also holds what the threads' xsave areas say (dump.c
# records what each task's core dump found): x87 and SSE at least, and an
# area as large as the largest thread's.
. "$(dirname "$0")/lib.sh"

start_target procs
mkdir "$TMP/img"
# stderr on a pty: ckptctl draws its progress line only on a terminal
timeout -k 10 "$CKPT_TIMEOUT" python3 - "$CKPTCTL" dump -t "$TPID" -D "$TMP/img" \
	--leave-running >"$TMP/progress" 2>"$TMP/progress.err" <<'EOF' ||
import os, pty, subprocess, sys
master, slave = pty.openpty()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=slave)
os.close(slave)
out = b""
while True:
    try:
        data = os.read(master, 65536)
    except OSError:		# EIO: the pty's last slave fd closed
        break
    if not data:
        break
    out += data
sys.stdout.write(out.decode(errors="replace"))
sys.exit(p.wait())
EOF
	fail "ckptctl dump on a terminal failed: $(head -c 2000 "$TMP/progress") $(head -c 500 "$TMP/progress.err")"
check_alive
show_json "$TMP/img"
PROGRESS=$TMP/progress json_check "$TMP/show.json" '
import re
text = open(os.environ["PROGRESS"], errors="replace").read()
steps = re.findall(r"dump: ([a-z ]+?)(?: (\d+)/(\d+) \(\d+%\)[^\r\x1b]*)?\x1b\[K", text)
assert steps, "no progress drawn: %r" % text[:500]
stages = []
for s, _, _ in steps:
    if not stages or stages[-1] != s:
        stages.append(s)
assert stages[0] == "freeze" and stages[-2:] == ["check", "commit"], stages
pages = [(int(d), int(t)) for s, d, t in steps if s == "pages"]
live = sum(1 for p in j["pstree"] if p["state"] != "TASK_ZOMBIE")
# each task ends its pages with one report, the first after its "tasks" one
assert len(pages) >= live, "%d pages reports for %d live tasks: %s" % (len(pages), live, pages)
for (d0, _), (d1, _) in zip(pages, pages[1:]):
    assert d1 >= d0, "the pages count went back from %d to %d: %s" % (d0, d1, pages)
for d, t in pages:
    assert d <= t, "pages %d/%d: past the total" % (d, t)
written = j["inventory"]["pages_written"]
assert pages[-1][0] == written, "pages count ends at %d, the inventory says %d written: %s" % (pages[-1][0], written, pages)
assert pages[0][0] < written, "the first task wrote every page? %s" % pages
inv = j["inventory"]
assert inv["xfeatures"] & 3 == 3, "xfeatures %#x" % inv["xfeatures"]
sizes = [len(th["xsave"]) // 2 for p in j["pstree"] if p["state"] != "TASK_ZOMBIE" for th in threads(p["pid"])]
assert inv["xsave_size"] == max(sizes), "xsave_size %d, the threads saved %s" % (inv["xsave_size"], sizes)
'
expect_status pass
