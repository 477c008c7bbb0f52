# Shared helpers of the integration tests. Every tests/integration/t-*.sh
# starts with
#
#	. "$(dirname "$0")/lib.sh"
#
# which sets up a private temporary directory ($TMP) and an EXIT trap that
# kills every process the test started (by PID, checked against its start
# time so a recycled PID is never hit) and removes $TMP.
#
# Binaries come from ${CKPT_BUILD:-build}: $CKPTCTL, $CKPTD ($BUILD/bin),
# targets from $TARGETS ($BUILD/targets), tools from $TOOLS ($BUILD/tools).
#
# Conventions: a helper that finds a problem calls fail, which prints
# "FAIL: <test>: <why>" and exits 1; skip exits 77. Helpers that set
# variables (start_target) must be called directly, not in $(...).
#
# The helpers, in the order a test uses them:
#	start_target NAME [ARGS]	run a target (own session), wait for ready;
#					sets TPID, TSTATUS, TLOG
#	dump_target DIR [ARGS]		ckptctl dump --leave-running of $TPID
#	dump_check NAME [ARGS]		start + dump + imgcmp + show checks ($IMG)
#	ckpt / ckpt_ok ARGS		run ckptctl (bounded): $LAST_OUT/_ERR/_RC
#	expect_fail CODE REGEX CMD	CMD exits CODE, stderr matches REGEX
#	imgcmp DIR [PID]		image pages == live memory (tests/tools)
#	show_json DIR, json_check FILE PY, show_check DIR PY
#	check_alive [PID]		running, not stopped, not traced
#	expect_status pass|fail [STATUSFILE PID]	SIGUSR1, then the verdict
#	track_pid PID			kill PID (and its session) on exit too
#	mount_tmpfs DIR SIZE [OPTS]	unmounted on exit
#	listen_daemon			a ckptd of the test's own at $SOCK
#	no_partial_set DIR, wait_gone PID [S], diag_pid PID, skip WHY, fail WHY
#	kthread_pid			a visible kernel thread's PID, or nothing
#
# Written for dash (/bin/sh): POSIX sh only.

set -u

