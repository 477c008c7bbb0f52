/* One dump, start to end: freeze -> collect -> images -> release.
 *
 * Modules each write their own images for one task into ctx->dirfd and
 * describe any failure in ctx->err (naming the pid, file or address). */
#ifndef CKPT_DUMP_H
#define CKPT_DUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "daemon/kerndat.h"
#include "daemon/pstree.h"

struct dump_opts {
	pid_t pid;
	bool leave_running;
	bool force;		/* replace an existing image set */
	pid_t requester;	/* the client (SO_PEERCRED): never a target */
	uid_t requester_uid;
	gid_t requester_gid;
};

struct dump_stats {
	unsigned tasks, threads, vmas, fds;
	uint64_t pages_written;
	uint64_t freeze_us, total_us;
	/* a --leave-running set restore would refuse: why ("" when it would not) */
	char unrestorable[1024];
};

/* Progress of a long operation, told to its requester. Returns 0 to go on,
 * or -ECANCELED when the requester has given up (hung up, or shut down its
 * side of the connection): a dump then stops and leaves the tree running. */
typedef int (*progress_fn)(void *opaque, const char *stage, uint64_t done, uint64_t total);

struct files_ctx;

struct dump_ctx {
	const struct dump_opts *opts;
	const struct kerndat *kd;
	struct ckpt_err *err;
	int dirfd;			/* the temporary directory images go to */
	struct pstree tree;
	struct dump_stats stats;
	progress_fn progress;
	void *progress_opaque;
	uint64_t pages_total;		/* for progress: counted by mem.c */
	uint64_t xfeatures;		/* filled by core.c from the saved xsave */
	uint32_t xsave_size;
	struct files_ctx *files;	/* owned by files.c */
	unsigned next_pages_id;
	unsigned next_ghost_id;
	uint64_t dump_time_ns;
};

/* The whole dump, into the image directory dirfd. Fills *stats. */
int dump_run(const struct dump_opts *opts, const struct kerndat *kd, int dirfd,
	     progress_fn progress, void *opaque, struct dump_stats *stats,
	     struct ckpt_err *err);

/* Tell the requester; -ECANCELED (described in ctx->err) when it gave up. */
int dump_progress(struct dump_ctx *ctx, const char *stage, uint64_t done, uint64_t total);

struct img;
/* Finish and free an image a dump wrote. A failure (a full disk often
 * shows only here) is described with the file and the offset. */
int dump_img_close(struct dump_ctx *ctx, struct img *img);

/* freeze.c: refuse bad targets, then seize and stop every thread of the tree
 * rooted at opts->pid (catching threads and children that appear meanwhile).
 * On failure everything seized is released and left running. */
int freeze_tree(struct dump_ctx *ctx);
/* Detach from every task; with kill, SIGKILL the tree first. */
void release_tree(struct dump_ctx *ctx, bool kill);

/* core.c: pstree.img for the whole tree; core-PID.img per task. */
int dump_pstree(struct dump_ctx *ctx);
int dump_task_core(struct dump_ctx *ctx, struct task *t);

/* mem.c: mm-PID.img, pagemap-PID.img, pages-N.img per task. */
int dump_task_mm(struct dump_ctx *ctx, struct task *t);

/* files.c: fs-PID.img per task; files.img (and ghost-N.img) once at the end. */
int dump_task_files(struct dump_ctx *ctx, struct task *t);
int dump_files_finish(struct dump_ctx *ctx);
void files_ctx_free(struct files_ctx *f);
/* files.c: save the contents of a deleted file, memfd or shared anonymous
 * object (fd open on it; st its fstat) once per (dev, ino) into a ghost-N.img;
 * the ghost id into *ret_id. Called by files.c itself and by mem.c. */
struct stat;
int dump_ghost_file(struct dump_ctx *ctx, int fd, const struct stat *st,
		    const char *name, uint32_t *ret_id);

#endif
