/* Waiting for a traced thread without hanging on a dying process. */
#ifndef CKPT_PTRACE_H
#define CKPT_PTRACE_H

#include <sys/types.h>

/* waitpid(tid, __WALL) for the next event of a thread we trace. A thread
 * group leader that exits is reported only after its other threads are
 * reaped -- by us, as we trace them -- so a blocking wait on it could
 * never return: this polls, and gives up with -ESRCH once tid is a zombie
 * or gone. 0 with *status set, or -errno. */
int ptrace_wait(pid_t tid, int *status);
/* The same, giving up with -ETIMEDOUT after timeout_ms. */
int ptrace_wait_timeout(pid_t tid, int *status, unsigned timeout_ms);

/* Detach from tid, also when it is no longer in a ptrace stop: a thread
 * killed meanwhile is waited for (so its real parent is told). Bounded. */
void ptrace_release(pid_t tid);

#endif