TEST_NAME=$(basename "$0" .sh)
TOP=${CKPT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${CKPT_BUILD:-build}
case $BUILD in
/*) ;;
*) BUILD=$TOP/$BUILD ;;
esac
CKPTCTL=$BUILD/bin/ckptctl
CKPTD=$BUILD/bin/ckptd
TARGETS=$BUILD/targets
TOOLS=$BUILD/tools

# Bounds, in seconds.
READY_TIMEOUT=${READY_TIMEOUT:-30}	# target setup until "ready PID"
STATUS_TIMEOUT=${STATUS_TIMEOUT:-60}	# SIGUSR1 until "pass"/"fail"
CKPT_TIMEOUT=${CKPT_TIMEOUT:-240}	# one ckptctl command

# The last target started: its PID and status file.
TPID=
TSTATUS=
TLOG=
# Output of the last ckpt / expect_fail / dump_target call.
LAST_OUT=
LAST_ERR=
LAST_RC=0

_lib_nr=0

log()
{
	echo "$TEST_NAME: $*" >&2
}

fail()
{
	echo "FAIL: $TEST_NAME: $*" >&2
	exit 1
}

skip()
{
	echo "SKIP: $TEST_NAME: $*" >&2
	exit 77
}

# --- process bookkeeping ------------------------------------------------

# "state ppid pgrp session starttime" of a process, or nothing. The comm
# field may hold spaces and parentheses: cut after the last ") ".
proc_stat()
{
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# fields after comm: 3 state, 4 ppid, 5 pgrp, 6 session ... 22 starttime
	set -- $s
	[ $# -ge 20 ] || return 1
	echo "$1 $2 $3 $4 ${20}"
}

proc_starttime()
{
	local st
	st=$(proc_stat "$1") || return 1
	set -- $st
	echo "$5"
}

proc_state()
{
	local st
	st=$(proc_stat "$1") || return 1
	set -- $st
	echo "$1"
}

# kthread_pid: the PID of a kernel thread visible here (PF_KTHREAD in the
# flags of /proc/PID/stat), kthreadd's 2 first; nothing inside a pid
# namespace, where no kernel thread is visible.
kthread_pid()
{
	local d s pid
	for d in /proc/2 /proc/[0-9]*; do
		s=$(cat "$d/stat" 2>/dev/null) || continue
		pid=${s%% *}
		s=${s##*) }
		set -- $s
		if [ $# -ge 7 ] && [ $(($7 & 0x200000)) -ne 0 ]; then
			echo "$pid"
			return 0
		fi
	done
	return 0
}

# Remember PID (and its start time) for cleanup. Restore tests call this on
# restored processes, which are not children of the test.
track_pid()
{
	local t
	t=$(proc_starttime "$1") || return 0
	echo "$1 $t" >>"$PIDS_FILE"
}

# "pid ppid session" of every process, one a line, for _kill_tracked:
# read once per pids file, and with read, not $(proc_stat), which forked
# for each of the hundreds of processes for each tracked pid (a loaded
# machine took a minute to clean up after a test).
_lib_proc_table()
{
	local p st
	for p in /proc/[0-9]*; do
		read -r st 2>/dev/null <"$p/stat" || continue
		p=${p#/proc/}
		case $st in
		*") "*) st=${st##*) } ;;
		*) st=$(proc_stat "$p") || continue ;;	# a comm with a newline
		esac
		# fields after comm: 1 state, 2 ppid, 3 pgrp, 4 session
		set -- $st
		[ $# -ge 4 ] && echo "$p $2 $4"
	done
	return 0
}

# Kill one tracked process if it is still the one we recorded, and every
# process of the session it leads (targets run under setsid) and its
# children (as $_lib_procs, from _lib_proc_table, lists them). Stopped
# and traced processes die from SIGKILL too.
_kill_tracked()
{
	local pid=$1 start=$2 victims= p ppid sid now ours=0

	now=$(proc_starttime "$pid" 2>/dev/null)
	if [ "$now" = "$start" ]; then
		victims=$pid
		ours=1
	elif [ -z "$now" ]; then
		# gone: a pid number stays reserved while a session or group
		# still uses it, so members of a session $pid are ours
		ours=1
	fi
	[ $ours -eq 1 ] || return 0
	while read -r p ppid sid; do
		if [ "$sid" = "$pid" ] && [ "$p" != "$$" ]; then
			victims="$victims $p"
		elif [ -n "$now" ] && [ "$ppid" = "$pid" ]; then
			victims="$victims $p"
		fi
	done <<EOF
$_lib_procs
EOF
	[ -n "$victims" ] && kill -KILL $victims 2>/dev/null
	return 0
}

# Kill everything listed in a pids file, and unmount what the test
# mounted (also used by run.sh after a test that was killed before its
# trap could run).
kill_pids_file()
{
	local pid start m _lib_procs
	[ -f "$1" ] || return 0
	_lib_procs=$(_lib_proc_table)
	# each once (start_target tracks its target twice)
	sort -u "$1" | while read -r pid start; do
		[ -n "$pid" ] && _kill_tracked "$pid" "$start"
	done
	if [ -f "$1.mounts" ]; then
		while read -r m; do
			mountpoint -q "$m" 2>/dev/null && { umount "$m" 2>/dev/null || umount -l "$m"; }
		done <"$1.mounts"
	fi
	return 0
}

cleanup()
{
	local rc=$?
	trap - EXIT INT TERM HUP
	kill_pids_file "$PIDS_FILE"
	# reap our own children so nothing stays a zombie of this shell
	wait 2>/dev/null
	_lib_umount_all
	if [ -n "${KEEP_TMP:-}" ] || { [ $rc -ne 0 ] && [ -n "${KEEP_TMP_ON_FAIL:-}" ]; }; then
		echo "$TEST_NAME: kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
	exit $rc
}

# Mounts a test made (tmpfs for full-disk / read-only cases): unmounted on
# cleanup even when the test fails half way.
MOUNTS=
mount_tmpfs()	# DIR SIZE [extra mount options]
{
	mkdir -p "$1" || fail "mkdir $1"
	mount -t tmpfs -o "size=$2${3:+,$3}" ckpt-test "$1" || fail "cannot mount tmpfs on $1"
	MOUNTS="$1 $MOUNTS"
	# for run.sh, should the test be killed before its trap runs
	echo "$1" >>"$PIDS_FILE.mounts"
}

_lib_umount_all()
{
	local m
	for m in $MOUNTS; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	MOUNTS=
}

# rmdir_wait DIR: remove an empty directory that may stay busy a moment
# (a cgroup whose last task is still exiting); says so on failure, for a
# cleanup to go on.
rmdir_wait()
{
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		rmdir "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	[ -d "$1" ] && echo "$TEST_NAME: cannot remove $1" >&2
	return 0
}

# --- setup ---------------------------------------------------------------

if [ -z "${LIB_NO_SETUP:-}" ]; then
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-$TEST_NAME.XXXXXX") || fail "mktemp"
	PIDS_FILE=${CKPT_TEST_PIDS:-$TMP/pids}
	: >>"$PIDS_FILE"
	trap cleanup EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
	trap 'exit 129' HUP
	for _b in "$CKPTCTL" "$CKPTD"; do
		[ -x "$_b" ] || fail "$_b is missing: build first (make O=... )"
	done
fi

need_file()
{
	[ -x "$1" ] || fail "$1 is missing: build first"
}

# --- a daemon of the test's own ----------------------------------------------

# listen_daemon: a root `ckptd --listen $TMP/ckptd.sock` (log in
# $TMP/daemon.log) that every ckptctl of the test then talks to, never a
# one-shot one; $TMP opens to other uids (0711) so that they reach the
# socket. Sets SOCK and DPID.
listen_daemon()
{
	chmod 0711 "$TMP"
	SOCK=$TMP/ckptd.sock
	"$CKPTD" --listen "$SOCK" >"$TMP/daemon.log" 2>&1 &
	DPID=$!
	track_pid $DPID
	wait_path -S "$SOCK" || fail "ckptd did not create $SOCK"
	export CKPT_SOCKET="$SOCK" CKPTD=/nonexistent/ckptd
}

# activate_daemon [IDLE_S]: ckptd socket-activated by systemd-socket-activate
# on $TMP/ckptd.sock (mode 0666: ckptd decides from SO_PEERCRED), started on
# the first connection, leaving after IDLE_S (default 120) seconds idle.
# Sets SOCK, DPID (systemd-socket-activate's pid, which becomes ckptd's)
# and exports CKPT_SOCKET.
activate_daemon()
{
	chmod 0711 "$TMP"
	SOCK=$TMP/ckptd.sock
	systemd-socket-activate --seqpacket -l "$SOCK" "$CKPTD" --idle-timeout "${1:-120}" \
		>"$TMP/daemon.log" 2>&1 &
	DPID=$!
	track_pid $DPID
	wait_path -S "$SOCK" || fail "systemd-socket-activate did not create $SOCK"
	chmod 0666 "$SOCK"
	export CKPT_SOCKET="$SOCK" CKPTD=/nonexistent/ckptd
}

# start_notify_listener [TIMEOUT]: a NOTIFY_SOCKET at $NSOCK whose every
# message goes to $NOUT as one line, until STOPPING=1 or TIMEOUT seconds
# (default 60) without one. Sets NLPID.
start_notify_listener()
{
	rm -f "$NSOCK" "$NOUT"
	/usr/bin/python3 - "$NSOCK" "$NOUT" "${1:-60}" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(int(sys.argv[3]))
with open(sys.argv[2], "w") as f:
    while True:
        m = s.recv(4096).decode()
        f.write(m.replace("\n", " ") + "\n")
        f.flush()
        if "STOPPING=1" in m:
            break
PY
	NLPID=$!
	track_pid $NLPID
	wait_path -S "$NSOCK" || fail "notify listener did not start"
}

# --- targets -------------------------------------------------------------

# start_target NAME [ARGS...]: run $TARGETS/NAME in the background in a
# session of its own (under $TARGET_WRAP when set), wait (bounded) for
# "ready PID" in its status file.
# Sets TPID, TSTATUS (status file) and TLOG (its stdout/stderr).
# A target of another user's: TARGET_WRAP runs it as that user, and
# TARGET_DIR (a directory of the user's, default $TMP) holds its status,
# log and files, the log owned by TARGET_OWNER (UID:GID) when set.
start_target()
{
	local name=$1 bin=$TARGETS/$1 i=0 line pid dir=${TARGET_DIR:-$TMP}
	shift
	need_file "$bin"
	_lib_nr=$((_lib_nr + 1))
	TSTATUS=$dir/$name.$_lib_nr.status
	TLOG=$dir/$name.$_lib_nr.log
	rm -f "$TSTATUS"
	if [ -n "${TARGET_OWNER:-}" ]; then
		: >"$TLOG" && chown "$TARGET_OWNER" "$TLOG" || fail "cannot make $TLOG"
	fi
	# setsid: the target leads its own session and process group, so its
	# tree is self-contained (as restore wants) and cleanup finds all of
	# it. Without job control the background child is no group leader,
	# so setsid(1) does not fork and $! is the target itself.
	# TMPDIR: what a target leaves in it goes with $TMP, even when the test
	# kills the target before it cleans up
	# $TARGET_WRAP: a command the target runs under (stdio-wrap.py)
	CKPT_STATUS=$TSTATUS TMPDIR=$dir setsid ${TARGET_WRAP:-} "$bin" "$@" </dev/null >"$TLOG" 2>&1 &
	pid=$!
	track_pid $pid
	while :; do
		if [ -s "$TSTATUS" ]; then
			line=$(cat "$TSTATUS")
			case $line in
			"ready "*) break ;;
			*) fail "target $name: $line (log: $(tail -c 500 "$TLOG"))" ;;
			esac
		fi
		if ! kill -0 $pid 2>/dev/null; then
			wait $pid 2>/dev/null
			fail "target $name exited before ready (log: $(tail -c 500 "$TLOG"))"
		fi
		i=$((i + 1))
		[ $i -le $((READY_TIMEOUT * 10)) ] || fail "target $name: not ready after ${READY_TIMEOUT}s"
		sleep 0.1
	done
	TPID=${line#ready }
	[ "$TPID" = "$pid" ] || log "target $name: ready says $TPID, started $pid"
	track_pid "$TPID"
	log "started $name pid $TPID"
}

# check_alive [PID]: running (or sleeping), not a zombie, not stopped, and
# not traced by anyone (a dump must detach).
check_alive()
{
	local pid=${1:-$TPID} st tracer i=0
	st=$(proc_state "$pid") || fail "pid $pid is gone"
	case $st in
	Z|X) fail "pid $pid is a zombie" ;;
	esac
	while :; do
		tracer=$(sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$pid/status" 2>/dev/null)
		st=$(proc_state "$pid") || fail "pid $pid is gone"
		if [ "${tracer:-0}" = 0 ] && [ "$st" != t ] && [ "$st" != T ]; then
			break
		fi
		i=$((i + 1))
		# detaching may lag the client's exit by a moment
		[ $i -le 50 ] || fail "pid $pid left stopped or traced (state $st, TracerPid $tracer)"
		sleep 0.1
	done
	# every thread must be running too, none left in a ptrace stop
	for t in /proc/$pid/task/*; do
		st=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "$t/status" 2>/dev/null)
		case $st in
		t|T) fail "pid $pid: thread ${t##*/} left stopped (state $st)" ;;
		esac
	done
}

