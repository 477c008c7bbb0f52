/* Seccomp target: runs under a seccomp filter (one that allows every
 * call), which a dump must refuse: injected calls could be denied or kill
 * it, and the image cannot hold the filter. After SIGUSR1 it checks it is
 * still filtered and untraced.
 *
 *	core_seccomp */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>

#include "target.h"

int main(void)
{
	struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_fprog prog = { 1, allow };

	target_init();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		target_fail("seccomp: %s", strerror(errno));
	target_ready();
	target_wait();
	if (prctl(PR_GET_SECCOMP) != SECCOMP_MODE_FILTER)
		target_fail("no longer under a seccomp filter");
	target_pass();
}
