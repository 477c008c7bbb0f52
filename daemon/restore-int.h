/* The restore engine's own view of an image set, shared by its phases:
 *
 *   restore-images.c  read and validate every image into a struct rst_ctx
 *   restore-fds.c     fs-PID.img and files.img, each fd checked by its kind
 *   restore-filecheck.c  files on disk against the images, ghost images
 *   restore-pids.c    every saved pid and tid free here
 *   restore-files.c   open every file description once (intermediate
 *                     process), then put each task's fds at their numbers
 *   restore-tree.c    the intermediate process, clone3(set_tid) of every
 *                     task, sessions, groups, zombies, the final hand-off
 *   restore-task.c    per task: the runner (rst_task_run: fs, fds,
 *                     misc, blob arguments, rlimits, blob); cwd, root,
 *                     umask, rlimits, name, timer slack, personality
 *   restore-creds.c   the credentials and paths a requester may restore
 *   restore-mm.c      flatten a task into struct restore_args, map the
 *                     restorer blob into a free hole and jump into it
 *                     (the blob's own names start with blob_)
 *
 * Everything is loaded by the daemon before it forks, so every restored
 * task finds its whole plan already in its (copied) memory. */
#ifndef CKPT_RESTORE_INT_H
#define CKPT_RESTORE_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/restore.h"
#include "images/img.h"
#include "images/pages.h"
#include "restorer/restorer.h"

#include "core.pb-c.h"
#include "files.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pstree.pb-c.h"

/* The end of user space (x86-64, 4-level page tables): no saved address
 * or register may point at or beyond it. */
#define RST_TASK_SIZE	0x7ffffffff000ull

struct rst_task {
	PstreeEntry *pe;
	struct rst_task *parent;
	struct rst_task **children;	/* in pstree.img order */
	unsigned nr_children;

	/* not for zombies */
	TaskCoreEntry *core;
	ThreadCoreEntry **threads;	/* main thread first, as pe->threads */
	unsigned nr_threads;
	MmEntry *mm;
	VmaEntry **vmas;
	unsigned nr_vmas;
	struct page_entry *pages;	/* pagemap entries, ascending */
	size_t nr_pages;
	uint64_t nr_present;		/* pages with data */
	uint8_t *page_link;		/* per entry of pages: the chain link whose
					   pages file holds its data (0: this set) */
	unsigned *link_pages_id;	/* per chain link: its pages-N.img of this
					   task (0: none used); NULL: no parent used */
	struct rst_src *srcs;		/* the parents' blocks its PE_RST_PIECE
					   entries are pieces of (restore-chain.c) */
	size_t nr_srcs, cap_srcs;
	struct rst_parents *parents;	/* what was read of the parents, kept
					   until rst_hash_pieces */
	unsigned pages_id;
	FsEntry *fs;
	FdEntry **fds;
	unsigned nr_fds;

	int status_fd;			/* the task's end of its status socketpair */
	int engine_fd;			/* the intermediate process's end */
	bool reported;			/* its blob sent a status */
	bool released;			/* RESTORE_GO sent: it runs its own code */
	int pidfd;			/* intermediate process: the task, once it
					 * exists (its death fails the restore) */
	uint64_t region_start;		/* where the blob and its arguments lie */
	uint64_t region_end;
	struct restore_range *lazy;	/* restore --lazy: its VMAs served by the
					   lazy server, ascending (restore-lazy.c) */
	unsigned nr_lazy;
	uint64_t *cow_at;		/* per VMA: RST_COW_WANTED when it shares pages
					   with the parent task or a child (PE_COW), then
					   where its premapped copy lies; 0: neither;
					   NULL: no VMA does (restore-cow.c) */
};

/* A file description of files.img, or a shared memory object: opened once
 * by the intermediate process at a high fd that every task inherits. */
struct rst_desc {
	FileDescEntry *fe;
	int fd;
};

struct rst_shmem {
	uint64_t shmid;
	uint32_t ghost_id;
	bool has_ghost;
	uint64_t size;		/* the largest extent any VMA maps */
	uint64_t hugetlb_kb;	/* MAP_HUGETLB memory: its page size, else 0 */
	int fd;
};

/* A deleted file or memfd recreated from ghost-N.img, once per id. */
struct rst_ghost {
	uint32_t id;
	int fd;
};

