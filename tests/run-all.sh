#!/bin/sh
# Everything: the Criterion unit tests (each $CKPT_BUILD/unit/* prints its own
# summary), then the integration tests. Ends with one combined line
# "N passed, N failed"; exit status 1 if anything failed.
#
#	CKPT_BUILD=build-x sh tests/run-all.sh [INTEGRATION PATTERN...]

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
export CKPT_BUILD=${CKPT_BUILD:-build}
case $CKPT_BUILD in
/*) B=$CKPT_BUILD ;;
*) B=$TOP/$CKPT_BUILD ;;
esac

passed=0
failed=0
out=$(mktemp "${TMPDIR:-/tmp}/ckpt-runall.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT

# Criterion's summary: "[====] Synthesis: Tested: 12 | Passing: 11 | Failing: 1 | Crashing: 0"
# Plain ASCII, no colour codes: what the deprecated --ascii did (Criterion
# 2.4 sets exactly this encoding and turns colour off for it).
for u in "$B"/unit/*; do
	[ -x "$u" ] && [ -f "$u" ] || continue
	echo "== unit: $(basename "$u")"
	rc=0
	timeout -k 10 600 "$u" --jobs 1 --encoding=ANSI_X3.4-1968 --color=never >"$out" 2>&1 || rc=$?
	cat "$out"
	syn=$(grep 'Synthesis:' "$out" | tail -n 1)
	p=$(echo "$syn" | sed -n 's/.*Passing: *\([0-9]*\).*/\1/p')
	f=$(echo "$syn" | sed -n 's/.*Failing: *\([0-9]*\).*/\1/p')
	c=$(echo "$syn" | sed -n 's/.*Crashing: *\([0-9]*\).*/\1/p')
	if [ -z "$p" ]; then
		# no summary at all: the binary itself failed
		echo "unit $(basename "$u"): no summary (exit $rc)"
		failed=$((failed + 1))
		continue
	fi
	passed=$((passed + p))
	failed=$((failed + ${f:-0} + ${c:-0}))
	if [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ] && [ "${c:-0}" -eq 0 ]; then
		echo "unit $(basename "$u"): exit $rc"
		failed=$((failed + 1))
	fi
done

echo "== integration"
sh "$HERE/integration/run.sh" "$@" | tee "$out"
line=$(tail -n 1 "$out")
p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
if [ -z "$p" ]; then
	echo "integration: no summary"
	failed=$((failed + 1))
else
	passed=$((passed + p))
	failed=$((failed + f))
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
