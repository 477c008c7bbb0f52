#!/bin/sh
# make bench: how a dump and a restore of N MiB of written anonymous memory
# compare with the plain copy of the same bytes, measured in the same run.
#
# dump: `ckptctl dump --leave-running --json` of memhog (tests/bench/
# memhog.c: every page written, then idle) against memcopy (tests/bench/
# memcopy.c: process_vm_readv in the dump's batch size, write(2) to a file
# in the same directory from a second thread, no data fsync, like the
# dump). One unmeasured dump and copy warm the page cache and the
# allocator, then REPS rounds alternate the two.
#
# restore: memhog is dumped once more and stopped; REPS rounds alternate
# `ckptctl restore --json` of that set (wall time until the command returns,
# which it does once every task runs) and memread (tests/bench/memread.c:
# a fresh anonymous region preadv()ed from the same pages-N.img in the
# restorer's block layout; its own time from open to the last byte in
# place, without the exit that frees the region). After each restore the
# restored memhog is killed by PID and its PID waited for: a restore fails
# while the PID is taken, and PID 1 reaps slowly here. The unmeasured first
# restore lets memhog check every page (SIGUSR1) and gives ckptd's peak RSS.
#
# Each column is the median of its REPS values. ckpt_ms is ckptctl's wall
# time, daemon_ms what the daemon reports (dump total_us, restore ms);
# best_ratio is the fastest run over the fastest baseline: first touches of
# memory in this VM cost a lot at random (freed memory is handed back to
# the host), which the median of 3 does not always hide.
# ckptd's peak RSS comes from the dump result (peak_rss_kb), or from polling
# VmHWM of the one-shot ckptd (always so for restore, in the unmeasured
# run; for dumps it then costs the measured dump a little time). The aim:
# ratio within 1.25, ckptd's peak RSS under 64 MiB.
#
#	BENCH_SIZES="256 1024"  sizes in MiB
#	BENCH_REPS=3            rounds per size and operation
#	BENCH_RAW=1             also print every measurement
#	CKPT_BUILD / O          the build directory (default build)
#
# The one-shot ckptd of that build is used (CKPT_SOCKET points nowhere).
# Every process started here, restored ones included, is killed by PID and
# every file removed on exit. Exit status 1 when a dump, a restore or the
# target itself fails; being over the aim is reported, not failed (the
# machine's load moves the numbers).

set -u
. "$(dirname "$0")/../only-stdio.sh"
. "$(dirname "$0")/lib.sh"

MEMHOG=$BUILD/bench/memhog
MEMCOPY=$BUILD/bench/memcopy
MEMREAD=$BUILD/bench/memread
SIZES=${BENCH_SIZES:-"256 1024"}
REPS=${BENCH_REPS:-3}

HOG=
RESTORED=
TMP=
POLL_RSS=

cleanup()
{
	trap - EXIT INT TERM HUP
	if [ -n "$HOG" ]; then
		kill -KILL "$HOG" 2>/dev/null
		wait "$HOG" 2>/dev/null
	fi
	[ -n "$RESTORED" ] && kill -KILL "$RESTORED" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
}

for b in "$CKPTCTL" "$BUILD/bin/ckptd" "$MEMHOG" "$MEMCOPY" "$MEMREAD"; do
	[ -x "$b" ] || die "$b is missing: run make bench (with the same O=)"
done
bench_tmp

stop_hog()
{
	verify_hog "$HOG" "$TMP/hog.status" "after the dumps"
	wait "$HOG" 2>/dev/null
	HOG=
}

