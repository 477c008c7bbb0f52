# Helpers of the terminal tests (sourced after lib.sh and restore-lib.sh):
# programs run in panes of a tmux server of the test's own ($TS).

command -v tmux >/dev/null 2>&1 || skip "no tmux (scripts/install-deps.sh installs it)"
unset TMUX TMUX_PANE
TS=$TMP/tmux.sock
# the panes' interactive bashes keep their history to the test (not
# ~/.bash_history, shared with other tests and the user)
export HISTFILE=$TMP/bash_history

# tm ARGS...: a command to the test's server.
tm()
{
	tmux -S "$TS" -f /dev/null "$@"
}

# tm_start ARGS...: start the server (new-session -d ARGS) with no fd of
# the test but stdio: the server must hold nothing of ours. Sets TPID to
# the server's pid.
tm_start()
{
	python3 -c 'import subprocess, sys
sys.exit(subprocess.call(sys.argv[1:], close_fds=True))' \
		tmux -S "$TS" -f /dev/null new-session -d "$@" || fail "tmux did not start"
	TPID=$(tm display -p '#{pid}') || fail "the tmux server does not answer"
	track_pid "$TPID"
}

# tm_wait PANE REGEX [SECONDS]: poll the pane's text until a line matches
# (extended regex), bounded; fails the test with the pane's text.
tm_wait()
{
	local pane=$1 re=$2 n=$((${3:-20} * 10)) i=0
	while ! tm capture-pane -p -t "$pane" 2>/dev/null | grep -Eq -- "$re"; do
		i=$((i + 1))
		[ $i -le $n ] || fail "pane $pane: no line matching '$re' after ${3:-20}s: $(tm capture-pane -p -t "$pane" 2>&1 | grep -v '^$' | tail -n 8)"
		sleep 0.1
	done
}

# tm_pane_pid PANE: the pid of the program in the pane.
tm_pane_pid()
{
	tm display -p -t "$1" '#{pane_pid}'
}

# tm_child_of PID: wait (bounded) for a child of PID (a pane's shell's
# job); sets TPID to it and tracks it.
tm_child_of()
{
	local i=0
	TPID=
	while [ -z "$TPID" ]; do
		TPID=$(cat /proc/"$1"/task/*/children 2>/dev/null | tr -s ' ' '\n' | head -n 1)
		i=$((i + 1))
		[ $i -le 100 ] || fail "no job under pid $1"
		[ -n "$TPID" ] || sleep 0.1
	done
	track_pid "$TPID"
}

# ctty_of PID: "TTY_NR TPGID" from /proc/PID/stat.
ctty_of()
{
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	set -- $s
	echo "$5 $6"
}
