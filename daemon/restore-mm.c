/* Restore, hand-off to the blob: inside each new task, flatten the task's
 * images into one struct restore_args (restorer/restorer.h), map the blob
 * and its argument area into a hole that no saved VMA and no current
 * mapping touches, close every fd the task must not keep, and jump.
 * Engine side (the intermediate process): read the blob's status report
 * and answer RESTORE_GO. */
#include "daemon/restore-int.h"
#include "daemon/restore-seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sys/capability.h>
#include <xxhash.h>

#include "common/protocol.h"
#include "common/util.h"
#include "daemon/files/pidfd.h"
#include "daemon/vma.h"
#include "images/chain.h"
#include "images/img.h"
#include "restorer/restorer.h"

extern const char _binary_restorer_bin_start[] __attribute__((weak));
extern const char _binary_restorer_bin_end[] __attribute__((weak));

#define RST_MAX_PENDING	4096u
#define RST_HOLE_FLOOR	0x100000000ull

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static bool vma_special(VmaEntry *v)
{
	return v->kind == VMA_KIND__VMA_VDSO || v->kind == VMA_KIND__VMA_VVAR ||
	       v->kind == VMA_KIND__VMA_VVAR_VCLOCK || v->kind == VMA_KIND__VMA_VSYSCALL;
}

static bool vma_private_data(VmaEntry *v)
{
	return v->kind == VMA_KIND__VMA_ANON_PRIVATE || v->kind == VMA_KIND__VMA_FILE_PRIVATE ||
	       v->kind == VMA_KIND__VMA_STACK || v->kind == VMA_KIND__VMA_HEAP;
}

static VmaEntry *vma_of(struct rst_task *t, uint64_t addr)
{
	for (unsigned i = 0; i < t->nr_vmas; i++)
		if (t->vmas[i]->start <= addr && addr < t->vmas[i]->end)
			return t->vmas[i];
	return NULL;
}

/* Guard regions: page aligned, ascending, inside their VMA (the blob
 * trusts the order). */
static int check_guards(struct rst_ctx *ctx, struct rst_task *t)
{
	for (unsigned i = 0; i < t->nr_vmas; i++) {
		VmaEntry *v = t->vmas[i];
		uint64_t prev = v->start;

		for (size_t j = 0; j < v->n_guards; j++) {
			const PageRange *g = v->guards[j];

			if (g->start < prev || g->end <= g->start || g->end > v->end ||
			    (g->start | g->end) % ctx->page_size || vma_special(v))
				return ckpt_fail(ctx->err, -EBADMSG, "mm-%d.img: vma %" PRIx64 "-%"
						 PRIx64 ": guard region %" PRIx64 "-%" PRIx64
						 " is unaligned, out of order or outside it",
						 t->pe->pid, v->start, v->end, g->start, g->end);
			prev = g->end;
		}
		if (v->n_guards && ctx->kd && ctx->kd->page_size > 0 && !ctx->kd->guard_regions)
			return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d: vma %" PRIx64 "-%" PRIx64
					 " has guard pages (MADV_GUARD_INSTALL), which this kernel "
					 "lacks (Linux 6.13+)", t->pe->pid, v->start, v->end);
	}
	return 0;
}

int rst_check_mm(struct rst_ctx *ctx, struct rst_task *t)
{
	pid_t pid = t->pe->pid;
	CredsEntry *cr = t->core->creds;
	int r;

	r = check_guards(ctx, t);	/* hugetlb: rst_check_hugetlb, once for the tree */
	if (r == 0)
		r = rst_check_seccomp(ctx, t);
	if (r < 0)
		return r;

	if (t->nr_threads > RESTORE_MAX_THREADS)
		return ckpt_fail(ctx->err, -E2BIG, "pid %d: %u threads, the restorer takes %u",
				 pid, t->nr_threads, RESTORE_MAX_THREADS);
	for (unsigned i = 0; i < t->nr_threads; i++) {
		if (t->threads[i]->xsave.len > RESTORE_XSAVE_MAX)
			return ckpt_fail(ctx->err, -E2BIG, "pid %d tid %d: xsave area of %zu bytes",
					 pid, t->threads[i]->tid, t->threads[i]->xsave.len);
		if (t->threads[i]->creds && t->threads[i]->creds->n_groups > RESTORE_MAX_GROUPS)
			return ckpt_fail(ctx->err, -E2BIG, "core-%d.img: tid %d: %zu groups", pid,
					 t->threads[i]->tid, t->threads[i]->creds->n_groups);
		if (t->threads[i]->n_pending > RST_MAX_PENDING)
			return ckpt_fail(ctx->err, -E2BIG, "core-%d.img: too many pending signals",
					 pid);
		for (size_t j = 0; j < t->threads[i]->n_pending; j++)
			if (t->threads[i]->pending[j]->siginfo.len != 128)
				return ckpt_fail(ctx->err, -EBADMSG,
						 "core-%d.img: tid %d: a pending siginfo is not 128 "
						 "bytes", pid, t->threads[i]->tid);
	}
	if (t->core->n_shared_pending > RST_MAX_PENDING)
		return ckpt_fail(ctx->err, -E2BIG, "core-%d.img: too many pending signals", pid);
	for (size_t j = 0; j < t->core->n_shared_pending; j++)
		if (t->core->shared_pending[j]->siginfo.len != 128)
			return ckpt_fail(ctx->err, -EBADMSG,
					 "core-%d.img: a pending siginfo is not 128 bytes", pid);
	if (cr->n_groups > RESTORE_MAX_GROUPS)
		return ckpt_fail(ctx->err, -E2BIG, "core-%d.img: %zu groups", pid, cr->n_groups);
	for (size_t j = 0; j < t->core->n_itimers; j++)
		if (t->core->itimers[j]->which > 2)
			return ckpt_fail(ctx->err, -EBADMSG, "core-%d.img: itimer %u is unknown", pid,
					 t->core->itimers[j]->which);
	if (t->core->n_posix_timers > 4096)
		return ckpt_fail(ctx->err, -E2BIG, "core-%d.img: too many timers", pid);
	return 0;
}

