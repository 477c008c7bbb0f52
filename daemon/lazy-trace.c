/* The lazy server's hold on what it serves (lazy-int.h has the map of
 * its pieces): ptrace and the uffd holder.
 *
 * Once the restore committed, every served process is PTRACE_SEIZEd with
 * PTRACE_O_EXITKILL (and TRACEFORK/TRACEVFORK, so children forked
 * meanwhile are held the same way): if the server dies for any reason,
 * SIGKILL included, the kernel kills what it served. The tracees' stops
 * come in as SIGCHLD on the server's signalfd; each is let on as if
 * untraced. When every page is in, they are detached. */
#include "daemon/lazy-int.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sched.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/lazy-registry.h"

static int tracee_add(struct lazy_srv *s, pid_t pid)
{
	for (size_t i = 0; i < s->nr_tracees; i++)
		if (s->tracees[i] == pid)
			return 0;
	if (s->nr_tracees == s->cap_tracees) {
		size_t c = s->cap_tracees ? s->cap_tracees * 2 : 16;
		pid_t *v = realloc(s->tracees, c * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->tracees = v;
		s->cap_tracees = c;
	}
	s->tracees[s->nr_tracees++] = pid;
	return 0;
}

static void tracee_forget(struct lazy_srv *s, pid_t pid)
{
	for (size_t i = 0; i < s->nr_tracees; i++)
		if (s->tracees[i] == pid) {
			s->tracees[i] = s->tracees[--s->nr_tracees];
			return;
		}
}

static bool stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* Why a holder: a dying process's files are closed (exit_files; the
 * uffds released, and the faults waiting on them then satisfied with zero
 * pages) before PTRACE_O_EXITKILL kills its tracees (exit_notify). A
 * server SIGKILLed would let a served thread read zeros in between; the
 * test shows it does. So a child shares our fd table (CLONE_FILES, no
 * copy: our close() is its close) and dies only of our death, by
 * PR_SET_PDEATHSIG, which the kernel sends after the tracees' SIGKILL:
 * the uffds outlive us until every tracee has SIGKILL pending. It costs
 * one sleeping process (its memory a copy-on-write image of ours). */
int lazy_holder_start(struct lazy_srv *s)
{
	pid_t self = getpid();
	long pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, NULL, NULL, 0);

	if (pid < 0)
		return negerrno();
	if (pid == 0) {
		/* a raw clone: only system calls from here on; no fd touched,
		 * the table is the server's */
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		prctl(PR_SET_NAME, LAZY_COMM "-hold", 0, 0, 0);
		if (getppid() != self)
			_exit(0);
		for (;;)
			pause();
	}
	s->holder = pid;
	return 0;
}

void lazy_holder_stop(struct lazy_srv *s)
{
	if (s->holder <= 0)
		return;
	kill(s->holder, SIGKILL);
	while (waitpid(s->holder, NULL, __WALL) < 0 && errno == EINTR)
		;
	s->holder = 0;
}

/* Every ptrace stop waiting: let the tracee on as if untraced. */
int lazy_tracees_reap(struct lazy_srv *s)
{
	struct signalfd_siginfo si;
	int st;
	pid_t pid;

	while (read(s->sfd, &si, sizeof(si)) > 0)
		;
	while ((pid = waitpid(-1, &st, WNOHANG | __WALL)) > 0) {
		int sig = WSTOPSIG(st), ev = (unsigned)st >> 16;
		unsigned long child;

		if (pid == s->holder) {	/* killed by someone: another one */
			s->holder = 0;
			if (lazy_holder_start(s) < 0)
				return lazy_fail(s, negerrno(), "restarting the uffd holder: %s",
						 strerror(errno));
			continue;
		}
		if (!WIFSTOPPED(st)) {
			tracee_forget(s, pid);
			continue;
		}
		if (tracee_add(s, pid) < 0)
			return lazy_fail(s, -ENOMEM, "pid %d: out of memory", pid);
		if (ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_VFORK) {
			if (ptrace(PTRACE_GETEVENTMSG, pid, 0, &child) == 0 &&
			    tracee_add(s, child) < 0)
				return lazy_fail(s, -ENOMEM, "pid %d: out of memory", pid);
			ptrace(PTRACE_CONT, pid, 0, 0);
		} else if (ev == PTRACE_EVENT_STOP) {
			/* a group stop stays one; else a new child's first stop */
			ptrace(stop_signal(sig) ? PTRACE_LISTEN : PTRACE_CONT, pid, 0, 0);
		} else {
			ptrace(PTRACE_CONT, pid, 0, ev ? 0 : sig);
		}
	}
	return 0;
}

/* Hold every plan task with PTRACE_O_EXITKILL; each must have sent its
 * hello (its uffd) by now. */
int lazy_tracees_seize(struct lazy_srv *s)
{
	long opts = PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK;
	int r;

	for (unsigned i = 0; i < s->plan->nr_tasks; i++) {
		pid_t pid = s->plan->tasks[i].pid;

		if (ptrace(PTRACE_SEIZE, pid, 0, opts) < 0) {
			if (errno == ESRCH)
				continue;	/* gone already: nothing to serve */
			return lazy_fail(s, negerrno(), "pid %d: PTRACE_SEIZE: %s", pid,
					 strerror(errno));
		}
		r = tracee_add(s, pid);
		if (r < 0)
			return lazy_fail(s, r, "pid %d: out of memory", pid);
		if (!s->hello[i])
			return lazy_fail(s, -EPROTO,
					 "pid %d: the restore committed without its userfaultfd",
					 pid);
	}
	return 0;
}

/* Every page is in: let the tracees go, passing on a signal that was
 * about to be delivered; a group-stopped one stays stopped. */
void lazy_detach_all(struct lazy_srv *s)
{
	int st;
	pid_t pid;

	lazy_holder_stop(s);	/* every uffd is closed */
	for (size_t i = 0; i < s->nr_tracees; i++)
		ptrace(PTRACE_INTERRUPT, s->tracees[i], 0, 0);
	/* the server has no children of its own: ECHILD once the last
	 * tracee (those forked meanwhile included) is detached */
	while ((pid = waitpid(-1, &st, __WALL)) > 0 || errno == EINTR) {
		int sig = WSTOPSIG(st), ev = (unsigned)st >> 16;
		unsigned long child;

		if (pid < 0)
			continue;
		tracee_forget(s, pid);
		if (!WIFSTOPPED(st))
			continue;
		if ((ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_VFORK) &&
		    ptrace(PTRACE_GETEVENTMSG, pid, 0, &child) == 0)
			ptrace(PTRACE_INTERRUPT, (pid_t)child, 0, 0);
		ptrace(PTRACE_DETACH, pid, 0, ev ? 0 : sig);
	}
}
