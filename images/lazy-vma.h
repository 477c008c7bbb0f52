/* Which VMAs a lazy restore may leave to its server instead of the blob.
 * Two sides decide it and must agree: the restore (daemon/restore-lazy.c)
 * and, for a post-copy migration, its source (client/migrate-postcopy.c),
 * which holds back exactly these VMAs' pages of the final round.
 *
 * Anonymous and private (plain, stack or heap), readable, neither
 * mlock()ed (mlock would fault every page in inside the blob), nor with
 * guard regions or MADV_WIPEONFORK (a child's copy would have to read
 * zeros), nor MAP_DROPPABLE (the kernel marks it WIPEONFORK too; the
 * flag is checked itself, whatever madv says), nor hugetlb memory (its
 * faults come a huge page at a time, which the server does not fill). */
#ifndef CKPT_LAZY_VMA_H
#define CKPT_LAZY_VMA_H

#include <stdbool.h>
#include <sys/mman.h>

#include "mm.pb-c.h"

static inline bool vma_lazy_kind(const VmaEntry *v)
{
	return (v->kind == VMA_KIND__VMA_ANON_PRIVATE || v->kind == VMA_KIND__VMA_STACK ||
		v->kind == VMA_KIND__VMA_HEAP) &&
	       (v->prot & PROT_READ) && !(v->flags & MAP_LOCKED) && !v->n_guards &&
	       !(v->has_madv && (v->madv & (1ULL << MADV_WIPEONFORK))) &&
	       !(v->flags & 0x08 /* MAP_DROPPABLE */) && !v->has_hugetlb_kb;
}

#endif
