/* Seccomp filters at restore (Documentation/restore.md, "Seccomp"): the
 * image keeps each distinct program once (task_core_entry.seccomp_filters)
 * and every thread its chain of indexes, oldest first. In the args area
 * the programs are copied once; each thread gets an array of struct
 * restore_seccomp pointing at them. */
#include "daemon/restore-seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define ALIGN8(n) (((n) + 7) & ~(uint64_t)7)

int rst_check_seccomp(struct rst_ctx *ctx, struct rst_task *t)
{
	pid_t pid = t->pe->pid;

	for (size_t i = 0; i < t->core->n_seccomp_filters; i++) {
		size_t len = t->core->seccomp_filters[i]->filter.len;
		uint32_t flags = t->core->seccomp_filters[i]->flags;

		/* what PTRACE_SECCOMP_GET_METADATA reports, nothing else */
		if (flags & ~(uint32_t)SECCOMP_FILTER_FLAG_LOG)
			return ckpt_fail(ctx->err, -EBADMSG, "core-%d.img: seccomp filter %zu "
					 "has flags 0x%x (only SECCOMP_FILTER_FLAG_LOG is restored)",
					 pid, i, flags);

		if (!len || len % sizeof(struct sock_filter) ||
		    len / sizeof(struct sock_filter) > RESTORE_MAX_SECCOMP_INSNS)
			return ckpt_fail(ctx->err, -EBADMSG, "core-%d.img: seccomp filter %zu "
					 "is %zu bytes, not 1 to %u instructions", pid, i, len,
					 RESTORE_MAX_SECCOMP_INSNS);
	}
	for (unsigned i = 0; i < t->nr_threads; i++) {
		const ThreadCoreEntry *th = t->threads[i];

		if (th->has_seccomp_mode && th->seccomp_mode != 0 && th->seccomp_mode != 2)
			return ckpt_fail(ctx->err, -EBADMSG, "core-%d.img: tid %d: seccomp mode "
					 "%u can't be restored", pid, th->tid, th->seccomp_mode);
		if (th->n_seccomp_chain > RESTORE_MAX_SECCOMP)
			return ckpt_fail(ctx->err, -E2BIG, "core-%d.img: tid %d: %zu seccomp "
					 "filters, the restorer takes %u", pid, th->tid,
					 th->n_seccomp_chain, RESTORE_MAX_SECCOMP);
		if (th->has_seccomp_mode && th->seccomp_mode == 2 && !th->n_seccomp_chain)
			return ckpt_fail(ctx->err, -EBADMSG, "core-%d.img: tid %d: seccomp "
					 "filter mode without a filter", pid, th->tid);
		for (size_t j = 0; j < th->n_seccomp_chain; j++)
			if (th->seccomp_chain[j] >= t->core->n_seccomp_filters)
				return ckpt_fail(ctx->err, -EBADMSG, "core-%d.img: tid %d: seccomp "
						 "filter %u of %zu", pid, th->tid,
						 th->seccomp_chain[j], t->core->n_seccomp_filters);
	}
	return 0;
}

bool rst_has_seccomp(const struct rst_task *t)
{
	for (unsigned i = 0; i < t->nr_threads; i++)
		if (t->threads[i]->n_seccomp_chain)
			return true;
	return false;
}

uint64_t rst_seccomp_insns_len(const struct rst_task *t)
{
	uint64_t n = 0;

	for (size_t i = 0; i < t->core->n_seccomp_filters; i++)
		n += ALIGN8(t->core->seccomp_filters[i]->filter.len);
	return n;
}

uint64_t rst_seccomp_descs_len(const struct rst_task *t)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < t->nr_threads; i++)
		n += t->threads[i]->n_seccomp_chain * sizeof(struct restore_seccomp);
	return n;
}

int rst_fill_seccomp(const struct rst_task *t, struct restore_args *a,
		     struct restore_thread *rt, uint64_t insns_off, uint64_t descs_off)
{
	size_t nf = t->core->n_seccomp_filters;
	_cleanup_free_ uint64_t *off = calloc(nf ? nf : 1, sizeof(*off));
	struct restore_seccomp *d = (void *)((char *)a + descs_off);

	if (!off)
		return -ENOMEM;
	for (size_t i = 0; i < nf; i++) {
		const SeccompFilterEntry *f = t->core->seccomp_filters[i];

		off[i] = insns_off;
		memcpy((char *)a + insns_off, f->filter.data, f->filter.len);
		insns_off += ALIGN8(f->filter.len);
	}
	for (unsigned i = 0; i < t->nr_threads; i++) {
		const ThreadCoreEntry *th = t->threads[i];

		rt[i].nr_seccomp = th->n_seccomp_chain;
		rt[i].seccomp_off = th->n_seccomp_chain ? descs_off : 0;
		for (size_t j = 0; j < th->n_seccomp_chain; j++) {
			const SeccompFilterEntry *f = t->core->seccomp_filters[th->seccomp_chain[j]];

			*d++ = (struct restore_seccomp){
				.flags = f->has_flags ? f->flags : 0,
				.nr_insns = f->filter.len / sizeof(struct sock_filter),
				.insns_off = off[th->seccomp_chain[j]],
			};
			descs_off += sizeof(*d);
		}
	}
	return 0;
}
