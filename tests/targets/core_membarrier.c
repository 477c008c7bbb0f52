/* membarrier target: registers for the private and global expedited
 * commands, and after SIGUSR1 checks that its registrations are the same
 * (MEMBARRIER_CMD_GET_REGISTRATIONS) and that the private expedited
 * command still works (unregistered, it fails with EPERM). */
#include <linux/membarrier.h>

#include "target.h"

#ifndef MEMBARRIER_CMD_GET_REGISTRATIONS
#define MEMBARRIER_CMD_GET_REGISTRATIONS (1 << 9)
#endif

static long mb(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

int main(void)
{
	long before, after;

	target_init();
	if (mb(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) ||
	    mb(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED))
		target_fail("membarrier register: %s", strerror(errno));
	before = mb(MEMBARRIER_CMD_GET_REGISTRATIONS);
	if (before < 0)
		target_fail("MEMBARRIER_CMD_GET_REGISTRATIONS: %s", strerror(errno));
	target_ready();
	target_wait();
	after = mb(MEMBARRIER_CMD_GET_REGISTRATIONS);
	if (after != before)
		target_fail("registrations 0x%lx after, 0x%lx before", after, before);
	if (mb(MEMBARRIER_CMD_PRIVATE_EXPEDITED))
		target_fail("MEMBARRIER_CMD_PRIVATE_EXPEDITED: %s", strerror(errno));
	target_pass();
}
