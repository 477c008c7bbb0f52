#!/bin/sh
# ckptctl's command line: --help of every command, --version, and usage
# errors (exit 2, one line naming the problem; JSON too with --json).
. "$(dirname "$0")/lib.sh"

"$CKPTCTL" --help >"$TMP/help" || fail "ckptctl --help exited $?"
for cmd in dump restore show check status; do
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
expect_fail 2 "ckptctl status: unknown option '--frob'" ckptctl status --frob --json
json_check "$LAST_OUT" 'assert j["errno"] == 22 and "--frob" in j["error"], j'
[ ! -e "$TMP/x" ] || fail "a usage error created the image directory"

# with --json a usage error is also a JSON object on stdout
expect_fail 2 "invalid pid" ckptctl dump --json -t abc -D "$TMP/x"
json_check "$LAST_OUT" 'assert j["errno"] == 22 and "invalid pid" in j["error"], j'
exit 0
