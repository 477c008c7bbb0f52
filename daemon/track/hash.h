/* The hash tracker's state: hashes-PID.img, a 128-bit hash of every page
 * a round found present (and not all zeros), stored or IN_PARENT alike.
 * The next round hashes every present page again and compares: equal means
 * unchanged since the parent (IN_PARENT), anything else is saved. Only the
 * nearest parent is ever read, and nothing lives between two rounds but
 * the image set, so it works on every kernel and across daemon restarts.
 *
 * Cost: a round reads every present page (process_vm_readv, ~5 GB/s here)
 * and hashes it (XXH3-128, ~15 GB/s); it writes only what changed, plus 16
 * bytes a page of hashes (4 MiB per GiB present).
 *
 * Both sides stream in address order in bounded memory: the writer one run
 * of up to HASH_RUN_PAGES pages at a time, the reader one parent record.
 * Nothing here prints: failures are described by hash_errmsg(). */
#ifndef CKPT_TRACK_HASH_H
#define CKPT_TRACK_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HASH_RUN_PAGES	512u

struct page_hash {
	uint64_t lo, hi;
};

/* XXH3-128 (seed 0) of one page. */
void hash_page(const void *buf, size_t len, struct page_hash *ret);

struct hash_file;

/* Create hashes-PID.img in dirfd. */
int hash_writer_open(int dirfd, pid_t pid, unsigned page_size, struct hash_file **ret);
/* The hash of the page at vaddr (ascending). */
int hash_writer_add(struct hash_file *w, uint64_t vaddr, const struct page_hash *h);
/* Finish the file (flush, end marker); then hash_close. */
int hash_writer_finish(struct hash_file *w);

/* Open the parent's hashes-PID.img: -ENOENT when the parent has none for
 * pid (a task new since then: every page differs). On failure *ret may
 * still carry the message (hash_errmsg), to free with hash_close. */
int hash_reader_open(int dirfd, pid_t pid, unsigned page_size, struct hash_file **ret);
/* Whether the parent's hash of the page at vaddr is h (*ret false when the
 * parent has none there). Ask in ascending address order. A corrupt file
 * fails (-EBADMSG) naming it and the offset. */
int hash_reader_same(struct hash_file *r, uint64_t vaddr, const struct page_hash *h,
		     bool *ret);

const char *hash_errmsg(const struct hash_file *f);
/* Free; a writer not finished is aborted (its file left incomplete). */
void hash_close(struct hash_file *f);

#endif
