#!/bin/sh
# make bench: ckpt's eager restore against CRIU's, and against the least a
# restore of the same bytes can cost (memread), measured in the same run.
#
# For each size, two memhogs (tests/bench/memhog.c: N MiB of distinct
# written pages) are dumped and killed: one by `ckptctl dump`, one by
# `criu dump --shell-job`. Then, after one unmeasured restore of each,
# REPS rounds alternate
#   ckpt     `ckptctl restore -D DIR --json`
#   criu     `criu restore -D DIR -d --shell-job`
#   memread  tests/bench/memread.c on ckpt's pages-N.img: a fresh anonymous
#            region preadv()ed from the file, no checksum, its own time
# and time each restore twice: restore_ms until the command returns (the
# tree runs), verified_ms until the restored memhog, sent SIGUSR1, has read
# every page and said pass (so a restore that leaves pages for the process
# to fault in pays for them there). The restored memhog exits after its
# verdict; its PID is waited for (PID 1 reaps slowly here) before the next
# round. Each column is the median of REPS; the ratios are over memread's
# and criu's restore_ms.
#
# CRIU is not a dependency: when `criu` is missing, or `criu check` fails
# (Debian 12's criu 3.17 cannot run on Linux 6.13+, whose vdso has three
# areas), the criu rows are skipped with the reason and the rest is run.
#
#	BENCH_CRIU_SIZES="512 1024"  sizes in MiB
#	BENCH_CRIU_REPS=5            rounds per size
#	CRIU=criu                    the criu binary
#	BENCH_RAW=1                  also print every measurement
#	CKPT_BUILD / O               the build directory (default build)
#
# Every process started here, restored ones included, is killed by PID
# and every file removed on exit. Exit status 1 when a dump, a restore or
# a memhog's check fails.

set -u
. "$(dirname "$0")/../only-stdio.sh"
. "$(dirname "$0")/lib.sh"

MEMHOG=$BUILD/bench/memhog
MEMREAD=$BUILD/bench/memread
SIZES=${BENCH_CRIU_SIZES:-"512 1024"}
REPS=${BENCH_CRIU_REPS:-5}
CRIU=${CRIU:-criu}

HOG=
RESTORED=
TMP=
CRIU_WHY=

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

for b in "$CKPTCTL" "$BUILD/bin/ckptd" "$MEMHOG" "$MEMREAD"; do
	[ -x "$b" ] || die "$b is missing: run make bench (with the same O=)"
done
bench_tmp

# Whether criu can run here; if not, the reason in CRIU_WHY.
criu_usable()
{
	if ! command -v "$CRIU" >/dev/null 2>&1; then
		CRIU_WHY="$CRIU is not installed (apt-get install criu, or CRIU=/path/to/criu)"
		return 1
	fi
	if ! "$CRIU" check >"$TMP/criu-check.log" 2>&1; then
		CRIU_WHY="'$CRIU check' fails: $(sed -n 's/^Error ([^)]*): //p' \
			"$TMP/criu-check.log" | grep -v '^exited, status' | head -n 2 |
			awk 'NR > 1 { printf "; " } { printf "%s", $0 }')"
		return 1
	fi
	return 0
}

# dump_hog TOOL DIR: dump HOG with TOOL (ckpt or criu), which kills it
dump_hog()
{
	local pid=$HOG
	rm -rf "$2"
	mkdir -p "$2"
	if [ "$1" = ckpt ]; then
		"$CKPTCTL" dump -t "$pid" -D "$2" >/dev/null 2>"$TMP/dump.err" ||
			die "ckptctl dump of memhog $pid failed: $(cat "$TMP/dump.err")"
	else
		"$CRIU" dump -t "$pid" -D "$2" --shell-job -o dump.log 2>"$TMP/dump.err" ||
			die "criu dump of memhog $pid failed: $(tail -n 5 "$2/dump.log")"
	fi
	wait "$pid" 2>/dev/null
	HOG=
	wait_gone "$pid"
}

# restore_once TOOL DIR PID STATUS measure|warmup: one restore of DIR by
# TOOL (the tree comes back as PID); appends "restore_us verified_us" to
# $TMP/TOOL.txt when measuring
restore_once()
{
	local t0 t1 t2 pid=$3
	rm -f "$4"
	t0=$(now_us)
	if [ "$1" = ckpt ]; then
		"$CKPTCTL" restore -D "$2" --json >"$TMP/restore.json" 2>"$TMP/restore.err" ||
			die "ckptctl restore failed: $(cat "$TMP/restore.err")"
	else
		"$CRIU" restore -D "$2" -d --shell-job -o restore.log 2>"$TMP/restore.err" ||
			die "criu restore failed: $(tail -n 5 "$2/restore.log")"
	fi
	t1=$(now_us)
	RESTORED=$pid
	[ -e "/proc/$pid" ] || die "$1 restore returned, but pid $pid is not there"
	verify_hog "$pid" "$4"
	t2=$(now_us)
	wait_gone "$pid"
	RESTORED=
	[ "$5" = measure ] || return 0
	echo "$((t1 - t0)) $((t2 - t0))" >>"$TMP/$1.txt"
}

