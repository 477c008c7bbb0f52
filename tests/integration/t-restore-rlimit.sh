#!/bin/sh
# A hard rlimit above what the restorer may set (raising one needs
# CAP_SYS_RESOURCE, which ckptd lacks here) is refused naming the task and
# the resource, and nothing of the tree is left. The one-shot ckptd that
# ckptctl starts inherits ckptctl's limits, so a lowered hard limit on
# ckptctl stands in for a daemon with lower limits than the dumped task.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

[ -z "${CKPT_SOCKET:-}" ] || skip "needs the one-shot ckptd (CKPT_SOCKET is set)"
start_target memory
dump_kill "$TMP/img"
hard=$(sed -n 's/^Max open files *[0-9a-z]* *\([0-9a-z]*\).*/\1/p' "/proc/self/limits")
[ "$hard" != unlimited ] && [ "$hard" -gt 4096 ] || skip "RLIMIT_NOFILE hard limit $hard"
expect_fail 1 "pid $TPID: RLIMIT_NOFILE: the hard limit [0-9]+ is above what this restorer may set" \
	prlimit --nofile=2048:4096 "$CKPTCTL" restore -D "$TMP/img"
no_tree_left
restore_ok "$TMP/img"
expect_status pass
