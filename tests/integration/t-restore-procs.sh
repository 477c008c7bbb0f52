#!/bin/sh
# Restore of a process tree: a child in a group of its own with a
# grandchild, a zombie (exit 42, not reaped), a stopped child, an anonymous
# shared map between root and child, a pipe with buffered bytes. Every pid,
# group and session comes back; the zombie is still a zombie with its
# status, the stopped child still stopped; the target checks the rest.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

start_target procs
TREE_PIDS=$(descendants "$TPID")
snapshot_tree before
dump_kill "$TMP/img"
# what pstree.img says each task's pgid/sid/state was
"$CKPTCTL" show --json "$TMP/img" | python3 -c '
import json, sys
for t in json.load(sys.stdin)["pstree"]:
    print(t["pid"], t["pgid"], t["sid"], t["state"])' >"$TMP/want" || fail "show"
restore_ok "$TMP/img"
while read -r p pgid sid state; do
	st=$(proc_stat "$p") || fail "pid $p did not come back"
	set -- $st
	[ "$3" = "$pgid" ] || fail "pid $p: process group $3, the image has $pgid"
	[ "$4" = "$sid" ] || fail "pid $p: session $4, the image has $sid"
	case $state in
	TASK_ZOMBIE) [ "$1" = Z ] || fail "pid $p: state $1, want a zombie" ;;
	TASK_STOPPED) [ "$1" = T ] || fail "pid $p: state $1, want stopped" ;;
	*) case $1 in S|R) ;; *) fail "pid $p: state $1, want running" ;; esac ;;
	esac
done <"$TMP/want"
same_as_before
expect_status pass