# read_once measure|warmup: memread of ckpt's pages file
read_once()
{
	local pages
	pages=$(ls -S "$TMP"/ckpt/pages-*.img | head -n 1)
	"$MEMREAD" "$pages" >"$TMP/read.out" 2>"$TMP/read.err" ||
		die "memread failed: $(cat "$TMP/read.err")"
	[ "$1" = measure ] || return 0
	echo "$(cut -d' ' -f2 "$TMP/read.out")" >>"$TMP/memread.txt"
}

# row SIZE TOOL RESTORE_US VERIFIED_US MEMREAD_US CRIU_US (empty: -)
row()
{
	awk -v m="$1" -v t="$2" -v r="$3" -v v="$4" -v b="$5" -v c="$6" 'BEGIN {
		vs = v == "" ? "-" : sprintf("%.0f", v / 1000)
		bs = b == "" ? "-" : sprintf("%.2f", r / b)
		cs = c == "" ? "-" : sprintf("%.2f", r / c)
		printf "| %8s | %-7s | %10.0f | %11s | %10s | %7s |\n", m " MiB", t, r / 1000, vs, bs, cs
	}' >>"$TMP/table.txt"
}

# column N of $TMP/TOOL.txt, median
med()
{
	cut -d' ' -f"$2" "$TMP/$1.txt" | median
}

bench_size()
{
	local mib=$1 r=0 ckpt_pid criu_pid= base criu_us=
	: >"$TMP/ckpt.txt"
	: >"$TMP/criu.txt"
	: >"$TMP/memread.txt"
	start_hog "$mib" "$TMP/ckpt.status"
	ckpt_pid=$HOG
	dump_hog ckpt "$TMP/ckpt"
	if [ -z "$CRIU_WHY" ]; then
		start_hog "$mib" "$TMP/criu.status"
		criu_pid=$HOG
		dump_hog criu "$TMP/criu"
	fi
	restore_once ckpt "$TMP/ckpt" "$ckpt_pid" "$TMP/ckpt.status" warmup
	[ -n "$criu_pid" ] && restore_once criu "$TMP/criu" "$criu_pid" "$TMP/criu.status" warmup
	read_once warmup
	while [ $r -lt "$REPS" ]; do
		restore_once ckpt "$TMP/ckpt" "$ckpt_pid" "$TMP/ckpt.status" measure
		[ -n "$criu_pid" ] &&
			restore_once criu "$TMP/criu" "$criu_pid" "$TMP/criu.status" measure
		read_once measure
		r=$((r + 1))
	done
	base=$(median <"$TMP/memread.txt")
	[ -n "$criu_pid" ] && criu_us=$(med criu 1)
	row "$mib" ckpt "$(med ckpt 1)" "$(med ckpt 2)" "$base" "$criu_us"
	[ -n "$criu_pid" ] && row "$mib" criu "$criu_us" "$(med criu 2)" "$base" "$criu_us"
	row "$mib" memread "$base" "" "$base" "$criu_us"
	if [ -n "${BENCH_RAW:-}" ]; then
		for t in ckpt criu; do
			[ -s "$TMP/$t.txt" ] &&
				echo "  $t $mib MiB (restore_us verified_us): $(tr '\n' ',' <"$TMP/$t.txt")" \
				>>"$TMP/raw.txt"
		done
		echo "  memread $mib MiB (us): $(tr '\n' ' ' <"$TMP/memread.txt")" >>"$TMP/raw.txt"
	fi
	rm -rf "$TMP/ckpt" "$TMP/criu"
}

criu_usable || true
: >"$TMP/table.txt"
: >"$TMP/raw.txt"
for mib in $SIZES; do
	echo "bench: eager restore, ckpt against criu, $mib MiB..." >&2
	bench_size "$mib"
done

echo "| size     | tool    | restore_ms | verified_ms | vs memread | vs criu |"
echo "|----------|---------|------------|-------------|------------|---------|"
cat "$TMP/table.txt"
cat "$TMP/raw.txt"
echo "median of $REPS alternating runs each; restore_ms: until the restore command returns"
echo "(the tree runs); verified_ms: until the restored memhog has read every page (SIGUSR1);"
echo "memread: preadv of ckpt's pages file into fresh memory, its own time; ratios of restore_ms"
[ -n "$CRIU_WHY" ] && echo "criu rows skipped: $CRIU_WHY"
exit 0