/* ---- the argument area ------------------------------------------------ */

struct layout {
	uint64_t vmas, pages, auxv, close_fds, timers, shared_pending, threads, pending,
		xsave, groups, park, stacks, len;
	uint64_t guards, lazy, seccomp_insns, seccomp_descs, thread_groups, pidfds;
	uint32_t nr_vmas, nr_pages, nr_auxv, nr_close, nr_pending, nr_guards, nr_pidfds;
	uint64_t park_len;
};

/* Threads that had credentials of their own (set with raw syscalls). */
static uint64_t thread_groups_len(const struct rst_task *t)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < t->nr_threads; i++)
		if (t->threads[i]->creds)
			n += t->threads[i]->creds->n_groups * 4;
	return n;
}

struct vdso_cur {
	struct restore_range r[RVDSO_NR];
};

/* This process's own mappings, from /proc/self/maps. */
static int read_own_maps(struct vma_list *ret)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL;
	struct vma_list l = { 0 };
	int r;

	r = read_file_at(AT_FDCWD, "/proc/self/maps", &buf, NULL);
	if (r < 0)
		return r;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct vma v;

		r = vma_parse_maps_line(line, &v);
		if (r == 0)
			r = vma_list_push(&l, &v);
		if (r < 0) {
			if (r == -ENOMEM)
				free(v.name);
			vma_list_free(&l);
			return r;
		}
	}
	*ret = l;
	return 0;
}

/* Where this kernel put this process's vdso and vvar areas. */
static void read_cur_vdso(const struct vma_list *own, struct vdso_cur *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < own->nr; i++) {
		const struct vma *v = &own->v[i];
		int idx = !strcmp(v->name, "[vvar_vclock]") ? RVDSO_VVAR_VCLOCK :
			  !strcmp(v->name, "[vvar]") ? RVDSO_VVAR :
			  !strcmp(v->name, "[vdso]") ? RVDSO_VDSO : -1;

		if (idx < 0)
			continue;
		c->r[idx].start = v->start;
		c->r[idx].end = v->end;
	}
}

static void plan_layout(struct rst_ctx *ctx, struct rst_task *t, const struct vdso_cur *cur,
			struct layout *l)
{
	uint64_t o = align_up(sizeof(struct restore_args), 64);