# expect_status pass|fail [STATUSFILE [PID]]: send SIGUSR1 and wait
# (bounded) for the target's verdict.
expect_status()
{
	local want=$1 sf=${2:-$TSTATUS} pid=${3:-$TPID} i=0 line
	kill -USR1 "$pid" 2>/dev/null || fail "cannot signal pid $pid (gone?)"
	while :; do
		line=$(cat "$sf" 2>/dev/null)
		case $line in
		pass|fail*) break ;;
		esac
		i=$((i + 1))
		if [ $i -gt $((STATUS_TIMEOUT * 10)) ]; then
			diag_pid "$pid"
			fail "pid $pid: no verdict after ${STATUS_TIMEOUT}s (status: '$line')"
		fi
		sleep 0.1
	done
	wait "$pid" 2>/dev/null
	case $want in
	pass) [ "$line" = pass ] || fail "pid $pid: $line" ;;
	fail) case $line in fail*) ;; *) fail "pid $pid passed, expected a failure" ;; esac ;;
	esac
	log "pid $pid: $line"
}

# diag_pid PID: what every thread of PID is doing, on stderr (for a test
# that found it stuck).
diag_pid()
{
	local t
	for t in /proc/$1/task/*; do
		[ -d "$t" ] || continue
		echo "diag: tid ${t##*/}: state $(proc_state "${t##*/}")" \
			"wchan $(cat "$t/wchan" 2>/dev/null)" \
			"syscall $(cut -d' ' -f1 "$t/syscall" 2>/dev/null)" \
			"$(grep -E '^(TracerPid|SigPnd|ShdPnd|SigBlk)' "$t/status" 2>/dev/null | tr '\n\t' '  ')" >&2
	done
}

