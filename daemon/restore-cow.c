/* Copy-on-write sharing between a restored task and its parent: a PE_COW
 * entry of a child is the parent task's page at the same address, stored
 * once, by the parent, and it must come back as one physical page shared
 * by both, as fork left it.
 *
 * How: before a task forks its children (restore-tree.c), it maps a copy
 * of each VMA that shares pages (with its parent or with a child) at a
 * free address that no task of the tree uses and fills in the pages it
 * stores itself. A task that inherited its parent's copy keeps the pages
 * it shares (its PE_COW entries), zaps the others (MADV_DONTNEED: they
 * read as zeros again) and writes its own over them; an inherited copy it
 * has no use for is unmapped. Its children then inherit its copy, page
 * for page the same frames. The blob, which maps every other VMA afresh,
 * moves the copy into place with mremap (restore_vma.premap) and reads no
 * page of it: it is full already.
 *
 * Cost: each task reads its own pages of such VMAs here, before its
 * children exist, instead of in its blob (in parallel with its
 * siblings'); the bytes read are the same, each page once. A lazy restore
 * restores such VMAs eagerly (restore-lazy.c). */
#include "daemon/restore-int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/vma.h"
#include "images/chain.h"
#include "images/img.h"

/* Where premapped copies go: above this, as the blob's region does. */
#define COW_FLOOR	0x100000000ull

static bool cow_kind(const VmaEntry *v)
{
	if (v->kind != VMA_KIND__VMA_ANON_PRIVATE && v->kind != VMA_KIND__VMA_HEAP &&
	    v->kind != VMA_KIND__VMA_STACK)
		return false;
	return !(v->flags & (MAP_GROWSDOWN | MAP_HUGETLB | MAP_DROPPABLE)) && !v->has_hugetlb_kb;
}

static int vma_at(const struct rst_task *t, uint64_t a)
{
	for (unsigned i = 0; i < t->nr_vmas; i++)
		if (t->vmas[i]->start <= a && a < t->vmas[i]->end)
			return (int)i;
	return -1;
}

/* The VMA of t with v's extent and kind, or -1. */
static int same_vma(const struct rst_task *t, const VmaEntry *v)
{
	int i = t->mm ? vma_at(t, v->start) : -1;

	if (i < 0 || t->vmas[i]->start != v->start || t->vmas[i]->end != v->end ||
	    t->vmas[i]->kind != v->kind)
		return -1;
	return i;
}

static int mark(struct rst_task *t, unsigned i)
{
	if (!t->cow_at) {
		t->cow_at = calloc(t->nr_vmas, sizeof(*t->cow_at));
		if (!t->cow_at)
			return -ENOMEM;
	}
	t->cow_at[i] = RST_COW_WANTED;
	return 0;
}

static int plan_entry(struct rst_ctx *ctx, struct rst_task *t, const struct page_entry *e)
{
	struct rst_task *p = t->parent;
	int i = vma_at(t, e->vaddr), j = -1;
	const char *why = NULL;
	int r;

	if (i < 0)
		why = "they lie outside every VMA";
	else if (!cow_kind(t->vmas[i]))
		why = "their VMA is not private anonymous memory";
	else if (!p || !p->mm || p->pe->state == TASK_STATE__TASK_ZOMBIE)
		why = "the task has no parent task with memory in the set";
	else if ((j = same_vma(p, t->vmas[i])) < 0)
		why = "the parent task has no VMA of the same extent and kind";
	if (why)
		return ckpt_fail(ctx->err, -EBADMSG,
				 "pagemap-%d.img: pages at 0x%llx are shared with the parent task "
				 "(COW), but %s", t->pe->pid, (unsigned long long)e->vaddr, why);
	r = mark(t, i);
	if (r == 0)
		r = mark(p, j);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d: out of memory", t->pe->pid);
	return 0;
}

