/* Page selection for one task: PAGEMAP_SCAN, or /proc/PID/pagemap words.
 *
 * The ioctl does the filtering in the kernel: category_anyof_mask asks for
 * present or swapped pages, category_mask with category_inverted demands
 * that PAGE_IS_FILE and PAGE_IS_PFNZERO be clear, so what comes back is
 * exactly the runs to read, already merged. The fallback reads at most
 * PM_WINDOW words per pread (16 MiB of address space).
 *
 * Leaving out the shared zero page only saves reading it: a present page
 * may still hold only zeros (never written, on a kernel that gives read
 * faults a page of their own, or written with zeros), which the page pipe
 * finds in the bytes and records as a zero entry. */
#include "daemon/pagescan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/compat.h"
#include "common/util.h"

#define PM_PRESENT	(1ull << 63)
#define PM_SWAPPED	(1ull << 62)
#define PM_FILE		(1ull << 61)	/* file page or shared anonymous */
#define PM_PFN_MASK	((1ull << 55) - 1)

#define PM_WINDOW	4096u		/* pagemap words per pread */

#define SCAN_SKIP	(PAGE_IS_FILE | PAGE_IS_PFNZERO)
/* A guard page (MADV_GUARD_INSTALL) shows as swapped; reading it faults.
 * Kernels without the category refuse it (EINVAL): asked without it then. */
#define SCAN_SKIP_GUARD	(SCAN_SKIP | PAGE_IS_GUARD)

struct pagescan {
	int fd;
	long page_size;
	bool ioctl_ok;		/* PAGEMAP_SCAN answered, or is still to try */
	bool guard_ok;		/* PAGEMAP_SCAN knows PAGE_IS_GUARD, or still to try */
	bool zero_pfn_known;
	uint64_t zero_pfn;
	uint64_t *words;	/* PM_WINDOW, fallback only */
	struct page_region *regions;
	unsigned nr_regions;
};

bool pagescan_word_wanted(uint64_t word, uint64_t zero_pfn)
{
	if (!(word & (PM_PRESENT | PM_SWAPPED)))
		return false;
	if (word & (PM_FILE | PM_GUARD_REGION))
		return false;
	if ((word & PM_PRESENT) && zero_pfn && (word & PM_PFN_MASK) == zero_pfn)
		return false;
	return true;
}

int pagescan_open(pid_t pid, long page_size, bool use_ioctl, struct pagescan **ret)
{
	char path[64];
	struct pagescan *s;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		int r = negerrno();

		free(s);
		return r;
	}
	s->page_size = page_size;
	s->ioctl_ok = use_ioctl;
	s->guard_ok = true;
	*ret = s;
	return 0;
}

void pagescan_close(struct pagescan *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s->words);
	free(s->regions);
	free(s);
}

/* The shared zero page's PFN, read from our own pagemap after faulting in
 * two pages by a read: only when both got the same frame is it the zero
 * page. A kernel may instead give each read fault a zero-filled page of its
 * own, whose frame is freed with the probe and may hold a target's data
 * later, so a lone PFN must never be taken for the zero page. 0 when there
 * is no shared zero page or PFNs are hidden (no CAP_SYS_ADMIN): then such
 * pages are selected like any other, and the page pipe records them as zero
 * entries once it has read them (a read, but no space). */
static uint64_t probe_zero_pfn(long page_size)
{
	_cleanup_close_ int fd = -EBADF;
	uint64_t word[2] = { 0, 0 };
	volatile char *p;

	p = mmap(NULL, 2 * page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	madvise((void *)p, 2 * page_size, MADV_NOHUGEPAGE);	/* not the huge zero page */
	(void)p[0];
	(void)p[page_size];
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pread_full(fd, word, sizeof(word),
				 (uintptr_t)p / page_size * sizeof(word[0])) < 0)
		word[0] = word[1] = 0;
	munmap((void *)p, 2 * page_size);
	if (!(word[0] & word[1] & PM_PRESENT) ||
	    (word[0] & PM_PFN_MASK) != (word[1] & PM_PFN_MASK))
		return 0;
	return word[0] & PM_PFN_MASK;
}

/* One PAGEMAP_SCAN call into s->regions (grown to max_runs): the number
 * of regions found, or -errno. */
static int scan_call(struct pagescan *s, struct pm_scan_arg *arg, unsigned max_runs)
{
	int n;

	if (s->nr_regions < max_runs) {
		struct page_region *nr_ = realloc(s->regions, max_runs * sizeof(*nr_));

		if (!nr_)
			return -ENOMEM;
		s->regions = nr_;
		s->nr_regions = max_runs;
	}
	arg->vec = (uintptr_t)s->regions;
	arg->vec_len = max_runs;
	do
		n = ioctl(s->fd, PAGEMAP_SCAN, arg);
	while (n < 0 && errno == EINTR);
	return n < 0 ? negerrno() : n;
}

