/* Seccomp filters at dump: each thread's chain, read under ptrace. */
#ifndef CKPT_DAEMON_SECCOMP_H
#define CKPT_DAEMON_SECCOMP_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/dump.h"
#include "daemon/pstree.h"
#include "core.pb-c.h"

/* Most filters one thread may carry (the kernel's own limit is on the
 * instructions of the whole chain: 32768 counting 4 per filter). */
#define SECCOMP_MAX_FILTERS	1024u
#define SECCOMP_MAX_INSNS	4096u	/* BPF_MAXINSNS, per filter */

/* The distinct filters of one task, for task_core_entry.seccomp_filters. */
struct seccomp_set {
	SeccompFilterEntry *f;
	SeccompFilterEntry **fp;
	size_t n, cap;
};

void seccomp_set_free(struct seccomp_set *s);

/* Thread th of t (stopped, traced by us) runs under mode (from its
 * /proc status): record its filters in s, oldest first, as indexes into
 * s (*ret_chain, *ret_n; free the chain). Strict mode, and a filter the
 * restorer could not install again (neither no_new_privs nor
 * CAP_SYS_ADMIN in the thread's credentials), are refused. */
int seccomp_dump_thread(struct dump_ctx *ctx, struct task *t, pid_t tid, int mode,
			bool can_install, struct seccomp_set *s, uint32_t **ret_chain,
			size_t *ret_n);

#endif
