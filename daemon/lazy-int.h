/* The lazy server's own view of what it serves, shared by its pieces:
 *
 *   lazy.c          the loop, the restore's control pipe (commit), the
 *                   blobs' hellos, faults and events, block reads and
 *                   copies, the background push, failure, lazy_serve
 *   lazy-extents.c  per mm, where image data may still go: the sorted
 *                   extents, moved and cut by the process's own mremap,
 *                   madvise and munmap, and the piece of a block each holds
 *   lazy-trace.c    ptrace: the tracees seized at the commit (EXITKILL),
 *                   their stops, the uffd holder, the final detach
 *
 * lazy.h says what the server is for; lazy-registry.c keeps its entry. */
#ifndef CKPT_LAZY_INT_H
#define CKPT_LAZY_INT_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/lazy.h"

#define PAGE		4096ull

struct lazy_ext {
	uint64_t start, end;	/* current addresses */
	uint64_t img;		/* image address of start */
};

/* One mm served: a plan task's, or a fork's child's (UFFD_EVENT_FORK). */
struct lazy_mm {
	int uffd;
	pid_t pid;			/* the plan task, or the one it was forked from */
	bool forked;
	bool gone;			/* exited or exec'd: dropped at the end of the turn */
	bool changing;			/* the kernel said EAGAIN: an event is on its way */
	const struct lazy_task *task;	/* its blocks */
	struct lazy_ext *ext;
	size_t nr_ext;
	bool moved;			/* some extent is not at its image address */
	uint8_t *done;			/* per block: copied whole (or nowhere to go) */
	size_t blocks_left;
	uint64_t pages_left;
	size_t cursor;			/* the next block to push */
	uint64_t *faults;		/* addresses waiting to be served */
	size_t nr_faults, cap_faults;
};

struct lazy_srv {
	struct lazy_plan *plan;
	struct ckpt_err *err;
	struct lazy_mm **mms;
	size_t nr_mms, cap_mms, rr;
	bool *hello;			/* per plan task */
	pid_t *tracees;
	size_t nr_tracees, cap_tracees;
	struct pollfd *pfd;
	size_t cap_pfd;
	bool committed, sock_open, failed;
	pid_t holder;			/* shares our fd table: see lazy_holder_start */
	int sfd, dirfd;
	void *buf;			/* BLOCK_MAX bytes */
	bool buf_ok;			/* buf holds the block at buf_off of */
	uint32_t buf_file;		/* buf_file, checked */
	uint64_t buf_off;
	struct lazy_entry entry;
	uint64_t pages_in;		/* of entry.pages: in, or with nowhere to go */
	uint64_t t0, published;
	sigset_t oldmask;
};

/* lazy.c: kill every process served, publish the failure, report it
 * once in s->err; returns code. */
int lazy_fail(struct lazy_srv *s, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* lazy-extents.c */
static inline uint64_t lazy_block_end(const struct lazy_block *b)
{
	return b->vaddr + b->nr_pages * PAGE;
}

ssize_t lazy_block_find(const struct lazy_task *t, uint64_t img);
struct lazy_ext *lazy_ext_find(struct lazy_mm *m, uint64_t addr);
int lazy_ext_cut(struct lazy_mm *m, uint64_t start, uint64_t end);
int lazy_ext_remap(struct lazy_mm *m, uint64_t from, uint64_t to, uint64_t len);
void lazy_ext_span(struct lazy_mm *m, uint64_t lo, uint64_t hi, size_t *first, size_t *last);
bool lazy_piece(const struct lazy_block *b, const struct lazy_ext *x, uint64_t *dst,
		uint64_t *img, uint64_t *len);
bool lazy_block_wanted(struct lazy_mm *m, const struct lazy_block *b);

/* lazy-trace.c */
int lazy_holder_start(struct lazy_srv *s);
void lazy_holder_stop(struct lazy_srv *s);
int lazy_tracees_seize(struct lazy_srv *s);
int lazy_tracees_reap(struct lazy_srv *s);
void lazy_detach_all(struct lazy_srv *s);

#endif
