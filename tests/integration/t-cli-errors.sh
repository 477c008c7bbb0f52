#!/bin/sh
# ckptctl's failures: each an exit code of its own (ckptctl(1) EXIT STATUS)
# and one line "ckptctl CMD: message" on stderr; with --json instead
# {"error","errno"} on stdout, and nothing on stderr (said once).
# No daemon socket here: ckptctl starts a one-shot ckptd for each command.
. "$(dirname "$0")/lib.sh"

# json_fail CODE PATTERN ARGS...: ckptctl ARGS (with --json) exits CODE,
# its stdout matches PATTERN and its stderr is empty.
json_fail()
{
	local code=$1 pat=$2
	shift 2
	ckpt "$@"
	[ $LAST_RC -eq "$code" ] ||
		fail "ckptctl $* exited $LAST_RC, expected $code: $(cat "$LAST_OUT" "$LAST_ERR")"
	[ ! -s "$LAST_ERR" ] || fail "ckptctl $*: the error went to stderr too: $(cat "$LAST_ERR")"
	grep -Eq -- "$pat" "$LAST_OUT" || fail "ckptctl $*: stdout does not match '$pat': $(cat "$LAST_OUT")"
	log "as expected ($code): $(cat "$LAST_OUT")"
}

export CKPT_SOCKET=$TMP/no-daemon.sock

# the daemon cannot be reached or started: 6
CKPTD=/nonexistent/ckptd expect_fail 6 "ckptctl check: no ckptd answers at .*cannot start /nonexistent/ckptd" \
	ckptctl check
CKPTD=/nonexistent/ckptd json_fail 6 "cannot start" dump --json -t 1 -D "$TMP/d0"
json_check "$LAST_OUT" 'assert j["errno"] == 2 and "cannot start" in j["error"], j'
# a socket path that is not a socket: also nothing answers
: >"$TMP/plain"
CKPT_SOCKET=$TMP/plain CKPTD=/nonexistent/ckptd expect_fail 6 "no ckptd answers" ckptctl check

# no such process: 4
expect_fail 4 "ckptctl dump: no process with pid 999999999" ckptctl dump -t 999999999 -D "$TMP/d1"
[ "$(stat -c %a "$TMP/d1")" = 700 ] || fail "image directory created with mode $(stat -c %a "$TMP/d1")"
no_partial_set "$TMP/d1"
json_fail 4 "no process" dump --json -t 999999999 -D "$TMP/d1"
json_check "$LAST_OUT" 'assert j["errno"] == 3 and "no process with pid" in j["error"], j'

start_target sample
sleep 1000 </dev/null >/dev/null 2>&1 &
SPID=$!
track_pid $SPID

# ckptd, its parent (here ckptctl) and their ancestors are never targets: 4
expect_fail 4 "pid 1 is an ancestor of ckptd" ckptctl dump -t 1 -D "$TMP/d2" --leave-running
json_fail 4 "pid $$ is an ancestor of ckptd" dump -t $$ -D "$TMP/d2" --leave-running --json
json_check "$LAST_OUT" 'assert j["errno"] == 1 and "ancestor" in j["error"], j'
no_partial_set "$TMP/d2"

# an image set already there: 3, unless --force
mkdir -p "$TMP/d3"
dump_target "$TMP/d3"
expect_fail 3 "already holds an image set.*--force" ckptctl dump -t "$TPID" -D "$TMP/d3" --leave-running
ckpt_ok dump -t "$TPID" -D "$TMP/d3" --leave-running --force --json
json_check "$LAST_OUT" "assert j['pid'] == $TPID and j['tasks'] >= 1 and j['pages'] > 0 and j['peak_rss_kb'] > 0, j"
check_alive
expect_status pass

# the image directory cannot be created: 1
expect_fail 1 "cannot create the image directory $TMP/no/such/dir" \
	ckptctl dump -t $SPID -D "$TMP/no/such/dir"
: >"$TMP/file"
expect_fail 1 "cannot open the image directory $TMP/file" ckptctl dump -t $SPID -D "$TMP/file"

kill -0 $SPID || fail "the untouched sleep died"

# restore: no image directory, or an empty one: 5 (nothing to restore)
expect_fail 5 "cannot open the image directory" ckptctl restore -D "$TMP/none"
mkdir "$TMP/empty"
expect_fail 5 "" ckptctl restore -D "$TMP/empty"
json_fail 5 "error" restore --json -D "$TMP/empty"
json_check "$LAST_OUT" 'assert j["errno"] > 0 and j["error"], j'
# a message naming a path that is not UTF-8 is still JSON: such bytes
# and control characters as \u00XX escapes
bad=$(printf '%s/bad\377\001name' "$TMP")
json_fail 5 "cannot open the image directory" restore --json -D "$bad"
json_check "$LAST_OUT" 'assert "/bad\u00ff\u0001name:" in j["error"], j'

# an image file missing from a set: 5 (a bad set), naming the file; what
# the set refers to being gone is not a bad set (t-restore-halfway,
# t-restore-errors: exit 1)
ckpt_ok dump -t $SPID -D "$TMP/d4"
wait_gone $SPID
cp -a "$TMP/d4" "$TMP/d5"
rm "$TMP/d5/core-$SPID.img"
expect_fail 5 "core-$SPID\.img is missing from the image set" ckptctl restore -D "$TMP/d5"
rm "$TMP/d4/inventory.img"
json_fail 5 "inventory\.img is missing" restore --json -D "$TMP/d4"
json_check "$LAST_OUT" 'assert j["errno"] == 61, j'
[ -e "/proc/$SPID" ] && fail "pid $SPID exists after a refused restore"
exit 0
