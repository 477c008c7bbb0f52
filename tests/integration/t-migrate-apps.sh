#!/bin/sh
# Real programs nobody here wrote migrate and answer on the destination:
#  - python3 builds a heap of known state (a dict of 200000 entries, a list
#    of bytes), then appends its counter 1, 2, 3... to a file every 50 ms;
#    on SIGUSR1 (its signal handler asks, the loop answers between two
#    lines) it checks the heap against the digest it took at start and the
#    file against its counter, and writes the verdict with its PID and
#    counter. After the move the file must go on growing from where it
#    was, and the verdict must come from the restored interpreter (same
#    PID in the destination's namespace, a counter beyond the one before
#    the move, the heap intact);
#  - bash runs `while :; do echo $i; sleep 0.1; done | cat >> FILE` (bash,
#    a subshell, cat and the sleeps, a pipe between them, stdin from
#    /dev/null): after the move the whole tree runs in the destination's
#    namespace and the file goes on growing, no line lost or doubled.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/migrate-lib.sh"

command -v python3 >/dev/null || skip "no python3"
command -v bash >/dev/null || skip "no bash"

# lines FILE: how many lines FILE has, if they read 1, 2, 3... exactly;
# else what is wrong, and status 1
lines()
{
	awk '$0 != NR { bad = "line " NR " reads \"" $0 "\""; exit }
		END { if (bad) { print bad; exit 1 } print NR }' "$1"
}

# grows FILE N: FILE's lines go past N within 5 s; sets NLINES to their count
grows()
{
	local i=0 n
	while :; do
		n=$(lines "$1") || fail "$1 is not 1, 2, 3...: $n"
		[ "$n" -gt "$2" ] && { NLINES=$n; return 0; }
		i=$((i + 1))
		[ $i -le 50 ] || fail "$1 stays at $n lines (had $2): the program does not run"
		sleep 0.1
	done
}

# migrate_tree: move $TPID's tree to a fresh receive in plaintext, check
# receive succeeded and the source is gone. Sets H, the host PID of $TPID
# in the destination's namespace.
migrate_tree()
{
	start_dest --insecure-plaintext
	ckpt_ok migrate -t "$TPID" --to 127.0.0.1:$RPORT --insecure-plaintext --json
	log "migrate: $(cat "$LAST_OUT")"
	json_check "$LAST_OUT" "assert j['dest_pid'] == $TPID and j['rounds'] >= 2, j"
	wait_gone "$TPID"
	dest_wait
	[ "$RRC" = 0 ] || fail "receive exited $RRC: $(cat "$RERR")"
	H=$(host_pid "$TPID") || fail "pid $TPID does not run in the destination's namespace"
	log "pid $TPID runs at the destination (host pid $H)"
}

# --- python3 -------------------------------------------------------------
cat >"$TMP/prog.py" <<'PY'
import hashlib, os, signal, sys, time

table = {i: "v%d" % (i * i) * (1 + i % 5) for i in range(200000)}
blobs = [bytes((i * 7 + j) & 255 for j in range(i % 300)) for i in range(20000)]

def digest():
    h = hashlib.sha256()
    for k in sorted(table):
        h.update(b"%d=%s;" % (k, table[k].encode()))
    for b in blobs:
        h.update(b)
    return h.hexdigest()

expect = digest()
out = open(sys.argv[1], "a", buffering=1)
answer = sys.argv[2]
status = os.environ["CKPT_STATUS"]
counter = 0

def say(path, line):
    with open(path + ".tmp", "w") as f:
        f.write(line + "\n")
    os.rename(path + ".tmp", path)

def on_usr1(sig, frame):
    global asked
    asked = True

def verdict():
    with open(sys.argv[1]) as f:
        got = [int(l) for l in f]
    say(answer, "%d %d" % (os.getpid(), counter))
    if got != list(range(1, counter + 1)):
        say(status, "fail: the file holds %d lines, the counter is %d" % (len(got), counter))
    elif digest() != expect:
        say(status, "fail: the heap changed")
    else:
        say(status, "pass")
    sys.exit(0)

asked = False
signal.signal(signal.SIGUSR1, on_usr1)
say(status, "ready %d" % os.getpid())
while not asked:       # the handler only asks: a line and the counter stay in step
    counter += 1
    out.write("%d\n" % counter)
    time.sleep(0.05)
verdict()
PY
start_prog python3 python3 "$TMP/prog.py" "$TMP/py.out" "$TMP/py.answer"
grows "$TMP/py.out" 5
n0=$NLINES
migrate_tree
grows "$TMP/py.out" "$n0"
n1=$NLINES
grows "$TMP/py.out" "$n1"
n2=$NLINES
log "python3: $n0 lines before the move, $n1 then $n2 after"
expect_status pass "$TSTATUS" "$H"
read -r apid acount <"$TMP/py.answer" || fail "python3 gave no answer"
[ "$apid" = "$TPID" ] || fail "python3 says its pid is $apid, not $TPID"
[ "$acount" -ge "$n2" ] || fail "python3's counter $acount, but the file had $n2 lines"
kill -KILL "$NSINIT"
wait_gone "$NSINIT"
rm -rf "$RDIR"

# --- a bash pipeline ---------------------------------------------------------
start_prog bash bash -c '
	echo "ready $$" >"$CKPT_STATUS.tmp" && mv "$CKPT_STATUS.tmp" "$CKPT_STATUS"
	i=0
	while :; do i=$((i + 1)); echo $i; sleep 0.1; done | cat >>"$1"' bash "$TMP/sh.out"
grows "$TMP/sh.out" 5
n0=$NLINES
tree=$(cat /proc/"$TPID"/task/*/children)
[ "$(echo $tree | wc -w)" = 2 ] || fail "expected the subshell and cat under bash, have: $tree"
migrate_tree
for p in $tree; do
	host_pid "$p" >/dev/null || fail "pid $p of the tree does not run in the destination's namespace"
done
grows "$TMP/sh.out" "$n0"
n1=$NLINES
grows "$TMP/sh.out" "$n1"
n2=$NLINES
log "bash pipeline ($TPID $(echo $tree)): $n0 lines before the move, $n1 then $n2 after"
kill -KILL "$NSINIT"
wait_gone "$NSINIT"