	memset(l, 0, sizeof(*l));
	for (unsigned i = 0; i < t->nr_vmas; i++) {
		if (vma_special(t->vmas[i]))
			continue;
		l->nr_vmas++;
		l->nr_guards += t->vmas[i]->n_guards;
	}
	for (size_t i = 0; i < t->nr_pages; i++) {
		VmaEntry *v = vma_of(t, t->pages[i].vaddr);

		if (v && vma_private_data(v) && !rst_vma_lazy(t, v))
			l->nr_pages++;
	}
	l->nr_auxv = t->mm->n_auxv + 2;
	l->nr_close = t->nr_vmas + 2 + (ctx->chain ? ctx->chain->nr : 0);
	for (unsigned i = 0; i < t->nr_threads; i++)
		l->nr_pending += t->threads[i]->n_pending;
	for (int i = 0; i < RVDSO_NR; i++)
		l->park_len += cur->r[i].end - cur->r[i].start;
	l->nr_pidfds = rst_pidfd_threads(ctx, t, NULL);

#define TAKE(field, bytes) do { l->field = o; o = align_up(o + (bytes), 64); } while (0)
	TAKE(vmas, (uint64_t)l->nr_vmas * sizeof(struct restore_vma));
	TAKE(pages, (uint64_t)l->nr_pages * sizeof(struct restore_page));
	TAKE(guards, (uint64_t)l->nr_guards * sizeof(struct restore_range));
	TAKE(lazy, (uint64_t)t->nr_lazy * sizeof(struct restore_range));
	TAKE(auxv, (uint64_t)l->nr_auxv * 8);
	TAKE(close_fds, (uint64_t)l->nr_close * 4);
	TAKE(timers, t->core->n_posix_timers * sizeof(struct restore_posix_timer));
	TAKE(shared_pending, t->core->n_shared_pending * sizeof(struct restore_siginfo));
	TAKE(threads, (uint64_t)t->nr_threads * sizeof(struct restore_thread));
	TAKE(pending, (uint64_t)l->nr_pending * sizeof(struct restore_siginfo));
	l->xsave = o;
	for (unsigned i = 0; i < t->nr_threads; i++)
		o = align_up(o + t->threads[i]->xsave.len, 64);
	TAKE(groups, t->core->creds->n_groups * 4);
	TAKE(seccomp_insns, rst_seccomp_insns_len(t));
	TAKE(seccomp_descs, rst_seccomp_descs_len(t));
	TAKE(thread_groups, thread_groups_len(t));
	TAKE(pidfds, (uint64_t)l->nr_pidfds * sizeof(struct restore_pidfd));
#undef TAKE
	l->park = o = align_up(o, ctx->page_size);
	o += align_up(l->park_len, ctx->page_size);
	l->stacks = o;
	o += restore_stacks_len(t->nr_threads);
	l->len = align_up(o, ctx->page_size);
}

/* Where the copy of v shared with the parent or children lies, filled
 * already (restore-cow.c); 0: none, the blob maps v afresh. */
static uint64_t vma_premap(const struct rst_task *t, const VmaEntry *v)
{
	for (unsigned i = 0; t->cow_at && i < t->nr_vmas; i++)
		if (t->vmas[i] == v)
			return t->cow_at[i] > RST_COW_WANTED ? t->cow_at[i] : 0;
	return 0;
}

static void fill_vmas(struct rst_ctx *ctx, struct rst_task *t, struct restore_args *a,
		      const struct layout *l)
{
	struct restore_vma *rv = (void *)((char *)a + l->vmas);
	struct restore_range *rg = (void *)((char *)a + l->guards);
	unsigned n = 0, ng = 0;

	for (unsigned i = 0; i < t->nr_vmas; i++) {
		VmaEntry *v = t->vmas[i];
		char key[4096];

		if (vma_special(v))
			continue;
		for (size_t j = 0; j < v->n_guards; j++)
			rg[ng++] = (struct restore_range){ v->guards[j]->start, v->guards[j]->end };
		rv[n] = (struct restore_vma){
			.start = v->start, .end = v->end, .pgoff = v->pgoff,
			.madv = v->has_madv ? v->madv : 0, .prot = v->prot, .flags = v->flags,
			.kind = v->kind, .fd = -1, .premap = vma_premap(t, v),
		};
		if (v->kind == VMA_KIND__VMA_ANON_SHARED) {
			rv[n].fd = rst_shmem_find(ctx, v->shmid)->fd;
		} else if (v->kind == VMA_KIND__VMA_FILE_PRIVATE ||
			   v->kind == VMA_KIND__VMA_FILE_SHARED) {
			rst_vma_key(v, key, sizeof(key));
			/* the rule of vma_wants_write() (restore-files.c) */
			rv[n].fd = rst_vmfile_fd(ctx, key, v->kind == VMA_KIND__VMA_FILE_SHARED &&
							   ((v->prot & PROT_WRITE) ||
							    (v->has_may_write && v->may_write)));
		}
		n++;
	}
	a->vmas_off = l->vmas;
	a->nr_vmas = n;
	a->guards_off = l->guards;
	a->nr_guards = ng;
}