# --- ckptctl -------------------------------------------------------------

# ckpt ARGS...: run ckptctl (bounded); stdout in $LAST_OUT, stderr in
# $LAST_ERR (file names), exit code in $LAST_RC. Never fails the test.
ckpt()
{
	_lib_nr=$((_lib_nr + 1))
	LAST_OUT=$TMP/ckpt.$_lib_nr.out
	LAST_ERR=$TMP/ckpt.$_lib_nr.err
	LAST_RC=0
	timeout -k 10 "$CKPT_TIMEOUT" "$CKPTCTL" "$@" >"$LAST_OUT" 2>"$LAST_ERR" || LAST_RC=$?
	if [ $LAST_RC -eq 124 ] || [ $LAST_RC -eq 137 ]; then
		fail "ckptctl $* hung (killed after ${CKPT_TIMEOUT}s)"
	fi
	return 0
}

# ckpt_ok ARGS...: ckptctl must succeed.
ckpt_ok()
{
	ckpt "$@"
	[ $LAST_RC -eq 0 ] || fail "ckptctl $* exited $LAST_RC: $(head -c 2000 "$LAST_ERR")"
}

# dump_target DIR [EXTRA ARGS...]: dump $TPID (leaving it running) into DIR.
dump_target()
{
	local dir=$1
	shift
	mkdir -p "$dir"
	ckpt_ok dump -t "$TPID" -D "$dir" --leave-running "$@"
	[ -f "$dir/inventory.img" ] || fail "dump of $TPID into $dir left no inventory.img"
	log "$(head -n 1 "$LAST_OUT")"
}

