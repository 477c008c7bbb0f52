#!/bin/sh
# A held dump (ckptctl migrate's last round, dump_req.hold): once the set
# is in place the tree stays frozen until the client's verdict. Only a go
# kills it (and the set restores); a no-go, a ^C, the client dying, the
# hold timing out or ckptd itself being SIGKILLed while it holds leave the
# tree running as before. tests/tools/hold-client plays the client.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

HOLD_CLIENT=$TOOLS/hold-client
need_file "$HOLD_CLIENT"
# a one-shot ckptd of our own, found through $CKPTD (not beside the tool)
ONESHOT_CKPTD=$CKPTD
export CKPT_SOCKET="$TMP/none.sock" CKPTD

# cpu_ticks PID: utime + stime of PID
cpu_ticks()
{
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || fail "pid $1 is gone"
	s=${s##*) }
	set -- $s
	echo $((${12} + ${13}))
}

# runs_on [PID]: alive, not stopped or traced, and its writer thread (incr
# -w spins) makes progress
runs_on()
{
	local pid=${1:-$TPID} a b
	check_alive "$pid"
	a=$(cpu_ticks "$pid")
	sleep 0.3
	b=$(cpu_ticks "$pid")
	[ "$b" -gt "$a" ] || fail "pid $pid does not run: cpu ticks $a, then $b"
}

# hold MODE DIR [TIMEOUT_MS]: hold-client (bounded) on $TPID; its exit code
# in HRC, its output in DIR.out and DIR.err
hold()
{
	mkdir -p "$2"
	HRC=0
	timeout -k 5 60 "$HOLD_CLIENT" "$TPID" "$2" "$1" ${3:-} >"$2.out" 2>"$2.err" || HRC=$?
	[ $HRC -ne 124 ] && [ $HRC -ne 137 ] || fail "hold-client $1 hung"
}

# expect_held DIR RC REGEX: the client got to held(), exited RC, said REGEX
expect_held()
{
	grep -qx held "$1.out" || fail "$1: held() was not called: $(cat "$1.out" "$1.err")"
	[ $HRC -eq "$2" ] || fail "$1: hold-client exited $HRC, not $2: $(cat "$1.err")"
	grep -Eq -- "$3" "$1.err" || fail "$1: no '$3' in: $(cat "$1.err")"
	log "$(basename "$1"): $(head -n 1 "$1.err")"
}

start_target incr -w

# no-go: exit 9 (cancelled), the tree runs on; the set stays for the client
hold resume "$TMP/resume"
expect_held "$TMP/resume" 9 "not confirmed \(the client said no-go\): the tree runs on"
[ -f "$TMP/resume/inventory.img" ] || fail "a not confirmed dump removed its set"
runs_on

# ^C while held(): its go is not sent, a no-go is
hold sigint "$TMP/sigint"
expect_held "$TMP/sigint" 9 "not confirmed \(the client said no-go\): the tree runs on"
runs_on

# the client dies in held(): ckptd sees the hang-up
hold exit "$TMP/exit"
grep -qx held "$TMP/exit.out" || fail "exit: held() was not called"
runs_on

# no verdict in time: a go that comes after the timeout kills nothing
hold sleep "$TMP/sleep" 400
expect_held "$TMP/sleep" 9 "not confirmed \(no verdict within 400 ms\): the tree runs on"
runs_on

# a held pre-dump is refused before anything is frozen
hold pre "$TMP/pre"
[ $HRC -ne 0 ] || fail "a held pre-dump was taken"
grep -q "cannot be a pre-dump" "$TMP/pre.err" || fail "pre: $(cat "$TMP/pre.err")"
[ ! -e "$TMP/pre/inventory.img" ] || fail "a refused held pre-dump wrote a set"
runs_on

# ckptd SIGKILLed while it holds: the kernel detaches its ptrace stops
mkdir -p "$TMP/kill"
"$HOLD_CLIENT" "$TPID" "$TMP/kill" signal-daemon >"$TMP/kill.out" 2>"$TMP/kill.err" &
CPID=$!
track_pid $CPID
wait_path -s "$TMP/kill.out" 30 || fail "signal-daemon: held() was not called"
DPID=
for d in /proc/[0-9]*; do
	s=$(cat "$d/stat" 2>/dev/null) || continue
	case $s in
	*"(ckptd) "*) ;;
	*) continue ;;
	esac
	s=${s##*) }
	set -- $s
	[ "$2" = "$CPID" ] && DPID=${d#/proc/}
done
[ -n "$DPID" ] || fail "no one-shot ckptd under hold-client $CPID"
[ "$(proc_state "$TPID")" = t ] || fail "pid $TPID is not held: state $(proc_state "$TPID")"
kill -KILL "$DPID"
runs_on
kill -KILL "$CPID"
wait "$CPID" 2>/dev/null

# held_op: wait until ckptctl status shows the dump of $TPID held; sets
# OP_ID and OP_HANDLER
held_op()
{
	local out
	out=$(python3 - "$CKPTCTL" "$TPID" <<'PY'
import json, subprocess, sys, time
for _ in range(100):
    r = subprocess.run([sys.argv[1], "status", "--json"], capture_output=True, text=True)
    try:
        ops = json.loads(r.stdout).get("operations", [])
    except ValueError:
        ops = []
    for o in ops:
        if o.get("target_pid") == int(sys.argv[2]) and o.get("stage") == "held":
            print(o["id"], o["handler_pid"])
            sys.exit(0)
    time.sleep(0.1)
sys.exit(1)
PY
) || fail "ckptctl status never showed the dump of $TPID held"
	set -- $out
	OP_ID=$1 OP_HANDLER=$2
}

# hold_bg DIR: hold-client signal-daemon in the background, until held();
# sets CPID
hold_bg()
{
	mkdir -p "$1"
	"$HOLD_CLIENT" "$TPID" "$1" signal-daemon >"$1.out" 2>"$1.err" &
	CPID=$!
	track_pid $CPID
	wait_path -s "$1.out" 30 || fail "$1: held() was not called: $(cat "$1.err")"
}

# a listening ckptd: ckptctl status shows the dump held; ckptctl cancel
# lets the tree run on, and so does a SIGKILL of the handler holding it
activate_daemon
hold_bg "$TMP/cancel"
held_op
ckpt_ok cancel "$OP_ID"
runs_on
kill -KILL "$CPID"
wait "$CPID" 2>/dev/null
grep -q "not confirmed (the dump was cancelled while held): the tree runs on" \
	"$TMP/daemon.log" || fail "cancel: ckptd's log: $(tail -n 3 "$TMP/daemon.log")"

hold_bg "$TMP/kill-handler"
held_op
kill -KILL "$OP_HANDLER"
runs_on
kill -KILL "$CPID"
wait "$CPID" 2>/dev/null
export CKPT_SOCKET="$TMP/none.sock" CKPTD="$ONESHOT_CKPTD"

# go: the tree goes, and the set restores
hold go "$TMP/go"
grep -qx held "$TMP/go.out" || fail "go: held() was not called: $(cat "$TMP/go.err")"
[ $HRC -eq 0 ] && grep -qx "dumped 1 tasks" "$TMP/go.out" ||
	fail "go: hold-client exited $HRC: $(cat "$TMP/go.out" "$TMP/go.err")"
wait_gone "$TPID"
TREE_PIDS=$TPID
restore_ok "$TMP/go"
expect_status pass
