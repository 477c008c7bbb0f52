/* Check the argument area before trusting any offset in it: a wrong
 * offset would make the blob scribble over itself with nobody to tell. */
#include <linux/errno.h>
#include <stdbool.h>

#include "frame.h"
#include "blob.h"

bool blob_inside(const struct restore_args *a, __u64 off, __u64 nr, __u64 size)
{
	if (nr == 0)
		return true;
	if (off & 7 || off < sizeof(*a) || off > a->args_len)
		return false;
	return nr <= (a->args_len - off) / size;
}

#define CHECK(cond, fmt, ...)						\
	do {								\
		if (!(cond))						\
			return (int)blob_fail(a, RSTEP_ARGS, -EINVAL, 0,	\
					     "restore_args: " fmt, ##__VA_ARGS__); \
	} while (0)

static int check_arrays(struct restore_args *a)
{
	CHECK(blob_inside(a, a->vmas_off, a->nr_vmas, sizeof(struct restore_vma)), "vmas outside the area");
	CHECK(blob_inside(a, a->pages_off, a->nr_pages, sizeof(struct restore_page)), "pages outside the area");
	CHECK(blob_inside(a, a->guards_off, a->nr_guards, sizeof(struct restore_range)),
	      "guards outside the area");
	CHECK(blob_inside(a, a->lazy_off, a->nr_lazy, sizeof(struct restore_range)) &&
	      (!a->nr_lazy || a->lazy_fd >= 0), "lazy ranges outside the area, or no lazy fd");
	CHECK(blob_inside(a, a->timers_off, a->nr_timers, sizeof(struct restore_posix_timer)),
	      "timers outside the area");
	CHECK(blob_inside(a, a->shared_pending_off, a->nr_shared_pending, sizeof(struct restore_siginfo)),
	      "shared pending signals outside the area");
	CHECK(blob_inside(a, a->close_fds_off, a->nr_close_fds, sizeof(__s32)), "close_fds outside the area");
	CHECK(blob_inside(a, a->pidfds_off, a->nr_pidfds, sizeof(struct restore_pidfd)),
	      "thread pidfds outside the area");
	CHECK(a->creds.nr_groups <= RESTORE_MAX_GROUPS &&
	      blob_inside(a, a->creds.groups_off, a->creds.nr_groups, sizeof(__u32)), "groups outside the area");
	CHECK(a->mm.auxv_size % 16 == 0 && blob_inside(a, a->mm.auxv_off, a->mm.auxv_size, 1),
	      "auxv outside the area");
	CHECK(a->nr_threads >= 1 && a->nr_threads <= RESTORE_MAX_THREADS &&
	      blob_inside(a, a->threads_off, a->nr_threads, sizeof(struct restore_thread)),
	      "%u threads outside the area", a->nr_threads);
	CHECK((a->stacks_off & 15) == 0 &&
	      blob_inside(a, a->stacks_off, a->nr_threads, RESTORE_THREAD_STACK_SIZE),
	      "thread stacks outside the area");
	CHECK((a->vdso.park_off & (RESTORE_PAGE_SIZE - 1)) == 0 &&
	      blob_inside(a, a->vdso.park_off, a->vdso.park_len, 1), "vdso park outside the area");
	return 0;
}

static int check_fds(struct restore_args *a)
{
	const __s32 *fds = blob_at(a, a->close_fds_off);

	CHECK(a->status_fd >= 0, "status_fd %d", a->status_fd);
	for (unsigned i = 0; i < a->nr_close_fds; i++)
		CHECK(fds[i] != a->status_fd, "close_fds lists the status fd %d", a->status_fd);
	return 0;
}

static int check_threads(struct restore_args *a)
{
	for (unsigned i = 0; i < a->nr_threads; i++) {
		const struct restore_thread *t = blob_thread(a, i);

		CHECK(i > 0 || t->tid == a->pid, "threads[0] is tid %d, not the main thread %d",
		      t->tid, a->pid);
		CHECK(t->tid > 0, "thread %u: tid %d", i, t->tid);
		CHECK(t->xsave_len <= RESTORE_XSAVE_MAX && blob_inside(a, t->xsave_off, t->xsave_len, 1),
		      "thread %d: xsave area of %u bytes outside the area", t->tid, t->xsave_len);
		CHECK(t->nr_pending <= 1024 &&
		      blob_inside(a, t->pending_off, t->nr_pending, sizeof(struct restore_siginfo)),
		      "thread %d: pending signals outside the area", t->tid);
	}
	return 0;
}

/* Each thread pidfd names a thread the blob makes, and shares only the
 * description of an earlier entry. */
static int check_pidfds(struct restore_args *a)
{
	const struct restore_pidfd *p = blob_at(a, a->pidfds_off);

	for (unsigned i = 0; i < a->nr_pidfds; i++) {
		bool thread = false, earlier = p[i].same_as < 0;

		for (unsigned j = 1; j < a->nr_threads && !thread; j++)
			thread = blob_thread(a, j)->tid == p[i].tid;
		for (unsigned j = 0; j < i && !earlier; j++)
			earlier = p[j].fd == p[i].same_as && p[j].tid == p[i].tid;
		CHECK(p[i].fd >= 0 && p[i].fd != a->status_fd && thread && earlier,
		      "pidfd %u (fd %d): thread %d is not one the blob makes, or fd %d is no "
		      "earlier pidfd of it", i, p[i].fd, p[i].tid, p[i].same_as);
	}
	return 0;
}

static int check_sorted(struct restore_args *a)
{
	const struct restore_vma *v = blob_at(a, a->vmas_off);
	const struct restore_page *p = blob_at(a, a->pages_off);
	__u64 prev = 0;

	for (unsigned i = 0; i < a->nr_vmas; i++) {
		CHECK(v[i].start >= prev && v[i].end > v[i].start &&
		      !((v[i].start | v[i].end) & (RESTORE_PAGE_SIZE - 1)),
		      "vma %u (0x%llx-0x%llx) unaligned, empty or out of order", i,
		      (unsigned long long)v[i].start, (unsigned long long)v[i].end);
		prev = v[i].end;
	}
	prev = 0;
	for (unsigned i = 0; i < a->nr_pages; i++) {
		CHECK(p[i].vaddr >= prev && !(p[i].vaddr & (RESTORE_PAGE_SIZE - 1)) &&
		      p[i].nr_pages >= 1 && p[i].nr_pages <= 512,
		      "page entry %u (0x%llx, %u pages) unaligned, too large or out of order", i,
		      (unsigned long long)p[i].vaddr, p[i].nr_pages);
		prev = p[i].vaddr + (__u64)p[i].nr_pages * RESTORE_PAGE_SIZE;
	}
	return 0;
}

static bool overlaps(__u64 s1, __u64 e1, __u64 s2, __u64 e2)
{
	return s1 < e2 && s2 < e1;
}

/* A VMA or vdso target over the blob or its arguments would be mapped
 * over the running code with nobody left to tell. */
static int check_region_free(struct restore_args *a)
{
	const struct restore_vma *v = blob_at(a, a->vmas_off);
	__u64 as = (__u64)a, ae = as + a->args_len;
	__u64 bs = a->blob_start, be = bs + a->blob_len;

	for (unsigned i = 0; i < a->nr_vmas; i++)
		CHECK(!overlaps(v[i].start, v[i].end, as, ae) && !overlaps(v[i].start, v[i].end, bs, be),
		      "vma 0x%llx-0x%llx overlaps the restorer's region",
		      (unsigned long long)v[i].start, (unsigned long long)v[i].end);
	for (unsigned i = 0; i < RVDSO_NR; i++) {
		const struct restore_range *r = &a->vdso.img[i];

		CHECK(!overlaps(r->start, r->end, as, ae) && !overlaps(r->start, r->end, bs, be),
		      "the image's vdso area 0x%llx-0x%llx overlaps the restorer's region",
		      (unsigned long long)r->start, (unsigned long long)r->end);
	}
	return 0;
}

int blob_check_args(struct restore_args *a)
{
	int r;

	CHECK(a->magic == RESTORE_ARGS_MAGIC, "bad magic 0x%llx", (unsigned long long)a->magic);
	CHECK(a->version == RESTORE_ARGS_VERSION, "version %u, the blob speaks %u",
	      a->version, RESTORE_ARGS_VERSION);
	CHECK(a->header_size == sizeof(*a), "header of %u bytes, the blob's is %u",
	      a->header_size, (unsigned)sizeof(*a));
	CHECK(a->args_len >= sizeof(*a), "args_len %llu too small", (unsigned long long)a->args_len);
	CHECK(!((a->blob_start | a->blob_len | (__u64)a) & (RESTORE_PAGE_SIZE - 1)),
	      "blob or args not page aligned");
	r = check_arrays(a);
	if (!r)
		r = check_fds(a);
	if (!r)
		r = check_threads(a);
	if (!r)
		r = check_pidfds(a);
	if (!r)
		r = check_sorted(a);
	if (!r)
		r = check_region_free(a);
	return r;
}
