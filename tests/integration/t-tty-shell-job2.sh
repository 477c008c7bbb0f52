#!/bin/sh
# restore --shell-job by root, typed in an interactive bash in a tmux pane:
# the job comes back as a job of that shell's session. It is ckptctl's
# child, in the pane's session, the pane's terminal its controlling tty
# and its own process group that terminal's foreground. ^C typed on the
# terminal kills it and ckptctl exits 130; a job that exits 7 makes
# ckptctl exit 7; ^Z stops the job and ckptctl (bash reports it stopped),
# and fg gives the job the terminal back. The pane's ckptctl has a
# service ckptd at $CKPT_SOCKET and starts its own one-shot ckptd anyway.
# With -d (and no service ckptd) ckptctl returns at once and the job runs
# on the terminal outside the pane's session.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/tty-lib.sh"
[ "$(id -u)" = 0 ] || skip "restore --shell-job into the caller's session is for root"

REAL_CKPTD=$CKPTD
listen_daemon	# the test's own dumps; exported into the pane too
tm_start -s t -x 100 -y 30 "bash --norc --noprofile -i"
tm_wait t '[#$]$'
SHELL_PID=$(tm_pane_pid t)

# stat_of PID: "PPID PGRP SESSION TTY_NR TPGID" from /proc/PID/stat.
stat_of()
{
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	set -- $s
	echo "$2 $3 $4 $5 $6"
}

# job CMD [PROMPT]: run CMD as a job of the pane's bash (waiting for PROMPT
# if given); sets TPID
job()
{
	tm send-keys -t t 'clear' Enter
	tm_wait t '[#$]$'
	tm send-keys -t t "$1" Enter
	[ -z "${2:-}" ] || tm_wait t "$2"
	tm_child_of "$SHELL_PID"
}

# back DIR [TAIL]: restore DIR --shell-job from the pane's bash (with the
# real ckptd to start), followed by TAIL; waits for the pid it prints
back()
{
	tm send-keys -t t 'clear' Enter
	tm_wait t '[#$]$'
	tm clear-history -t t
	tm send-keys -t t "CKPTD=$REAL_CKPTD $CKPTCTL restore --shell-job -D $1${2:-}" Enter
	tm_wait t "^$TPID\$"
	track_pid "$TPID"
}

# in_session PID: PID is ckptctl's child, in the pane's session, on its
# terminal, its group in the terminal's foreground
in_session()
{
	local st sh ppid
	st=$(stat_of "$1") || fail "pid $1 is gone"
	sh=$(stat_of "$SHELL_PID") || fail "the pane's bash is gone"
	set -- $st
	ppid=$1
	[ "$3" = "$SHELL_PID" ] || fail "restored pid $TPID is in session $3, not the pane's $SHELL_PID"
	[ "$4" = "$(echo $sh | cut -d' ' -f4)" ] ||
		fail "restored pid $TPID: controlling tty $4, not the pane's $(echo $sh | cut -d' ' -f4)"
	[ "$5" = "$2" ] || fail "restored pid $TPID: the terminal's foreground is group $5, not its $2"
	[ "$(cat /proc/"$ppid"/comm)" = ckptctl ] ||
		fail "restored pid $TPID: its parent $ppid is $(cat /proc/"$ppid"/comm), not ckptctl"
}

# ^C: the job (sleep) dies by SIGINT, ckptctl exits 130
job 'sleep 1000'
dump_kill "$TMP/sleep" --shell-job
back "$TMP/sleep" '; echo "restore-rc=$?"'
in_session "$TPID"
log "sleep came back as ckptctl's child, in the pane's session and foreground"
tm send-keys -t t C-c
tm_wait t '(^|\^C)restore-rc=130$'
wait_gone "$TPID"
log "^C on the terminal killed it; ckptctl exited 130"

# its exit status: python3 (which sets the terminal up: it would stop if
# not in the foreground) exits 7
job 'python3 -q' '^>>>'
tm send-keys -t t 'y = 6 * 7' Enter
dump_kill "$TMP/py" --shell-job
back "$TMP/py" '; echo "restore-rc=$?"'
in_session "$TPID"
tm send-keys -t t 'print("y is", y + 1)' Enter
tm_wait t '^y is 43$'
tm send-keys -t t 'exit(7)' Enter
tm_wait t '^restore-rc=7$'
wait_gone "$TPID"
log "python3 answered on the terminal and exited 7; so did ckptctl"

# ^Z stops the job and ckptctl; fg brings both back, the job in front
job 'python3 -q' '^>>>'
tm send-keys -t t 'y = 6 * 7' Enter
dump_kill "$TMP/py2" --shell-job
back "$TMP/py2"
tm send-keys -t t C-z
tm_wait t 'Stopped +CKPTD='
[ "$(cut -d' ' -f3 /proc/"$TPID"/stat)" = T ] || fail "pid $TPID is not stopped after ^Z"
tm send-keys -t t 'clear; fg' Enter
tm_wait t 'restore --shell-job'
tm send-keys -t t 'print("y is", y - 1)' Enter
tm_wait t '^y is 41$'
in_session "$TPID"
tm send-keys -t t 'exit(3)' Enter
tm_wait t '^>>> exit\(3\)$'
tm send-keys -t t 'echo "fg-rc=$?"' Enter
tm_wait t '^fg-rc=3$'
wait_gone "$TPID"
log "^Z stopped the job and ckptctl; fg gave the job the terminal again"

# -d with no service ckptd: ckptctl returns at once; its one-shot ckptd,
# in a session of its own, restored the job outside the pane's session, on
# its terminal (bash waits in sleep meanwhile, not reading it)
job 'python3 -q' '^>>>'
tm send-keys -t t 'y = 6 * 7' Enter
dump_kill "$TMP/py3" --shell-job
tm send-keys -t t 'clear' Enter
tm_wait t '[#$]$'
tm send-keys -t t "CKPT_SOCKET=$TMP/none.sock CKPTD=$REAL_CKPTD $CKPTCTL restore --shell-job -d -D $TMP/py3 >/dev/null; echo \"detached-rc=\$?\"; sleep 30" Enter
tm_wait t '^detached-rc=0$'
track_pid "$TPID"
set -- $(stat_of "$TPID")
[ "$3" != "$SHELL_PID" ] || fail "with -d, pid $TPID came back in the pane's session"
tm send-keys -t t 'print("y is", y * 2)' Enter
tm_wait t '^y is 84$'
log "with -d ckptctl returned at once and the job runs on the terminal outside the session"
kill "$TPID"
tm kill-server
