#!/bin/sh
# The README's example, run by `make example` (which builds first):
# start the sample program (tests/targets/sample.c: two worker threads over
# a 32 MiB table, a log file), checkpoint it with ckptctl while it keeps
# running, show what the image set holds, and show that the program is
# alive and intact afterwards. Then checkpoint it again the default way (the
# program is gone after the dump), restore it, and show it runs on with the
# same PID and threads, its memory intact.
#
#	sh tests/example.sh		(CKPT_BUILD=dir for another build dir)
set -u
. "$(dirname "$0")/only-stdio.sh"
CKPT_TOP=$(cd "$(dirname "$0")/.." && pwd)
TEST_NAME=example
. "$CKPT_TOP/tests/integration/lib.sh"
. "$CKPT_TOP/tests/integration/restore-lib.sh"

say()
{
	printf '\n== %s\n' "$*"
}

# show_proc PID: what `ps -o pid,ppid,stat,nlwp,rss,cmd -p PID` prints, read
# from /proc (a minimal Debian has no ps)
show_proc()
{
	local pid=$1 st threads rss cmd
	st=$(proc_stat "$pid") || { echo "    pid $pid is gone"; return 0; }
	set -- $st
	threads=$(sed -n 's/^Threads:[[:space:]]*//p' "/proc/$pid/status")
	rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$pid/status")
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline")
	printf '    %7s %7s %-5s %7s %9s %s\n' PID PPID STATE THREADS RSS_KB CMD \
		"$pid" "$2" "$1" "$threads" "$rss" "$cmd"
}

need_file "$TARGETS/sample"
say "starting the sample program"
start_target sample
echo "sample is running as pid $TPID; its log:"
sed 's/^/    /' "$TMP/sample.log"

say "ckptctl dump -t $TPID -D $TMP/images --leave-running"
mkdir -p "$TMP/images"
ckpt_ok dump -t "$TPID" -D "$TMP/images" --leave-running
cat "$LAST_OUT"
ls -l "$TMP/images" | sed 's/^/    /'

say "ckptctl show $TMP/images (summary)"
ckpt_ok show "$TMP/images"
python3 - "$LAST_OUT" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
inv = j["inventory"]
print("image set: format %d, %s, kernel %s, page size %d, xsave %d bytes"
      % (inv["format_version"], inv["kind"], inv["kernel_release"], inv["page_size"], inv["xsave_size"]))
files = {d["id"]: d for d in j["files"]}
for p in j["pstree"]:
    t = j["tasks"].get(str(p["pid"]))
    print("task %d (%s): parent %d, %s, %d thread(s)"
          % (p["pid"], t["core"]["comm"] if t else "?", p["ppid"], p["state"], len(p["threads"])))
    if not t:
        continue
    kinds = {}
    for v in t["mm"]["vmas"]:
        kinds[v["kind"]] = kinds.get(v["kind"], 0) + 1
    print("  %d VMAs: %s" % (len(t["mm"]["vmas"]),
          ", ".join("%d %s" % (n, k[4:].lower()) for k, n in sorted(kinds.items()))))
    ents = t["pagemap"]["entries"]
    stored = sum(e["nr_pages"] for e in ents if e["flags"] & 1)
    print("  %d pages stored (%.1f MiB) in %d checksummed blocks"
          % (stored, stored * inv["page_size"] / 2**20, sum(1 for e in ents if e["flags"] & 1)))
    for th in t["core"]["threads"]:
        print("  thread %d: rip %#x, %s" % (th["tid"], th["regs"]["rip"], th.get("comm", "")))
    for f in t["fs"]["fds"]:
        d = files[f["desc_id"]]
        what = d.get("file", {}).get("path") or d["type"]
        print("  fd %d: %s" % (f["fd"], what))
    print("  cwd %s, umask %03o" % (t["fs"]["cwd"], t["fs"]["umask"]))
PY

say "the program was left running: is it intact?"
check_alive
imgcmp "$TMP/images"
echo "every stored page matches the live memory of pid $TPID"
threads_before=$(ls /proc/$TPID/task | tr '\n' ' ')

say "ckptctl dump -t $TPID -D $TMP/again   (without --leave-running: the program is gone)"
dump_kill "$TMP/again"
cat "$LAST_OUT"
[ -e "/proc/$TPID" ] && fail "pid $TPID still exists after the dump"
echo "pid $TPID no longer exists"

say "ckptctl restore -D $TMP/again"
restore_ok "$TMP/again"
echo "restored: pid $(cat "$TMP/restored.pid")"
threads_after=$(ls /proc/$TPID/task | tr '\n' ' ')
echo "threads before: $threads_before"
echo "threads after:  $threads_after"
[ "$threads_before" = "$threads_after" ] || fail "the threads came back as $threads_after, not $threads_before"
show_proc "$TPID"

say "is the restored program intact?"
check_alive
expect_status pass
echo "sample verified its table, its threads' results and its log after the restore: pass"
sed 's/^/    /' "$TMP/sample.log"
