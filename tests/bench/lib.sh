# What the benchmark scripts share (sourced after only-stdio.sh): the build
# directory (CKPT_BUILD or O, default build) in BUILD, and the arithmetic
# of their tables. Each script sets TMP and its own cleanup.

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
