#!/bin/sh
# A whole tmux server comes back: its panes (a python3 REPL with a
# variable, an interactive bash with a variable, history and a background
# job, sqlite3 with an in-memory table) are pty pairs inside the tree,
# master in the server, slave in the program. Dumped (killing) and restored, the server answers on its
# listening socket again, each pane's program has its pty as controlling
# tty with itself in the foreground, its window size, and its state: the
# REPL still knows x, bash its variable, its history and its job, sqlite3
# its table. A line typed in bash's pane while its foreground job runs
# (queued in the pty, not read yet) is still there: bash runs it once the
# job is done.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/tty-lib.sh"
command -v sqlite3 >/dev/null 2>&1 || skip "no sqlite3 (scripts/install-deps.sh installs it)"

tm_start -s t -x 100 -y 30 "python3 -q"
tm split-window -t t "bash --norc --noprofile -i" || fail "tmux split-window failed"
tm split-window -t t "sqlite3" || fail "tmux split-window failed"
tm_wait t.0 '^>>>'
tm_wait t.1 '[#$]$'
tm_wait t.2 '^sqlite>'
tm send-keys -t t.2 'create table t(a); insert into t values (21)\;' Enter
tm send-keys -t t.0 'x = 6 * 7' Enter
tm send-keys -t t.1 'h=hello-from-bash; sleep 1000 &' Enter
tm_wait t.1 '^\[1\] [0-9]+'
PY=$(tm_pane_pid t.0) SH=$(tm_pane_pid t.1)
tm send-keys -t t.0 'import os; print("size", tuple(os.get_terminal_size()))' Enter
tm_wait t.0 '^size \([0-9]+, [0-9]+\)'
SIZE=$(tm capture-pane -p -t t.0 | grep -E '^size \(' | tail -n 1)
CT_PY=$(ctty_of "$PY") CT_SH=$(ctty_of "$SH")
[ "${CT_PY#* }" = "$PY" ] || fail "python3 $PY: not in the foreground of its tty before: $CT_PY"

# typed while sleep runs: queued in the pane's pty, unread, when dumped
tm send-keys -t t.1 'sleep 4' Enter
tm_wait t.1 'sleep 4$'
tm send-keys -t t.1 'echo typed-$((6 * 7))' Enter
tm_wait t.1 'echo typed-\$'
dump_kill "$TMP/img"
show_check "$TMP/img" '
ttys = find(j, "tty")
assert sum(1 for t in ttys if t.get("master")) == 3, ttys
assert all("cflag" in t for t in ttys), ttys'
restore_ok "$TMP/img"
# the line typed during sleep runs once it ends, and bash is in front again
tm_wait t.1 '^typed-42$'

# the server answers, the panes run their programs on new ptys
[ "$(tm display -p '#{pid}')" = "$TPID" ] || fail "the restored server does not answer on $TS"
for p in $PY $SH; do
	ct=$(ctty_of "$p") || fail "pane program $p is gone"
	[ "${ct%% *}" != 0 ] || fail "pid $p has no controlling tty after restore"
	[ "${ct#* }" = "$p" ] || fail "pid $p: not the foreground group of its tty: $ct"
done
log "controlling ttys: python3 $(ctty_of "$PY") (was $CT_PY), bash $(ctty_of "$SH") (was $CT_SH)"

tm send-keys -t t.0 'print("x is", x + 1); print("size", tuple(os.get_terminal_size()))' Enter
tm_wait t.0 '^x is 43$'
tm_wait t.0 '^size \('
[ "$(tm capture-pane -p -t t.0 | grep -E '^size \(' | tail -n 1)" = "$SIZE" ] ||
	fail "window size changed: $(tm capture-pane -p -t t.0 | grep -E '^size \(' | tail -n 1), was $SIZE"
tm send-keys -t t.1 'echo "got $h"; jobs' Enter
tm_wait t.1 '^got hello-from-bash$'
tm_wait t.1 '^\[1\]\+ +Running +sleep 1000 &'
tm send-keys -t t.1 'history 5' Enter
tm_wait t.1 '^ *[0-9]+ +h=hello-from-bash; sleep 1000 &$'
tm send-keys -t t.2 'select a * 2 from t\;' Enter
tm_wait t.2 '^42$'
log "python3 kept x, bash its variable, job and history, sqlite3 its table, sizes kept"
tm send-keys -t t.1 'kill %1' Enter
tm kill-server
