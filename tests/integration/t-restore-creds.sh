#!/bin/sh
# Restore of unprivileged processes with supplementary groups, dumped and
# restored by root: the creds target (two threads) started under setpriv
#  1. as uid/gid 65534 with groups 100,1000;
#  2. the same plus an ambient capability (CAP_NET_BIND_SERVICE, so also
#     permitted, effective and inheritable), CAP_SYS_MODULE dropped from
#     the bounding set, and no_new_privs.
# After restore /proc/PID/status (Uid, Gid, Groups, Cap*, NoNewPrivs of
# every thread) is what it was, and each thread finds its own
# credentials unchanged and working.
#  3. As 2, but the second thread cleared its own effective capabilities
#     (raw capset): each thread comes back with its own.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

command -v setpriv >/dev/null || skip "no setpriv"
need_file "$TARGETS/creds"
# the target, running as nobody, writes its status there
chmod 1777 "$TMP" || fail "chmod $TMP"

# creds_cycle TAG SETPRIV-OPTIONS...
creds_cycle()
{
	local tag=$1 f
	shift
	start_prog "creds-$tag" setpriv "$@" "$TARGETS/creds"
	TREE_PIDS=$TPID
	rm -f "$TMP"/before.* "$TMP"/after.*
	snapshot_tree before
	grep -q '^task .* Uid: 65534 65534 65534 65534$' "$TMP/before.$TPID" ||
		fail "$tag: the target does not run as 65534: $(grep Uid "$TMP/before.$TPID")"
	grep -q '^task .* Groups: 100 1000 *$' "$TMP/before.$TPID" ||
		fail "$tag: the target's groups: $(grep Groups "$TMP/before.$TPID")"
	dump_kill "$TMP/img.$tag"
	restore_ok "$TMP/img.$tag"
	same_as_before
	expect_status pass
	log "$tag: $(grep -E 'Cap(Eff|Bnd|Amb)|NoNewPrivs' "$TMP/after.$TPID" | head -4 | tr '\n' ' ')"
}

creds_cycle plain --reuid=65534 --regid=65534 --groups=100,1000
creds_cycle caps --reuid=65534 --regid=65534 --groups=100,1000 \
	--inh-caps=+net_bind_service --ambient-caps=+net_bind_service \
	--bounding-set=-sys_module --no-new-privs
grep -q '^task .* CapAmb: 0000000000000400$' "$TMP/after.$TPID" ||
	fail "caps: ambient CAP_NET_BIND_SERVICE lost: $(grep CapAmb "$TMP/after.$TPID")"

# a second thread with capabilities of its own (raw capset): each thread
# gets its own credentials back
start_prog creds-thread setpriv --reuid=65534 --regid=65534 --groups=100,1000 \
	--inh-caps=+net_bind_service --ambient-caps=+net_bind_service "$TARGETS/creds" -t
TREE_PIDS=$TPID
rm -f "$TMP"/before.* "$TMP"/after.*
snapshot_tree before
[ "$(grep -c '^task .* CapEff: 0000000000000000$' "$TMP/before.$TPID")" = 1 ] ||
	fail "thread: one thread should have no effective capabilities: $(grep CapEff "$TMP/before.$TPID")"
dump_kill "$TMP/img.thread"
restore_ok "$TMP/img.thread"
same_as_before
expect_status pass
exit 0
