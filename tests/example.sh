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

say "ckptctl show $TMP/images"
# what the set holds, as ckptctl prints it for a person (every field:
# ckptctl show --json); each checksum is verified first
ckpt_ok show "$TMP/images"
sed '/./s/^/    /' "$LAST_OUT"
grep -q "^Task $TPID (sample), 3 threads:" "$LAST_OUT" ||
	fail "show does not list the sample's 3 threads: $(grep '^Task' "$LAST_OUT")"
grep -q '^Checked: .*: all good$' "$LAST_OUT" || fail "show: $(tail -n 2 "$LAST_OUT")"
echo "fds 0-2 are the stdio the example gave the sample (/dev/null, then its"
echo "output file $TLOG); it opened the others itself."
echo "one page of its table (ckptctl show --pages ADDR), the first 64 bytes:"
table=$(sed -n 's/^ *\([0-9a-f]*\)-[0-9a-f]* *32\.0 MiB  rw-p  anon private .*/\1/p' "$LAST_OUT" | head -n 1)
[ -n "$table" ] || fail "show lists no 32 MiB anonymous map (the sample's table)"
ckpt_ok show --pages "$table" "$TMP/images"
head -n 5 "$LAST_OUT" | sed 's/^/    /'

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
