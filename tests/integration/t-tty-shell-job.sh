#!/bin/sh
# --shell-job: programs running as jobs of an interactive bash in a tmux
# pane (their terminal outside the tree). A plain dump refuses such a job,
# naming the option, and it runs on. Dumped with --shell-job (killing),
# each is restored with `ckptctl restore --shell-job` typed in the same
# pane's bash: it comes back on that terminal with its state (a python3
# REPL its variable, sqlite3 its in-memory table, an inner interactive
# bash its variable, history and background job), answers what is typed
# there while ckptctl waits in the foreground, and ckptctl returns
# (status 0) once it exits. ckptctl, as root, starts its own ckptd so that
# the job comes back in the pane's session (t-tty-shell-job2.sh checks
# that). With -d, ckptctl returns at once and the job keeps the terminal,
# outside the pane's session (restored by the service ckptd).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/tty-lib.sh"
command -v sqlite3 >/dev/null 2>&1 || skip "no sqlite3 (scripts/install-deps.sh installs it)"

REAL_CKPTD=$CKPTD
listen_daemon	# exported: the pane's ckptctl -d talks to it
tm_start -s t -x 100 -y 30 "bash --norc --noprofile -i"
tm_wait t '[#$]$'
SHELL_PID=$(tm_pane_pid t)

# job CMD PROMPT SETUP: run CMD as a job of the pane's bash, wait for
# PROMPT, type SETUP; sets TPID
job()
{
	tm send-keys -t t 'clear' Enter
	tm send-keys -t t "$1" Enter
	tm_wait t "$2"
	tm_child_of "$SHELL_PID"
	tm send-keys -t t "$3" Enter
}

# back DIR: restore DIR --shell-job from the pane's bash; it must wait
back()
{
	tm send-keys -t t 'clear' Enter
	tm_wait t '[#$]$'
	tm clear-history -t t
	tm send-keys -t t "CKPTD=$REAL_CKPTD $CKPTCTL restore --shell-job -D $1; echo \"restore-rc=\$?\"" Enter
	tm_wait t "^$TPID\$"
	track_pid "$TPID"
}

# ask QUERY REGEX: type QUERY, wait for REGEX; ckptctl still waits
ask()
{
	tm send-keys -t t "$1" Enter
	tm_wait t "$2"
	tm capture-pane -p -t t | grep -q '^restore-rc=' && fail "ckptctl returned while the job runs"
	return 0
}

# done_with EXIT: type EXIT; ckptctl must return 0 once the job is gone
done_with()
{
	tm send-keys -t t "$1" Enter
	tm_wait t '^restore-rc=0$'
	wait_gone "$TPID"
}

job 'python3 -q' '^>>>' 'y = 6 * 7'
expect_fail 8 "pid $TPID fd 0: the terminal /dev/pts/[0-9]+ is a pty whose master is held outside the dumped tree.*--shell-job" \
	ckptctl dump -t "$TPID" -D "$TMP/refused"
check_alive "$TPID"
log "a plain dump refused the job, naming --shell-job"
dump_kill "$TMP/py" --shell-job
back "$TMP/py"
ask 'print("y is", y + 1)' '^y is 43$'
done_with 'exit()'
log "python3 came back on the pane's terminal with y; ckptctl waited, returned 0"

job sqlite3 '^sqlite>' 'create table t(a); insert into t values (21)\;'
dump_kill "$TMP/sql" --shell-job
back "$TMP/sql"
ask 'select a * 2 from t\;' '^42$'
done_with '.quit'
log "sqlite3 came back with its in-memory table"

job 'bash --norc --noprofile -i' '[#$]$' 'h=inner-bash; sleep 1000 &'
tm_wait t '^\[1\] [0-9]+'
dump_kill "$TMP/sh" --shell-job
back "$TMP/sh"
ask 'echo "got $h"; jobs; history 3' '^got inner-bash$'
tm_wait t '^\[1\]\+ +Running +sleep 1000 &'
tm_wait t '^ *[0-9]+ +h=inner-bash; sleep 1000 &$'
done_with 'kill %1; exit'
log "the inner bash came back with its variable, job and history"

# -d: ckptctl returns at once, the job keeps the terminal
job 'python3 -q' '^>>>' 'y = 6 * 7'
dump_kill "$TMP/py2" --shell-job
tm send-keys -t t "$CKPTCTL restore --shell-job -d -D $TMP/py2 >/dev/null; echo \"detached-rc=\$?\"; sleep 30" Enter
tm_wait t '^detached-rc=0$'
track_pid "$TPID"
tm send-keys -t t 'print("y is", y - 1)' Enter
tm_wait t '^y is 41$'
log "with -d ckptctl returned at once and the job runs on the terminal"
kill "$TPID"
tm kill-server
