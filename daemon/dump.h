/* One dump, start to end: freeze -> collect -> images -> release.
 *
 * dump.c runs the workers in order (freeze.h, core.h, mem.h, files) and
 * records in dump_ctx what each returns. Workers each write their own
 * images for one task into ctx->dirfd (closing them and telling progress
 * through dump-io.h) and describe any failure in ctx->err (naming the pid,
 * file or address); they read dump_ctx but for those write nothing in it. */
#ifndef CKPT_DUMP_H
#define CKPT_DUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "daemon/dump-io.h"	/* dump_img_close, for files.c */
#include "daemon/freeze.h"	/* freeze_tree, for the unit tests */
#include "daemon/kerndat.h"
#include "daemon/progress.h"
#include "daemon/pstree.h"

struct dump_opts {
	pid_t pid;
	bool leave_running;
	bool tcp_established;	/* --tcp-established (files/socket-tcp.h) */
	bool ext_unix_sk;	/* --ext-unix-sk (files/socket-unix-ext.h) */
	bool shell_job;		/* --shell-job (files/tty.c) */
	bool force;		/* replace an existing image set */
	pid_t requester;	/* the client (SO_PEERCRED): never a target */
	uid_t requester_uid;
	gid_t requester_gid;
	/* incremental dumps (dump-incr.h) */
	bool pre;		/* pre-dump: memory only, the tree runs on */
	const char *track;	/* --track: "auto", a tracker's name, or NULL */
	const char *prev;	/* --prev as the user gave it: inventory's parent */
	const int *parent_fds;	/* the parent set, then its own parents, nearest
				   first (the client opened them) */
	unsigned nr_parents;
	/* migrate's final round (daemon/hold.h): once the set is in place,
	 * with the tree still frozen, hold(hold_opaque, why, len) says
	 * whether the tree goes: 1, it is killed; 0 or < 0, it runs on and
	 * the dump fails with -ECANCELED (why: the reason). NULL: no hold.
	 * Not with leave_running or pre. */
	int (*hold)(void *hold_opaque, char *why, size_t len);
	void *hold_opaque;
};

struct dump_stats {
	unsigned tasks, threads, vmas, fds;
	uint64_t pages_written;
	uint64_t pages_in_parent;	/* recorded IN_PARENT */
	uint64_t freeze_us, total_us;
	/* a --leave-running set restore would refuse: why ("" when it would not) */
	char unrestorable[1024];
	/* tasks saved whole since their tracking was lost, one line each */
	char warnings[2048];
};

struct files_ctx;
struct tcp_dump;
struct pty_queues;
struct dump_incr;

struct dump_ctx {
	const struct dump_opts *opts;
	const struct kerndat *kd;
	struct ckpt_err *err;
	int dirfd;			/* the temporary directory images go to */
	struct pstree tree;
	struct dump_stats stats;
	progress_fn progress;
	void *progress_opaque;
	uint64_t pages_total;		/* for progress: pages to save of the
					   tasks done, from each mm_result */
	uint64_t xfeatures;		/* from each core_result */
	uint32_t xsave_size;
	struct files_ctx *files;	/* owned by files.c */
	struct tcp_dump *tcp;		/* owned by files/socket-tcp.c */
	struct pty_queues *ptyq;	/* owned by files/tty-queue.c */
	struct dump_incr *incr;		/* the round's tracking (dump-incr.c) */
	unsigned next_pages_id;
	uint64_t dump_time_ns;
	uint64_t t0_us;			/* now_us() when the freeze began */
};

/* The whole dump, into the image directory dirfd. Fills *stats. */
int dump_run(const struct dump_opts *opts, const struct kerndat *kd, int dirfd,
	     progress_fn progress, void *opaque, struct dump_stats *stats,
	     struct ckpt_err *err);

/* files.c: fs-PID.img per task; files.img (and ghost-N.img) once at the end. */
int dump_task_files(struct dump_ctx *ctx, struct task *t);
int dump_files_finish(struct dump_ctx *ctx);
void files_ctx_free(struct files_ctx *f);
/* ghost.c: save the contents of a deleted file, memfd or shared anonymous
 * object (fd open on it; st its fstat) once per (dev, ino) into a ghost-N.img;
 * the ghost id into *ret_id. Called by files.c itself and by mem.c. */
struct stat;
int dump_ghost_file(struct dump_ctx *ctx, int fd, const struct stat *st,
		    const char *name, uint32_t *ret_id);

#endif