/* pages_fds: per chain link, its pages-N.img of t ([0]: this set's). */
static void fill_pages(struct rst_task *t, const int *pages_fds, struct restore_args *a,
		       const struct layout *l)
{
	struct restore_page *rp = (void *)((char *)a + l->pages);
	unsigned n = 0;

	for (size_t i = 0; i < t->nr_pages; i++) {
		struct page_entry *e = &t->pages[i];
		VmaEntry *v = vma_of(t, e->vaddr);

		if (!v || !vma_private_data(v))
			continue;	/* shared objects were filled through their fd */
		if (rst_vma_lazy(t, v))
			continue;	/* the lazy server brings them in */
		if (vma_premap(t, v))
			continue;	/* its copy is full already */
		if (!(e->flags & PE_PRESENT) && v->kind != VMA_KIND__VMA_FILE_PRIVATE)
			continue;	/* fresh anonymous memory reads as zeros */
		rp[n++] = (struct restore_page){
			.vaddr = e->vaddr, .nr_pages = e->nr_pages,
			.flags = (e->flags & PE_PRESENT) ? RPAGE_DATA : RPAGE_ZERO,
			.off = e->data_off, .xxh3 = e->xxh3,
			.fd = (e->flags & PE_PRESENT) ? pages_fds[t->page_link[i]] : -1,
		};
	}
	a->pages_off = l->pages;
	a->nr_pages = n;
}

static void fill_mm(struct rst_ctx *ctx, struct rst_task *t, struct restore_args *a,
		    const struct layout *l)
{
	MmEntry *m = t->mm;
	uint64_t *auxv = (void *)((char *)a + l->auxv);
	size_t n = m->n_auxv;

	a->mm = (struct restore_mm){
		.start_code = m->start_code, .end_code = m->end_code,
		.start_data = m->start_data, .end_data = m->end_data,
		.start_brk = m->start_brk, .brk = m->brk, .start_stack = m->start_stack,
		.arg_start = m->arg_start, .arg_end = m->arg_end,
		.env_start = m->env_start, .env_end = m->env_end,
		.auxv_off = l->auxv, .exe_fd = -1,
	};
	memcpy(auxv, m->auxv, n * 8);
	/* keep one AT_NULL pair at the end */
	while (n >= 2 && auxv[n - 2] == 0 && auxv[n - 1] == 0)
		n -= 2;
	auxv[n] = auxv[n + 1] = 0;
	a->mm.auxv_size = m->n_auxv ? (n + 2) * 8 : 0;
	if (m->exe)
		a->mm.exe_fd = rst_vmfile_fd(ctx, m->exe->path, false);
}

static void fill_signals(struct rst_task *t, struct restore_args *a, const struct layout *l)
{
	TaskCoreEntry *c = t->core;
	struct restore_posix_timer *pt = (void *)((char *)a + l->timers);
	struct restore_siginfo *sp = (void *)((char *)a + l->shared_pending);

	for (size_t i = 0; i < c->n_sigactions; i++) {
		SigactionEntry *s = c->sigactions[i];

		if (s->sig == SIGKILL || s->sig == SIGSTOP)
			continue;
		a->sigactions[s->sig - 1] = (struct restore_sigaction){
			.handler = s->handler, .flags = s->flags, .restorer = s->restorer,
			.mask = s->mask,
		};
	}
	for (size_t i = 0; i < c->n_itimers; i++)
		a->itimers[c->itimers[i]->which] = (struct restore_itimer){
			.interval_us = c->itimers[i]->interval_us,
			.value_us = c->itimers[i]->value_us,
		};
	for (size_t i = 0; i < c->n_posix_timers; i++) {
		PosixTimerEntry *p = c->posix_timers[i];

		pt[i] = (struct restore_posix_timer){
			.id = p->id, .clock_id = p->clock_id, .notify = p->notify,
			.signo = p->signo, .sival = p->sival,
			.notify_tid = p->has_notify_tid ? p->notify_tid : 0,
			.interval_ns = p->interval_ns, .value_ns = p->value_ns,
		};
	}
	for (size_t i = 1; i < c->n_posix_timers; i++)	/* the blob wants them by id */
		for (size_t j = i; j > 0 && pt[j - 1].id > pt[j].id; j--) {
			struct restore_posix_timer tmp = pt[j];

			pt[j] = pt[j - 1];
			pt[j - 1] = tmp;
		}
	a->timers_off = l->timers;
	a->nr_timers = c->n_posix_timers;
	for (size_t i = 0; i < c->n_shared_pending; i++)
		memcpy(sp[i].raw, c->shared_pending[i]->siginfo.data, 128);
	a->shared_pending_off = l->shared_pending;
	a->nr_shared_pending = c->n_shared_pending;
	a->timerslack_ns = c->has_timerslack_ns ? c->timerslack_ns : 0;
}

static struct restore_creds creds_args(const CredsEntry *cr, uint64_t groups_off, int32_t dumpable)
{
	return (struct restore_creds){
		.uid = cr->uid, .euid = cr->euid, .suid = cr->suid, .fsuid = cr->fsuid,
		.gid = cr->gid, .egid = cr->egid, .sgid = cr->sgid, .fsgid = cr->fsgid,
		.cap_inh = cr->cap_inh, .cap_prm = cr->cap_prm, .cap_eff = cr->cap_eff,
		.cap_bnd = cr->cap_bnd, .cap_amb = cr->cap_amb,
		.secbits = cr->has_securebits ? cr->securebits : 0,
		.nr_groups = cr->n_groups, .groups_off = groups_off,
		.no_new_privs = cr->has_no_new_privs && cr->no_new_privs,
		.dumpable = dumpable,
	};
}

