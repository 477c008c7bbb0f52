/* daemon/pagescan.c on this very process: both the PAGEMAP_SCAN ioctl and
 * the pagemap-word fallback must select exactly the written anonymous
 * pages and the COW copies of a private file mapping. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/pagescan.h"

#define PS 4096ul

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

static void check_anon(bool use_ioctl, unsigned max_runs, uint64_t max_pages)
{
	char *p = mmap(NULL, 64 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t b = (uintptr_t)p;
	struct page_run runs[64];
	unsigned nr = 0;

	cr_assert_neq(p, MAP_FAILED);
	memset(p, 1, 4 * PS);			/* pages 0-3 */
	p[10 * PS] = 1;				/* page 10 */
	memset(p + 20 * PS, 0, 10 * PS);	/* pages 20-29: written zeros */
	*(volatile char *)(p + 40 * PS);	/* page 40: the zero page */

	scan_all(use_ioctl, b, b + 64 * PS, max_runs, max_pages, runs, &nr);
	cr_assert_eq(nr, 3, "%s: %u runs", use_ioctl ? "ioctl" : "words", nr);
	cr_assert_eq(runs[0].start, b);
	cr_assert_eq(runs[0].end, b + 4 * PS);
	cr_assert_eq(runs[1].start, b + 10 * PS);
	cr_assert_eq(runs[1].end, b + 11 * PS);
	cr_assert_eq(runs[2].start, b + 20 * PS);
	cr_assert_eq(runs[2].end, b + 30 * PS);
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