# expect_fail CODE PATTERN CMD...: CMD must exit with CODE and say something
# matching the extended regex PATTERN (case-insensitive) on stderr.
# "ckptctl" as CMD means $CKPTCTL (bounded like ckpt).
expect_fail()
{
	local code=$1 pat=$2
	shift 2
	_lib_nr=$((_lib_nr + 1))
	LAST_OUT=$TMP/cmd.$_lib_nr.out
	LAST_ERR=$TMP/cmd.$_lib_nr.err
	LAST_RC=0
	if [ "$1" = ckptctl ]; then
		shift
		set -- "$CKPTCTL" "$@"
	fi
	timeout -k 10 "$CKPT_TIMEOUT" "$@" >"$LAST_OUT" 2>"$LAST_ERR" || LAST_RC=$?
	[ $LAST_RC -ne 124 ] && [ $LAST_RC -ne 137 ] || fail "$* hung"
	[ $LAST_RC -eq "$code" ] ||
		fail "$* exited $LAST_RC, expected $code; stderr: $(head -c 1000 "$LAST_ERR")"
	grep -Eqi -- "$pat" "$LAST_ERR" ||
		fail "$*: stderr does not match '$pat': $(head -c 1000 "$LAST_ERR")"
	log "as expected ($code): $(head -n 1 "$LAST_ERR")"
}