static void fill_thread_creds(struct rst_task *t, struct restore_args *a, const struct layout *l)
{
	struct restore_thread *rt = (void *)((char *)a + l->threads);
	uint64_t go = l->thread_groups;

	for (unsigned i = 0; i < t->nr_threads; i++) {
		const CredsEntry *cr = t->threads[i]->creds;

		if (!cr)
			continue;
		rt[i].own_creds = 1;
		rt[i].creds = creds_args(cr, go, -1);
		memcpy((char *)a + go, cr->groups, cr->n_groups * 4);
		go += cr->n_groups * 4;
	}
}

static void fill_creds(struct rst_task *t, struct restore_args *a, const struct layout *l)
{
	CredsEntry *cr = t->core->creds;
	uint32_t *g = (void *)((char *)a + l->groups);

	a->creds = creds_args(cr, l->groups, t->core->has_dumpable ? (int32_t)t->core->dumpable : -1);
	for (size_t i = 0; i < cr->n_groups; i++)
		g[i] = cr->groups[i];
}

static void fill_threads(struct rst_task *t, struct restore_args *a, const struct layout *l)
{
	struct restore_thread *rt = (void *)((char *)a + l->threads);
	struct restore_siginfo *pend = (void *)((char *)a + l->pending);
	uint64_t xo = l->xsave, po = l->pending;

	for (unsigned i = 0; i < t->nr_threads; i++) {
		ThreadCoreEntry *th = t->threads[i];
		X86Regs *r = th->regs;
		struct restore_thread *d = &rt[i];

		memset(d, 0, sizeof(*d));
		d->tid = th->tid;
		d->xsave_len = th->xsave.len;
		d->xsave_off = xo;
		memcpy((char *)a + xo, th->xsave.data, th->xsave.len);
		xo = align_up(xo + th->xsave.len, 64);
		d->regs = (struct restore_regs){
			r->r15, r->r14, r->r13, r->r12, r->rbp, r->rbx, r->r11, r->r10, r->r9,
			r->r8, r->rax, r->rcx, r->rdx, r->rsi, r->rdi, r->orig_rax, r->rip, r->cs,
			r->eflags, r->rsp, r->ss, r->fs_base, r->gs_base, r->ds, r->es, r->fs, r->gs,
		};
		/* A syscall caught with -ERESTART_RESTARTBLOCK (nanosleep, poll,
		 * futex with a timeout) would restart through restart_syscall,
		 * whose state stayed in the dead thread: run it again whole
		 * (-ERESTARTNOINTR), so a relative timeout starts over rather
		 * than the call failing with EINTR. */
		if ((int64_t)d->regs.rax == -516 && (int64_t)d->regs.orig_rax >= 0)
			d->regs.rax = (uint64_t)-513;
		d->sigmask = th->sigmask;
		if (th->sigaltstack) {
			d->altstack_sp = th->sigaltstack->sp;
			d->altstack_size = th->sigaltstack->size;
			d->altstack_flags = th->sigaltstack->flags;
		} else {
			d->altstack_flags = SS_DISABLE;
		}
		if (th->rseq && th->rseq->ptr) {
			d->rseq_ptr = th->rseq->ptr;
			d->rseq_len = th->rseq->len;
			d->rseq_sig = th->rseq->sig;
		}
		d->nr_pending = th->n_pending;
		d->pending_off = po;
		for (size_t j = 0; j < th->n_pending; j++) {
			memcpy(pend->raw, th->pending[j]->siginfo.data, 128);
			pend++;
			po += sizeof(*pend);
		}
		d->clear_child_tid = th->has_clear_child_tid ? th->clear_child_tid : 0;
		d->robust_list = th->has_robust_list ? th->robust_list : 0;
		d->robust_list_len = th->has_robust_list_len ? th->robust_list_len : 0;
		snprintf(d->comm, sizeof(d->comm), "%s",
			 th->comm ? th->comm : (i == 0 ? t->core->comm : ""));
		/* the root's parent is not of the tree: after the restore it is
		 * the intermediate process, whose exit would fire it */
		d->pdeathsig = th->has_pdeathsig && t->parent ? th->pdeathsig : 0;
	}
	a->threads_off = l->threads;
	a->nr_threads = t->nr_threads;
	a->stacks_off = l->stacks;
}

