/* ckptctl restore --shell-job. ckptd builds the job on our terminal, but
 * the job is not our child and is not in our session (a process can't
 * join another session): the terminal's foreground group stays ours, so
 * the keys that signal it (^C, ^\) signal us. We stay in the foreground
 * as a shell job would, pass those signals (and a hang-up or SIGTERM) to
 * the job's process group, and return when its root is gone. The job
 * reads and writes the terminal freely: it is not its controlling tty,
 * so no job-control stop applies to it. Its exit status is not ours to
 * know (its parent is whoever reaps it). */
#include "client/shell-job.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"

int shell_job_tty(void)
{
	return isatty(STDIN_FILENO) ? STDIN_FILENO : -ENOTTY;
}

int shell_job_wait(pid_t pid)
{
	_cleanup_close_ int pfd = -EBADF, sfd = -EBADF;
	struct signalfd_siginfo si;
	sigset_t set;
	pid_t pgrp;

	pfd = syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return errno == ESRCH ? 0 : negerrno();
	pgrp = getpgid(pid);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return negerrno();
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		return negerrno();
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
