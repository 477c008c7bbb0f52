/* Vfork target: the parent is ready, then vforks a child that sleeps in
 * pause() without exec'ing, so the parent stays in uninterruptible sleep
 * (D) where no ptrace stop can reach it. A dump must refuse it without
 * leaving anything traced. The harness then kills the child; the parent
 * resumes, waits for SIGUSR1 and passes.
 *
 *	core_vfork */
#include <sys/syscall.h>
#include <sys/wait.h>

#include "target.h"

int main(void)
{
	pid_t kid;
	int status;

	target_init();
	target_ready();
	kid = vfork();
	if (kid == 0) {
		for (;;)
			syscall(SYS_pause);	/* no libc state touched */
	}
	if (kid < 0)
		target_fail("vfork: %s", strerror(errno));
	if (waitpid(kid, &status, 0) != kid || !WIFSIGNALED(status))
		target_fail("the vfork child did not die of a signal (%#x)", status);
	target_wait();
	target_pass();
}
