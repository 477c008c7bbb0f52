/* Seccomp filters at dump (Documentation/restore.md, "Seccomp"). The tree
 * is seized with PTRACE_O_SUSPEND_SECCOMP (freeze.c) so that injected
 * syscalls pass the filters; here each thread's chain is read with
 * PTRACE_SECCOMP_GET_FILTER (index 0 is the newest) and its flags with
 * PTRACE_GET_SECCOMP_METADATA. Threads share filters (inherited across
 * clone): the task keeps each distinct (program, flags) once and every
 * thread lists indexes into it, oldest first, the order the restorer
 * installs them in. */
#include "daemon/seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>

#include "common/util.h"

void seccomp_set_free(struct seccomp_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->f[i].filter.data);
	free(s->f);
	free(s->fp);
	*s = (struct seccomp_set){ 0 };
}

/* The index of (prog, flags) in s, added if new (prog taken then). */
static int set_add(struct seccomp_set *s, uint8_t *prog, size_t len, uint32_t flags,
		   uint32_t *ret_idx)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->f[i].filter.len == len && s->f[i].flags == flags &&
		    !memcmp(s->f[i].filter.data, prog, len)) {
			free(prog);
			*ret_idx = i;
			return 0;
		}
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4;
		SeccompFilterEntry *f = realloc(s->f, cap * sizeof(*f));

		if (!f) {
			free(prog);
			return -ENOMEM;
		}
		s->f = f;
		s->cap = cap;
		free(s->fp);
		s->fp = calloc(cap, sizeof(*s->fp));
		if (!s->fp) {
			free(prog);
			return -ENOMEM;
		}
	}
	s->f[s->n] = (SeccompFilterEntry)SECCOMP_FILTER_ENTRY__INIT;
	s->f[s->n].filter.data = prog;
	s->f[s->n].filter.len = len;
	s->f[s->n].has_flags = flags != 0;
	s->f[s->n].flags = flags;
	for (size_t i = 0; i <= s->n; i++)
		s->fp[i] = &s->f[i];
	*ret_idx = s->n++;
	return 0;
}

/* Filter idx (0 = newest) of tid: 1 with it added to s, 0 past the
 * oldest, or -errno. */
static int read_filter(pid_t tid, unsigned long idx, struct seccomp_set *s, uint32_t *ret_idx)
{
	struct __ptrace_seccomp_metadata md = { .filter_off = idx };
	_cleanup_free_ uint8_t *prog = NULL;
	long n;
	int r;

	n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)idx, NULL);
	if (n < 0)
		return errno == ENOENT ? 0 : negerrno();
	if (n == 0 || n > (long)SECCOMP_MAX_INSNS)
		return -E2BIG;
	prog = calloc(n, sizeof(struct sock_filter));
	if (!prog)
		return -ENOMEM;
	if (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)idx, prog) != n)
		return -EAGAIN;
	if (ptrace(PTRACE_SECCOMP_GET_METADATA, tid, (void *)sizeof(md), &md) < 0)
		return negerrno();
	r = set_add(s, TAKE_PTR(prog), n * sizeof(struct sock_filter), (uint32_t)md.flags,
		    ret_idx);
	return r < 0 ? r : 1;
}

int seccomp_dump_thread(struct dump_ctx *ctx, struct task *t, pid_t tid, int mode,
			bool can_install, struct seccomp_set *s, uint32_t **ret_chain,
			size_t *ret_n)
{
	_cleanup_free_ uint32_t *chain = NULL;
	size_t n = 0;
	int r;

	*ret_chain = NULL;
	*ret_n = 0;
	if (mode == 0)
		return 0;
	if (mode != 2)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d: thread %d runs in seccomp strict "
				 "mode, which can't be restored (only filters can)", t->pid, tid);
	if (!can_install)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d: thread %d runs under a seccomp "
				 "filter but has neither no_new_privs nor CAP_SYS_ADMIN, so a restore "
				 "could not install the filter again: set PR_SET_NO_NEW_PRIVS before "
				 "installing the filter", t->pid, tid);
	chain = calloc(SECCOMP_MAX_FILTERS, sizeof(*chain));
	if (!chain)
		return -ENOMEM;
	for (;;) {
		uint32_t idx;

		r = read_filter(tid, n, s, &idx);
		if (r == 0)
			break;
		if (r == 1 && n == SECCOMP_MAX_FILTERS)
			r = -E2BIG;
		if (r < 0)
			return ckpt_fail(ctx->err, r, "pid %d: thread %d: cannot read its seccomp "
					 "filter %zu (PTRACE_SECCOMP_GET_FILTER needs CAP_SYS_ADMIN, "
					 "at most %u filters of %u instructions are saved)",
					 t->pid, tid, n, SECCOMP_MAX_FILTERS, SECCOMP_MAX_INSNS);
		chain[n++] = idx;
	}
	if (n == 0)
		return ckpt_fail(ctx->err, -EIO, "pid %d: thread %d is in seccomp filter mode "
				 "but has no filter", t->pid, tid);
	/* read newest first; installed oldest first */
	for (size_t i = 0; i < n / 2; i++) {
		uint32_t x = chain[i];

		chain[i] = chain[n - 1 - i];
		chain[n - 1 - i] = x;
	}
	*ret_chain = TAKE_PTR(chain);
	*ret_n = n;
	return 0;
}
