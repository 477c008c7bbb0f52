#!/bin/sh
# ckptctl's command line: --help of every command, --version, and usage
# errors (exit 2, one line naming the problem; JSON too with --json).
. "$(dirname "$0")/lib.sh"

"$CKPTCTL" --help >"$TMP/help" || fail "ckptctl --help exited $?"
for cmd in dump pre-dump restore show merge migrate receive check status cancel; do
	grep -q "^  $cmd " "$TMP/help" || fail "ckptctl --help does not list $cmd"
	"$CKPTCTL" $cmd --help >"$TMP/$cmd.help" 2>&1 || fail "ckptctl $cmd --help exited $?"
	grep -qi "usage: ckptctl $cmd" "$TMP/$cmd.help" || fail "ckptctl $cmd --help: $(cat "$TMP/$cmd.help")"
done
grep -q -- "--leave-running" "$TMP/dump.help" || fail "dump --help lacks --leave-running"
grep -q -- "--pidfile" "$TMP/restore.help" || fail "restore --help lacks --pidfile"
"$CKPTCTL" --version | grep -Eq '^ckptctl [0-9]' || fail "ckptctl --version"

expect_fail 2 "usage" ckptctl
expect_fail 2 "unknown command 'frobnicate'" ckptctl frobnicate
expect_fail 2 "ckptctl dump: both -t PID and -D DIR are required" ckptctl dump -D "$TMP/x"
expect_fail 2 "ckptctl dump: both -t PID and -D DIR are required" ckptctl dump -t 1
expect_fail 2 "ckptctl dump: invalid pid 'abc'" ckptctl dump -t abc -D "$TMP/x"
expect_fail 2 "ckptctl dump: invalid pid '-5'" ckptctl dump -t -5 -D "$TMP/x"
expect_fail 2 "ckptctl dump: unknown option '--frob'" ckptctl dump --frob -t 1 -D "$TMP/x"
expect_fail 2 "ckptctl dump: -D needs an argument" ckptctl dump -t 1 -D
expect_fail 2 "ckptctl dump: unexpected argument 'extra'" ckptctl dump -t 1 -D "$TMP/x" extra
expect_fail 2 "ckptctl restore: -D DIR is required" ckptctl restore
expect_fail 2 "ckptctl restore: --pidfile needs an argument" ckptctl restore -D "$TMP/x" --pidfile
expect_fail 2 "ckptctl check: unexpected argument" ckptctl check now
expect_fail 2 "ckptctl check: unknown option" ckptctl check --frob
expect_fail 2 "ckptctl status: unexpected argument 'now'" ckptctl status now
expect_fail 2 "ckptctl status: unknown option '--frob'" ckptctl status --frob
ckpt status --frob --json
[ $LAST_RC -eq 2 ] && [ ! -s "$LAST_ERR" ] || fail "status --frob --json: $LAST_RC, $(cat "$LAST_ERR")"
json_check "$LAST_OUT" 'assert j["errno"] == 22 and "--frob" in j["error"], j'
expect_fail 2 "ckptctl migrate: both -t PID and --to ADDR:PORT are required" ckptctl migrate -t 1
expect_fail 2 "ckptctl migrate: invalid pid 'abc'" ckptctl migrate -t abc --to 127.0.0.1:1
expect_fail 2 "ckptctl migrate: --max-rounds 99: give a number from 0 to 32" \
	ckptctl migrate -t 1 --to 127.0.0.1:1 --max-rounds 99 --insecure-plaintext
expect_fail 2 "ckptctl migrate: --tls-cacert is missing" ckptctl migrate -t $$ --to 127.0.0.1:1
expect_fail 2 "ckptctl receive: both --listen ADDR:PORT and -D DIR are required" \
	ckptctl receive -D "$TMP/x"
expect_fail 2 "ckptctl receive: --tls-cacert $TMP/nope.pem: cannot read it" \
	ckptctl receive --listen 127.0.0.1:0 -D "$TMP/x" --tls-cacert "$TMP/nope.pem" \
	--tls-cert "$TOP/tests/certs/server.pem" --tls-key "$TOP/tests/certs/server-key.pem"
[ ! -e "$TMP/x" ] || fail "a usage error created the image directory"

# with --json a usage error is a JSON object on stdout instead
ckpt dump --json -t abc -D "$TMP/x"
[ $LAST_RC -eq 2 ] && [ ! -s "$LAST_ERR" ] || fail "dump --json -t abc: $LAST_RC, $(cat "$LAST_ERR")"
json_check "$LAST_OUT" 'assert j["errno"] == 22 and "invalid pid" in j["error"], j'
exit 0
