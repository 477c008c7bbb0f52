/* ckptctl restore --shell-job.
 *
 * In our session (root, on our controlling terminal): a session is
 * inherited at fork, and a process can't join another, so the tree must be
 * forked below us. We become a child subreaper and start the one-shot
 * ckptd ourselves (client/rpc-client.c, RPC_DAEMON_OURS): ckptd, its
 * restore process and the job are in our session, the terminal is the
 * job's controlling tty, and ckptd puts the job's process group in the
 * terminal's foreground before it lets it run (daemon/restore-tree.c).
 * When ckptd's restore process exits, the job's root is reparented to us:
 * we wait for it as a shell waits for a job. The terminal signals the job
 * directly (^C, ^\, ^Z: it is the foreground); a hang-up or SIGTERM sent
 * to us goes to its group. When it exits we take the foreground back and
 * exit with its status as a shell's $? (its code, or 128 + the signal).
 * When it stops (^Z, SIGTTIN...) we take the foreground back and stop
 * ourselves, so our shell shows a stopped job; `fg` continues us, and we
 * give the job the terminal again and continue it (`bg`: continued in
 * the background).
 *
 * Outside our session (a caller other than root, or -d, or a terminal
 * that is not our controlling tty): ckptd builds the job on our terminal
 * but not as its controlling tty; the terminal's foreground group stays
 * ours, so the keys that signal it (^C, ^\) signal us. We stay in the
 * foreground, pass those signals (and a hang-up or SIGTERM) to the job's
 * process group, and return when its root is gone, with status 0: the job
 * is not our child, its exit status is not ours to know. */
#include "client/shell-job.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/util.h"

int shell_job_tty(void)
{
	return isatty(STDIN_FILENO) ? STDIN_FILENO : -ENOTTY;
}

int shell_job_adopt(int tty)
{
	pid_t sid = getsid(0);

	if (geteuid() != 0 || sid < 0 || tcgetsid(tty) != sid)
		return 0;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		return negerrno();
	return 1;
}

/* Make pgrp the terminal's foreground; SIGTTOU (sent to a background
 * group that tries) is blocked meanwhile. */
static void give_tty(int tty, pid_t pgrp)
{
	sigset_t ttou, old;

	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_BLOCK, &ttou, &old);
	tcsetpgrp(tty, pgrp);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

void shell_job_take_tty(int tty, pid_t job_pgrp)
{
	pid_t fg = tcgetpgrp(tty), me = getpgrp();

	if (fg < 0 || fg == me)
		return;
	/* another live group has it (our shell's, after `bg`): not ours */
	if (fg != job_pgrp && kill(-fg, 0) == 0)
		return;
	give_tty(tty, me);
}

/* The job stopped: we stop too, as our shell's job. Continued, we continue
 * it (sfd brings our SIGCONT: job_continue). A group that the kernel
 * won't stop (an orphaned one) leaves it stopped. */
static void job_stopped(int tty, pid_t pgrp)
{
	shell_job_take_tty(tty, pgrp);
	raise(SIGTSTP);
}

/* We were continued: the job too, in the foreground if we have it. */
static void job_continue(int tty, pid_t pgrp)
{
	if (tcgetpgrp(tty) == getpgrp())
		give_tty(tty, pgrp);
	kill(-pgrp, SIGCONT);
}

/* The signals passed to the job (^C, ^\, a hang-up, SIGTERM), and with
 * child (our child's job) SIGCHLD and SIGCONT, blocked and read from the
 * signalfd returned. */
static int job_signalfd(bool child)
{
	static const int sigs[] = { SIGINT, SIGQUIT, SIGHUP, SIGTERM, SIGCHLD, SIGCONT };
	sigset_t set;
	int fd;

	sigemptyset(&set);
	for (unsigned i = 0; i < ARRAY_SIZE(sigs) - (child ? 0 : 2); i++)
		sigaddset(&set, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return negerrno();
	fd = signalfd(-1, &set, SFD_CLOEXEC);
	return fd < 0 ? negerrno() : fd;
}

int shell_job_run(pid_t pid, int tty)
{
	_cleanup_close_ int sfd = -EBADF;
	struct signalfd_siginfo si;
	pid_t pgrp;

	pgrp = getpgid(pid);
	if (pgrp < 0)
		pgrp = pid;
	sfd = job_signalfd(true);
	if (sfd < 0)
		return sfd;
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, WNOHANG | WUNTRACED);

		if (w == pid && WIFSTOPPED(st)) {
			job_stopped(tty, pgrp);
			continue;
		}
		if (w == pid) {
			shell_job_take_tty(tty, pgrp);
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		if (w > 0)
			continue;	/* an orphan of the tree, reparented to us */
		if (w < 0 && errno != EINTR)
			return negerrno();
		if (w < 0)
			continue;
		if (read(sfd, &si, sizeof(si)) != sizeof(si)) {
			if (errno == EINTR)
				continue;
			return negerrno();
		}
		if (si.ssi_signo == SIGCONT)
			job_continue(tty, pgrp);
		/* ^C and ^\ come here only when the job is not the foreground */
		else if (si.ssi_signo != SIGCHLD)
			kill(-pgrp, si.ssi_signo);
	}
}

int shell_job_wait(pid_t pid)
{
	_cleanup_close_ int pfd = -EBADF, sfd = -EBADF;
	struct signalfd_siginfo si;
	pid_t pgrp;

	pfd = syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return errno == ESRCH ? 0 : negerrno();
	pgrp = getpgid(pid);
	sfd = job_signalfd(false);
	if (sfd < 0)
		return sfd;
	for (;;) {
		struct pollfd p[2] = { { .fd = pfd, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return negerrno();
		}
		if (p[0].revents)
			return 0;
		if (p[1].revents && read(sfd, &si, sizeof(si)) == sizeof(si) && pgrp > 0)
			kill(-pgrp, si.ssi_signo);
	}
}
