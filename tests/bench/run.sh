#!/bin/sh
# make bench: how a dump of N MiB of written anonymous memory compares with
# the plain copy of the same bytes (tests/bench/memcopy.c: process_vm_readv
# in the dump's batch size, write(2) to a file in the same directory, no
# data fsync, like the dump).
#
# For each size: memhog (tests/bench/memhog.c) writes every page and waits;
# one unmeasured dump and copy warm the page cache and the allocator, then
# REPS rounds alternate `ckptctl dump --leave-running --json` and memcopy.
# Each column is the median of its REPS values. ckptd's peak RSS comes from
# the dump result (peak_rss_kb), or, for a daemon that does not report it,
# from polling VmHWM of the one-shot ckptd (which then costs the dump a
# little time). The aim: dump within 1.25x of the baseline, ckptd's peak
# RSS under 64 MiB.
#
#	BENCH_SIZES="256 1024"  sizes in MiB
#	BENCH_REPS=3            rounds per size
#	BENCH_RAW=1             also print every measurement
#	CKPT_BUILD / O          the build directory (default build)
#
# Every process started here is killed by PID and every file removed on
# exit. Exit status 1 when a dump or the target itself fails; being over
# the aim is reported, not failed (the machine's load moves the numbers).

set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${CKPT_BUILD:-${O:-build}}
case $BUILD in
/*) ;;
*) BUILD=$TOP/$BUILD ;;
esac
CKPTCTL=$BUILD/bin/ckptctl
MEMHOG=$BUILD/bench/memhog
MEMCOPY=$BUILD/bench/memcopy
SIZES=${BENCH_SIZES:-"256 1024"}
REPS=${BENCH_REPS:-3}

HOG=
TMP=
POLL_RSS=

cleanup()
{
	trap - EXIT INT TERM HUP
	if [ -n "$HOG" ]; then
		kill -KILL "$HOG" 2>/dev/null
		wait "$HOG" 2>/dev/null
	fi
	[ -n "$TMP" ] && rm -rf "$TMP"
}

die()
{
	echo "bench: $*" >&2
	exit 1
}

for b in "$CKPTCTL" "$MEMHOG" "$MEMCOPY"; do
	[ -x "$b" ] || die "$b is missing: run make bench (with the same O=)"
done
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-bench.XXXXXX") || die "mktemp failed"
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

now_us()
{
	echo $(($(date +%s%N) / 1000))
}

# median of the numbers on stdin
median()
{
	sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# json_num FILE KEY: the number after "KEY": in a one-object JSON answer
json_num()
{
	sed -n "s/.*\"$2\": *\([0-9][0-9]*\).*/\1/p" "$1"
}

start_hog()
{
	local i=0
	rm -f "$TMP/hog.status"
	CKPT_STATUS=$TMP/hog.status "$MEMHOG" "$1" </dev/null >"$TMP/hog.log" 2>&1 &
	HOG=$!
	until grep -q '^ready' "$TMP/hog.status" 2>/dev/null; do
		kill -0 "$HOG" 2>/dev/null || die "memhog $1 exited: $(cat "$TMP/hog.log")"
		i=$((i + 1))
		[ $i -le 1200 ] || die "memhog $1 not ready after 120 s"
		sleep 0.1
	done
}

stop_hog()
{
	local i=0 line
	kill -USR1 "$HOG"
	while :; do
		line=$(cat "$TMP/hog.status" 2>/dev/null)
		case $line in
		pass | fail*) break ;;
		esac
		i=$((i + 1))
		[ $i -le 600 ] || die "memhog gave no verdict after SIGUSR1"
		sleep 0.1
	done
	wait "$HOG" 2>/dev/null
	HOG=
	[ "$line" = pass ] || die "memhog after the dumps: $line"
}

# The peak RSS (VmHWM, KiB) of the one-shot ckptd that ckptctl pid $1 runs,
# polled until ckptctl exits: only used when the dump result lacks
# peak_rss_kb.
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

# one dump; appends "wall_us freeze_us pages peak_rss_kb" to $TMP/dump.txt
dump_once()
{
	local t0 t1 ctl rc=0 rss out=$TMP/dump.json
	rm -rf "$TMP/img"
	t0=$(now_us)
	if [ -z "$POLL_RSS" ]; then
		"$CKPTCTL" dump -t "$HOG" -D "$TMP/img" --leave-running --json >"$out" \
			2>"$TMP/dump.err" || rc=$?
	else
		"$CKPTCTL" dump -t "$HOG" -D "$TMP/img" --leave-running --json >"$out" \
			2>"$TMP/dump.err" &
		ctl=$!
		rss=$(poll_daemon_rss $ctl)
		wait $ctl || rc=$?
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
	echo "$((t1 - t0)) $(json_num "$out" freeze_us) $(json_num "$out" pages) $rss" \
		>>"$TMP/dump.txt"
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

printf '%-9s %9s %10s %11s %10s %12s %7s\n' size dump_ms freeze_ms pages/s rss_MiB \
	baseline_ms ratio
over=
for mib in $SIZES; do
	start_hog "$mib"
	: >"$TMP/dump.txt"
	: >"$TMP/base.txt"
	dump_once warmup
	copy_once warmup
	r=0
	while [ $r -lt "$REPS" ]; do
		dump_once measure
		copy_once measure
		r=$((r + 1))
	done
	stop_hog

	wall=$(cut -d' ' -f1 "$TMP/dump.txt" | median)
	freeze=$(cut -d' ' -f2 "$TMP/dump.txt" | median)
	pages=$(cut -d' ' -f3 "$TMP/dump.txt" | median)
	rss=$(cut -d' ' -f4 "$TMP/dump.txt" | median)
	base=$(median <"$TMP/base.txt")
	row=$(awk -v w="$wall" -v f="$freeze" -v p="$pages" -v r="$rss" -v b="$base" -v m="$mib" 'BEGIN {
		rs = r == "" ? "n/a" : sprintf("%.1f", r / 1024)
		printf "%-9s %9.1f %10.2f %11.0f %10s %12.1f %7.2f", m " MiB", w / 1000, f / 1000,
		       p / (w / 1e6), rs, b / 1000, w / b
	}')
	echo "$row"
	if [ -n "${BENCH_RAW:-}" ]; then
		echo "  dump (wall_us freeze_us pages rss_kb): $(tr '\n' ',' <"$TMP/dump.txt")"
		echo "  baseline (us): $(tr '\n' ' ' <"$TMP/base.txt")"
	fi
	verdict=$(awk -v w="$wall" -v b="$base" -v r="${rss:-0}" 'BEGIN {
		s = ""
		if (w / b > 1.25) s = s " ratio over 1.25"
		if (r >= 64 * 1024) s = s " RSS over 64 MiB"
		print s
	}')
	[ -n "$verdict" ] && over="$over
  $mib MiB:$verdict"
done
echo "median of $REPS runs each; aim: ratio <= 1.25, ckptd peak RSS < 64 MiB"
if [ -n "$over" ]; then
	echo "over the aim:$over"
fi
exit 0
