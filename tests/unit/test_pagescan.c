/* daemon/pagescan.c on this very process: both the PAGEMAP_SCAN ioctl and
 * the pagemap-word fallback must select exactly the present (or swapped)
 * anonymous pages but the shared zero page, and the COW copies of a
 * private file mapping. What a read fault maps is the kernel's choice: the
 * shared zero page (never selected) or a zero-filled page of its own
 * (present like any other, so selected; the page pipe then finds it holds
 * zeros). The tests ask the kernel which it did rather than assume. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/compat.h"
#include "daemon/pagescan.h"

#define PS 4096ul

#define PM_PRESENT	(1ull << 63)
#define PM_SWAPPED	(1ull << 62)
#define PM_FILE		(1ull << 61)
#define PM_PFN_MASK	((1ull << 55) - 1)

static uint64_t pagemap_word(const volatile void *addr)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	uint64_t w = 0;

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &w, sizeof(w), (uintptr_t)addr / PS * sizeof(w)),
		     (ssize_t)sizeof(w));
	close(fd);
	return w;
}

enum read_fault { RF_SHARED_ZERO, RF_OWN_PAGE, RF_UNKNOWN };

/* What the kernel mapped for the read-faulted page at addr: the shared
 * zero page when a read-faulted page of another mapping has the same
 * frame, a page of its own when not; unknown when PFNs are hidden (no
 * CAP_SYS_ADMIN). */