/* The fds the blob closes once the address space is built. */
static void fill_close_fds(struct restore_args *a, const struct layout *l, const int *fds,
			   unsigned nr)
{
	int32_t *c = (void *)((char *)a + l->close_fds);
	unsigned n = 0;

	for (unsigned i = 0; i < nr; i++) {
		bool dup = fds[i] < 0;

		for (unsigned j = 0; j < n && !dup; j++)
			dup = c[j] == fds[i];
		if (!dup)
			c[n++] = fds[i];
	}
	a->close_fds_off = l->close_fds;
	a->nr_close_fds = n;
}

/* ---- placing the region ------------------------------------------------ */

struct span {
	uint64_t s, e;
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->s < y->s ? -1 : x->s > y->s;
}

/* A hole of len bytes (plus a guard page each side) that neither the image
 * nor this process (own) uses. */
static int find_hole(struct rst_ctx *ctx, struct rst_task *t, const struct vma_list *own,
		     uint64_t len, uint64_t *ret)
{
	_cleanup_free_ struct span *sp = NULL;
	size_t n = 0;
	uint64_t at = RST_HOLE_FLOOR, guard = ctx->page_size;

	sp = malloc((t->nr_vmas + own->nr + 1) * sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	for (unsigned i = 0; i < t->nr_vmas; i++)
		sp[n++] = (struct span){ t->vmas[i]->start, t->vmas[i]->end };
	for (size_t i = 0; i < own->nr; i++)
		sp[n++] = (struct span){ own->v[i].start, own->v[i].end };
	qsort(sp, n, sizeof(*sp), cmp_span);
	for (size_t i = 0; i < n; i++) {
		if (sp[i].s >= at + len + 2 * guard)
			break;
		if (sp[i].e + guard > at)
			at = align_up(sp[i].e + guard, ctx->page_size);
	}
	if (at + len + guard > RST_TASK_SIZE)
		return -ENOMEM;
	*ret = at + guard;
	return 0;
}

/* ---- the jump ------------------------------------------------------------ */

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int rst_close_fds_but(int *keep, unsigned n)
{
	unsigned from = 0;

	qsort(keep, n, sizeof(*keep), cmp_int);
	for (unsigned i = 0; i < n; i++) {
		if (keep[i] < 0 || (unsigned)keep[i] < from)
			continue;
		if ((unsigned)keep[i] > from &&
		    syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0) < 0)
			return negerrno();
		from = keep[i] + 1;
	}
	if (syscall(SYS_close_range, from, ~0u, 0) < 0)
		return negerrno();
	return 0;
}

static void fill_self_rseq(struct restore_args *a)
{
	if (__rseq_size == 0)
		return;
	a->self_rseq_ptr = (uint64_t)(uintptr_t)((char *)__builtin_thread_pointer() + __rseq_offset);
	a->self_rseq_len = __rseq_size < 32 ? 32 : __rseq_size;
	a->self_rseq_sig = RSEQ_SIG;
}

/* The shared counter the blob adds its pages to, unless a saved VMA (the
 * vdso's included) touches its page: the blob maps those over it. */
static uint64_t pages_counter(struct rst_ctx *ctx, struct rst_task *t)
{
	uint64_t addr = (uint64_t)(uintptr_t)&ctx->sh->pages_read;
	uint64_t page = addr & ~(uint64_t)(ctx->page_size - 1);

	for (unsigned i = 0; i < t->nr_vmas; i++)
		if (t->vmas[i]->start < page + ctx->page_size && t->vmas[i]->end > page)
			return 0;
	return addr;
}

