/* Where image data may still go in one served mm (lazy-int.h has the
 * map of the server's pieces).
 *
 * It is kept per mm as sorted extents {current start, end, image start}:
 * the lazy ranges at first, moved by UFFD_EVENT_REMAP, cut by REMOVE and
 * UNMAP. The kernel refuses to copy over a page that is present (EEXIST)
 * and while the mm is changing (EAGAIN, until the event is read); the
 * extents refuse the rest (memory the process dropped or unmapped and
 * must read as zeros). So no page is ever copied into memory the process
 * has already changed.
 *
 * Lookups are binary searches while every extent is at its image address;
 * once the process moved one (mremap), a block's pieces are looked for in
 * every extent (O(extents) a block). */
#include "daemon/lazy-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* The index of the first extent ending above addr (nr_ext if none). */
static size_t ext_lower(const struct lazy_mm *m, uint64_t addr)
{
	size_t lo = 0, hi = m->nr_ext;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->ext[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The extent holding addr, or NULL. */
struct lazy_ext *lazy_ext_find(struct lazy_mm *m, uint64_t addr)
{
	size_t i = ext_lower(m, addr);

	return i < m->nr_ext && m->ext[i].start <= addr ? &m->ext[i] : NULL;
}

static void ext_check_moved(struct lazy_mm *m)
{
	m->moved = false;
	for (size_t i = 0; i < m->nr_ext; i++)
		if (m->ext[i].img != m->ext[i].start)
			m->moved = true;
}

/* Cut [start, end) out: one extent may become two. */
int lazy_ext_cut(struct lazy_mm *m, uint64_t start, uint64_t end)
{
	struct lazy_ext *n = malloc((m->nr_ext + 1) * sizeof(*n));
	size_t k = 0;

	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < m->nr_ext; i++) {
		struct lazy_ext x = m->ext[i];

		if (x.end <= start || x.start >= end) {
			n[k++] = x;
			continue;
		}
		if (x.start < start)
			n[k++] = (struct lazy_ext){ x.start, start, x.img };
		if (x.end > end)
			n[k++] = (struct lazy_ext){ end, x.end, x.img + (end - x.start) };
	}
	free(m->ext);
	m->ext = n;
	m->nr_ext = k;
	return 0;
}

static int ext_cmp(const void *a, const void *b)
{
	const struct lazy_ext *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* mremap: what was at [from, from + len) is now at [to, to + len). */
int lazy_ext_remap(struct lazy_mm *m, uint64_t from, uint64_t to, uint64_t len)
{
	_cleanup_free_ struct lazy_ext *moved = malloc((m->nr_ext + 1) * sizeof(*moved));
	struct lazy_ext *n;
	size_t k = 0;
	int r;

	if (!moved)
		return -ENOMEM;
	for (size_t i = 0; i < m->nr_ext; i++) {
		struct lazy_ext x = m->ext[i];
		uint64_t lo = MAX(x.start, from), hi = MIN(x.end, from + len);

		if (lo < hi)
			moved[k++] = (struct lazy_ext){ lo - from + to, hi - from + to,
							x.img + (lo - x.start) };
	}
	r = lazy_ext_cut(m, from, from + len);
	if (r == 0)
		r = lazy_ext_cut(m, to, to + len);
	if (r < 0)
		return r;
	n = realloc(m->ext, (m->nr_ext + k + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	memcpy(n + m->nr_ext, moved, k * sizeof(*n));
	m->ext = n;
	m->nr_ext += k;
	qsort(m->ext, m->nr_ext, sizeof(*m->ext), ext_cmp);
	ext_check_moved(m);
	return 0;
}

/* The block holding image address img, or -1. */
ssize_t lazy_block_find(const struct lazy_task *t, uint64_t img)
{
	size_t lo = 0, hi = t->nr_blocks;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (lazy_block_end(&t->blocks[mid]) <= img)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->nr_blocks && t->blocks[lo].vaddr <= img ? (ssize_t)lo : -1;
}

/* The extents that may hold part of image range [lo, hi), as indexes
 * [*first, *last): all of them once something moved (O(extents)), else
 * found by address, image and current addresses being the same. */
void lazy_ext_span(struct lazy_mm *m, uint64_t lo, uint64_t hi, size_t *first, size_t *last)
{
	size_t b;

	if (m->moved) {
		*first = 0;
		*last = m->nr_ext;
		return;
	}
	*first = ext_lower(m, lo);
	for (b = *first; b < m->nr_ext && m->ext[b].start < hi; b++)
		;
	*last = b;
}

/* The part of block b's image range that extent x holds, as current
 * addresses [*dst, *dst + *len) and image address *img; false if none. */
bool lazy_piece(const struct lazy_block *b, const struct lazy_ext *x, uint64_t *dst,
		uint64_t *img, uint64_t *len)
{
	uint64_t lo = MAX(b->vaddr, x->img);
	uint64_t hi = MIN(lazy_block_end(b), x->img + (x->end - x->start));

	if (lo >= hi)
		return false;
	*dst = x->start + (lo - x->img);
	*img = lo;
	*len = hi - lo;
	return true;
}

/* Whether block b still has somewhere to go in m. */
bool lazy_block_wanted(struct lazy_mm *m, const struct lazy_block *b)
{
	uint64_t dst, img, len;
	size_t i, last;

	lazy_ext_span(m, b->vaddr, lazy_block_end(b), &i, &last);
	for (; i < last; i++)
		if (lazy_piece(b, &m->ext[i], &dst, &img, &len))
			return true;
	return false;
}
