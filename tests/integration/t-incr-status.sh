#!/bin/sh
# ckptctl status lists the tasks a live tracker follows and the ckpt-keeper
# that holds their tracking: with no ckptd listening (asked of a one-shot
# ckptd, exit status 6 all the same) and from a listening ckptd, in --json
# too. A --leave-running dump keeps the tracking; the final dump stops it,
# and status lists it no more; the chain restores.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/incr-lib.sh"

need_tracker uffd-wp
start_target incr
ckpt_ok pre-dump -t "$TPID" -D "$TMP/1" --track uffd-wp

# no service: the tracked task all the same
ckpt status
[ "$LAST_RC" -eq 6 ] || fail "status with no ckptd exited $LAST_RC, not 6"
line=$(grep "^tracking pid $TPID " "$LAST_OUT") ||
	fail "status lists no tracking of $TPID: $(cat "$LAST_OUT" "$LAST_ERR")"
keeper=$(echo "$line" | sed -n 's/.*(uffd-wp, keeper pid \([0-9]*\))$/\1/p')
[ -n "$keeper" ] || fail "no keeper pid in '$line'"
[ "$(cat "/proc/$keeper/comm" 2>/dev/null)" = ckpt-keeper ] ||
	fail "keeper pid $keeper is not a ckpt-keeper: $(cat "/proc/$keeper/comm" 2>&1)"
log "$line"

# a listening ckptd says the same, in JSON
listen_daemon
ckpt_ok status --json
python3 - "$LAST_OUT" "$TPID" "$keeper" <<'PY' || fail "status --json: $(cat "$LAST_OUT")"
import json, sys
t = json.load(open(sys.argv[1]))["tracked"]
want = {"pid": int(sys.argv[2]), "tracker": "uffd-wp", "keeper_pid": int(sys.argv[3])}
sys.exit(0 if want in t else 1)
PY

incr_step
ckpt_ok dump -t "$TPID" -D "$TMP/2" --prev ../1 --leave-running
ckpt_ok status
grep -q "^tracking pid $TPID " "$LAST_OUT" || fail "a --leave-running dump stopped the tracking"

incr_step
ckpt_ok dump -t "$TPID" -D "$TMP/3" --prev ../2
wait_gone "$TPID"
wait_gone "$keeper" 5
ckpt_ok status
! grep -q "^tracking pid $TPID " "$LAST_OUT" || fail "status still lists $TPID after the final dump"
no_keeper "$TPID"

ckpt_ok restore -D "$TMP/3"
expect_status pass
