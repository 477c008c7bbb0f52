/* What the parent set of an incremental round holds of one task's memory:
 * its VMAs (mm-PID.img) and the ranges its pagemap-PID.img covers (data,
 * zeros or IN_PARENT further up the chain: whatever the entry, restore
 * resolves it). mem.c asks which VMAs are unchanged and which pages the
 * parent can stand for. */
#ifndef CKPT_MEM_PARENT_H
#define CKPT_MEM_PARENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "daemon/track/track.h"	/* struct run_list */

struct vma;

struct parent_vma {
	uint64_t start, end, pgoff;
	uint32_t prot, flags;
	int kind;
};

struct mm_parent {
	struct parent_vma *vmas;	/* ascending */
	size_t nr_vmas;
	struct run_list covered;	/* pagemap entries, merged, ascending */
	size_t vi, ci;			/* cursors: callers ask in ascending order */
};

/* Load pid's mm-PID.img and pagemap-PID.img from the parent set dirfd.
 * A failure names the file and the offset. */
int mm_parent_load(int dirfd, pid_t pid, unsigned page_size, struct mm_parent *ret,
		   struct ckpt_err *err);
void mm_parent_free(struct mm_parent *p);

/* Whether v is exactly a VMA of the parent (bounds, offset, protection,
 * flags, kind). Ask in ascending order. */
bool mm_parent_same_vma(struct mm_parent *p, const struct vma *v);

/* Whether addr lies in a run of l, and where that stops being so (at most
 * end) into *ret_next; *i is a cursor: ask in ascending order. */
bool run_list_at(const struct run_list *l, size_t *i, uint64_t addr, uint64_t end,
		 uint64_t *ret_next);

#endif
