/* pstree.img and core-PID.img (core.c), and the helpers shared by the core
 * dump's per-resource files (creds, signals, timers, regs): failures
 * described once, injected calls with their failure named. */
#ifndef CKPT_CORE_H
#define CKPT_CORE_H

#include <stdint.h>
#include <sys/types.h>

struct dump_ctx;
struct task;
struct thread;

/* What dump_task_core found, for dump.c to record. */
struct core_result {
	uint64_t xfeatures;		/* XCR0 of the saved xsave areas, or'ed */
	uint32_t xsave_size;		/* the largest xsave area saved */
	unsigned long syscall_ip;	/* a `syscall` instruction in the task
					   (0: none found), for dump_task_mm */
};

/* pstree.img for the whole tree. */
int dump_pstree(struct dump_ctx *ctx);
/* core-PID.img of the live task t; *ret is set on success. */
int dump_task_core(struct dump_ctx *ctx, struct task *t, struct core_result *ret);

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
