/* Helpers shared by the core dump's per-resource files (creds, signals,
 * timers, regs): failures described once, injected calls with their
 * failure named. */
#ifndef CKPT_CORE_H
#define CKPT_CORE_H

#include <sys/types.h>

struct dump_ctx;
struct task;
struct thread;

/* Describe r, a failure on pid ("pid N: " + the formatted text). When pid
 * has died meanwhile, whatever r is, it reads "pid N exited during the
 * dump" with -ESRCH. Returns the code described. */
int core_fail(struct dump_ctx *ctx, pid_t pid, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Run syscall nr in th (inject_syscall); a failure to inject is described.
 * The syscall's own raw result (maybe -errno) goes to *ret. */
int core_inject(struct dump_ctx *ctx, struct task *t, struct thread *th,
		const char *what, long nr, const unsigned long args[6], long *ret);

#endif