# The peak RSS (VmHWM, KiB) of the one-shot ckptd that ckptctl pid $1 runs,
# polled until ckptctl exits.
poll_daemon_rss()
{
	local ctl=$1 hwm=0 d v st
	while :; do
		# until ckptctl has exited (a zombie until waited for)
		st=$(cat "/proc/$ctl/stat" 2>/dev/null) || break
		st=${st##*) }
		[ "${st%% *}" = Z ] && break
		for d in $(cat "/proc/$ctl/task/$ctl/children" 2>/dev/null); do
			v=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$d/status" 2>/dev/null)
			[ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm=$v
		done
		sleep 0.02
	done
	echo "$hwm"
}

# ckptctl with its peak RSS polled: $1 the file for the RSS, then the
# command line; returns ckptctl's status
ckptctl_polled()
{
	local rssfile=$1 ctl rc=0
	shift
	"$CKPTCTL" "$@" &
	ctl=$!
	poll_daemon_rss $ctl >"$rssfile"
	wait $ctl || rc=$?
	return $rc
}

# one dump; appends "wall_us total_us freeze_us pages peak_rss_kb" to
# $TMP/dump.txt
dump_once()
{
	local t0 t1 rc=0 rss= out=$TMP/dump.json
	rm -rf "$TMP/img"
	t0=$(now_us)
	if [ -z "$POLL_RSS" ]; then
		"$CKPTCTL" dump -t "$HOG" -D "$TMP/img" --leave-running --json >"$out" \
			2>"$TMP/dump.err" || rc=$?
	else
		ckptctl_polled "$TMP/rss" dump -t "$HOG" -D "$TMP/img" --leave-running \
			--json >"$out" 2>"$TMP/dump.err" || rc=$?
		rss=$(cat "$TMP/rss")
	fi
	t1=$(now_us)
	[ $rc -eq 0 ] || die "ckptctl dump failed: $(cat "$TMP/dump.err")"
	rm -rf "$TMP/img"
	if [ "$1" != measure ]; then
		# the daemon reports its peak RSS, or it is read from /proc
		[ -n "$(json_num "$out" peak_rss_kb)" ] || POLL_RSS=1
		return 0
	fi
	[ -z "$POLL_RSS" ] && rss=$(json_num "$out" peak_rss_kb)
	echo "$((t1 - t0)) $(json_num "$out" total_us) $(json_num "$out" freeze_us)" \
		"$(json_num "$out" pages) $rss" >>"$TMP/dump.txt"
}

# one baseline copy; appends its wall time in us to $TMP/base.txt
copy_once()
{
	local t0 t1
	t0=$(now_us)
	"$MEMCOPY" "$HOG" "$TMP/copy.img" >/dev/null 2>"$TMP/copy.err" ||
		die "memcopy failed: $(cat "$TMP/copy.err")"
	t1=$(now_us)
	rm -f "$TMP/copy.img"
	[ "$1" = measure ] || return 0
	echo "$((t1 - t0))" >>"$TMP/base.txt"
}

# "utime_ms stime_ms" of pid $1: for a restored memhog, idle since, the
# restorer's own work (user: checksums; system: faults and reads)
cpu_ms()
{
	awk -v hz="$(getconf CLK_TCK)" '{
		sub(/^.*\) /, "")
		printf "%d %d", $12 * 1000 / hz, $13 * 1000 / hz
	}' "/proc/$1/stat"
}

# One restore of $TMP/rimg. $1: "first" (ckptd's RSS polled, then memhog
# checks every page and exits) or "measure" (appends "wall_us ms pages" to
# $TMP/restore.txt, then the restored memhog is killed); either way its PID
# is free again on return.
restore_once()
{
	local t0 t1 rc=0 pid out=$TMP/restore.json
	rm -f "$TMP/hog.status"
	t0=$(now_us)
	if [ "$1" = first ]; then
		ckptctl_polled "$TMP/restore.rss" restore -D "$TMP/rimg" --json >"$out" \
			2>"$TMP/restore.err" || rc=$?
	else
		"$CKPTCTL" restore -D "$TMP/rimg" --json >"$out" 2>"$TMP/restore.err" || rc=$?
	fi
	t1=$(now_us)
	pid=$(json_num "$out" pid)
	[ $rc -eq 0 ] && [ -n "$pid" ] ||
		die "ckptctl restore failed: $(cat "$TMP/restore.err" "$out")"
	RESTORED=$pid
	if [ "$1" = first ]; then
		verify_hog "$pid" "$TMP/hog.status" "after its restore"
	else
		echo "$((t1 - t0)) $(json_num "$out" ms) $(json_num "$out" pages)" \
			"$(cpu_ms "$pid")" >>"$TMP/restore.txt"
		kill -KILL "$pid"
	fi
	wait_gone "$pid"
	RESTORED=
}

# one restore baseline; appends its own time in us to $TMP/rbase.txt
read_once()
{
	local pages
	pages=$(ls -S "$TMP"/rimg/pages-*.img | head -n 1)
	"$MEMREAD" "$pages" >"$TMP/read.out" 2>"$TMP/read.err" ||
		die "memread failed: $(cat "$TMP/read.err")"
	[ "$1" = measure ] || return 0
	cut -d' ' -f2 "$TMP/read.out" >>"$TMP/rbase.txt"
}

# row OP MIB WALL_US DAEMON_US FREEZE_US PAGES RSS_KB BASE_US BEST_RATIO:
# one table row (an empty FREEZE_US or RSS_KB prints as -)
row()
{
	awk -v op="$1" -v m="$2" -v w="$3" -v d="$4" -v f="$5" -v p="$6" -v r="$7" -v b="$8" \
	    -v br="$9" 'BEGIN {
		fs = f == "" ? "-" : sprintf("%.2f", f / 1000)
		rs = r == "" ? "-" : sprintf("%.1f MiB", r / 1024)
		printf "| %-7s | %8s | %7.1f | %9.1f | %9s | %11.1f | %5.2f | %10.2f | %8.0f | %14s |\n",
		       op, m " MiB", w / 1000, d / 1000, fs, b / 1000, w / b, br, p / (w / 1e6), rs
	}' >>"$TMP/table.txt"
	awk -v op="$1" -v m="$2" -v w="$3" -v b="$8" -v r="${7:-0}" 'BEGIN {
		s = ""
		if (w / b > 1.25) s = s " ratio over 1.25"
		if (r >= 64 * 1024) s = s " RSS over 64 MiB"
		if (s != "") printf "  %s %s MiB:%s\n", op, m, s
	}' >>"$TMP/over.txt"
}