static int build_args(struct rst_ctx *ctx, struct rst_task *t, struct restore_args *a,
		      const struct layout *l, const struct vdso_cur *cur, uint64_t blob_start,
		      uint64_t blob_len, const int *pages_fds, unsigned nr_pages_fds,
		      int *helper_fds, unsigned *nr_helper)
{
	unsigned nh = 0;

	a->magic = RESTORE_ARGS_MAGIC;
	a->version = RESTORE_ARGS_VERSION;
	a->header_size = sizeof(*a);
	a->args_len = l->len;
	a->pid = t->pe->pid;
	a->blob_start = blob_start;
	a->blob_len = blob_len;
	a->status_fd = t->status_fd;
	fill_self_rseq(a);
	for (unsigned i = 0; i < t->nr_vmas; i++) {
		VmaEntry *v = t->vmas[i];
		int idx = v->kind == VMA_KIND__VMA_VDSO ? RVDSO_VDSO :
			  v->kind == VMA_KIND__VMA_VVAR ? RVDSO_VVAR :
			  v->kind == VMA_KIND__VMA_VVAR_VCLOCK ? RVDSO_VVAR_VCLOCK : -1;

		if (idx >= 0)
			a->vdso.img[idx] = (struct restore_range){ v->start, v->end };
	}
	memcpy(a->vdso.cur, cur->r, sizeof(cur->r));
	a->vdso.park_off = l->park;
	a->vdso.park_len = align_up(l->park_len, ctx->page_size);
	fill_vmas(ctx, t, a, l);
	fill_pages(t, pages_fds, a, l);
	a->lazy_off = l->lazy;
	a->nr_lazy = t->nr_lazy;
	a->lazy_fd = t->nr_lazy ? ctx->lazy_fd : -1;
	if (t->nr_lazy)
		memcpy((char *)a + l->lazy, t->lazy, t->nr_lazy * sizeof(*t->lazy));
	a->pages_done_addr = ctx->sh ? pages_counter(ctx, t) : 0;
	a->pidfds_off = l->pidfds;
	a->nr_pidfds = rst_pidfd_threads(ctx, t, (void *)((char *)a + l->pidfds));
	fill_mm(ctx, t, a, l);
	fill_signals(t, a, l);
	fill_creds(t, a, l);
	fill_threads(t, a, l);
	fill_thread_creds(t, a, l);
	if (rst_fill_seccomp(t, a, (void *)((char *)a + l->threads), l->seccomp_insns,
			     l->seccomp_descs) < 0)
		return -ENOMEM;

	for (unsigned i = 0; i < nr_pages_fds; i++)
		if (pages_fds[i] >= 0)
			helper_fds[nh++] = pages_fds[i];
	helper_fds[nh++] = a->mm.exe_fd;
	for (unsigned i = 0; i < a->nr_vmas; i++)
		helper_fds[nh++] = ((struct restore_vma *)((char *)a + l->vmas))[i].fd;
	fill_close_fds(a, l, helper_fds, nh);
	*nr_helper = nh;
	return 0;
}

/* ckptd keeps CAP_IPC_LOCK permitted but not effective: a task with
 * mlock()ed VMAs gets it effective, so the blob's mlock() is not bound by
 * the task's own RLIMIT_MEMLOCK (already restored). The blob's capset sets
 * the saved capabilities afterwards. Without the capability the blob's
 * mlock() says what failed. */
static void allow_mlock(struct rst_task *t)
{
	cap_value_t lock = CAP_IPC_LOCK;
	cap_flag_value_t v;
	bool locked = false;
	cap_t c;

	for (unsigned i = 0; i < t->nr_vmas && !locked; i++)
		locked = t->vmas[i]->flags & MAP_LOCKED;
	if (!locked)
		return;
	c = cap_get_proc();
	if (!c)
		return;
	if (cap_get_flag(c, lock, CAP_PERMITTED, &v) == 0 && v == CAP_SET &&
	    cap_set_flag(c, CAP_EFFECTIVE, 1, &lock, CAP_SET) == 0)
		cap_set_proc(c);
	cap_free(c);
}

/* Each chain link's pages-N.img of t that holds some of its pages, at a
 * high fd ([0] this set's, always; -1 for a link not used). */
int rst_open_pages_fds(struct rst_ctx *ctx, struct rst_task *t, int *fds, unsigned *nr)
{
	unsigned n = ctx->chain ? ctx->chain->nr : 1;
	const char *why = NULL;
	char name[64];
	int r;

	for (unsigned i = 0; i < n; i++) {
		unsigned id = i ? (t->link_pages_id ? t->link_pages_id[i] : 0) : t->pages_id;
		int dirfd = i ? ctx->chain->link[i].dirfd : ctx->dirfd;

		fds[i] = -1;
		if (i && !id)
			continue;
		snprintf(name, sizeof(name), "pages-%u.img", id);
		r = img_open_regular(dirfd, name, &fds[i], &why);
		if (r < 0)
			return ckpt_fail(ctx->err, r, "pid %d: cannot open %s%s%s%s", t->pe->pid,
					 name, i ? " of a parent set" : "", why ? ": " : "",
					 why ? why : "");
		fds[i] = rst_move_high(ctx, fds[i]);
		if (fds[i] < 0)
			return ckpt_fail(ctx->err, fds[i], "pid %d: cannot move the fd of %s",
					 t->pe->pid, name);
	}
	*nr = n;
	return 0;
}

