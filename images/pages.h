/* The page store: pagemap-PID.img (which addresses) + pages-N.img (their
 * bytes, page-aligned, in entry order). Each PRESENT entry is one block of
 * at most PAGES_MAX_BLOCK_PAGES pages carrying the XXH3 of its bytes, so
 * both writer and reader stream in bounded memory and a reader can preadv a
 * block straight into place and then verify it. */
#ifndef CKPT_PAGES_H
#define CKPT_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PE_PRESENT	1u	/* data in pages-N.img */
#define PE_IN_PARENT	2u	/* unchanged since the parent set */
#define PE_ZERO		4u	/* reads as zeros */
#define PE_COW		8u	/* the parent task's page at this address, as of
				 * this set (shared copy-on-write since a fork;
				 * only in a set without a parent set) */

#define PAGES_MAX_BLOCK_PAGES 512u	/* 2 MiB of 4 KiB pages */

struct page_entry {
	uint64_t vaddr;
	uint32_t nr_pages;
	uint32_t flags;
	uint64_t data_off;	/* PRESENT: byte offset of the block in pages-N.img
				 * (from the start of the file: pread it there) */
	uint64_t xxh3;		/* PRESENT: checksum of the block */
};

struct page_writer;

/* Create pagemap-<pid>.img and pages-<pages_id>.img in dirfd. */
int pagew_open(int dirfd, unsigned pid, unsigned pages_id, unsigned page_size,
	       struct page_writer **ret);
/* Append one block of nr_pages pages (1 to PAGES_MAX_BLOCK_PAGES) for vaddr
 * (ascending, not overlapping what came before), written straight from
 * buf, with the checksum the caller computed with pages_block_hash (the
 * dump does that in whichever of its two threads is idle). Each call is an
 * entry of its own: cutting pages into blocks is the caller's business. */
int pagew_add_block(struct page_writer *w, uint64_t vaddr, const void *buf, uint64_t nr_pages,
		    uint64_t xxh3);
/* The checksum a block of len bytes at buf carries in its entry. */
uint64_t pages_block_hash(const void *buf, size_t len);
/* Record pages that carry no data (PE_ZERO, PE_IN_PARENT or PE_COW). */
int pagew_add_hole(struct page_writer *w, uint64_t vaddr, uint64_t nr_pages, uint32_t flags);
uint64_t pagew_pages_written(const struct page_writer *w);
/* Finish both files (end marker, flush, close) without freeing w, so that
 * pagew_errmsg can tell what failed; returns the first failure, if any. */
int pagew_finish(struct page_writer *w);
/* pagew_finish, then free w; NULL is fine. */
int pagew_close(struct page_writer *w);
/* Give up: close both files unfinished. Frees w. */
void pagew_abort(struct page_writer *w);
/* "pages-3.img at offset 8192: write of 2097152 bytes failed" (the first
 * failure; like img_errmsg it leaves strerror to the reporter). */
const char *pagew_errmsg(const struct page_writer *w);

struct page_reader;

/* Open pagemap-<pid>.img and the pages file its head names; checks both.
 * On failure *ret still holds a reader carrying the message (NULL only when
 * memory ran out; pager_errmsg and pager_close accept NULL): report
 * pager_errmsg(r), then pager_close(r). */
int pager_open(int dirfd, unsigned pid, struct page_reader **ret);
/* The next entry into *ret; returns 1 for an entry, 0 at the end, -errno.
 * Entries are checked: exactly one flag, ascending, not overlapping,
 * page-aligned, PRESENT blocks of 1..max_block_pages pages lying back to
 * back inside the pages file; at the end, that no byte of the pages file
 * is left over. A bad entry is -EBADMSG naming the pagemap file, the
 * record's offset and the entry's index; the reader is then done. */
int pager_next(struct page_reader *r, struct page_entry *ret);
/* Read a PRESENT entry's bytes into buf (nr_pages * page_size bytes) and
 * verify its checksum (-EBADMSG on mismatch, naming file and offset). */
int pager_read(struct page_reader *r, const struct page_entry *e, void *buf);
/* Verify a block already read into memory (by preadv into place). A
 * mismatch is -EBADMSG but leaves the reader usable. */
int pager_verify(struct page_reader *r, const struct page_entry *e, const void *buf);
unsigned pager_pages_id(const struct page_reader *r);
unsigned pager_page_size(const struct page_reader *r);
/* The largest block this pagemap has (from its head): size read buffers
 * as pager_max_block_pages(r) * pager_page_size(r) bytes. */
unsigned pager_max_block_pages(const struct page_reader *r);
int pager_pages_fd(const struct page_reader *r);
void pager_close(struct page_reader *r);
const char *pager_errmsg(const struct page_reader *r);

#endif
