/* Waiting for and letting go of traced threads. Blocking waits are avoided
 * where a SIGKILL from outside could turn them into a deadlock: the leader
 * of a killed process stays unreported while its traced threads wait for
 * us to reap them. */
#include "daemon/ptrace.h"

#include <errno.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

#include "common/util.h"
#include "daemon/proc.h"

#define RELEASE_POLLS 2000	/* about a second of 500 us naps */

static bool dying(pid_t tid)
{
	struct proc_stat st;

	return proc_read_stat(tid, &st) < 0 || st.state == 'Z' || st.state == 'X';
}

static void nap(unsigned i)
{
	struct timespec ts = { 0, MIN(i, 500u) * 1000 };

	if (i < 64)
		sched_yield();
	else
		nanosleep(&ts, NULL);
}

int ptrace_wait_timeout(pid_t tid, int *status, unsigned timeout_ms)
{
	uint64_t deadline = timeout_ms ? now_us() + timeout_ms * 1000ull : 0;

	for (unsigned i = 0;; i++) {
		pid_t p = waitpid(tid, status, __WALL | WNOHANG);

		if (p == tid)
			return 0;
		if (p < 0) {
			if (errno == EINTR)
				continue;
			return errno == ECHILD ? -ESRCH : negerrno();
		}
		if (i % 64 == 63 && dying(tid))
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
