/* Waiting for, stepping and letting go of traced threads, without hanging
 * on a dying process. */
#ifndef CKPT_PTRACE_H
#define CKPT_PTRACE_H

#include <stdbool.h>
#include <sys/types.h>

/* waitpid(tid, __WALL) for the next event of a thread we trace. A thread
 * group leader that exits is reported only after its other threads are
 * reaped -- by us, as we trace them -- so a blocking wait on it could
 * never return: this polls, and gives up with -ESRCH once tid is a zombie
 * or gone. 0 with *status set, or -errno. */
int ptrace_wait(pid_t tid, int *status);
/* The same, giving up with -ETIMEDOUT after timeout_ms. */
int ptrace_wait_timeout(pid_t tid, int *status, unsigned timeout_ms);

/* The next event of any of the n threads in tids, each waited for by its
 * own tid: 0 with *ret_idx and *status set; -ESRCH with *ret_idx when that
 * thread is no longer ours to wait for; -ETIMEDOUT after timeout_ms (0:
 * none). No zombie check here: a leader is reported once the threads
 * around it, which the caller waits for too, are reaped. */
int ptrace_wait_any(const pid_t *tids, unsigned n, unsigned timeout_ms,
		    unsigned *ret_idx, int *status);

/* SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU: a signal that makes a group stop. */
bool ptrace_stop_signal(int sig);

/* Resume tid (seized with PTRACE_O_TRACESYSGOOD) with PTRACE_SYSCALL,
 * delivering sig, until its next syscall stop: 1. Group stops and
 * interrupt traps on the way are stepped over. A signal-delivery stop
 * comes back as 0 with the signal, not delivered, in *ret_sig. -ESRCH:
 * tid exited or is dying; -EIO: no syscall stop after many event stops. */
int ptrace_to_syscall(pid_t tid, int sig, int *ret_sig);

/* Detach from tid, also when it is no longer in a ptrace stop: a thread
 * killed meanwhile is waited for (so its real parent is told). Bounded. */
void ptrace_release(pid_t tid);

#endif
