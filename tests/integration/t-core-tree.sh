#!/bin/sh
# A tree with a running child and grandchild in their own process group, a
# zombie and a stopped child: pstree.img lists every task parents first,
# with its pgid, sid, threads, state, the zombie's wait status and the stop
# signal; every live task has its core image (the zombie has none); and a
# --leave-running dump leaves the zombie a zombie and the stopped child
# stopped (the target checks both itself).
. "$(dirname "$0")/lib.sh"

start_target procs
notes=$TSTATUS.info
[ -s "$notes" ] || fail "procs wrote no notes"
dir=$TMP/img
dump_target "$dir"
check_alive

zombie=$(awk '$4 == "zombie" { print $2 }' "$notes")
stopped=$(awk '$4 == "stopped" { print $2 }' "$notes")
[ "$(proc_state "$zombie")" = Z ] || fail "zombie $zombie is no longer a zombie"
[ "$(proc_state "$stopped")" = T ] || fail "stopped child $stopped is no longer stopped"
tracer=$(sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$stopped/status")
[ "$tracer" = 0 ] || fail "stopped child $stopped still traced by $tracer"
for p in $(awk '$4 != "zombie" { print $2 }' "$notes"); do
	[ -f "$dir/core-$p.img" ] || fail "no core-$p.img"
done
[ ! -e "$dir/core-$zombie.img" ] || fail "a zombie got a core image"

show_json "$dir"
json_check "$TMP/show.json" "
notes = [l.split() for l in open('$notes') if l.startswith('task ')]
want = {int(n[1]): (int(n[2]), n[3]) for n in notes}
tree = j['pstree']
pids = [int(e['pid']) for e in tree]
assert sorted(pids) == sorted(want), 'pstree %r, notes %r' % (pids, sorted(want))
assert pids[0] == $TPID, 'the root comes first'
assert int(tree[0]['ppid']) == 0, 'the root has ppid 0 in the image'
pos = {p: i for i, p in enumerate(pids)}
st = {'alive': ('TASK_ALIVE', 1), 'zombie': ('TASK_ZOMBIE', 3), 'stopped': ('TASK_STOPPED', 2)}
for e in tree:
    pid = int(e['pid'])
    ppid, state = want[pid]
    if pid != $TPID:
        assert int(e['ppid']) == ppid, 'pid %d: ppid %s, want %d' % (pid, e['ppid'], ppid)
        assert pos[ppid] < pos[pid], 'pid %d listed before its parent %d' % (pid, ppid)
    assert e['state'] in st[state], 'pid %d: state %s, want %s' % (pid, e['state'], state)
    assert [int(t) for t in e['threads']][0] == pid, 'pid %d: main thread first' % pid
    assert int(e['sid']) == $TPID, 'pid %d: sid %s' % (pid, e['sid'])
    if state == 'zombie':
        assert int(e['exit_code']) == 42 << 8, 'zombie wait status %s' % e.get('exit_code')
    if state == 'stopped':
        assert int(e['stop_signal']) == 19, 'stop signal %s' % e.get('stop_signal')
child = [p for p, (pp, s) in want.items() if pp == $TPID and s == 'alive']
assert len(child) == 1
pg = {int(e['pid']): int(e['pgid']) for e in tree}
assert pg[child[0]] == child[0], 'the child leads its own process group'
assert all(pg[p] == pg[child[0]] for p, (pp, s) in want.items() if pp == child[0])
"
expect_status pass
exit 0
