/* Copy-on-write sharing with the parent task, at dump: a page of a private
 * anonymous VMA that a task still shares with its parent since a fork (the
 * same physical frame at the same address, in VMAs of the same extent and
 * kind) is stored once, by the parent, and recorded in the child's pagemap
 * as PE_COW. Only a set without a parent set records them (dump.c
 * decides), and only while the tree is frozen.
 *
 * The frames are compared for the whole tree before any page is read.
 * (Reading a page through process_vm_readv pins it, and the kernel gives a
 * task its own copy of a shared anonymous page when it is pinned; so
 * mem.c reads such memory through /proc/PID/mem instead, read_via_mem.)
 *
 * Frames come from /proc/PID/pagemap (PFNs need CAP_SYS_ADMIN, which ckptd
 * has; without them every word reads PFN 0 and nothing is shared). Only
 * the pagemap words of runs the page scan selects in the child (present
 * or swapped, not the zero page) are read, child and parent, a window at
 * a time: no page is read, the cost follows the pages present (16 bytes
 * a page), and what is kept is one run per shared run. */
#ifndef CKPT_MEM_COW_H
#define CKPT_MEM_COW_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/track/track.h"	/* struct run_list */

struct ckpt_err;
struct pstree;

struct mm_cow_plan {
	struct run_list *shared;	/* per task of the tree (its index): the
					   runs that are its parent's frames */
	unsigned nr;
};

/* Compare every task's frames with its parent task's (zombies have none).
 * use_ioctl: try PAGEMAP_SCAN (pagescan.h). A failure names the pid. */
int mm_cow_plan(const struct pstree *tree, long page_size, bool use_ioctl,
		struct mm_cow_plan *ret, struct ckpt_err *err);
void mm_cow_plan_free(struct mm_cow_plan *p);

/* Whether PE_COW may be recorded in v (private anonymous memory or heap,
 * not growing down, not hugetlb, droppable or device memory). */
struct vma;
bool mm_cow_vma_ok(const struct vma *v);

/* One page: the child's and the parent's pagemap words say the same frame
 * (both present, not swapped, a PFN seen). Exposed for the unit tests. */
bool mm_cow_word_shared(uint64_t child, uint64_t parent);

#endif
