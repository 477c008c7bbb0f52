#!/bin/sh
# Progress as a person sees it: on a terminal (script(1) gives ckptctl a
# pty) a dump and a restore of 1 GiB name their stages and count their
# pages in bytes, with a rate and the time left; the restore counts the
# pages as the restored processes read them, not only once it is over.
# Piped, stderr holds no progress line at all.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

command -v script >/dev/null || fail "script(1) (bsdutils) is missing"

# on_tty OUT ARGS...: ckptctl ARGS with a pty as its terminal; what it
# drew there goes to OUT.
on_tty()
{
	local out=$1 cmd=$CKPTCTL a
	shift
	for a in "$@"; do
		cmd="$cmd '$a'"
	done
	timeout -k 10 "$CKPT_TIMEOUT" script -qfec "$cmd" /dev/null </dev/null >"$out" ||
		fail "on a terminal: ckptctl $* exited $?: $(tr '\r' '\n' <"$out" | tail -n 5)"
}

# progress_check OUT CMD: OUT shows CMD's "pages" stage with bytes, a rate
# and a time left, and its count never goes back nor past its total.
progress_check()
{
	python3 - "$1" "$2" <<'EOF' || fail "$2: progress on the terminal: $(tr '\r' '\n' <"$1" | cat -v | tail -n 12)"
import re, sys
text = open(sys.argv[1], errors="replace").read()
cmd = sys.argv[2]
pages = re.findall(cmd + r": pages (\d+)/(\d+) \(\d+%\), ([\d.]+) (MiB|GiB) of ([\d.]+) (MiB|GiB)"
                   r"(?:, ([\d.]+) MiB/s)?(?:, (\d+) s left)?\x1b\[K", text)
assert pages, "no pages progress: %r" % text[:800]
done = [int(d) for d, *_ in pages]
assert done == sorted(done), "the count went back: %s" % done
assert all(int(d) <= int(t) for d, t, *_ in pages), "past the total: %s" % pages
assert any(r and l for *_, r, l in pages), "no line with a rate and a time left: %s" % pages
assert any(int(d) < int(t) for d, t, *_ in pages), "no count before the end: %s" % pages
print("%s: %d pages lines, e.g. %s" % (cmd, len(pages), pages[len(pages) // 2]))
EOF
}

start_target memory -d 1024	# a dump of at least a few progress intervals
mkdir "$TMP/img"
on_tty "$TMP/dump.tty" dump -t "$TPID" -D "$TMP/img"
progress_check "$TMP/dump.tty" dump
grep -q "dump: freeze" "$TMP/dump.tty" || fail "dump: no freeze stage: $(cat -v "$TMP/dump.tty")"
TREE_PIDS=$TPID
wait_gone "$TPID"

on_tty "$TMP/restore.tty" restore -D "$TMP/img"
progress_check "$TMP/restore.tty" restore
for p in $TREE_PIDS; do
	track_pid "$p"
done
check_alive

# piped: the same commands draw nothing (restore still says where the
# tree runs)
start_target memory -d 16
dump_kill "$TMP/img2"
[ ! -s "$LAST_ERR" ] || fail "a piped dump wrote to stderr: $(cat -v "$LAST_ERR")"
restore_ok "$TMP/img2"
! grep -q "$(printf '\r')\|pages\|restore tree" "$LAST_ERR" ||
	fail "a piped restore drew progress: $(cat -v "$LAST_ERR")"
check_alive
expect_status pass
