/* Dirty-page trackers: which pages of a task were written since the last
 * round of an incremental dump (Documentation/incremental.md).
 *
 * One interface, one file per backend:
 *   soft-dirty.c  clear_refs 4 + pagemap bit 55 (PAGEMAP_SCAN with
 *                 PAGE_IS_SOFT_DIRTY where the ioctl exists);
 *   uffd-wp.c     a userfaultfd made inside the target (WP_ASYNC), held by
 *                 a keeper process (keeper.c) between rounds; one
 *                 PAGEMAP_SCAN with PM_SCAN_WP_MATCHING per round reports
 *                 the written ranges and re-protects them;
 *   hash.c        a hash per page kept in the image set: no live state,
 *                 every kernel; the dump reads every page, writes only the
 *                 changed ones (driven from mem.c, since it needs the bytes).
 *
 * A round, for each task:
 *   track_task_open()   with the tree frozen: attach to what the previous
 *                       round left (or get ready to arm, on the first
 *                       round); tracking that was lost (exec, a closed
 *                       uffd, a task that is new) is reported, never
 *                       guessed: *lost says why, and the caller saves that
 *                       task whole and arms;
 *   track_task_collect() the written runs of the whole address space since
 *                       the last round, ascending, and re-arm, so that a
 *                       page written from now on (while pages are copied)
 *                       counts for the next round; track_task_arm() on a
 *                       first round. Both with the tree frozen, or, where
 *                       track_scans_running(), with it running again;
 *   track_task_close()  keep tracking for the next round (pre-dump,
 *                       --leave-running) or stop it (final dump, failure).
 * Nothing here prints; failures go to err with the pid. */
#ifndef CKPT_TRACK_H
#define CKPT_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "daemon/pagescan.h"	/* struct page_run */

struct kerndat;

enum track_kind {
	TRACK_NONE = 0,		/* a full dump */
	TRACK_SOFT_DIRTY = 1,
	TRACK_UFFD_WP = 2,
	TRACK_HASH = 3,
};

/* "soft-dirty", "uffd-wp", "hash", "none" (inventory.img's tracker). */
const char *track_name(enum track_kind k);
/* Name to kind; "auto" gives track_auto(kd). -EINVAL for anything else. */
int track_parse(const char *name, const struct kerndat *kd, enum track_kind *ret);
/* Whether this kernel offers k; if not and why is non-NULL, *why says what
 * is missing ("CONFIG_MEM_SOFT_DIRTY is off: bit 55 stayed clear after a
 * write"). */
bool track_available(enum track_kind k, const struct kerndat *kd, const char **why);
/* The best tracker this kernel offers: uffd-wp, else soft-dirty, else hash. */
enum track_kind track_auto(const struct kerndat *kd);

/* Whether k's collect and arm may run with the task running, after the
 * freeze (a pre-dump's freeze then does not grow with the memory):
 * uffd-wp's PAGEMAP_SCAN with PM_SCAN_WP_MATCHING reads and re-protects
 * each PTE under its page-table lock and flushes the TLB before it
 * returns, so a page written after the scan passed it reads as written
 * next round, and one written before is in this round's runs and copied
 * after the scan. hash: no live state (the bytes hashed are the bytes
 * saved). soft-dirty: no (pagemap is read, then clear_refs clears the
 * whole mm: a write in between would be lost). */
bool track_scans_running(enum track_kind k);

/* A sorted, growable list of page runs (page-aligned, end exclusive). */
struct run_list {
	struct page_run *r;
	size_t nr, cap;
};
int run_list_add(struct run_list *l, uint64_t start, uint64_t end);	/* merges adjacent */
void run_list_free(struct run_list *l);

struct track_task;

/* pid is frozen: ptrace-stopped by the calling process (seized with
 * PTRACE_O_TRACESYSGOOD, as freeze.c does; uffd-wp's first round injects
 * syscalls into it). first: this is the first round of a chain (nothing
 * to collect yet; any state a previous chain left for pid is dropped;
 * the caller then arms with track_task_arm()). On an attach that finds tracking lost, returns 0 with *ret
 * NULL and lost (lostlen bytes) saying why; the caller saves the task
 * whole and calls track_task_open(first=true) to arm again.
 *
 * What reads as lost: uffd-wp: no keeper for this pid and start time (a
 * task new since the last round, a fork's child among them; a keeper
 * killed; a reboot, since KEEPER_DIR is under /run), an exec since the
 * last round, a keeper holding no uffd. soft-dirty never reports lost (it
 * keeps no state; after an exec every page reads as written anyway): the
 * dump side compares the task with its parent image (start time, exe).
 * TRACK_HASH has no live state: -EOPNOTSUPP (the dump drives hash.c); a
 * tracker this kernel lacks: -EOPNOTSUPP with a message naming what is
 * missing. */
int track_task_open(enum track_kind k, const struct kerndat *kd, pid_t pid, bool first,
		    struct track_task **ret, char *lost, size_t lostlen, struct ckpt_err *err);
/* The runs written since the last round, into out (merged into it,
 * ascending), and re-arm: a page written from the moment a VMA's scan
 * passed it counts for the next round. Only meaningful after an attach
 * (first == false). The task must be frozen unless track_scans_running();
 * a VMA made, moved or re-made while it runs reads as out of tracking
 * (reported whole) next round.
 *
 * The runs are where to look, not what to save: they are the written
 * present or swapped pages, plus, whole, every VMA out of tracking (new
 * or moved since the last round, or refused by the kernel: every round);
 * within them the dump selects pages as it always does (anonymous, not
 * the zero page). A page not present now is never reported (one dropped
 * with MADV_DONTNEED/MADV_FREE reads as not written): the dump must check
 * presence itself and never resolve an absent page from a parent. A run
 * may cover pages holding zeros (a read fault in a hole reads as
 * written). soft-dirty reports a VMA made since the last round whole by
 * itself (VM_SOFTDIRTY). */
int track_task_collect(struct track_task *tt, struct run_list *out, struct ckpt_err *err);
/* Arm for the next round without collecting (first round, or after a
 * whole save); frozen as for collect. */
int track_task_arm(struct track_task *tt, struct ckpt_err *err);
/* keep: leave tracking in place for the next round (uffd-wp: the
 * ckpt-keeper process holding the uffd stays, see keeper.h; the target's
 * VMAs stay registered); else stop it for good (the keeper exits, its
 * registry file goes, the kernel drops the registrations with the last
 * copy of the uffd). Frees tt; NULL is a no-op. */
void track_task_close(struct track_task *tt, bool keep);

/* Drop any tracking state kept for pid (a chain abandoned); 0 if none. */
int track_forget(pid_t pid);

/* The tasks tracked between rounds right now (for ckptctl status:
 * "tracking pid N (uffd-wp, keeper pid K)"); stale state is dropped on the
 * way. *ret is malloc'ed (NULL when *ret_nr is 0). */
struct track_entry {
	pid_t pid;
	enum track_kind kind;
	pid_t keeper;
};
int track_list(struct track_entry **ret, size_t *ret_nr);

#endif