# --- images --------------------------------------------------------------

# imgcmp DIR [PID [imgcmp options]]: compare every stored page with the live
# memory of PID (default $TPID).
imgcmp()
{
	local dir=$1 pid=${2:-$TPID} out
	[ $# -ge 2 ] && shift 2 || shift 1
	need_file "$TOOLS/imgcmp"
	_lib_nr=$((_lib_nr + 1))
	out=$TMP/imgcmp.$_lib_nr.out
	if [ -n "$TSTATUS" ] && [ -f "$TSTATUS.info" ]; then
		set -- --info "$TSTATUS.info" "$@"
	fi
	timeout -k 10 "$CKPT_TIMEOUT" "$TOOLS/imgcmp" "$@" "$dir" "$pid" >"$out" 2>&1 ||
		fail "imgcmp $dir $pid: $(tail -n 20 "$out")"
	log "$(tail -n 1 "$out")"	# "imgcmp: OK: ..."
}

# flip FILE OFFSET [MASK]: invert the bits of MASK (default 0xff) in one
# byte of FILE, in place (a corrupted image).
flip()
{
	python3 - "$1" "$2" "${3:-255}" <<'PY' || fail "cannot damage $1"
import sys
with open(sys.argv[1], "r+b") as f:
    off = int(sys.argv[2])
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ int(sys.argv[3], 0)]))
PY
}

# show_json DIR: `ckptctl show DIR` must succeed and print valid JSON, which
# is left in $TMP/show.json.
show_json()
{
	ckpt_ok show --json "$1"
	cp "$LAST_OUT" "$TMP/show.json"
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/show.json" ||
		fail "ckptctl show $1: output is not JSON: $(head -c 500 "$TMP/show.json")"
}

# json_check FILE PYTHON...: run Python statements with the JSON document
# bound to `j`; a failed assert fails the test with its message. Helpers
# for `ckptctl show` output:
#	task(pid)	j["tasks"][str(pid)]	(core, mm, pagemap, fs)
#	pst(pid)	the pstree entry of pid
#	vmas(pid)	the VMA list of pid
#	vma_at(pid, addr)	the VMA holding addr, or None
#	fds(pid)	{fd: file_desc_entry plus "cloexec"} of pid
#	threads(pid)	the thread_core_entry list of pid
#	find(obj, key)	every value under key, anywhere
#	info		the target's notes ($TSTATUS.info lines, split), if any
# Shell values reach the code through the environment (os.environ).
json_check()
{
	local f=$1
	shift
	INFO_FILE=${TSTATUS:+$TSTATUS.info} python3 - "$f" "$*" <<'EOF' || fail "json check on $f failed"
import json, os, sys
j = json.load(open(sys.argv[1]))
def find(o, key):
    out = []
    if isinstance(o, dict):
        for k, v in o.items():
            if k == key:
                out.append(v)
            out.extend(find(v, key))
    elif isinstance(o, list):
        for v in o:
            out.extend(find(v, key))
    return out
def task(pid):
    return j["tasks"][str(pid)]
def pst(pid):
    for p in j["pstree"]:
        if p["pid"] == int(pid):
            return p
    raise AssertionError("pid %s not in pstree" % pid)
def vmas(pid):
    return task(pid)["mm"]["vmas"]
def vma_at(pid, addr):
    for v in vmas(pid):
        if v["start"] <= addr < v["end"]:
            return v
    return None
def fds(pid):
    descs = {d["id"]: d for d in j["files"]}
    out = {}
    for f in task(pid)["fs"]["fds"]:
        d = dict(descs[f["desc_id"]])
        d["cloexec"] = f["cloexec"]
        out[f["fd"]] = d
    return out
def threads(pid):
    return task(pid)["core"]["threads"]
info = []
if os.environ.get("INFO_FILE") and os.path.exists(os.environ["INFO_FILE"]):
    info = [l.split() for l in open(os.environ["INFO_FILE"])]
try:
    exec(sys.argv[2])
except AssertionError as e:
    print("assertion failed:", e, file=sys.stderr)
    sys.exit(1)
except Exception as e:
    import traceback
    traceback.print_exc()
    sys.exit(1)
EOF
}