/* A file every restored mapping or fd refers to, opened once. */
struct rst_vmfile {
	char *path;
	bool write;
	int fd;
};

/* MAP_SHARED between the daemon, the intermediate process and every task
 * until it enters the blob: how far the tree got, and the first error. */
struct rst_shared {
	struct ckpt_err err;		/* ctx->err of every process */
	_Atomic int failed;		/* a task gave up: everyone stops */
	_Atomic unsigned forked;	/* tasks created (zombies included) */
	_Atomic int stage;		/* futex: 1 = every task exists */
	char cgroup[2048];		/* where the tree went (restore-cgroup.c) */
	pid_t lazy_server;		/* restore --lazy: its server process */
	_Atomic uint64_t pages_read;	/* data pages the blobs have read: each adds
					   its own (restore_args.pages_done_addr),
					   the handler reports it as "pages" */
};

struct rst_ctx {
	const struct restore_opts *opts;
	const struct kerndat *kd;
	struct ckpt_err *err;
	int dirfd;
	long page_size;

	InventoryEntry *inv;
	struct rst_task *tasks;		/* pstree.img order: root first */
	unsigned nr_tasks;
	unsigned nr_alive;		/* tasks that are not zombies */
	PstreeEntry **pstree;

	struct rst_desc *descs;
	unsigned nr_descs;
	struct rst_shmem *shmems;
	unsigned nr_shmems;
	struct rst_vmfile *vmfiles;
	unsigned nr_vmfiles;
	struct rst_ghost *ghosts;
	unsigned nr_ghosts;
	int max_fd;			/* the highest fd number any task uses */
	int pages_fd_base;		/* first high fd of the intermediate */

	struct rst_shared *sh;
	pid_t handler;			/* the process that forked the intermediate
					 * one: its death aborts the restore */
	uint64_t pages;
	bool can_raise_rlimits;		/* CAP_SYS_RESOURCE is effective here */
	struct chain *chain;		/* an incremental set: it and its parents
					   (restore-chain.c); NULL: a full set */
	uint64_t lazy_pages;		/* restore --lazy: data pages left to the server */
	int lazy_fd;			/* intermediate process: the tasks' end of the
					   lazy server's socket (-1: none) */
	int lazy_ctl;			/* intermediate process: its line to the server */
};

/* restore-chain.c: an incremental set's chain (after the inventory), and
 * its IN_PARENT entries resolved: emit is called for each piece, ascending,
 * with the reader of the link that holds its data (NULL for zeros). *pp
 * carries what was read of the parents for this task (start with NULL;
 * free with rst_parents_free).
 *
 * A piece of a parent's block is not hashed then: it is emitted with
 * PE_RST_PIECE and, in place of its checksum, the index in t->srcs of the
 * whole block. Once the lazy VMAs are chosen, rst_hash_pieces reads each
 * such block the blobs will fill, checks it and hashes its pieces; a piece
 * the lazy server fills keeps PE_RST_PIECE, and the server checks the
 * whole block itself (restore-lazy.c), so a lazy restore reads nothing of
 * its parents before the tree runs. */
struct chain;
struct rst_parents;
#define PE_RST_PIECE	(1u << 16)	/* restore only: xxh3 indexes t->srcs */
struct rst_src {
	uint64_t vaddr;		/* the whole block: where it maps, */
	uint64_t off;		/* its byte offset in its link's pages file, */
	uint64_t xxh3;		/* its checksum, */
	uint32_t nr_pages;	/* its size */
	uint32_t link;		/* and the chain link that holds it */
};
typedef int (*rst_emit_fn)(struct rst_ctx *ctx, struct rst_task *t, struct page_reader *pr,
			   const struct page_entry *piece, unsigned link, void *opaque);
int rst_load_chain(struct rst_ctx *ctx);
int rst_resolve_in_parent(struct rst_ctx *ctx, struct rst_task *t, struct rst_parents **pp,
			  const struct page_entry *e, rst_emit_fn emit, void *opaque);
void rst_parents_free(struct rst_ctx *ctx, struct rst_parents *pp);
int rst_hash_pieces(struct rst_ctx *ctx);
void rst_free_chain(struct rst_ctx *ctx);
/* The chain's parent directories moved above the task's fds (intermediate
 * process, like ctx->dirfd); 0 or -errno. */
int rst_chain_move_high(struct rst_ctx *ctx);