static int scan_ioctl(struct pagescan *s, uint64_t start, uint64_t end,
		      struct page_run *runs, unsigned max_runs, uint64_t max_pages,
		      unsigned *ret_nr, uint64_t *ret_next)
{
	uint64_t skip = s->guard_ok ? SCAN_SKIP_GUARD : SCAN_SKIP;
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.start = start,
		.end = end,
		.max_pages = max_pages,
		.category_inverted = skip,
		.category_mask = skip,
		.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
		.return_mask = skip,
	};
	unsigned nr = 0;
	int n;

	n = scan_call(s, &arg, max_runs);
	if (n == -EINVAL && s->guard_ok) {
		s->guard_ok = false;	/* an older kernel: no PAGE_IS_GUARD */
		return scan_ioctl(s, start, end, runs, max_runs, max_pages, ret_nr, ret_next);
	}
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		const struct page_region *pr = &s->regions[i];

		if (pr->categories & skip)
			continue;	/* the kernel filtered these already */
		runs[nr].start = pr->start;
		runs[nr].end = pr->end;
		nr++;
	}
	*ret_nr = nr;
	*ret_next = arg.walk_end;
	return 0;
}

/* Which pages a walk of pagemap words takes. */
enum word_pick { PICK_SAVED, PICK_GUARDS };

static bool word_picked(const struct pagescan *s, enum word_pick pick, uint64_t word)
{
	if (pick == PICK_GUARDS)
		return word & PM_GUARD_REGION;
	return pagescan_word_wanted(word, s->zero_pfn);
}

/* The runs of picked pages from a window of pagemap words at start (at most
 * PM_WINDOW of them, up to end; at most max_runs runs of max_pages pages). */
static int scan_words(struct pagescan *s, enum word_pick pick, uint64_t start, uint64_t end,
		      struct page_run *runs, unsigned max_runs, uint64_t max_pages,
		      unsigned *ret_nr, uint64_t *ret_next)
{
	uint64_t ps = s->page_size, npages = (end - start) / ps, taken = 0;
	size_t nw = MIN(npages, (uint64_t)PM_WINDOW);
	unsigned nr = 0;
	uint64_t i;
	int r;

	if (!s->words) {
		s->words = malloc(PM_WINDOW * sizeof(uint64_t));
		if (!s->words)
			return -ENOMEM;
	}
	r = pread_full(s->fd, s->words, nw * sizeof(uint64_t), start / ps * sizeof(uint64_t));
	if (r < 0)
		return r;
	for (i = 0; i < nw && taken < max_pages; i++) {
		uint64_t addr = start + i * ps;

		if (!word_picked(s, pick, s->words[i]))
			continue;
		if (nr && runs[nr - 1].end == addr) {
			runs[nr - 1].end += ps;
		} else {
			if (nr == max_runs)
				break;
			runs[nr].start = addr;
			runs[nr].end = addr + ps;
			nr++;
		}
		taken++;
	}
	*ret_nr = nr;
	*ret_next = start + i * ps;
	return 0;
}

int pagescan_next(struct pagescan *s, uint64_t start, uint64_t end,
		  struct page_run *runs, unsigned max_runs, uint64_t max_pages,
		  unsigned *ret_nr, uint64_t *ret_next)
{
	int r;

	if (start >= end || !max_runs || !max_pages ||
	    start % s->page_size || end % s->page_size)
		return -EINVAL;
	if (s->ioctl_ok) {
		r = scan_ioctl(s, start, end, runs, max_runs, max_pages, ret_nr, ret_next);
		if (r != -ENOTTY && r != -EINVAL)
			return r;
		s->ioctl_ok = false;	/* older kernel: read the words */
	}
	if (!s->zero_pfn_known) {
		s->zero_pfn = probe_zero_pfn(s->page_size);
		s->zero_pfn_known = true;
	}
	return scan_words(s, PICK_SAVED, start, end, runs, max_runs, max_pages, ret_nr,
			  ret_next);
}

/* Guard runs by PAGEMAP_SCAN; -EINVAL when the kernel lacks the category. */
static int guards_ioctl(struct pagescan *s, uint64_t start, uint64_t end,
			struct page_run *runs, unsigned max_runs,
			unsigned *ret_nr, uint64_t *ret_next)
{
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.start = start,
		.end = end,
		.category_mask = PAGE_IS_GUARD,
		.return_mask = PAGE_IS_GUARD,
	};
	int n = scan_call(s, &arg, max_runs);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		runs[i] = (struct page_run){ s->regions[i].start, s->regions[i].end };
	*ret_nr = n;
	*ret_next = arg.walk_end;
	return 0;
}

int pagescan_guards(struct pagescan *s, uint64_t start, uint64_t end,
		    struct page_run *runs, unsigned max_runs,
		    unsigned *ret_nr, uint64_t *ret_next)
{
	int r;

	if (start >= end || !max_runs || start % s->page_size || end % s->page_size)
		return -EINVAL;
	if (s->ioctl_ok && s->guard_ok) {
		r = guards_ioctl(s, start, end, runs, max_runs, ret_nr, ret_next);
		if (r != -ENOTTY && r != -EINVAL)
			return r;
		if (r == -ENOTTY)
			s->ioctl_ok = false;
		else
			s->guard_ok = false;
	}
	return scan_words(s, PICK_GUARDS, start, end, runs, max_runs, UINT64_MAX, ret_nr,
			  ret_next);
}