/* Map the blob into a hole no saved VMA covers and fill its arguments. */
int rst_blob_prepare(struct rst_ctx *ctx, struct rst_task *t, struct rst_blob *b)
{
	const char *bs = _binary_restorer_bin_start, *be = _binary_restorer_bin_end;
	struct vma_list own = { 0 };
	struct vdso_cur cur;
	struct layout l;
	uint64_t blob_len, region;
	unsigned nh = 0, nr_pages_fds = 0;
	int pages_fds[RPC_FDS_MAX];
	void *p;
	int r;

	if (!bs || !be || be <= bs)
		return ckpt_fail(ctx->err, -ENOEXEC, "this ckptd was built without the restorer blob");
	blob_len = align_up(be - bs, ctx->page_size);
	r = rst_open_pages_fds(ctx, t, pages_fds, &nr_pages_fds);
	if (r < 0)
		return r;
	r = read_own_maps(&own);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d: cannot read its own maps", t->pe->pid);
	read_cur_vdso(&own, &cur);
	plan_layout(ctx, t, &cur, &l);
	r = find_hole(ctx, t, &own, blob_len + l.len, &region);
	vma_list_free(&own);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d: no free hole of %llu bytes for the restorer",
				 t->pe->pid, (unsigned long long)(blob_len + l.len));
	p = mmap((void *)(uintptr_t)region, blob_len + l.len, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED || p != (void *)(uintptr_t)region)
		return ckpt_fail(ctx->err, p == MAP_FAILED ? negerrno() : -EEXIST,
				 "pid %d: cannot map the restorer at 0x%llx", t->pe->pid,
				 (unsigned long long)region);
	memcpy(p, bs, be - bs);
	b->entry = p;
	b->args = (void *)((char *)p + blob_len);
	b->keep = malloc((t->nr_fds + t->nr_vmas + l.nr_close + nr_pages_fds + 8) *
			 sizeof(*b->keep));
	if (!b->keep)
		return -ENOMEM;
	r = build_args(ctx, t, b->args, &l, &cur, region, blob_len, pages_fds, nr_pages_fds,
		       b->keep, &nh);
	if (r < 0)
		return r;
	b->nr_keep = nh;
	b->keep[b->nr_keep++] = t->status_fd;
	if (t->nr_lazy)
		b->keep[b->nr_keep++] = ctx->lazy_fd;
	for (unsigned i = 0; i < t->nr_fds; i++)
		b->keep[b->nr_keep++] = t->fds[i]->fd;
	return 0;
}

int rst_blob_enter(struct rst_ctx *ctx, struct rst_task *t, struct rst_blob *b)
{
	sigset_t all;
	int r;

	allow_mlock(t);
	/* From here on no file of the engine is left but the blob's. */
	r = rst_close_fds_but(b->keep, b->nr_keep);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d: cannot close the engine's fds", t->pe->pid);
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	((void (*)(struct restore_args *))b->entry)(b->args);
	__builtin_unreachable();
}

/* ---- engine side ------------------------------------------------------- */

static const char *step_name(uint32_t step)
{
	static const char *const names[] = {
		[RSTEP_ARGS] = "checking its arguments", [RSTEP_UNMAP] = "unmapping",
		[RSTEP_VDSO] = "moving the vdso", [RSTEP_VMAS] = "mapping VMAs",
		[RSTEP_PAGES] = "filling pages", [RSTEP_PROTECT] = "setting protections",
		[RSTEP_MM] = "PR_SET_MM_MAP", [RSTEP_SIGNALS] = "restoring signals",
		[RSTEP_TIMERS] = "restoring timers", [RSTEP_THREADS] = "creating threads",
		[RSTEP_CREDS] = "setting credentials", [RSTEP_FRAME] = "building the frame",
		[RSTEP_DONE] = "done", [RSTEP_LAZY] = "lazy memory",
		[RSTEP_PIDFDS] = "making its threads' pidfds",
	};

	return step < ARRAY_SIZE(names) && names[step] ? names[step] : "an unknown step";
}

int rst_blob_status(struct rst_ctx *ctx, struct rst_task *t)
{
	struct restore_status st;
	ssize_t n;

	n = recv(t->engine_fd, &st, sizeof(st), MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN))
		return ckpt_fail(ctx->err, -EIO,
				 "pid %d died before its restorer reported", t->pe->pid);
	if (n != sizeof(st) || st.magic != RESTORE_STATUS_MAGIC)
		return ckpt_fail(ctx->err, -EPROTO, "pid %d: malformed restorer report (%zd bytes)",
				 t->pe->pid, n);
	st.msg[sizeof(st.msg) - 1] = 0;
	if (st.err || st.step != RSTEP_DONE)
		return ckpt_fail(ctx->err, st.err ? st.err : -EIO,
				 "pid %d tid %d: restorer failed %s at address 0x%llx: %s",
				 st.pid, st.tid, step_name(st.step), (unsigned long long)st.addr,
				 st.msg);
	t->region_start = st.region_start;
	t->region_end = st.region_end;
	return 0;
}

int rst_blob_go(struct rst_ctx *ctx, struct rst_task *t)
{
	char go = RESTORE_GO;

	if (send(t->engine_fd, &go, 1, MSG_NOSIGNAL) != 1)
		return ckpt_fail(ctx->err, negerrno(), "pid %d: cannot let it resume", t->pe->pid);
	return 0;
}