/* restore-cow.c: copy-on-write sharing between a task and its parent.
 * rst_cow_plan (after rst_load, before rst_lazy_choose) checks every
 * PE_COW entry and marks the VMAs that share; rst_cow_premap (each task,
 * before it forks its children) fills a premapped copy of each such VMA
 * that the children inherit and every blob moves into place
 * (restore_vma.premap). */
#define RST_COW_WANTED	1ull
int rst_cow_plan(struct rst_ctx *ctx);
bool rst_vma_cow(const struct rst_task *t, unsigned vma);
int rst_cow_premap(struct rst_ctx *ctx, struct rst_task *t);

/* restore-lazy.c: restore --lazy. rst_lazy_choose picks each task's lazy
 * VMAs (before the fork); rst_lazy_start forks the lazy server from the
 * intermediate process once everything is open; rst_lazy_check fails when
 * the server died; rst_lazy_commit tells it the restore committed. */
int rst_lazy_choose(struct rst_ctx *ctx);
bool rst_vma_lazy(const struct rst_task *t, const VmaEntry *v);
bool rst_addr_lazy(const struct rst_task *t, uint64_t addr);
int rst_lazy_start(struct rst_ctx *ctx);
int rst_lazy_check(struct rst_ctx *ctx);
int rst_lazy_commit(struct rst_ctx *ctx);
void rst_lazy_abort(struct rst_ctx *ctx);

/* restore-images.c */
int rst_load(struct rst_ctx *ctx);
/* Read every record of (kind, id) into *ret (head first), at most max. */
int rst_read_records(struct rst_ctx *ctx, enum img_kind kind, unsigned id, unsigned max,
		     ProtobufCMessage ***ret, unsigned *nr);
/* Every path of an image is absolute: a relative one would be resolved
 * from wherever ckptd runs. file: the image, rec: the record, field: its
 * name. */
int rst_check_abs_path(struct rst_ctx *ctx, const char *file, const char *rec,
		       const char *field, const char *path);
void rst_free(struct rst_ctx *ctx);
struct rst_task *rst_find(struct rst_ctx *ctx, pid_t pid);
/* restore-fds.c: files.img; one task's fs-PID.img, then its fds checked
 * by their kinds (daemon/files/kinds.h). */
int rst_load_files(struct rst_ctx *ctx);
int rst_load_fs(struct rst_ctx *ctx, struct rst_task *t);
int rst_check_fds(struct rst_ctx *ctx, struct rst_task *t);
/* restore-filecheck.c */
int rst_check_ghosts(struct rst_ctx *ctx);
/* Every file the tasks map or hold open must still be the one saved, as
 * opts->file_validation wants (run after rst_check_creds: who may not
 * restore the set learns nothing of it). */
int rst_check_files(struct rst_ctx *ctx);
/* files/pipe.c: every pipe must come back with both its ends (run after
 * rst_load). */
int rst_check_pipes(struct rst_ctx *ctx);
/* restore-pids.c: every saved pid and tid must be free here. */
int rst_check_pids(struct rst_ctx *ctx);
/* Compare a file on disk with what the image recorded, as
 * opts->file_validation wants; fd may be -1 (the path is stat()ed).
 * rst_check_identity: the executable or a mapped file; rst_check_open_file:
 * the file of a description held open (fe->file), with its saved offset. */
int rst_check_identity(struct rst_ctx *ctx, const char *what, int fd,
		       const FileIdentity *id);
int rst_check_open_file(struct rst_ctx *ctx, const char *what, int fd,
			const FileDescEntry *fe);
uint64_t rst_encode_dev(dev_t dev);
/* The path as the image saw it, without a " (deleted)" suffix. */
void rst_clean_path(const char *in, char *out, size_t len);

/* restore-files.c (intermediate process) */
int rst_open_descs(struct rst_ctx *ctx);
int rst_open_vmfiles(struct rst_ctx *ctx);
int rst_open_shmems(struct rst_ctx *ctx);
/* (each task) */
int rst_install_fds(struct rst_ctx *ctx, struct rst_task *t);
struct rst_desc *rst_desc_find(struct rst_ctx *ctx, uint32_t id);
int rst_vmfile_fd(struct rst_ctx *ctx, const char *path, bool write);
void rst_vma_key(VmaEntry *v, char *buf, size_t len);
/* Move fd above every fd number a task uses (closes the old one). */
int rst_move_high(struct rst_ctx *ctx, int fd);
struct rst_shmem *rst_shmem_find(struct rst_ctx *ctx, uint64_t shmid);
/* Create an unlinked copy of ghost-N.img's contents; the fd into *ret. */
int rst_ghost_open(struct rst_ctx *ctx, uint32_t ghost_id, const char *near_path,
		   const char *memfd_name, uint64_t hugetlb_kb, int *ret);

