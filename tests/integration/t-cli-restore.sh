#!/bin/sh
# ckptctl restore's output: the root PID on stdout (plain and JSON), the
# pid file, and the restored target verifying itself. The dump kills the
# target (the default), so the restore gets its PID back.
. "$(dirname "$0")/lib.sh"

export CKPT_SOCKET=$TMP/no-daemon.sock

start_target sample
ckpt_ok dump -t "$TPID" -D "$TMP/img"
grep -q "^dumped pid $TPID into $TMP/img: 1 tasks" "$LAST_OUT" || fail "dump summary: $(cat "$LAST_OUT")"
wait_gone "$TPID"

ckpt_ok restore -D "$TMP/img" --pidfile "$TMP/pid" --json
track_pid "$TPID"
json_check "$LAST_OUT" "assert j['pid'] == $TPID and j['tasks'] == 1 and j['pages'] > 0 and 'ms' in j, j"
[ "$(cat "$TMP/pid")" = "$TPID" ] || fail "pid file holds '$(cat "$TMP/pid")', not $TPID"
ls "$TMP"/pid.tmp.* >/dev/null 2>&1 && fail "a temporary pid file was left behind"
check_alive
# the image set is still there: a second restore while the first runs is refused
expect_fail 1 "pid $TPID is in use" ckptctl restore -D "$TMP/img"
check_alive
expect_status pass
wait_gone "$TPID"

# plain output: just the PID (a fresh target: the first one's log changed,
# and restore refuses a file that changed since the dump)
start_target sample
ckpt_ok dump -t "$TPID" -D "$TMP/img2"
wait_gone "$TPID"
ckpt_ok restore -D "$TMP/img2"
track_pid "$TPID"
[ "$(cat "$LAST_OUT")" = "$TPID" ] || fail "restore printed '$(cat "$LAST_OUT")', not $TPID"
check_alive
expect_status pass
exit 0