# best_ratio TIMES BASES: the fastest run of the first column of TIMES over
# the fastest of BASES
best_ratio()
{
	awk -v w="$(cut -d' ' -f1 "$1" | least)" -v b="$(least <"$2")" 'BEGIN { print w / b }'
}

bench_dump()
{
	local mib=$1 r=0
	: >"$TMP/dump.txt"
	: >"$TMP/base.txt"
	dump_once warmup
	copy_once warmup
	while [ $r -lt "$REPS" ]; do
		dump_once measure
		copy_once measure
		r=$((r + 1))
	done
	row dump "$mib" "$(cut -d' ' -f1 "$TMP/dump.txt" | median)" \
		"$(cut -d' ' -f2 "$TMP/dump.txt" | median)" \
		"$(cut -d' ' -f3 "$TMP/dump.txt" | median)" \
		"$(cut -d' ' -f4 "$TMP/dump.txt" | median)" \
		"$(cut -d' ' -f5 "$TMP/dump.txt" | median)" "$(median <"$TMP/base.txt")" \
		"$(best_ratio "$TMP/dump.txt" "$TMP/base.txt")"
	if [ -n "${BENCH_RAW:-}" ]; then
		echo "  dump $mib MiB (wall_us total_us freeze_us pages rss_kb):" \
			"$(tr '\n' ',' <"$TMP/dump.txt")" >>"$TMP/raw.txt"
		echo "  memcopy $mib MiB (us): $(tr '\n' ' ' <"$TMP/base.txt")" >>"$TMP/raw.txt"
	fi
}

# $TMP/rimg must hold memhog's set, memhog stopped
bench_restore()
{
	local mib=$1 r=0
	: >"$TMP/restore.txt"
	: >"$TMP/rbase.txt"
	restore_once first
	read_once warmup
	while [ $r -lt "$REPS" ]; do
		restore_once measure
		read_once measure
		r=$((r + 1))
	done
	row restore "$mib" "$(cut -d' ' -f1 "$TMP/restore.txt" | median)" \
		"$(($(cut -d' ' -f2 "$TMP/restore.txt" | median) * 1000))" "" \
		"$(cut -d' ' -f3 "$TMP/restore.txt" | median)" "$(cat "$TMP/restore.rss")" \
		"$(median <"$TMP/rbase.txt")" "$(best_ratio "$TMP/restore.txt" "$TMP/rbase.txt")"
	if [ -n "${BENCH_RAW:-}" ]; then
		echo "  restore $mib MiB (wall_us ms pages utime_ms stime_ms):" \
			"$(tr '\n' ',' <"$TMP/restore.txt")" >>"$TMP/raw.txt"
		echo "  memread $mib MiB (us): $(tr '\n' ' ' <"$TMP/rbase.txt")" >>"$TMP/raw.txt"
	fi
}

: >"$TMP/table.txt"
: >"$TMP/over.txt"
: >"$TMP/raw.txt"
for mib in $SIZES; do
	echo "bench: $mib MiB..." >&2
	start_hog "$mib" "$TMP/hog.status"
	bench_dump "$mib"
	rm -rf "$TMP/rimg"
	"$CKPTCTL" dump -t "$HOG" -D "$TMP/rimg" --leave-running >/dev/null \
		2>"$TMP/dump.err" || die "ckptctl dump for the restores failed: $(cat "$TMP/dump.err")"
	stop_hog
	bench_restore "$mib"
	rm -rf "$TMP/rimg"
done

echo "| op      | size     | ckpt_ms | daemon_ms | freeze_ms | baseline_ms | ratio | best_ratio | pages/s  | ckptd peak RSS |"
echo "|---------|----------|---------|-----------|-----------|-------------|-------|------------|----------|----------------|"
cat "$TMP/table.txt"
cat "$TMP/raw.txt"
echo "median of $REPS runs each; ckpt_ms: ckptctl's wall time; daemon_ms: what it reports;"
echo "baseline: memcopy (dump), memread (restore); ratio = ckpt_ms / baseline_ms;"
echo "best_ratio: fastest run over fastest baseline (this VM's first touch of memory is noisy);"
echo "aim: ratio <= 1.25, ckptd peak RSS < 64 MiB"
if [ -s "$TMP/over.txt" ]; then
	echo "over the aim:"
	cat "$TMP/over.txt"
fi
exit 0