int rst_cow_plan(struct rst_ctx *ctx)
{
	for (unsigned k = 0; k < ctx->nr_tasks; k++) {
		struct rst_task *t = &ctx->tasks[k];

		if (!t->mm || t->pe->state == TASK_STATE__TASK_ZOMBIE)
			continue;
		for (size_t n = 0; n < t->nr_pages; n++) {
			int r;

			if (!(t->pages[n].flags & PE_COW))
				continue;
			r = plan_entry(ctx, t, &t->pages[n]);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

bool rst_vma_cow(const struct rst_task *t, unsigned vma)
{
	return t->cow_at && vma < t->nr_vmas && t->cow_at[vma];
}

/* ---- in the task, before its children exist ---------------------------- */

static uint64_t vma_len(const VmaEntry *v)
{
	return v->end - v->start;
}

/* Take over the parent's copies this task shares (cow_at: the address, and
 * inherited[i] set), unmap the others. */
static int take_inherited(struct rst_ctx *ctx, struct rst_task *t, bool *inherited)
{
	const struct rst_task *p = t->parent;

	if (!p || !p->cow_at)
		return 0;
	for (unsigned j = 0; j < p->nr_vmas; j++) {
		const VmaEntry *v = p->vmas[j];
		int i;

		if (p->cow_at[j] <= RST_COW_WANTED)
			continue;
		i = t->cow_at && t->mm ? same_vma(t, v) : -1;
		if (i >= 0 && t->cow_at[i] == RST_COW_WANTED) {
			t->cow_at[i] = p->cow_at[j];
			inherited[i] = true;
		} else if (munmap((void *)(uintptr_t)p->cow_at[j], vma_len(v)) < 0) {
			return ckpt_fail(ctx->err, negerrno(), "pid %d: cannot unmap its parent's "
					 "copy of %" PRIx64 "-%" PRIx64, t->pe->pid, v->start, v->end);
		}
	}
	return 0;
}

struct span {
	uint64_t s, e;
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->s < y->s ? -1 : x->s > y->s;
}

/* Every VMA of every task, and this process's own mappings. */
static int busy_spans(struct rst_ctx *ctx, struct span **ret, size_t *ret_n)
{
	_cleanup_free_ char *maps = NULL;
	struct span *sp = NULL;
	size_t n = 0, cap = 0;
	char *line, *save = NULL;
	int r;

	r = read_file_at(AT_FDCWD, "/proc/self/maps", &maps, NULL);
	if (r < 0)
		return r;
	for (unsigned k = 0; k < ctx->nr_tasks; k++)
		cap += ctx->tasks[k].mm ? ctx->tasks[k].nr_vmas : 0;
	for (line = maps; *line; line++)
		cap += *line == '\n';
	sp = malloc((cap + 1) * sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	for (unsigned k = 0; k < ctx->nr_tasks; k++)
		for (unsigned i = 0; ctx->tasks[k].mm && i < ctx->tasks[k].nr_vmas; i++)
			sp[n++] = (struct span){ ctx->tasks[k].vmas[i]->start,
						 ctx->tasks[k].vmas[i]->end };
	for (line = strtok_r(maps, "\n", &save); line && n < cap;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long s, e;

		if (sscanf(line, "%llx-%llx", &s, &e) == 2)
			sp[n++] = (struct span){ s, e };
	}
	qsort(sp, n, sizeof(*sp), cmp_span);
	*ret = sp;
	*ret_n = n;
	return 0;
}

/* A free hole of len bytes (a guard page each side) above COW_FLOOR. */
static int find_hole(struct rst_ctx *ctx, uint64_t len, uint64_t *ret)
{
	_cleanup_free_ struct span *sp = NULL;
	uint64_t at = COW_FLOOR, guard = ctx->page_size;
	size_t n = 0;
	int r;

	r = busy_spans(ctx, &sp, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (sp[i].s >= at + len + 2 * guard)
			break;
		if (sp[i].e + guard > at)
			at = (sp[i].e + guard + guard - 1) / guard * guard;
	}
	if (at + len + 2 * guard > RST_TASK_SIZE)
		return -ENOMEM;
	*ret = at + guard;
	return 0;
}

/* Map a fresh copy of each shared VMA the parent did not hand down, side
 * by side in one hole. */
static int map_fresh(struct rst_ctx *ctx, struct rst_task *t, const bool *inherited)
{
	uint64_t len = 0, at;
	int r;

	for (unsigned i = 0; i < t->nr_vmas; i++)
		if (t->cow_at[i] == RST_COW_WANTED)
			len += vma_len(t->vmas[i]) + ctx->page_size;
	if (!len)
		return 0;
	r = find_hole(ctx, len, &at);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d: no free hole of %" PRIu64 " bytes for the "
				 "memory it shares with its children", t->pe->pid, len);
	for (unsigned i = 0; i < t->nr_vmas; i++) {
		const VmaEntry *v = t->vmas[i];
		void *p;

		if (t->cow_at[i] != RST_COW_WANTED || inherited[i])
			continue;
		p = mmap((void *)(uintptr_t)at, vma_len(v), PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE |
			 (v->flags & MAP_NORESERVE), -1, 0);
		if (p == MAP_FAILED || (uintptr_t)p != at)
			return ckpt_fail(ctx->err, p == MAP_FAILED ? negerrno() : -EEXIST,
					 "pid %d: cannot map a copy of %" PRIx64 "-%" PRIx64
					 " at %" PRIx64 " to share with its children", t->pe->pid,
					 v->start, v->end, at);
		t->cow_at[i] = at;
		at += vma_len(v) + ctx->page_size;
	}
	return 0;
}

/* The pages files this task's entries name, per chain link, opened when
 * first needed. */
struct cow_files {
	int *fds;
	unsigned n;
};

static int pages_fd(struct rst_ctx *ctx, struct rst_task *t, struct cow_files *f,
		    unsigned link, int *ret)
{
	unsigned id = link ? (t->link_pages_id ? t->link_pages_id[link] : 0) : t->pages_id;
	int dirfd = link ? ctx->chain->link[link].dirfd : ctx->dirfd;
	const char *why = NULL;
	char name[64];
	int r;

	if (link >= f->n || !id)
		return -EBADMSG;
	if (f->fds[link] >= 0) {
		*ret = f->fds[link];
		return 0;
	}
	snprintf(name, sizeof(name), "pages-%u.img", id);
	r = img_open_regular(dirfd, name, &f->fds[link], &why);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d: cannot open %s%s%s%s", t->pe->pid, name,
				 link ? " of a parent set" : "", why ? ": " : "", why ? why : "");
	*ret = f->fds[link];
	return 0;
}

static void close_files(struct cow_files *f)
{
	for (unsigned i = 0; i < f->n; i++)
		if (f->fds[i] >= 0)
			close(f->fds[i]);
	free(f->fds);
}

/* Zap [a, b) of the copy at base standing for VMA v: reads as zeros. */
static int zap(struct rst_ctx *ctx, struct rst_task *t, const VmaEntry *v, uint64_t base,
	       uint64_t a, uint64_t b)
{
	if (a >= b || madvise((void *)(uintptr_t)(base + (a - v->start)), b - a,
			      MADV_DONTNEED) == 0)
		return 0;
	return ckpt_fail(ctx->err, negerrno(), "pid %d: cannot clear %" PRIx64 "-%" PRIx64
			 " of its inherited copy of %" PRIx64 "-%" PRIx64, t->pe->pid, a, b,
			 v->start, v->end);
}

static int read_block(struct rst_ctx *ctx, struct rst_task *t, struct cow_files *f,
		      size_t n, void *dst)
{
	const struct page_entry *e = &t->pages[n];
	size_t len = (size_t)e->nr_pages * ctx->page_size;
	int fd = -1, r;

	r = pages_fd(ctx, t, f, t->page_link[n], &fd);
	if (r == -EBADMSG)
		return ckpt_fail(ctx->err, r, "pid %d: pages at 0x%" PRIx64 " name no pages "
				 "file", t->pe->pid, e->vaddr);
	if (r < 0)
		return r;
	r = pread_full(fd, dst, len, (off_t)e->data_off);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d: cannot read %zu bytes of pages-N.img at "
				 "offset %" PRIu64 " for 0x%" PRIx64, t->pe->pid, len,
				 e->data_off, e->vaddr);
	if (!(e->flags & PE_RST_PIECE) && pages_block_hash(dst, len) != e->xxh3)
		return ckpt_fail(ctx->err, -EBADMSG, "pid %d: the pages at 0x%" PRIx64 " (%u) "
				 "do not match their checksum: the pages file is damaged",
				 t->pe->pid, e->vaddr, e->nr_pages);
	atomic_fetch_add(&ctx->sh->pages_read, e->nr_pages);
	return 0;
}

/* Bring the copy of VMA i to this task's contents: its own pages written,
 * its PE_COW pages left as inherited, everything else zeros. */
static int fill_copy(struct rst_ctx *ctx, struct rst_task *t, unsigned i, bool inherited,
		     struct cow_files *f)
{
	const VmaEntry *v = t->vmas[i];
	uint64_t base = t->cow_at[i], a = v->start;
	int r = 0;

	for (size_t n = 0; n < t->nr_pages && r == 0; n++) {
		const struct page_entry *e = &t->pages[n];
		uint64_t end = e->vaddr + (uint64_t)e->nr_pages * ctx->page_size;

		if (end <= v->start || e->vaddr >= v->end)
			continue;
		if (inherited)
			r = zap(ctx, t, v, base, a, e->vaddr);
		if (r == 0 && inherited && (e->flags & PE_ZERO))
			r = zap(ctx, t, v, base, e->vaddr, end);
		if (r == 0 && (e->flags & PE_PRESENT))
			r = read_block(ctx, t, f, n, (void *)(uintptr_t)(base + (e->vaddr - v->start)));
		a = end;
	}
	if (r == 0 && inherited)
		r = zap(ctx, t, v, base, a, v->end);
	return r;
}

int rst_cow_premap(struct rst_ctx *ctx, struct rst_task *t)
{
	_cleanup_free_ bool *inherited = NULL;
	struct cow_files f = { 0 };
	int r;

	if (t->pe->state == TASK_STATE__TASK_ZOMBIE)
		return 0;	/* it keeps nothing: it dies at once */
	if (t->cow_at) {
		inherited = calloc(t->nr_vmas, sizeof(*inherited));
		f.n = ctx->chain ? ctx->chain->nr : 1;
		f.fds = malloc(f.n * sizeof(*f.fds));
		if (!inherited || !f.fds) {
			free(f.fds);
			return ckpt_fail(ctx->err, -ENOMEM, "pid %d: out of memory", t->pe->pid);
		}
		for (unsigned k = 0; k < f.n; k++)
			f.fds[k] = -1;
	}
	r = take_inherited(ctx, t, inherited);
	if (r < 0 || !t->cow_at)
		goto out;
	r = map_fresh(ctx, t, inherited);
	for (unsigned i = 0; r == 0 && i < t->nr_vmas; i++)
		if (t->cow_at[i] > RST_COW_WANTED)
			r = fill_copy(ctx, t, i, inherited[i], &f);
out:
	close_files(&f);
	return r;
}
