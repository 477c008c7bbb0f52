#!/bin/sh
# A parent forking short-lived children nonstop: twenty dumps in a row all
# succeed (a child caught exiting is saved as a zombie, never a failure),
# none hangs, and the parent goes on reaping each child with the right
# exit status afterwards.
. "$(dirname "$0")/lib.sh"

start_target core_forks
dir=$TMP/img
mkdir -p "$dir"
for i in $(seq 20); do
	ckpt_ok dump -t "$TPID" -D "$dir" --leave-running --force
	show_json "$dir"
	json_check "$TMP/show.json" "
tree = j['pstree']
assert int(tree[0]['pid']) == $TPID
for e in tree[1:]:
    assert int(e['ppid']) == $TPID, e
    if e['state'] in ('TASK_ZOMBIE', 3):
        assert 'exit_code' in e, e
open('$TMP/z', 'a').write('%d\n' % sum(e['state'] in ('TASK_ZOMBIE', 3) for e in tree))
"
done
log "zombies caught per dump: $(tr '\n' ' ' <"$TMP/z")"
check_alive
expect_status pass
exit 0