# show_check DIR PYTHON...: show_json DIR, then json_check on its output.
show_check()
{
	local dir=$1
	shift
	show_json "$dir"
	json_check "$TMP/show.json" "$@"
}

# dump_check NAME [ARGS...]: the common course of a dump test: start the
# target, dump it leaving it running, compare the image with it (imgcmp,
# with the target's notes), check `ckptctl show` gives JSON whose root,
# tasks, threads, VMAs and fds are the live ones, check the target is
# unharmed, and leave it running for the caller's own checks (then
# expect_status pass). The image set is in $IMG, the JSON in $TMP/show.json.
dump_check()
{
	start_target "$@"
	IMG=$TMP/img.$_lib_nr
	dump_target "$IMG"
	check_alive
	imgcmp "$IMG"
	show_json "$IMG"
	ROOT=$TPID json_check "$TMP/show.json" '
root = int(os.environ["ROOT"])
assert j["inventory"]["root_pid"] == root, "root_pid %s" % j["inventory"]["root_pid"]
assert j["inventory"]["kind"] == "DUMP_FULL"
assert j["inventory"]["nr_tasks"] == len(j["pstree"])
assert j["pstree"][0]["pid"] == root
for p in j["pstree"]:
    if p["state"] == "TASK_ZOMBIE":
        continue
    t = task(p["pid"])
    live = sorted(int(x) for x in os.listdir("/proc/%d/task" % p["pid"]))
    assert sorted(p["threads"]) == live, "pid %d: threads %s, live %s" % (p["pid"], p["threads"], live)
    assert [th["tid"] for th in t["core"]["threads"]] == p["threads"], "pid %d: core threads" % p["pid"]
    nlive = sum(1 for l in open("/proc/%d/maps" % p["pid"]) if "[vsyscall]" not in l)
    nimg = sum(1 for v in t["mm"]["vmas"] if v["kind"] != "VMA_VSYSCALL")
    assert nimg == nlive, "pid %d: %d VMAs in the image, %d live" % (p["pid"], nimg, nlive)
    assert t["mm"]["nr_vmas"] == len(t["mm"]["vmas"])
    nfd = len(os.listdir("/proc/%d/fd" % p["pid"]))
    assert len(t["fs"]["fds"]) == nfd, "pid %d: %d fds in the image, %d live" % (p["pid"], len(t["fs"]["fds"]), nfd)
'
}

# wait_path TEST PATH [SECONDS]: wait (bounded, default 10 s) until
# [ TEST PATH ] holds (-e exists, -s is not empty, -S is a socket);
# returns 1 on timeout, for the caller to say what did not happen.
wait_path()
{
	local op=$1 f=$2 n=${3:-10} i=0
	while ! [ "$op" "$f" ]; do
		i=$((i + 1))
		[ $i -le $((n * 10)) ] || return 1
		sleep 0.1
	done
}

# wait_gone PID [SECONDS]: wait until PID no longer exists at all (PID 1
# reaps orphans slowly here, so a killed orphan stays a zombie a while).
wait_gone()
{
	local pid=$1 n=${2:-30} i=0
	wait "$pid" 2>/dev/null
	while [ -e "/proc/$pid" ]; do
		i=$((i + 1))
		[ $i -le $((n * 10)) ] || fail "pid $pid still exists after ${n}s"
		sleep 0.1
	done
}

# no_partial_set DIR: a failed dump left no partial set behind.
no_partial_set()
{
	[ ! -e "$1/inventory.img" ] || fail "$1/inventory.img left behind by a failed dump"
	for f in "$1"/.ckpt-tmp-*; do
		[ -e "$f" ] && fail "$f left behind by a failed dump"
	done
	return 0
}
