/* A task's memory for the dump: mm-PID.img, pagemap-PID.img, pages-N.img. */
#ifndef CKPT_MEM_H
#define CKPT_MEM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/track/track.h"

struct dump_ctx;
struct task;

/* How a round of an incremental chain saves a task's pages; dump.c decides
 * it per task (NULL or kind TRACK_NONE: a plain full dump). A page present
 * now is saved as data when it was written since the parent (dirty), when
 * the parent holds nothing for it, or when its VMA is not exactly the
 * parent's (new, moved, grown, re-protected: saved whole); a present page
 * otherwise is IN_PARENT. A page not present is not recorded at all, so it
 * reads as zeros on restore, never as a stale copy from a parent. With the
 * hash tracker every present page is read and hashed instead, and IN_PARENT
 * when the parent's hashes-PID.img has the same hash for its address; this
 * set's hashes-PID.img gets every present page's hash. */
struct mm_incr {
	enum track_kind kind;
	int parent_dirfd;		/* the parent set, or -1 */
	bool whole;			/* every page as data (no parent for this
					   task, or its tracking was lost) */
	const struct run_list *dirty;	/* soft-dirty, uffd-wp: written since the
					   parent, ascending */
	const struct run_list *cow;	/* any dump: the runs that are the parent
					   task's frames, recorded PE_COW (only in
					   a set without a parent set, mem-cow.h);
					   NULL: none */
};

/* Whether the set in dirfd holds pid's memory (mm-PID.img). */
bool mm_in_set(int dirfd, pid_t pid);

/* What dump_task_mm found, for dump.c to record. */
struct mm_result {
	unsigned vmas;			/* VMA records written */
	uint64_t pages_written;		/* pages stored in pages-N.img */
	uint64_t pages_counted;		/* smaps said this many were to save... */
	uint64_t pages_zero;		/* ...of which these read as zeros */
	uint64_t pages_in_parent;	/* recorded IN_PARENT */
	uint64_t pages_cow;		/* ...and these PE_COW (the parent stores them) */
};

/* Write t's mm-PID.img, pagemap-PID.img and pages-N.img (N: t->pages_id).
 * syscall_ip is the `syscall` instruction dump_task_core found in t (0:
 * none), through which brk(0) is asked; so the core runs first. Progress
 * ("pages") counts on from ctx's totals so far. incr: how an incremental
 * round saves them (NULL: all as data). *ret is set on success. */
int dump_task_mm(struct dump_ctx *ctx, struct task *t, unsigned long syscall_ip,
		 const struct mm_incr *incr, struct mm_result *ret);

/* A pre-dump's two halves ("freeze only to scan"): with the tree frozen,
 * read the VMAs and write mm-PID.img (dump_task_mm_plan; the tracker has
 * collected and re-armed before, dump-incr.h); with the tree running
 * again, find the present pages and copy them (dump_task_mm_copy: a page
 * written meanwhile is copied as it is then, and its tracker has it for
 * the next round too; a page dropped or unmapped meanwhile is recorded as
 * absent or zeros, and the next round finds it so). incr must stay valid
 * until the copy is done. Free with dump_task_mm_free either way. brk
 * comes from the heap: no syscall is run. */
struct mm_dump;
int dump_task_mm_plan(struct dump_ctx *ctx, struct task *t, const struct mm_incr *incr,
		      struct mm_dump **ret);
int dump_task_mm_copy(struct mm_dump *d, struct mm_result *ret);
void dump_task_mm_free(struct mm_dump *d);

#endif
