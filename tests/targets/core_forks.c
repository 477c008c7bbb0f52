/* Fork-churn target: children forked and exiting all the time, each reaped
 * by the parent. A dump catches some alive, some mid-exit (saved as the
 * zombies they are once their parent is frozen) and must never fail or
 * hang for it; after a --leave-running dump every child is reaped as usual
 * and its exit status is the one it exited with.
 *
 *	core_forks */
#include <sys/wait.h>

#include "target.h"

int main(void)
{
	unsigned long n = 0;

	(void)target_wait;	/* this one forks while it waits */
	target_init();
	target_ready();
	while (!target_go) {
		int status;
		pid_t kid = fork();

		if (kid < 0)
			target_fail("fork: %s", strerror(errno));
		if (kid == 0)
			_exit(n & 0x7f);
		while (waitpid(kid, &status, 0) < 0)
			if (errno != EINTR)
				target_fail("waitpid %d: %s", kid, strerror(errno));
		if (!WIFEXITED(status) || WEXITSTATUS(status) != (int)(n & 0x7f))
			target_fail("child %lu: status %#x, want exit %lu", n, status, n & 0x7f);
		n++;
	}
	if (n < 10)
		target_fail("only %lu children", n);
	target_pass();
}
