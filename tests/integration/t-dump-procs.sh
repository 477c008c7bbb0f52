#!/bin/sh
# A process tree: root, a child in its own process group with a
# grandchild, a zombie (exit 42), a stopped child, an anonymous map shared
# by root and child, a pipe with unread bytes between them. The image
# holds all five tasks with their states; afterwards the zombie is still a
# zombie, the stopped child still stopped (and not traced), and the tree
# passes its checks.
. "$(dirname "$0")/lib.sh"

dump_check procs
json_check "$TMP/show.json" '
notes = [l for l in info if l[0] == "task"]
assert len(notes) == 5, notes
assert len(j["pstree"]) == 5, [p["pid"] for p in j["pstree"]]
root = int(notes[0][1])
seen = []
for _, pid, ppid, state in notes:
    p = pst(pid)
    want_ppid = 0 if int(pid) == root else int(ppid)
    assert p["ppid"] == want_ppid, "pid %s: ppid %d, expected %d" % (pid, p["ppid"], want_ppid)
    assert p["sid"] == root, "pid %s: sid %d" % (pid, p["sid"])
    want = {"alive": "TASK_ALIVE", "zombie": "TASK_ZOMBIE", "stopped": "TASK_STOPPED"}[state]
    assert p["state"] == want, "pid %s: %s, expected %s" % (pid, p["state"], want)
    if state == "zombie":
        code = p.get("exit_code")
        assert code in (42, 42 << 8), "zombie %s: exit_code %s" % (pid, code)
    if state == "stopped":
        assert p.get("stop_signal") == 19, "stopped %s: stop_signal %s" % (pid, p.get("stop_signal"))
    seen.append(int(pid))
# parents before children
order = [p["pid"] for p in j["pstree"]]
for p in j["pstree"]:
    if p["ppid"]:
        assert order.index(p["ppid"]) < order.index(p["pid"]), "pid %d before its parent" % p["pid"]
child = int(notes[1][1])
assert pst(child)["pgid"] == child, "child pgid %d" % pst(child)["pgid"]
# the shared map is one object in both
shared = lambda pid: {v["shmid"] for v in vmas(pid) if v["kind"] == "VMA_ANON_SHARED" and v["end"] - v["start"] == 2 << 20}
assert shared(root) and shared(root) == shared(child), (shared(root), shared(child))
# the pipe with 3000 unread bytes
pipes = [d for d in j["files"] if d["type"] == "FD_PIPE" and d.get("pipe_data")]
assert any(len(d["pipe_data"]) == 2 * 3000 for d in pipes), [len(d.get("pipe_data", "")) for d in pipes]
'
zombie=$(awk '$1 == "task" && $4 == "zombie" { print $2 }' "$TSTATUS.info")
stopped=$(awk '$1 == "task" && $4 == "stopped" { print $2 }' "$TSTATUS.info")
for p in $(awk '$1 == "task" && $4 == "alive" { print $2 }' "$TSTATUS.info"); do
	check_alive "$p"
done
[ "$(proc_state "$zombie")" = Z ] || fail "zombie $zombie is now in state $(proc_state "$zombie")"
[ "$(proc_state "$stopped")" = T ] || fail "stopped child $stopped is now in state $(proc_state "$stopped")"
tracer=$(sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$stopped/status")
[ "$tracer" = 0 ] || fail "stopped child $stopped still traced by $tracer"
expect_status pass
