#!/bin/sh
# Run the integration tests: every tests/integration/t-*.sh, each in its own
# process under a time limit, and end with "N passed, N failed".
#
#	sh tests/integration/run.sh [PATTERN...]
#
# A PATTERN (shell glob, matched against the test name without .sh, e.g.
# 'dump-*' or 't-dump-mem') selects tests. Environment: CKPT_BUILD (build
# directory, default build), TEST_TIMEOUT (seconds per test, default 300),
# KEEP_TMP_ON_FAIL=1 keeps a failed test's temporary directory,
# CKPT_TEST_LOGS=DIR keeps every test's full log there (NAME.log).
# Exit status 1 if any test failed (a test exiting 77 is skipped).

set -u
. "$(dirname "$0")/../only-stdio.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
export CKPT_BUILD=${CKPT_BUILD:-build}

LIB_NO_SETUP=1
TEST_NAME=run
. "$HERE/lib.sh"

RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-run.XXXXXX") || exit 1
CUR_PIDS=
trap 'kill_pids_file "$CUR_PIDS" 2>/dev/null; rm -rf "$RUNDIR"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

selected()
{
	local name=$1 p
	[ -z "$PATTERNS" ] && return 0
	set -f
	for p in $PATTERNS; do
		set +f
		case $name in
		$p|t-$p|*$p*) return 0 ;;
		esac
	done
	set +f
	return 1
}

PATTERNS="$*"
passed=0
failed=0
skipped=0
failed_names=

for t in "$HERE"/t-*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	selected "$name" || continue
	log=$RUNDIR/$name.log
	CUR_PIDS=$RUNDIR/$name.pids
	: >"$CUR_PIDS"
	start=$(date +%s)
	rc=0
	# timeout signals the test's whole process group (it puts itself in
	# one): the test's trap then kills the targets it started.
	CKPT_TEST_PIDS=$CUR_PIDS timeout -k 15 "$TEST_TIMEOUT" sh "$t" >"$log" 2>&1 || rc=$?
	# a test killed before its trap ran may have left targets behind
	kill_pids_file "$CUR_PIDS"
	secs=$(( $(date +%s) - start ))
	if [ -n "${CKPT_TEST_LOGS:-}" ]; then
		mkdir -p "$CKPT_TEST_LOGS" && cp "$log" "$CKPT_TEST_LOGS/"
	fi
	case $rc in
	0)
		passed=$((passed + 1))
		echo "PASS  $name (${secs}s)"
		;;
	77)
		skipped=$((skipped + 1))
		echo "SKIP  $name: $(grep -m1 '^SKIP' "$log" | sed 's/^SKIP: [^:]*: //')"
		;;
	*)
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		why=$(grep -m1 '^FAIL' "$log" | sed 's/^FAIL: [^:]*: //')
		[ $rc -eq 124 ] && why="timed out after ${TEST_TIMEOUT}s"
		echo "FAIL  $name (${secs}s, exit $rc): ${why:-see log}"
		tail -n 15 "$log" | sed 's/^/	| /'
		;;
	esac
done

[ $skipped -eq 0 ] || echo "($skipped skipped)"
[ -z "$failed_names" ] || echo "failed:$failed_names"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
