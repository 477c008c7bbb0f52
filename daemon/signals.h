/* Signal state of a task for core-PID.img: sigactions (injected
 * rt_sigaction), pending signals (PTRACE_PEEKSIGINFO), sigaltstack. */
#ifndef CKPT_SIGNALS_H
#define CKPT_SIGNALS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core.pb-c.h"

struct dump_ctx;
struct task;
struct thread;

#define SIGNALS_NR 64

/* Sigactions of signals 1..64 into sa[0..63]; needs the scratch page. */
int signals_dump_actions(struct dump_ctx *ctx, struct task *t, SigactionEntry sa[SIGNALS_NR]);

/* Pending signals of thread tid (shared: the process-wide queue). */
struct siginfo_list {
	SiginfoEntry *e;
	SiginfoEntry **p;	/* what task/thread_core_entry point at */
	unsigned char *data;	/* 128 bytes per entry */
	size_t n;
};
int signals_dump_pending(struct dump_ctx *ctx, pid_t tid, bool shared, struct siginfo_list *l);
void siginfo_list_free(struct siginfo_list *l);

/* sigaltstack(NULL, &old) injected in th. */
int signals_dump_altstack(struct dump_ctx *ctx, struct task *t, struct thread *th,
			  SigaltstackEntry *ret);

#endif
