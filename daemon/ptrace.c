/* Waiting for, stepping and letting go of traced threads. Blocking waits
 * are avoided where a SIGKILL from outside could turn them into a
 * deadlock: the leader of a killed process stays unreported while its
 * traced threads wait for us to reap them. Every wait names its thread,
 * never waitpid(-1): the restore's intermediate process is its tree's
 * subreaper, and another child's event taken there would be lost to the
 * code that watches for it. */
#include "daemon/ptrace.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

#include "common/util.h"
#include "daemon/proc.h"

#define RELEASE_POLLS 2000	/* about a second of 500 us naps */
#define MAX_EVENT_STOPS 64	/* group stops, interrupts stepped over to a syscall stop */

static void nap(unsigned i)
{
	struct timespec ts = { 0, MIN(i, 500u) * 1000 };

	if (i < 64)
		sched_yield();
	else
		nanosleep(&ts, NULL);
}

/* One look at tid without blocking: 1 with *status set, 0 nothing yet,
 * -ESRCH when tid is not (any more) ours to wait for, or -errno. */
static int poll_one(pid_t tid, int *status)
{
	for (;;) {
		pid_t p = waitpid(tid, status, __WALL | WNOHANG);

		if (p == tid)
			return 1;
		if (p == 0)
			return 0;
		if (errno != EINTR)
			return errno == ECHILD ? -ESRCH : negerrno();
	}
}

int ptrace_wait_timeout(pid_t tid, int *status, unsigned timeout_ms)
{
	uint64_t deadline = timeout_ms ? now_us() + timeout_ms * 1000ull : 0;

	for (unsigned i = 0;; i++) {
		int r = poll_one(tid, status);

		if (r)
			return r < 0 ? r : 0;
		if (i % 64 == 63 && proc_dying(tid))
			return -ESRCH;
		if (deadline && i % 64 == 63 && now_us() > deadline)
			return -ETIMEDOUT;
		nap(i);
	}
}

int ptrace_wait(pid_t tid, int *status)
{
	return ptrace_wait_timeout(tid, status, 0);
}

int ptrace_wait_any(const pid_t *tids, unsigned n, unsigned timeout_ms,
		    unsigned *ret_idx, int *status)
{
	uint64_t deadline = timeout_ms ? now_us() + timeout_ms * 1000ull : 0;

	for (unsigned i = 0;; i++) {
		for (unsigned k = 0; k < n; k++) {
			int r = poll_one(tids[k], status);

			if (r) {
				*ret_idx = k;
				return r < 0 ? r : 0;
			}
		}
		if (deadline && i % 64 == 63 && now_us() > deadline)
			return -ETIMEDOUT;
		nap(i);
	}
}

bool ptrace_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

int ptrace_to_syscall(pid_t tid, int sig, int *ret_sig)
{
	for (int i = 0; i < MAX_EVENT_STOPS; i++) {
		int status, r;

		if (ptrace(PTRACE_SYSCALL, tid, NULL, (void *)(long)sig) < 0)
			return negerrno();
		sig = 0;
		r = ptrace_wait(tid, &status);
		if (r < 0)
			return r;
		if (!WIFSTOPPED(status))
			return -ESRCH;
		if (WSTOPSIG(status) == (SIGTRAP | 0x80))
			return 1;
		if (status >> 16 == PTRACE_EVENT_STOP)
			continue;
		*ret_sig = WSTOPSIG(status);
		return 0;
	}
	return -EIO;
}

void ptrace_release(pid_t tid)
{
	if (ptrace(PTRACE_DETACH, tid, NULL, NULL) == 0 || errno != ESRCH)
		return;
	/* not in a ptrace stop: exiting, or running (stop it to detach) */
	ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
	for (unsigned i = 0; i < RELEASE_POLLS; i++) {
		int status;
		pid_t p = waitpid(tid, &status, __WALL | WNOHANG);

		if (p < 0 && errno != EINTR)
			return;		/* not traced by us any more */
		if (p == tid && (WIFEXITED(status) || WIFSIGNALED(status)))
			return;
		if (p == tid && ptrace(PTRACE_DETACH, tid, NULL, NULL) == 0)
			return;
		nap(i);
	}
}
