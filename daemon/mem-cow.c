/* PE_COW at dump: see mem-cow.h. The VMAs of both tasks come from their
 * maps (one line per VMA, cheaper than smaps); a child VMA may share when
 * it is private anonymous memory or heap (not hugetlb nor droppable), and
 * the parent has one of the same start, end and kind. mem.c then records the planned runs of such VMAs PE_COW. */
#include "daemon/mem-cow.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/err.h"
#include "common/util.h"
#include "daemon/pagescan.h"
#include "daemon/pstree.h"
#include "daemon/vma.h"
#include "mm.pb-c.h"

#define PM_PRESENT	(1ull << 63)
#define PM_SWAPPED	(1ull << 62)
#define PM_PFN_MASK	((1ull << 55) - 1)

#define COW_WINDOW	512u	/* pagemap words per pread, each side */
#define COW_RUNS	256u	/* runs per page scan call */

/* One child against its parent. */
struct cow_pair {
	pid_t pid, ppid;
	long ps;
	int fd, pfd;		/* pagemaps */
	struct pagescan *scan;	/* the child's */
	struct vma_list vmas, pvmas;
	struct run_list *out;
	uint64_t child[COW_WINDOW], parent[COW_WINDOW];
};

bool mm_cow_word_shared(uint64_t child, uint64_t parent)
{
	if (!(child & PM_PRESENT) || !(parent & PM_PRESENT))
		return false;
	if ((child | parent) & PM_SWAPPED)
		return false;
	return (child & PM_PFN_MASK) && (child & PM_PFN_MASK) == (parent & PM_PFN_MASK);
}

static int open_pagemap(pid_t pid, int *ret)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return negerrno();
	*ret = fd;
	return 0;
}

static int read_maps(pid_t pid, struct vma_list *l)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return negerrno();
	while (getline(&line, &cap, f) > 0) {
		struct vma v = { 0 };
		int r;

		line[strcspn(line, "\n")] = '\0';
		r = vma_parse_maps_line(line, &v);
		if (r < 0)
			return r;
		if (vma_classify(&v) < 0)
			v.kind = 0;	/* never matches: nothing shared there */
		r = vma_list_push(l, &v);
		if (r < 0) {
			free(v.name);
			return r;
		}
	}
	return 0;
}

/* [stack] grows down (restore maps such a VMA afresh): left out. maps
 * shows no VmFlags, so mem.c asks mm_cow_vma_ok of the smaps VMA too. */
bool mm_cow_vma_ok(const struct vma *v)
{
	if (v->kind != VMA_KIND__VMA_ANON_PRIVATE && v->kind != VMA_KIND__VMA_HEAP)
		return false;
	return !(v->flags & (MAP_GROWSDOWN | MAP_HUGETLB | MAP_DROPPABLE)) &&
	       !(v->vmflags & (VMF_HT | VMF_DP | VMF_IO | VMF_PF));
}

/* Whether the parent has a VMA of v's extent and kind. */
static bool parent_has(const struct cow_pair *c, const struct vma *v)
{
	for (size_t i = 0; i < c->pvmas.nr; i++) {
		const struct vma *p = &c->pvmas.v[i];

		if (p->start == v->start)
			return p->end == v->end && p->kind == v->kind && mm_cow_vma_ok(p);
	}
	return false;
}

/* Add the pieces of a present run that are the parent's frames. */
static int compare_run(struct cow_pair *c, uint64_t start, uint64_t end)
{
	while (start < end) {
		uint64_t n = MIN((end - start) / c->ps, (uint64_t)COW_WINDOW);
		off_t off = start / c->ps * sizeof(uint64_t);
		int r;

		r = pread_full(c->fd, c->child, n * sizeof(uint64_t), off);
		if (r == 0)
			r = pread_full(c->pfd, c->parent, n * sizeof(uint64_t), off);
		if (r < 0)
			return r;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t a = start + i * c->ps;

			if (!mm_cow_word_shared(c->child[i], c->parent[i]))
				continue;
			r = run_list_add(c->out, a, a + c->ps);	/* merges */
			if (r < 0)
				return r;
		}
		start += n * c->ps;
	}
	return 0;
}

static int compare_vma(struct cow_pair *c, const struct vma *v)
{
	struct page_run runs[COW_RUNS];
	uint64_t addr = v->start;

	while (addr < v->end) {
		unsigned nr = 0;
		uint64_t next;
		int r;

		r = pagescan_next(c->scan, addr, v->end, runs, COW_RUNS, UINT64_MAX, &nr, &next);
		if (r == 0 && (next <= addr || next > v->end))
			r = -EIO;
		for (unsigned i = 0; r == 0 && i < nr; i++)
			r = compare_run(c, runs[i].start, runs[i].end);
		if (r < 0)
			return r;
		addr = next;
	}
	return 0;
}

static int compare_task(struct cow_pair *c, bool use_ioctl)
{
	int r;

	r = open_pagemap(c->pid, &c->fd);
	if (r == 0)
		r = open_pagemap(c->ppid, &c->pfd);
	if (r == 0)
		r = pagescan_open(c->pid, c->ps, use_ioctl, &c->scan);
	if (r == 0)
		r = read_maps(c->pid, &c->vmas);
	if (r == 0)
		r = read_maps(c->ppid, &c->pvmas);
	for (size_t i = 0; r == 0 && i < c->vmas.nr; i++)
		if (mm_cow_vma_ok(&c->vmas.v[i]) && parent_has(c, &c->vmas.v[i]))
			r = compare_vma(c, &c->vmas.v[i]);
	return r;
}

static void pair_free(struct cow_pair *c)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->pfd >= 0)
		close(c->pfd);
	pagescan_close(c->scan);
	vma_list_free(&c->vmas);
	vma_list_free(&c->pvmas);
	free(c);
}

int mm_cow_plan(const struct pstree *tree, long page_size, bool use_ioctl,
		struct mm_cow_plan *ret, struct ckpt_err *err)
{
	struct mm_cow_plan p = { .nr = tree->nr_tasks };

	p.shared = calloc(p.nr ? p.nr : 1, sizeof(*p.shared));
	if (!p.shared)
		return ckpt_fail(err, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < tree->nr_tasks; i++) {
		const struct task *t = tree->tasks[i];
		struct cow_pair *c;
		int r;

		if (t->state == TS_ZOMBIE || !t->parent || t->parent->state == TS_ZOMBIE)
			continue;
		c = calloc(1, sizeof(*c));
		if (!c) {
			mm_cow_plan_free(&p);
			return ckpt_fail(err, -ENOMEM, "out of memory");
		}
		*c = (struct cow_pair){ .pid = t->pid, .ppid = t->parent->pid, .ps = page_size,
					.fd = -EBADF, .pfd = -EBADF, .out = &p.shared[i] };
		r = compare_task(c, use_ioctl);
		pair_free(c);
		if (r < 0) {
			mm_cow_plan_free(&p);
			return ckpt_fail(err, r, "pid %d: cannot compare its pages with its parent "
					 "%d's (/proc/PID/pagemap and maps of both)", t->pid,
					 t->parent->pid);
		}
	}
	*ret = p;
	return 0;
}

void mm_cow_plan_free(struct mm_cow_plan *p)
{
	for (unsigned i = 0; p->shared && i < p->nr; i++)
		run_list_free(&p->shared[i]);
	free(p->shared);
	*p = (struct mm_cow_plan){ 0 };
}
