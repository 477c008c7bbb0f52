/* Post-copy migration (ckptctl migrate --post-copy): the final round's
 * pages of its lazy VMAs (images/lazy-vma.h) are held back; the
 * destination restores lazily as soon as the rest is in, and the held
 * bytes follow while the tree runs there, those its lazy server asks for
 * first. The source's tree stays frozen until every byte is across (it
 * holds the only copy of what is still to come), then goes as after any
 * migration; if anything fails before, the destination's tree is killed
 * and the source's runs on. Documentation/migration.md tells it whole.
 *
 * Both sides keep a pc_set: per pages file, its held ranges (one per
 * pagemap entry held back) and how much of each has gone or come. */
#ifndef CKPT_POSTCOPY_H
#define CKPT_POSTCOPY_H

#include <stdbool.h>
#include <stdint.h>

#include "client/migrate-proto.h"
#include "common/err.h"

struct xport;

struct pc_set {
	struct mig_held *files;		/* one per pages file with held ranges */
	size_t nr_files;
	uint64_t **got;			/* per file, per range: bytes in (or sent) */
	uint64_t ranges, bytes;		/* held in all */
	uint64_t ranges_done, bytes_done;
};

/* Source: the ranges to hold back of the finished set in dirfd: every
 * data block of a VMA of the lazy kind, whole inside it. */
int pc_plan(int dirfd, struct pc_set *ret, struct ckpt_err *err);
/* The destination's answers to a post-copy final round: first that the
 * tree runs there (its restore returned), then that every held byte is in. */
struct pc_runs {
	bool got;			/* the first came */
	uint64_t t;			/* when (now_us) */
	int pid;
	uint64_t restore_ms;
};
/* Source, right after the final round's files: send every held range,
 * one the destination wants (MIG_WANT) before the rest, then
 * MIG_PAGES_END; the destination's restore runs meanwhile, and its answer
 * may come in between (*runs). *bytes adds up what went. */
int pc_stream(struct xport *x, int dirfd, struct pc_set *s, uint64_t *bytes,
	      struct pc_runs *runs, struct ckpt_err *err);
/* Source, after pc_stream: the destination's next answer (wants that come
 * late are dropped: everything went); into runs if it is the first. */
int pc_answer(struct xport *x, struct pc_runs *runs, struct ckpt_err *err);

/* Destination: file f's held ranges, as its MIG_FILE says (checked:
 * ascending, inside the file). */
int pc_add_file(struct pc_set *s, const char *name, uint64_t size, const uint64_t *pairs,
		size_t n, struct ckpt_err *err);
/* The held range of name holding pos, if any (its index in *file, *range). */
bool pc_find(const struct pc_set *s, const char *name, uint64_t pos, size_t *file,
	     size_t *range);
/* Destination, while its restore runs and after: write what comes into
 * the files of dirfd, answer the lazy server on feed (common/lazy-feed.h),
 * asking the source for what it waits on, until every held byte is in;
 * then tell the server so. Once done_fd reads (the restore returned),
 * on_done(opaque) is called once: it answers the source, and a non-zero
 * return ends the serving with it. Returns only once on_done was called,
 * or on a failure (< 0; *done says whether on_done was called). Closes
 * feed. */
int pc_serve(struct xport *x, int dirfd, struct pc_set *s, int feed, int done_fd,
	     int (*on_done)(void *opaque), void *opaque, int timeout_ms, bool *done,
	     struct ckpt_err *err);

void pc_free(struct pc_set *s);

#endif
