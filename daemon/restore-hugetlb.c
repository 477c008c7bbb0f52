/* Restore, hugetlb objects: the shared ones (a MFD_HUGETLB memfd, an
 * unlinked hugetlbfs file, shared anonymous MAP_HUGETLB memory) are made
 * again on hugetlbfs with the page size they had, and filled through a
 * shared mapping, since hugetlbfs has no write(); that mmap reserves every
 * page of the object, so a short pool fails there with ENOMEM, never later
 * with a SIGBUS. Private hugetlb memory comes back through the blob.
 *
 * Before anything is created, the tree's need is checked against the pool
 * of each page size: private memory once per VMA (a private view of a
 * file: the huge pages it holds copies of), a shared object once however
 * many tasks and VMAs map it, and a file on a hugetlbfs mount nothing (its
 * pages stay in the file). The whole pool counts, not its free pages: a
 * killing dump validates while the tree still holds its own. Costs: a scan
 * of the hugetlb VMAs per hugetlb VMA, and of a private file view's page
 * entries; other VMAs cost one test each. */
#include "daemon/restore-int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/vma.h"

#define HUGE_SIZES_MAX		8

bool rst_hugetlb_is(int fd, uint64_t kb)
{
	struct statfs sfs;

	return fstatfs(fd, &sfs) == 0 && (uint64_t)sfs.f_type == HUGETLBFS_MAGIC &&
	       (uint64_t)sfs.f_bsize == kb * 1024;
}

int rst_hugetlb_memfd(const char *name, uint64_t kb)
{
	/* MFD_HUGE_* are the MAP_HUGE_* bits */
	unsigned size_bits = vma_hugetlb_flags(kb) & ~(unsigned)MAP_HUGETLB;
	int fd;

	if (!size_bits)
		return -EINVAL;
	fd = memfd_create(name && name[0] ? name : "ckpt-ghost",
			  MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | size_bits);
	return fd < 0 ? negerrno() : fd;
}

int rst_hugetlb_map(int fd, uint64_t size, uint8_t **ret)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return negerrno();
	*ret = p;
	return 0;
}

/* ---- the pool ---------------------------------------------------------- */

struct huge_need {
	uint64_t kb, pages;
	char what[96];		/* the first VMA or fd that needs them */
};

struct huge_count {
	struct huge_need sizes[HUGE_SIZES_MAX];
	unsigned nr;
	uint64_t *seen;		/* shared objects counted: shmid << 1, ghost id << 1 | 1 */
	size_t nr_seen;
};

/* Whether key was counted; else remember it. */
static int seen_once(struct rst_ctx *ctx, struct huge_count *c, uint64_t key, bool *ret_seen)
{
	uint64_t *n;

	for (size_t i = 0; i < c->nr_seen; i++)
		if (c->seen[i] == key) {
			*ret_seen = true;
			return 0;
		}
	n = realloc(c->seen, (c->nr_seen + 1) * sizeof(*n));
	if (!n)
		return ckpt_fail(ctx->err, -ENOMEM, "hugetlb memory: out of memory");
	c->seen = n;
	c->seen[c->nr_seen++] = key;
	*ret_seen = false;
	return 0;
}

static int add_pages(struct rst_ctx *ctx, struct huge_count *c, uint64_t kb, uint64_t bytes,
		     const char *what)
{
	uint64_t hp = kb * 1024;
	struct huge_need *n = NULL;

	for (unsigned i = 0; i < c->nr && !n; i++)
		if (c->sizes[i].kb == kb)
			n = &c->sizes[i];
	if (!n) {
		if (c->nr == HUGE_SIZES_MAX || !vma_hugetlb_flags(kb))
			return ckpt_fail(ctx->err, -EBADMSG, "%s: hugetlb memory of %" PRIu64
					 " kB pages, a size mmap cannot ask for", what, kb);
		n = &c->sizes[c->nr++];
		*n = (struct huge_need){ .kb = kb };
		snprintf(n->what, sizeof(n->what), "%s", what);
	}
	n->pages += (bytes + hp - 1) / hp;
	return 0;
}

/* The extent of shared anonymous object shmid: the furthest any VMA of
 * the tree maps it. */
static uint64_t shmem_extent(struct rst_ctx *ctx, uint64_t shmid)
{
	uint64_t size = 0;

	for (unsigned i = 0; i < ctx->nr_tasks; i++)
		for (unsigned j = 0; j < ctx->tasks[i].nr_vmas; j++) {
			VmaEntry *v = ctx->tasks[i].vmas[j];

			if (v->kind == VMA_KIND__VMA_ANON_SHARED && v->has_shmid &&
			    v->shmid == shmid && v->pgoff + (v->end - v->start) > size)
				size = v->pgoff + (v->end - v->start);
		}
	return size;
}