static enum read_fault read_fault_kind(const volatile void *addr)
{
	volatile char *q = mmap(NULL, PS, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t a, b;

	cr_assert_neq(q, MAP_FAILED);
	madvise((void *)q, PS, MADV_NOHUGEPAGE);
	(void)q[0];
	a = pagemap_word(addr);
	b = pagemap_word(q);
	munmap((void *)q, PS);
	cr_assert(a & PM_PRESENT, "a read-faulted page is not present");
	if (!(a & PM_PFN_MASK) || !(b & PM_PFN_MASK))
		return RF_UNKNOWN;
	return (a & PM_PFN_MASK) == (b & PM_PFN_MASK) ? RF_SHARED_ZERO : RF_OWN_PAGE;
}

static void scan_all(bool use_ioctl, uint64_t start, uint64_t end, unsigned max_runs,
		     uint64_t max_pages, struct page_run *out, unsigned *ret_nr)
{
	struct pagescan *s;
	uint64_t addr = start;
	unsigned total = 0;

	cr_assert_eq(pagescan_open(getpid(), PS, use_ioctl, &s), 0);
	while (addr < end) {
		struct page_run runs[64];
		unsigned nr = 0;
		uint64_t next = 0;

		cr_assert_eq(pagescan_next(s, addr, end, runs, max_runs, max_pages, &nr, &next), 0);
		cr_assert_gt(next, addr);
		cr_assert_leq(nr, max_runs);
		for (unsigned i = 0; i < nr; i++) {
			cr_assert_geq(runs[i].start, addr);
			cr_assert_leq(runs[i].end, next);
			/* a run cut by the window limit continues where it stopped */
			if (total && out[total - 1].end == runs[i].start)
				out[total - 1].end = runs[i].end;
			else
				out[total++] = runs[i];
			cr_assert_lt(total, 64);
		}
		addr = next;
	}
	*ret_nr = total;
	pagescan_close(s);
}

/* Written pages (data or zeros) are selected, untouched ones never, and
 * a read-faulted page exactly when the kernel gave it a page of its own. */
static void check_anon(bool use_ioctl, unsigned max_runs, uint64_t max_pages)
{
	char *p = mmap(NULL, 64 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const char *how = use_ioctl ? "ioctl" : "words";
	bool want[64] = { false }, got[64] = { false };
	uint64_t b = (uintptr_t)p;
	struct page_run runs[64];
	enum read_fault rf;
	unsigned nr = 0;

	cr_assert_neq(p, MAP_FAILED);
	madvise(p, 64 * PS, MADV_NOHUGEPAGE);	/* one fault, one page */
	memset(p, 1, 4 * PS);			/* pages 0-3 */
	p[10 * PS] = 1;				/* page 10 */
	memset(p + 20 * PS, 0, 10 * PS);	/* pages 20-29: written zeros */
	*(volatile char *)(p + 40 * PS);	/* page 40: only read */
	rf = read_fault_kind(p + 40 * PS);
	for (unsigned i = 0; i < 64; i++)
		want[i] = i < 4 || i == 10 || (i >= 20 && i < 30) || (i == 40 && rf == RF_OWN_PAGE);

	scan_all(use_ioctl, b, b + 64 * PS, max_runs, max_pages, runs, &nr);
	for (unsigned i = 0; i < nr; i++) {
		cr_assert_lt(runs[i].start, runs[i].end, "%s: empty run", how);
		cr_assert(i == 0 || runs[i - 1].end < runs[i].start, "%s: runs out of order", how);
		for (uint64_t a = runs[i].start; a < runs[i].end; a += PS) {
			cr_assert(a >= b && a < b + 64 * PS, "%s: run outside the range", how);
			got[(a - b) / PS] = true;
		}
	}
	if (rf == RF_UNKNOWN)
		got[40] = false;	/* either is right: no telling which page it is */
	for (unsigned i = 0; i < 64; i++)
		cr_assert_eq(got[i], want[i], "%s: page %u %s (read fault: %s)", how, i,
			     got[i] ? "selected" : "left out",
			     rf == RF_SHARED_ZERO ? "shared zero page" :
			     rf == RF_OWN_PAGE ? "own page" : "unknown");
	munmap(p, 64 * PS);
}

Test(pagescan, anon_ioctl)
{
	check_anon(true, 64, 1024);
}

Test(pagescan, anon_words)
{
	check_anon(false, 64, 1024);
}

Test(pagescan, anon_small_windows)
{
	check_anon(true, 1, 3);
	check_anon(false, 1, 3);
}

static void check_file_private(bool use_ioctl)
{
	char path[] = "/tmp/ckpt-pagescan-XXXXXX", page[PS];
	int fd = mkstemp(path);
	struct page_run runs[64];
	unsigned nr = 0;
	char *p;
	uint64_t b;

	cr_assert_geq(fd, 0);
	unlink(path);
	memset(page, 7, sizeof(page));
	for (int i = 0; i < 8; i++)
		cr_assert_eq(write(fd, page, sizeof(page)), (ssize_t)sizeof(page));
	p = mmap(NULL, 8 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	cr_assert_neq(p, MAP_FAILED);
	b = (uintptr_t)p;
	for (int i = 0; i < 8; i++)
		*(volatile char *)(p + i * PS);	/* file pages present */
	p[2 * PS] = 1;				/* one COW copy */

	scan_all(use_ioctl, b, b + 8 * PS, 64, 1024, runs, &nr);
	cr_assert_eq(nr, 1, "%s: %u runs", use_ioctl ? "ioctl" : "words", nr);
	cr_assert_eq(runs[0].start, b + 2 * PS);
	cr_assert_eq(runs[0].end, b + 3 * PS);
	munmap(p, 8 * PS);
	close(fd);
}

Test(pagescan, file_private_ioctl)
{
	check_file_private(true);
}

Test(pagescan, file_private_words)
{
	check_file_private(false);
}

/* Larger than one fallback window (4096 words): the last page is found. */
Test(pagescan, beyond_one_window)
{
	size_t len = 20ul << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t b = (uintptr_t)p;
	struct page_run runs[64];
	unsigned nr = 0;

	cr_assert_neq(p, MAP_FAILED);
	madvise(p, len, MADV_NOHUGEPAGE);
	p[len - 1] = 1;
	for (int ioc = 0; ioc < 2; ioc++) {
		scan_all(ioc, b, b + len, 64, 1024, runs, &nr);
		cr_assert_eq(nr, 1);
		cr_assert_eq(runs[0].start, b + len - PS);
		cr_assert_eq(runs[0].end, b + len);
	}
	munmap(p, len);
}

/* The fallback's filter on made-up words: the kernel's behaviour aside. */
Test(pagescan, word_filter)
{
	const uint64_t zero_pfn = 0x1234;

	cr_assert(pagescan_word_wanted(PM_PRESENT | 0x5678, zero_pfn));
	cr_assert(pagescan_word_wanted(PM_PRESENT | 0x5678, 0));
	cr_assert(pagescan_word_wanted(PM_SWAPPED | 0x1234, zero_pfn), "a swap entry is no PFN");
	cr_assert(pagescan_word_wanted(PM_PRESENT, 0), "PFNs hidden: present is enough");
	cr_assert_not(pagescan_word_wanted(PM_PRESENT | zero_pfn, zero_pfn));
	cr_assert_not(pagescan_word_wanted(PM_PRESENT | PM_FILE | 0x5678, zero_pfn));
	cr_assert_not(pagescan_word_wanted(PM_SWAPPED | PM_FILE, zero_pfn));
	cr_assert_not(pagescan_word_wanted(0, zero_pfn));
	cr_assert_not(pagescan_word_wanted(0x5678, zero_pfn), "a PFN without the present bit");
}

/* Pages the kernel gives read faults are always selected unless they are
 * the shared zero page, however many the probe's frames: a frame freed by
 * the fallback's zero-page probe must not be mistaken for the zero page
 * once a written page reuses it. */
Test(pagescan, reused_frames_selected)
{
	size_t n = 4096;
	char *p = mmap(NULL, n * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t b = (uintptr_t)p;
	struct page_run runs[64];
	struct pagescan *s;
	unsigned nr = 0;
	uint64_t next;

	cr_assert_neq(p, MAP_FAILED);
	madvise(p, n * PS, MADV_NOHUGEPAGE);
	/* the probe runs (and frees its frames) on the first fallback scan */
	cr_assert_eq(pagescan_open(getpid(), PS, false, &s), 0);
	cr_assert_eq(pagescan_next(s, b, b + PS, runs, 1, 1, &nr, &next), 0);
	cr_assert_eq(nr, 0);
	for (size_t i = 0; i < n; i++)
		p[i * PS] = 1;		/* likely to take the probe's freed frames */
	for (uint64_t a = b; a < b + n * PS; a = next) {
		cr_assert_eq(pagescan_next(s, a, b + n * PS, runs, 64, n, &nr, &next), 0);
		cr_assert_eq(nr, 1, "written pages left out at %#lx", (unsigned long)a);
		cr_assert_eq(runs[0].start, a);
		cr_assert_eq(runs[0].end, next);
	}
	pagescan_close(s);
	munmap(p, n * PS);
}

Test(pagescan, bad_arguments)
{
	struct pagescan *s;
	struct page_run run;
	unsigned nr;
	uint64_t next;

	cr_assert_eq(pagescan_open(getpid(), PS, true, &s), 0);
	cr_assert_eq(pagescan_next(s, 0x1001, 0x3000, &run, 1, 1, &nr, &next), -EINVAL);
	cr_assert_eq(pagescan_next(s, 0x3000, 0x3000, &run, 1, 1, &nr, &next), -EINVAL);
	cr_assert_eq(pagescan_next(s, 0x1000, 0x3000, &run, 0, 1, &nr, &next), -EINVAL);
	pagescan_close(s);
	cr_assert_eq(pagescan_open(-1, PS, true, &s), -ENOENT);
}

/* Guard pages (MADV_GUARD_INSTALL, 6.13+; reported from 6.14) show as
 * swapped but must never be selected (reading one faults), and
 * pagescan_guards finds exactly them, by the ioctl and by the words. */
static void check_guards(bool use_ioctl)
{
	char *p = mmap(NULL, 8 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t b = (uintptr_t)p, next;
	struct page_run runs[8];
	struct pagescan *s;
	unsigned nr;

	cr_assert_neq(p, MAP_FAILED);
	memset(p, 0x5a, 8 * PS);
	if (madvise(p + 2 * PS, 3 * PS, MADV_GUARD_INSTALL) < 0 ||
	    madvise(p + 7 * PS, PS, MADV_GUARD_INSTALL) < 0 ||
	    !(pagemap_word(p + 2 * PS) & PM_GUARD_REGION)) {
		munmap(p, 8 * PS);
		cr_skip_test("no guard regions reported by this kernel");
	}
	cr_assert_eq(pagescan_word_wanted(pagemap_word(p + 2 * PS), 0), false);
	cr_assert_eq(pagescan_open(getpid(), PS, use_ioctl, &s), 0);
	cr_assert_eq(pagescan_next(s, b, b + 8 * PS, runs, 8, 8, &nr, &next), 0);
	cr_assert_eq(nr, 2, "%u runs of pages to save", nr);
	cr_assert(runs[0].start == b && runs[0].end == b + 2 * PS);
	cr_assert(runs[1].start == b + 5 * PS && runs[1].end == b + 7 * PS);
	cr_assert_eq(pagescan_guards(s, b, b + 8 * PS, runs, 8, &nr, &next), 0);
	cr_assert_eq(nr, 2, "%u guard runs", nr);
	cr_assert(runs[0].start == b + 2 * PS && runs[0].end == b + 5 * PS);
	cr_assert(runs[1].start == b + 7 * PS && runs[1].end == b + 8 * PS);
	pagescan_close(s);
	munmap(p, 8 * PS);
}

Test(pagescan, guards_ioctl)
{
	check_guards(true);
}

Test(pagescan, guards_words)
{
	check_guards(false);
}
