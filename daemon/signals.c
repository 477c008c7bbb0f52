/* Signal state: what a task does on each signal, what is queued, and each
 * thread's alternate stack. sigactions and sigaltstack are only known to
 * the task itself, so they are read by injected calls; the queues come from
 * PTRACE_PEEKSIGINFO without disturbing them. */
#include "daemon/signals.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include "common/util.h"
#include "daemon/core.h"
#include "daemon/dump.h"
#include "daemon/inject.h"

/* x86-64 struct sigaction as rt_sigaction(2) takes it */
struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

/* x86-64 stack_t */
struct kstack {
	uint64_t sp;
	int32_t flags, pad;
	uint64_t size;
};

#define SIGINFO_SIZE 128
#define PEEK_BATCH 32

int signals_dump_actions(struct dump_ctx *ctx, struct task *t, SigactionEntry sa[SIGNALS_NR])
{
	struct ksigaction ks[SIGNALS_NR];
	struct thread *th = &t->threads[0];
	int r;

	if (t->scratch_len < sizeof(ks))
		return ckpt_fail(ctx->err, -ENOSPC, "pid %d: scratch area too small", t->pid);
	for (int sig = 1; sig <= SIGNALS_NR; sig++) {
		unsigned long args[6] = { sig, 0, t->scratch + (sig - 1) * sizeof(ks[0]), 8 };
		long ret;

		r = core_inject(ctx, t, th, "rt_sigaction", __NR_rt_sigaction, args, &ret);
		if (r < 0)
			return r;
		if (ret < 0)
			return ckpt_fail(ctx->err, (int)ret, "pid %d: rt_sigaction(%d) failed",
					 t->pid, sig);
	}
	r = inject_read(t, 0, ks, sizeof(ks));
	if (r < 0)
		return core_fail(ctx, t->pid, r, "reading sigactions from the scratch page");
	for (int i = 0; i < SIGNALS_NR; i++) {
		sa[i] = (SigactionEntry)SIGACTION_ENTRY__INIT;
		sa[i].sig = i + 1;
		sa[i].handler = ks[i].handler;
		sa[i].flags = ks[i].flags;
		sa[i].restorer = ks[i].restorer;
		sa[i].mask = ks[i].mask;
	}
	return 0;
}

static int list_grow(struct siginfo_list *l, size_t n)
{
	unsigned char *d = realloc(l->data, n * SIGINFO_SIZE);

	if (!d)
		return -ENOMEM;
	l->data = d;
	return 0;
}

/* Point the entries at the data (only once data stops moving). */
static int list_finish(struct siginfo_list *l)
{
	if (!l->n)
		return 0;
	l->e = calloc(l->n, sizeof(*l->e));
	l->p = calloc(l->n, sizeof(*l->p));
	if (!l->e || !l->p)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		l->e[i] = (SiginfoEntry)SIGINFO_ENTRY__INIT;
		l->e[i].siginfo.data = l->data + i * SIGINFO_SIZE;
		l->e[i].siginfo.len = SIGINFO_SIZE;
		l->p[i] = &l->e[i];
	}
	return 0;
}

int signals_dump_pending(struct dump_ctx *ctx, pid_t tid, bool shared, struct siginfo_list *l)
{
	*l = (struct siginfo_list){ 0 };
	for (;;) {
		struct ptrace_peeksiginfo_args {
			uint64_t off;
			uint32_t flags;
			int32_t nr;
		} a = { l->n, shared ? 1 /* PTRACE_PEEKSIGINFO_SHARED */ : 0, PEEK_BATCH };
		long n;
		int r;

		r = list_grow(l, l->n + PEEK_BATCH);
		if (r < 0)
			return r;
		n = ptrace(PTRACE_PEEKSIGINFO, tid, &a, l->data + l->n * SIGINFO_SIZE);
		if (n < 0)
			return core_fail(ctx, tid, negerrno(), "PTRACE_PEEKSIGINFO");
		if (n == 0)
			break;
		l->n += n;
	}
	return list_finish(l);
}

void siginfo_list_free(struct siginfo_list *l)
{
	free(l->e);
	free(l->p);
	free(l->data);
	*l = (struct siginfo_list){ 0 };
}

int signals_dump_altstack(struct dump_ctx *ctx, struct task *t, struct thread *th,
			  SigaltstackEntry *ret)
{
	unsigned long args[6] = { 0, t->scratch };
	struct kstack ks;
	long rv;
	int r;

	r = core_inject(ctx, t, th, "sigaltstack", __NR_sigaltstack, args, &rv);
	if (r < 0)
		return r;
	if (rv < 0)
		return ckpt_fail(ctx->err, (int)rv, "thread %d: sigaltstack failed", th->tid);
	r = inject_read(t, 0, &ks, sizeof(ks));
	if (r < 0)
		return core_fail(ctx, t->pid, r, "reading the sigaltstack from the scratch page");
	*ret = (SigaltstackEntry)SIGALTSTACK_ENTRY__INIT;
	ret->sp = ks.sp;
	ret->flags = (uint32_t)ks.flags;
	ret->size = ks.size;
	return 0;
}
