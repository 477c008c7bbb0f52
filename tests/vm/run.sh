#!/bin/sh
# Inside make check-vm's guest (busybox sh, as root): run every
# tests/vm/t-*.sh, each under a time limit, with its output prefixed by its
# name ("softdirty| ..."), and print its results on lines of their own:
#
#	VMTEST ok NAME
#	VMTEST FAIL NAME: why
#	VMTEST skip NAME: why
#
# A test reports through lib.sh (vm_ok, fail, vm_skip); one that exits
# non-zero, or reports nothing, is a FAIL here. If the file "selected"
# exists here, it lists shell globs of the test names to run (VM_TESTS).

HERE=$(cd "$(dirname "$0")" && pwd)
export VM_TEST_TIMEOUT=${VM_TEST_TIMEOUT:-120}
sel=
[ -f "$HERE/selected" ] && sel=$(cat "$HERE/selected")

selected()
{
	local p
	[ -z "$sel" ] && return 0
	set -f
	for p in $sel; do
		set +f
		case $1 in
		$p|t-$p|*$p*) return 0 ;;
		esac
	done
	set +f
	return 1
}

for t in "$HERE"/t-*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	name=${name#t-}
	selected "$name" || continue
	dir=/tmp/vmtest.$name
	rm -rf "$dir" && mkdir -p "$dir"
	results=$dir/results
	: >"$results"
	start=$(cut -d' ' -f1 /proc/uptime)
	rc=0
	VM_TEST=$name VM_RESULTS=$results VM_TMP=$dir \
		timeout -s KILL "$VM_TEST_TIMEOUT" sh "$t" </dev/null >"$dir/log" 2>&1 || rc=$?
	end=$(cut -d' ' -f1 /proc/uptime)
	sed "s/^/$name| /" "$dir/log"
	echo "$name| (exit $rc, ${start}s..${end}s of uptime)"
	if [ ! -s "$results" ]; then
		if [ $rc -eq 137 ]; then
			echo "FAIL $name: killed after ${VM_TEST_TIMEOUT}s" >>"$results"
		else
			echo "FAIL $name: exited $rc without a result" >>"$results"
		fi
	elif [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$results"; then
		echo "FAIL $name: exited $rc after its last result" >>"$results"
	fi
	sed 's/^/VMTEST /' "$results"
done
