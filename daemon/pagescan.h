/* Which pages of a task to read for saving: present or swapped, never the
 * shared zero page, never a page that belongs to a file (an unmodified page
 * of a private file mapping lives in the file; only its anonymous COW
 * copies are saved). Present is not written: a selected page may still
 * hold only zeros (the page pipe records it as a zero entry).
 *
 * Two ways to ask the kernel, same answers: the PAGEMAP_SCAN ioctl (Linux
 * 6.7+; the kernel filters and merges, cost independent of memory size)
 * and, without it, reading /proc/PID/pagemap words (bit 63 present, 62
 * swapped, 61 file page or shared anonymous, 58 guard page; the zero
 * page recognised by its PFN). Guard pages (MADV_GUARD_INSTALL) are never
 * selected: reading one faults. Both scan a bounded window per call, so
 * memory use never grows with the size of a VMA. */
#ifndef CKPT_PAGESCAN_H
#define CKPT_PAGESCAN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct page_run {
	uint64_t start, end;	/* page-aligned, end exclusive */
};

struct pagescan;

/* Open /proc/PID/pagemap. use_ioctl: try PAGEMAP_SCAN first (falls back by
 * itself on ENOTTY/EINVAL). */
int pagescan_open(pid_t pid, long page_size, bool use_ioctl, struct pagescan **ret);
void pagescan_close(struct pagescan *s);

/* Find runs of pages to save in [start, end), ascending: at most max_runs
 * runs and at most max_pages pages in all. *ret_next is where the next call
 * should go on (end when the range is done). */
int pagescan_next(struct pagescan *s, uint64_t start, uint64_t end,
		  struct page_run *runs, unsigned max_runs, uint64_t max_pages,
		  unsigned *ret_nr, uint64_t *ret_next);

/* Find the guard runs (MADV_GUARD_INSTALL) in [start, end), ascending, at
 * most max_runs; pagescan_next never selects them. Found through
 * PAGEMAP_SCAN's PAGE_IS_GUARD or pagemap bit 58 (Linux 6.14+); none on an
 * older kernel. Where PAGEMAP_SCAN lacks PAGE_IS_GUARD this reads the
 * range's pagemap words, a window at a time (a cost on 6.7-6.13 kernels
 * that cannot find any). *ret_next: where to
 * go on. */
int pagescan_guards(struct pagescan *s, uint64_t start, uint64_t end,
		    struct page_run *runs, unsigned max_runs,
		    unsigned *ret_nr, uint64_t *ret_next);

/* The fallback's selection of one pagemap word: 1 save, 0 skip. Exposed
 * for the unit tests. zero_pfn 0: unknown (PFNs hidden without privilege,
 * or no shared zero page seen). */
bool pagescan_word_wanted(uint64_t word, uint64_t zero_pfn);

#endif
