# Helpers of the restore tests (sourced after lib.sh).

# tree_pids DIR: every pid of the image set's pstree.img, one per line.
tree_pids()
{
	"$CKPTCTL" show --json "$1" | python3 -c '
import json, sys
for t in json.load(sys.stdin)["pstree"]:
    print(t["pid"])'
}

# dump_kill DIR [ARGS...]: dump $TPID (its tree is killed, as CRIU does by
# default; ARGS such as --prev go to ckptctl dump) and wait until every pid
# of the tree is free again. Sets TREE_PIDS.
dump_kill()
{
	local dir=$1 p
	shift
	mkdir -p "$dir"
	ckpt_ok dump -t "$TPID" -D "$dir" "$@"
	TREE_PIDS=$(tree_pids "$dir") || fail "cannot read the pstree of $dir"
	for p in $TREE_PIDS; do
		wait_gone "$p"
	done
	log "dumped and killed $TPID (tree: $(echo $TREE_PIDS))"
}

# dump_refused DIR PATTERN: a killing dump of $TPID must be refused before
# it kills (exit 8, stderr matching PATTERN), leave no image set in DIR,
# and leave the target running and intact (it checks itself on SIGUSR1).
dump_refused()
{
	local dir=$1 pat=$2
	mkdir -p "$dir"
	expect_fail 8 "restore would refuse this tree.*$pat.*runs on" \
		ckptctl dump -t "$TPID" -D "$dir"
	no_partial_set "$dir"
	check_alive "$TPID"
}

# restore_ok DIR: restore; the root must come back with its pid.
restore_ok()
{
	local dir=$1 p
	ckpt_ok restore -D "$dir" --pidfile "$TMP/restored.pid"
	[ "$(cat "$TMP/restored.pid")" = "$TPID" ] ||
		fail "restored root is $(cat "$TMP/restored.pid"), not $TPID"
	for p in $TREE_PIDS; do
		track_pid "$p"
	done
	log "restored $TPID"
}

# no_tree_left: no pid of the tree exists (after a failed restore).
no_tree_left()
{
	local p i
	for p in $TREE_PIDS; do
		i=0
		while [ -e "/proc/$p" ]; do
			i=$((i + 1))
			[ $i -le 50 ] || fail "pid $p of the tree is left after a failed restore: $(proc_stat "$p")"
			sleep 0.1
		done
	done
}

# restore_cycle TARGET [ARGS...]: start, dump (killing), restore, check.
restore_cycle()
{
	start_target "$@"
	dump_kill "$TMP/img"
	restore_ok "$TMP/img"
	expect_status pass
}

# proc_snapshot PID FILE: what /proc says about a process that a faithful
# restore must give back: maps, fds (target, flags, pos), cwd, root, limits,
# credentials, signal masks and dispositions, name, state, pgid, sid, and
# the same for every thread.
proc_snapshot()
{
	python3 - "$1" >"$2" <<'PY' || fail "cannot snapshot pid $1"
import os, re, sys
pid = sys.argv[1]
P = "/proc/" + pid
def rd(p):
    with open(p) as f:
        return f.read()
out = []
# address, perms, offset, path (device/inode of anonymous maps may differ).
# Neighbours the kernel could merge are merged: two anonymous VMAs split
# only by their anon_vma history (a fork) come back as one.
maps = []
for line in rd(P + "/maps").splitlines():
    f = line.split(None, 5)
    s, e = (int(x, 16) for x in f[0].split("-"))
    m = [s, e, f[1], int(f[2], 16), f[5] if len(f) > 5 else ""]
    if maps:
        p = maps[-1]
        if p[1] == s and p[2] == m[2] and p[4] == m[4] and not m[4].startswith("[") and \
           (m[4] == "" or p[3] + (p[1] - p[0]) == m[3]):
            p[1] = e
            continue
    maps.append(m)
for m in maps:
    out.append("map %x-%x %s %08x %s" % tuple(m))
for fd in sorted(os.listdir(P + "/fd"), key=int):
    try:
        tgt = os.readlink(P + "/fd/" + fd)
        info = rd(P + "/fdinfo/" + fd)
    except FileNotFoundError:
        continue
    tgt = re.sub(r"\[\d+\]$", "[ino]", tgt)            # pipe:[ino] differs
    tgt = re.sub(r"^/memfd:", "memfd:", tgt)
    fl = re.search(r"flags:\s*(\d+)", info).group(1)
    pos = re.search(r"pos:\s*(\d+)", info).group(1)
    out.append("fd %s %s flags %s pos %s" % (fd, tgt, fl, pos))
out.append("cwd " + os.readlink(P + "/cwd"))
out.append("root " + os.readlink(P + "/root"))
out += ["limit " + l for l in rd(P + "/limits").splitlines()[1:]]
st = rd(P + "/stat")
st = st[st.rindex(")") + 2:].split()
out.append("stat state %s pgrp %s session %s" % (st[0], st[2], st[3]))
keep = ("Name", "Umask", "Uid", "Gid", "Groups", "SigBlk", "SigIgn", "SigCgt",
        "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp")
for t in sorted(os.listdir(P + "/task"), key=int):
    for line in rd(P + "/task/%s/status" % t).splitlines():
        k = line.split(":", 1)[0]
        if k in keep:
            out.append("task %s %s" % (t, line.replace("\t", " ")))
print("\n".join(out))
PY
}