/* restore-hugetlb.c: hugetlb objects, and the pools they need */
bool rst_hugetlb_is(int fd, uint64_t kb);
int rst_hugetlb_memfd(const char *name, uint64_t kb);
/* A shared read-write mapping of fd's size bytes (reserves its pages). */
int rst_hugetlb_map(int fd, uint64_t size, uint8_t **ret);
int rst_check_hugetlb(struct rst_ctx *ctx);

/* restore-task.c (each task, before the blob) */
int rst_task_fs(struct rst_ctx *ctx, struct rst_task *t);
int rst_task_rlimits(struct rst_ctx *ctx, struct rst_task *t);
/* Before anything is forked: every hard limit can be set by the task. */
int rst_check_rlimits(struct rst_ctx *ctx, struct rst_task *t);
int rst_task_misc(struct rst_ctx *ctx, struct rst_task *t);
/* restore-creds.c */
int rst_check_creds(struct rst_ctx *ctx);

/* restore-tree.c: the intermediate process's whole life; returns its
 * exit code (0: every task runs). */
int rst_intermediate(struct rst_ctx *ctx);
/* "was killed by signal 9 (SIGKILL)", "exited with status 1": how a
 * process or thread with wait status st ended, into buf. */
const char *rst_death(int st, char *buf, size_t len);

/* restore-task.c (each task): fs, fds, misc, the blob's arguments,
 * rlimits, then into the blob. Never returns on success. */
int rst_task_run(struct rst_ctx *ctx, struct rst_task *t);

/* restore-mm.c (each task): the blob mapped and its arguments filled, then
 * the jump. The blob's restore_args flatten what the engine loaded. */
struct rst_blob {
	void *entry;			/* the blob's offset 0 */
	struct restore_args *args;
	int *keep;			/* fds that survive into the blob */
	unsigned nr_keep;
};
/* Close every fd but keep[0..n) (sorted here; negative entries ignored):
 * a task before its blob (its own fds and the blob's), the lazy server
 * (its pages files and sockets). 0 or -errno. */
int rst_close_fds_but(int *keep, unsigned n);
/* Each chain link's pages-N.img of t that holds some of its pages, at a
 * high fd ([0] this set's, always; -1 for a link not used). */
int rst_open_pages_fds(struct rst_ctx *ctx, struct rst_task *t, int *fds, unsigned *nr);
int rst_blob_prepare(struct rst_ctx *ctx, struct rst_task *t, struct rst_blob *b);
/* Close every other fd, block every signal, jump: returns only on failure. */
int rst_blob_enter(struct rst_ctx *ctx, struct rst_task *t, struct rst_blob *b);
/* Check what the blob needs before anything is forked. */
int rst_check_mm(struct rst_ctx *ctx, struct rst_task *t);
/* Engine side of one task's status report: 0 when the blob is done. */
int rst_blob_status(struct rst_ctx *ctx, struct rst_task *t);
/* Let a task that reported success resume. */
int rst_blob_go(struct rst_ctx *ctx, struct rst_task *t);
/* restore-unmap.c: remove the blob's region once the task left it. */
int rst_unmap_region(struct rst_ctx *ctx, struct rst_task *t);
/* The same for a task left group-stopped inside the blob: it stays stopped. */
int rst_finish_stopped(struct rst_ctx *ctx, struct rst_task *t);
/* Send a running task RESTORE_GO under ptrace and see it out of the blob:
 * 0, RST_NOT_SEIZED when it could not be seized (RESTORE_GO not sent: the
 * caller sends it the plain way), or < 0 (reported) when a thread died or
 * took a fatal signal before it was out of its rt_sigreturn: the task is
 * killed then. rst_finish_stopped reports the same. */
#define RST_NOT_SEIZED	1
int rst_release_running(struct rst_ctx *ctx, struct rst_task *t);

#endif
