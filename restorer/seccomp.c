/* Seccomp filters: each thread installs its own chain, oldest first, as
 * the very last thing before its rt_sigreturn (blob_leave): a filter may
 * deny what the blob still calls (futex, read, the creds' setresuid...),
 * so it comes after every other step. The engine seizes the threads with
 * PTRACE_O_SUSPEND_SECCOMP before it lets them go, so its own injected
 * munmap() of the region passes; the filters bind the thread from its
 * first instruction of its own (the restarted syscall included).
 *
 * seccomp() needs no_new_privs or CAP_SYS_ADMIN: the credentials were
 * restored before, and the dump refused a thread that has neither. The
 * arrays are checked with the thread's other state (blob_check_seccomp,
 * before the engine says go); an install that still fails afterwards
 * can't be reported, so the process exits rather than run unfiltered. */
#include <asm/unistd.h>
#include <linux/errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>

#include "blob.h"
#include "syscall.h"

int blob_check_seccomp(struct restore_args *a, const struct restore_thread *t)
{
	const struct restore_seccomp *f = blob_at(a, t->seccomp_off);

	if (t->nr_seccomp > RESTORE_MAX_SECCOMP ||
	    !blob_inside(a, t->seccomp_off, t->nr_seccomp, sizeof(*f)))
		return (int)blob_fail(a, RSTEP_ARGS, -EINVAL, 0, "restore_args: thread %d: "
				     "%u seccomp filters outside the area", t->tid, t->nr_seccomp);
	for (unsigned i = 0; i < t->nr_seccomp; i++)
		if (!f[i].nr_insns || f[i].nr_insns > RESTORE_MAX_SECCOMP_INSNS ||
		    !blob_inside(a, f[i].insns_off, f[i].nr_insns, sizeof(struct sock_filter)))
			return (int)blob_fail(a, RSTEP_ARGS, -EINVAL, 0, "restore_args: thread "
					     "%d: seccomp filter %u of %u instructions outside "
					     "the area", t->tid, i, f[i].nr_insns);
	return 0;
}

int blob_install_seccomp(const struct restore_args *a, const struct restore_thread *t)
{
	const struct restore_seccomp *f = blob_at(a, t->seccomp_off);

	for (unsigned i = 0; i < t->nr_seccomp; i++) {
		struct sock_fprog prog = {
			.len = (unsigned short)f[i].nr_insns,
			.filter = blob_at(a, f[i].insns_off),
		};
		long r = blob_syscall3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, f[i].flags,
				       (unsigned long)&prog);

		if (r < 0)
			return (int)r;
	}
	return 0;
}
