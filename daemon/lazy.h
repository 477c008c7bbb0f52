/* The lazy server: serves the page faults of a lazily restored tree
 * (ckptctl restore --lazy) from its image chain, and pushes every other
 * page in behind them, until the tree is an ordinary one again.
 *
 * It runs in a process of its own, forked by the restore's intermediate
 * process before the tree exists. Each restored process's blob maps its
 * lazy VMAs empty, registers them with a userfaultfd and sends it here
 * (struct restore_lazy_hello on uffd_sock, the uffd attached); from that
 * moment its faults are served, the restore still under way. Once the
 * intermediate process says the restore committed (ctl), the server
 * PTRACE_SEIZEs every served process with PTRACE_O_EXITKILL (and
 * TRACEFORK/TRACEVFORK, so children forked meanwhile are held the same
 * way): if the server dies for any reason, SIGKILL included, the kernel
 * kills what it served. No restored process ever reads a zero page where
 * its image had data. When every page is in, it closes the uffds,
 * detaches and exits.
 *
 * Faults and pushes copy whole image blocks (at most 512 pages), each
 * checked against its XXH3 before UFFDIO_COPY. A bad block, a short read
 * or a copy the kernel refuses for any reason other than "already there"
 * kills every process served, with a message naming the file and offset. */
#ifndef CKPT_LAZY_H
#define CKPT_LAZY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "daemon/rundir.h"
#include "restorer/restorer.h"

/* One block of page data of the image, as the blob would have read it;
 * or a piece of a parent's block (an incremental chain), which the server
 * reads and checks whole, then copies from skip_pages on. */
struct lazy_block {
	uint64_t vaddr;		/* image address, page aligned */
	uint32_t nr_pages;	/* 1..512 */
	uint32_t file;		/* index into lazy_plan.files */
	uint64_t off;		/* byte offset in that file of the block read */
	uint64_t xxh3;		/* XXH3-64, seed 0, of the block read */
	uint32_t read_pages;	/* pages read from off (0: nr_pages) */
	uint32_t skip_pages;	/* the pages copied start this far into them */
};

/* One restored process with lazy memory. */
struct lazy_task {
	pid_t pid;
	const struct restore_range *ranges;	/* ascending, each a lazily restored VMA:
						 * exactly the ranges its blob registers */
	unsigned nr_ranges;
	struct lazy_block *blocks;	/* ascending, each inside one range */
	size_t nr_blocks;
};

/* A pages file, opened read-only in the server. */
struct lazy_file {
	int fd;
	char *name;		/* for messages: "pages-3.img" or "../base/pages-3.img" */
	bool fed;		/* still arriving: ask the plan's feed first */
};

struct lazy_plan {
	struct lazy_task *tasks;
	unsigned nr_tasks;
	struct lazy_file *files;
	unsigned nr_files;
	pid_t root;		/* the tree's root pid: names the registry entry */
	uid_t uid;		/* the requester: who may see it in ckptctl status */
	const char *dir;	/* the image directory, for status and messages */
	int uffd_sock;		/* SOCK_SEQPACKET: one hello + uffd per task */
	int ctl;		/* from the intermediate process: one byte
				 * LAZY_CTL_COMMIT once the restore committed;
				 * EOF before it: the restore failed. The
				 * server answers LAZY_CTL_SEIZED once it
				 * holds every task, or why it failed */
	int feed;		/* a post-copy migration's (common/lazy-feed.h),
				 * for the fed files; -1: none */
};

/* The comm a lazy server takes: lazy_list() tells a live server from a
 * recycled pid by it, and a dump tells a tracee of one from others. */
#define LAZY_COMM	"ckpt-lazy"

#define LAZY_CTL_COMMIT	'C'
/* The server's answer on ctl once it holds every task (PTRACE_O_EXITKILL);
 * a failure is a NUL-terminated message instead, then EOF. */
#define LAZY_CTL_SEIZED	'S'

/* Serve plan until every page of every task is in (0), or until it
 * failed: a restore that did not commit (-ECANCELED, nothing killed: the
 * intermediate process removes the tree), or a bad block or copy (< 0,
 * every served process killed, err says which file, offset, pid and why).
 * Progress is published in the registry (below) every 100 ms or so. */
int lazy_serve(struct lazy_plan *plan, struct ckpt_err *err);

/* The registry: one file per lazy restore in RUNDIR_PARENT "/lazy",
 * named after the root pid, rewritten whole (rundir_write) as it goes:
 *
 *   root PID server PID uid UID state serving|done|failed
 *   pages TOTAL left LEFT faults FAULTS ms MS
 *   dir DIR
 *   error TEXT			(failed only)
 *
 * It is removed when a restore is done; a failed one stays (with its
 * error) for LAZY_KEEP_S, or until the next lazy restore of the same root
 * pid, so ckptctl status can say what happened. */
#define LAZY_DIR	RUNDIR_PARENT "/lazy"
#define LAZY_KEEP_S	600

struct lazy_entry {
	pid_t root, server;
	uid_t uid;
	char state[16];
	uint64_t pages, left, faults, ms;
	char dir[512];
	char error[512];
};

/* Every registry entry, entries of dead servers that were "serving"
 * reported as "failed" ("the lazy server died"); *ret (malloc'd) and
 * *nr; 0 with none when there is no registry. */
int lazy_list(struct lazy_entry **ret, size_t *nr);

#endif