# descendants PID: PID and every descendant, parents first.
descendants()
{
	local c
	echo "$1"
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		descendants "$c"
	done
}

# snapshot_tree NAME: proc_snapshot of every pid in $TREE_PIDS (not zombies)
# into $TMP/NAME.PID.
snapshot_tree()
{
	local p
	for p in $TREE_PIDS; do
		case $(proc_state "$p") in
		Z|"") continue ;;	# a zombie has nothing to compare
		esac
		proc_snapshot "$p" "$TMP/$1.$p"
	done
}

# same_as_before: every snapshot taken before the dump matches the restored
# process's.
same_as_before()
{
	local f p
	for f in "$TMP"/before.*; do
		p=${f##*.}
		proc_snapshot "$p" "$TMP/after.$p"
		diff -u "$f" "$TMP/after.$p" >"$TMP/diff.$p" ||
			fail "pid $p differs after restore: $(head -c 3000 "$TMP/diff.$p")"
	done
	log "/proc of the restored tree matches the dumped one"
}

# restore_cycle_same TARGET [ARGS...]: restore_cycle that also compares /proc.
restore_cycle_same()
{
	start_target "$@"
	TREE_PIDS=$(descendants "$TPID")
	snapshot_tree before
	dump_kill "$TMP/img"
	restore_ok "$TMP/img"
	same_as_before
	expect_status pass
}

# start_prog NAME CMD [ARGS...]: like start_target, for a program that is
# not one of tests/targets (python3, bash...): it runs in a session of
# its own with CKPT_STATUS set and must write "ready PID" there itself.
# Sets TPID, TSTATUS, TLOG.
start_prog()
{
	local name=$1 i=0 line pid
	shift
	_lib_nr=$((_lib_nr + 1))
	TSTATUS=$TMP/$name.$_lib_nr.status
	TLOG=$TMP/$name.$_lib_nr.log
	rm -f "$TSTATUS"
	CKPT_STATUS=$TSTATUS setsid "$@" </dev/null >"$TLOG" 2>&1 &
	pid=$!
	track_pid $pid
	while :; do
		line=$(cat "$TSTATUS" 2>/dev/null)
		case $line in
		"ready "*) break ;;
		"") ;;
		*) fail "$name: $line (log: $(tail -c 500 "$TLOG"))" ;;
		esac
		kill -0 $pid 2>/dev/null ||
			fail "$name exited before ready (log: $(tail -c 500 "$TLOG"))"
		i=$((i + 1))
		[ $i -le $((READY_TIMEOUT * 10)) ] || fail "$name: not ready after ${READY_TIMEOUT}s"
		sleep 0.1
	done
	TPID=${line#ready }
	track_pid "$TPID"
	log "started $name pid $TPID"
}

# wait_file FILE [SECONDS]: wait (bounded) until FILE exists and is not
# empty; prints nothing, fails the test on timeout.
wait_file()
{
	local f=$1 n=${2:-30}
	wait_path -s "$f" "$n" || { diag_pid "$TPID"; fail "no $f after ${n}s"; }
}

# restore_held DIR PID: run `ckptctl restore -D DIR` in the background
# (RST_PID; output in $TMP/rst.out, $TMP/rst.err) against the ckptd of
# listen_daemon, and stop PID, a task of the set, with SIGSTOP the moment
# the restore creates it (a task being built can't block it): the restore
# is held half way. Sets RST_HANDLER (ckptd's connection handler) and
# RST_INTER (the restore's intermediate process). Returns 1 when the stop
# came too late (the restore was done: the tree is killed again, the
# caller may try again). The stopper spins: a restore takes milliseconds.
restore_held()
{
	local dir=$1 pid=$2 p up
	rm -f "$TMP/watching"
	nice -n -10 python3 -c '
import os, signal, sys, time
pid, end = int(sys.argv[1]), time.monotonic() + 30
open(sys.argv[2], "w").close()
while True:
    try:
        os.kill(pid, signal.SIGSTOP)
        sys.exit(0)
    except ProcessLookupError:
        if time.monotonic() > end:
            sys.exit("pid %d did not appear in 30 s" % pid)' "$pid" "$TMP/watching" \
		>"$TMP/stopper.out" 2>&1 &
	up=$!
	wait_path -e "$TMP/watching" || fail "the stopper did not start"
	"$CKPTCTL" restore -D "$dir" >"$TMP/rst.out" 2>"$TMP/rst.err" &
	RST_PID=$!
	wait "$up" || fail "pid $pid never appeared: $(cat "$TMP/stopper.out" "$TMP/rst.err")"
	track_pid "$pid"
	# held if a handler of our ckptd is still above it
	RST_INTER= RST_HANDLER= p=$pid
	while up=$(proc_stat "$p"); do
		set -- $up
		[ "$2" -gt 1 ] || break
		if [ "$2" = "$DPID" ]; then
			RST_HANDLER=$p
			return 0
		fi
		RST_INTER=$p p=$2
	done
	log "pid $pid stopped too late: the restore was done"
	wait "$RST_PID"
	kill -KILL $TREE_PIDS 2>/dev/null
	for p in $TREE_PIDS; do
		wait_gone "$p"
	done
	return 1
}
