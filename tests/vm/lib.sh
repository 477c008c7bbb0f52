# Helpers of the tests run inside make check-vm's guest (busybox sh, root,
# Debian 12's 6.1 kernel; no python3, no procps). Every tests/vm/t-*.sh
# starts with
#
#	. "$(dirname "$0")/lib.sh"
#
# and reports each of its checks with one of
#	vm_ok NAME			the check passed
#	vm_skip NAME WHY		the check cannot run (and why)
#	fail WHY			$VM_TEST failed: report, exit 1
#	check_fail NAME WHY		check NAME failed, the test goes on
# which run.sh prints as "VMTEST ok NAME" etc. The helpers, like those of
# tests/integration/lib.sh, in the order a test uses them:
#	start_target NAME [ARGS]	run a target in a session of its own until
#					it is ready: TPID, TSTATUS, TLOG
#	ckpt / ckpt_ok ARGS		run ckptctl: LAST_OUT, LAST_ERR, LAST_RC
#	dump_kill DIR [ARGS]		dump $TPID (killing it), wait until it is gone
#	restore_ok DIR [ARGS]		restore; the root must come back as $TPID
#	expect_pass			SIGUSR1 to $TPID, then "pass" in $TSTATUS
#	expect_status_line LINE		wait until $TSTATUS says LINE
#	maps_of PID			/proc/PID/maps

set -u
VM_TEST=${VM_TEST:-$(basename "$0" .sh)}
VM_TEST=${VM_TEST#t-}
VM_RESULTS=${VM_RESULTS:-/dev/null}
T=${VM_TMP:-/tmp/vmtest.$VM_TEST}
BUILD=${CKPT_BUILD:-/ckpt/build}
CKPTCTL=$BUILD/bin/ckptctl
CKPTD=$BUILD/bin/ckptd
TARGETS=$BUILD/targets
VMBIN=$BUILD/vm/bin
mkdir -p "$T"

TPID=
TBG=
TSTATUS=
TLOG=
LAST_OUT=
LAST_ERR=
LAST_RC=0
_vm_nr=0

log()
{
	echo "$VM_TEST: $*"
}

vm_ok()
{
	log "ok $1"
	echo "ok $1" >>"$VM_RESULTS"
}

vm_skip()
{
	local name=$1
	shift
	log "skip $name: $*"
	echo "skip $name: $*" | tr '\n' ' ' >>"$VM_RESULTS"
	echo >>"$VM_RESULTS"
}

check_fail()
{
	local name=$1
	shift
	log "FAIL $name: $*"
	echo "FAIL $name: $*" | tr '\n' ' ' >>"$VM_RESULTS"
	echo >>"$VM_RESULTS"
}

fail()
{
	check_fail "$VM_TEST" "$@"
	exit 1
}

# ckpt ARGS: run ckptctl, keep its output (LAST_OUT, LAST_ERR: files) and
# exit status (LAST_RC); ckpt_ok fails the test unless it exits 0.
ckpt()
{
	_vm_nr=$((_vm_nr + 1))
	LAST_OUT=$T/$VM_TEST.ckpt.$_vm_nr.out
	LAST_ERR=$T/$VM_TEST.ckpt.$_vm_nr.err
	LAST_RC=0
	log "ckptctl $*"
	timeout -s KILL 100 "$CKPTCTL" "$@" >"$LAST_OUT" 2>"$LAST_ERR" || LAST_RC=$?
	return 0
}

ckpt_ok()
{
	ckpt "$@"
	[ $LAST_RC -eq 0 ] ||
		fail "ckptctl $* exited $LAST_RC: $(tail -c 600 "$LAST_ERR")"
}

# wait_until SECONDS CMD...: run CMD every 0.1 s until it succeeds;
# returns 1 after SECONDS.
wait_until()
{
	local n=$(($1 * 10))
	shift
	while ! "$@"; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
	return 0
}

_vm_ready()
{
	case $(cat "$TSTATUS" 2>/dev/null) in
	"ready "*|pass|fail*) return 0 ;;
	esac
	kill -0 "$TBG" 2>/dev/null || return 0
	return 1
}

# start_target NAME|PATH [ARGS]: run $TARGETS/NAME (or the program at
# PATH, e.g. $VMBIN/incr-writer) in a session of its own with its status
# file in $T; wait for "ready PID". Sets TPID, TSTATUS, TLOG.
start_target()
{
	local prog=$1 name=${1##*/} line
	shift
	case $prog in
	*/*) ;;
	*) prog=$TARGETS/$prog ;;
	esac
	_vm_nr=$((_vm_nr + 1))
	# $VM_TEST in the name: checks in subshells count from the same _vm_nr
	TSTATUS=$T/$VM_TEST.$name.$_vm_nr.status
	TLOG=$T/$VM_TEST.$name.$_vm_nr.log
	rm -f "$TSTATUS"
	CKPT_STATUS=$TSTATUS setsid "$prog" "$@" </dev/null >"$TLOG" 2>&1 &
	TBG=$!
	wait_until 30 _vm_ready || fail "$name: not ready after 30s"
	line=$(cat "$TSTATUS" 2>/dev/null)
	case $line in
	"ready "*) ;;
	*) fail "$name did not start: ${line:-no status} (log: $(tail -c 400 "$TLOG"))" ;;
	esac
	TPID=${line#ready }
	log "started $name pid $TPID"
}

_vm_gone()
{
	[ ! -e "/proc/$1" ]
}

# dump_kill DIR [ARGS]: dump $TPID into DIR (the tree is killed, the
# default) and wait until its pid is free again (reaping it: the target
# is this shell's child).
dump_kill()
{
	local dir=$1
	shift
	mkdir -p "$dir"
	ckpt_ok dump -t "$TPID" -D "$dir" "$@"
	[ "$TBG" = "$TPID" ] && wait "$TBG" 2>/dev/null
	wait_until 10 _vm_gone "$TPID" || fail "pid $TPID still exists 10s after its dump: $(cat /proc/$TPID/stat)"
	log "dumped and killed $TPID"
}

# restore_ok DIR [ARGS]: restore DIR; the root must come back as $TPID.
restore_ok()
{
	local dir=$1 got
	shift
	rm -f "$T/restored.pid"
	ckpt_ok restore -D "$dir" --pidfile "$T/restored.pid" "$@"
	got=$(cat "$T/restored.pid" 2>/dev/null)
	[ "$got" = "$TPID" ] || fail "restored root is '${got}', not $TPID"
	TBG=
	log "restored $TPID"
}

_vm_verdict()
{
	case $(cat "$TSTATUS" 2>/dev/null) in
	pass|fail*) return 0 ;;
	esac
	return 1
}

# expect_pass: SIGUSR1 makes the target check itself; it must say "pass".
expect_pass()
{
	local st
	kill -USR1 "$TPID" || fail "pid $TPID is gone before its check"
	wait_until 60 _vm_verdict || fail "pid $TPID gave no verdict 60s after SIGUSR1"
	st=$(cat "$TSTATUS")
	[ "$st" = pass ] || fail "pid $TPID after restore: $st"
	log "pid $TPID checked itself: pass"
}

_vm_status_is()
{
	[ "$(cat "$TSTATUS" 2>/dev/null)" = "$1" ]
}

# expect_status_line LINE: wait (30 s) until $TSTATUS says LINE.
expect_status_line()
{
	wait_until 30 _vm_status_is "$1" ||
		fail "pid $TPID: status '$(cat "$TSTATUS" 2>/dev/null)' after 30s, want '$1'"
}

maps_of()
{
	cat "/proc/$1/maps"
}
