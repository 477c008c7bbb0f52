/* The page store: pagemap-PID.img (which addresses) + pages-N.img (their
 * bytes, page-aligned, in entry order). Each PRESENT entry is one block of
 * at most PAGES_MAX_BLOCK_PAGES pages carrying the XXH64 of its bytes, so
 * both writer and reader stream in bounded memory and a reader can preadv a
 * block straight into place and then verify it. */
#ifndef CKPT_PAGES_H
#define CKPT_PAGES_H

#include <stdbool.h>
#include <stdint.h>

#define PE_PRESENT	1u	/* data in pages-N.img */
#define PE_IN_PARENT	2u	/* unchanged since the parent set */
#define PE_ZERO		4u	/* reads as zeros */

#define PAGES_MAX_BLOCK_PAGES 512u	/* 2 MiB of 4 KiB pages */

struct page_entry {
	uint64_t vaddr;
	uint32_t nr_pages;
	uint32_t flags;
	uint64_t data_off;	/* PRESENT: byte offset of the block in pages-N.img */
	uint64_t xxh64;		/* PRESENT: checksum of the block */
};

struct page_writer;

/* Create pagemap-<pid>.img and pages-<pages_id>.img in dirfd. */
int pagew_open(int dirfd, unsigned pid, unsigned pages_id, unsigned page_size,
	       struct page_writer **ret);
/* Append nr_pages pages of data for vaddr (ascending, not overlapping what
 * came before). Written straight from buf, split into checksummed blocks. */
int pagew_add(struct page_writer *w, uint64_t vaddr, const void *buf, uint64_t nr_pages);
/* Record pages that carry no data (PE_ZERO or PE_IN_PARENT). */
int pagew_add_hole(struct page_writer *w, uint64_t vaddr, uint64_t nr_pages, uint32_t flags);
uint64_t pagew_pages_written(const struct page_writer *w);
/* Finish both files (end marker, flush); reports a failed write. Frees w. */
int pagew_close(struct page_writer *w);
/* Give up: close both files unfinished. Frees w. */
void pagew_abort(struct page_writer *w);
/* "pages-3.img at offset 8192: write failed: No space left on device" */
const char *pagew_errmsg(const struct page_writer *w);

struct page_reader;

/* Open pagemap-<pid>.img and the pages file its head names; checks both. */
int pager_open(int dirfd, unsigned pid, struct page_reader **ret);
/* The next entry into *ret; returns 1 for an entry, 0 at the end, -errno.
 * Entries are checked: ascending, page-aligned, bounded sizes, data inside
 * the pages file. */
int pager_next(struct page_reader *r, struct page_entry *ret);
/* Read a PRESENT entry's bytes into buf (nr_pages * page_size bytes) and
 * verify its checksum (-EBADMSG on mismatch, naming file and offset). */
int pager_read(struct page_reader *r, const struct page_entry *e, void *buf);
/* Verify a block already read into memory (by preadv into place). */
int pager_verify(struct page_reader *r, const struct page_entry *e, const void *buf);
unsigned pager_pages_id(const struct page_reader *r);
unsigned pager_page_size(const struct page_reader *r);
int pager_pages_fd(const struct page_reader *r);
void pager_close(struct page_reader *r);
const char *pager_errmsg(const struct page_reader *r);

#endif
