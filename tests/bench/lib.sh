# What the benchmark scripts share (sourced after only-stdio.sh): the build
# directory (CKPT_BUILD or O, default build) in BUILD, the arithmetic of
# their tables, the processes they start (tracked, waited for, memhog's
# life). Each script sets TMP and its own cleanup.

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${CKPT_BUILD:-${O:-build}}
case $BUILD in
/*) ;;
*) BUILD=$TOP/$BUILD ;;
esac
CKPTCTL=$BUILD/bin/ckptctl

die()
{
	echo "bench: $*" >&2
	exit 1
}

now_us()
{
	echo $(($(date +%s%N) / 1000))
}

# median of the numbers on stdin
median()
{
	sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# the least of the numbers on stdin
least()
{
	sort -n | head -n 1
}

# json_num FILE KEY: the number after "KEY": in a one-object JSON answer
json_num()
{
	sed -n "s/.*\"$2\": *\([0-9][0-9]*\).*/\1/p" "$1"
}

# bench_tmp: a fresh $TMP, removed by the script's cleanup; ckptctl uses
# this build's one-shot daemon, never one that happens to listen
bench_tmp()
{
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-bench.XXXXXX") || die "mktemp failed"
	trap cleanup EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
	trap 'exit 129' HUP
	export CKPT_SOCKET=$TMP/no-daemon.sock
	export CKPTD=$BUILD/bin/ckptd
}

# the start time of a process (field 22 of its stat), or nothing
starttime()
{
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	s=${s##*) }
	set -- $s
	echo "${20}"
}

# track_pid PID: killed by kill_tracked if it is still the process seen here
track_pid()
{
	local t
	t=$(starttime "$1")
	[ -n "$t" ] && echo "$1 $t" >>"$TMP/pids"
	return 0
}

# kill_tracked: SIGKILL to every tracked PID that is still the same process
kill_tracked()
{
	local p t
	[ -n "$TMP" ] && [ -f "$TMP/pids" ] || return 0
	while read -r p t; do
		[ "$(starttime "$p")" = "$t" ] && kill -KILL "$p" 2>/dev/null
	done <"$TMP/pids"
	return 0
}

# wait_gone PID: reaped (waited for when it is ours) and gone from /proc,
# within 60 s; a restore needs its PID free
wait_gone()
{
	local i=0
	wait "$1" 2>/dev/null
	while [ -e "/proc/$1" ]; do
		i=$((i + 1))
		[ $i -le 1200 ] || die "pid $1 still exists 60 s after it ended"
		sleep 0.05
	done
}

# start_hog MIB STATUS: memhog (MEMHOG) of MIB MiB in HOG, ready, reporting
# to the file STATUS
start_hog()
{
	local i=0
	rm -f "$2"
	CKPT_STATUS=$2 "$MEMHOG" "$1" </dev/null >>"$TMP/hog.log" 2>&1 &
	HOG=$!
	until grep -q '^ready' "$2" 2>/dev/null; do
		kill -0 "$HOG" 2>/dev/null || die "memhog $1 exited: $(cat "$TMP/hog.log")"
		i=$((i + 1))
		[ $i -le 1200 ] || die "memhog $1 not ready after 120 s"
		sleep 0.1
	done
}

# verify_hog PID STATUS [WHEN]: SIGUSR1 to the memhog at PID, which checks
# every page; its verdict (in STATUS, within 60 s) must be pass
verify_hog()
{
	local i=0 line
	kill -USR1 "$1"
	while :; do
		line=$(cat "$2" 2>/dev/null)
		case $line in
		pass | fail*) break ;;
		esac
		i=$((i + 1))
		[ $i -le 6000 ] || die "memhog $1${3:+ $3} gave no verdict after SIGUSR1"
		sleep 0.01
	done
	[ "$line" = pass ] || die "memhog $1${3:+ $3}: $line"
}