/* The huge pages of a private file view that hold data of their own. */
static uint64_t cow_bytes(const struct rst_ctx *ctx, const struct rst_task *t, const VmaEntry *v,
			  uint64_t hp)
{
	uint64_t bytes = 0, last = UINT64_MAX;

	for (size_t i = 0; i < t->nr_pages; i++) {
		uint64_t a = t->pages[i].vaddr, e = a + (uint64_t)t->pages[i].nr_pages * ctx->page_size;

		if (e <= v->start || a >= v->end)
			continue;
		for (a = a & ~(hp - 1); a < e; a += hp)
			if (a != last) {
				last = a;
				bytes += hp;
			}
	}
	return bytes;
}

static int count_vma(struct rst_ctx *ctx, struct huge_count *c, struct rst_task *t, VmaEntry *v)
{
	uint64_t kb = v->hugetlb_kb, hp = kb * 1024;
	char what[96];
	bool seen = false;
	int r = 0;

	snprintf(what, sizeof(what), "pid %d: vma %" PRIx64 "-%" PRIx64, t->pe->pid, v->start,
		 v->end);
	if (!vma_hugetlb_flags(kb) || (v->start | v->end | v->pgoff) % hp)
		return ckpt_fail(ctx->err, -EBADMSG, "mm-%d.img: vma %" PRIx64 "-%" PRIx64
				 ": hugetlb memory of %" PRIu64 " kB pages not aligned to them",
				 t->pe->pid, v->start, v->end, kb);
	switch (v->kind) {
	case VMA_KIND__VMA_ANON_PRIVATE:
		return add_pages(ctx, c, kb, v->end - v->start, what);
	case VMA_KIND__VMA_ANON_SHARED:
		r = seen_once(ctx, c, v->shmid << 1, &seen);
		if (r == 0 && !seen)
			r = add_pages(ctx, c, kb, shmem_extent(ctx, v->shmid), what);
		return r;
	case VMA_KIND__VMA_FILE_PRIVATE:
	case VMA_KIND__VMA_FILE_SHARED:
		if (v->kind == VMA_KIND__VMA_FILE_PRIVATE)
			r = add_pages(ctx, c, kb, cow_bytes(ctx, t, v, hp), what);
		if (r == 0 && v->deleted && v->has_ghost_id)
			r = seen_once(ctx, c, (uint64_t)v->ghost_id << 1 | 1, &seen);
		if (r == 0 && v->deleted && v->has_ghost_id && !seen)
			r = add_pages(ctx, c, kb, MAX(v->file->size, v->pgoff + (v->end - v->start)),
				      what);
		return r;
	default:
		break;
	}
	return ckpt_fail(ctx->err, -EBADMSG, "mm-%d.img: vma %" PRIx64 "-%" PRIx64 ": hugetlb "
			 "memory of a kind that cannot be", t->pe->pid, v->start, v->end);
}

/* MFD_HUGETLB memfds and unlinked hugetlbfs files held as fds only. */
static int count_descs(struct rst_ctx *ctx, struct huge_count *c)
{
	for (unsigned i = 0; i < ctx->nr_descs; i++) {
		const FileDescEntry *fe = ctx->descs[i].fe;
		char what[64];
		bool seen;
		int r;

		if (!fe->has_hugetlb_kb || !fe->has_ghost_id || !fe->file)
			continue;
		r = seen_once(ctx, c, (uint64_t)fe->ghost_id << 1 | 1, &seen);
		if (r < 0)
			return r;
		if (seen)
			continue;
		snprintf(what, sizeof(what), "file description %u", fe->id);
		r = add_pages(ctx, c, fe->hugetlb_kb, fe->file->size, what);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_pool(struct rst_ctx *ctx, const struct huge_need *n)
{
	_cleanup_free_ char *text = NULL;
	char path[96];
	uint64_t pool;
	int r;

	if (!n->pages)
		return 0;
	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%" PRIu64
		 "kB/nr_hugepages", n->kb);
	r = read_file_at(AT_FDCWD, path, &text, NULL);
	if (r < 0)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "%s is hugetlb memory of %" PRIu64 " kB "
				 "pages, which this kernel does not offer (no %s)", n->what, n->kb,
				 path);
	pool = strtoull(text, NULL, 10);
	if (pool < n->pages)
		return ckpt_fail(ctx->err, -ENOMEM, "%s is hugetlb memory: the tree needs %" PRIu64
				 " huge pages of %" PRIu64 " kB, the pool has %" PRIu64
				 " (raise %s)", n->what, n->pages, n->kb, pool, path);
	return 0;
}

int rst_check_hugetlb(struct rst_ctx *ctx)
{
	struct huge_count c = { 0 };
	int r = 0;

	for (unsigned i = 0; i < ctx->nr_tasks && r == 0; i++)
		for (unsigned j = 0; j < ctx->tasks[i].nr_vmas && r == 0; j++)
			if (ctx->tasks[i].vmas[j]->has_hugetlb_kb)
				r = count_vma(ctx, &c, &ctx->tasks[i], ctx->tasks[i].vmas[j]);
	if (r == 0)
		r = count_descs(ctx, &c);
	for (unsigned i = 0; i < c.nr && r == 0; i++)
		r = check_pool(ctx, &c.sizes[i]);
	free(c.seen);
	return r;
}
