/* The parent set's view of a task's memory: see mem-parent.h. */
#include "daemon/mem-parent.h"

#include <errno.h>
#include <stdlib.h>

#include "common/util.h"
#include "daemon/vma.h"
#include "images/img.h"
#include "images/pages.h"
#include "mm.pb-c.h"

static int load_vmas(int dirfd, pid_t pid, struct mm_parent *p, struct ckpt_err *err)
{
	ProtobufCMessage *m;
	struct img *img;
	size_t cap = 0;
	int r;

	r = img_open(dirfd, IMG_MM, pid, &img);
	if (r < 0)
		goto fail;
	/* the head (mm_entry), then the VMAs */
	while ((r = img_read_next(img, &m)) == 0 && m) {
		VmaEntry *v = (VmaEntry *)m;

		if (m->descriptor != &vma_entry__descriptor) {
			protobuf_c_message_free_unpacked(m, NULL);
			continue;
		}
		if (p->nr_vmas == cap) {
			struct parent_vma *nv;

			cap = cap ? cap * 2 : 64;
			nv = realloc(p->vmas, cap * sizeof(*nv));
			if (!nv) {
				protobuf_c_message_free_unpacked(m, NULL);
				img_close(img);
				return ckpt_fail(err, -ENOMEM, "pid %d: out of memory", pid);
			}
			p->vmas = nv;
		}
		p->vmas[p->nr_vmas++] = (struct parent_vma){
			.start = v->start, .end = v->end, .pgoff = v->pgoff,
			.prot = v->prot, .flags = v->flags, .kind = v->kind,
		};
		protobuf_c_message_free_unpacked(m, NULL);
	}
	if (r < 0)
		goto fail;
	img_close(img);
	return 0;
fail:
	ckpt_fail(err, r, "pid %d: the parent set's %s", pid, img_errmsg(img));
	img_abort(img);
	return r;
}

static int load_covered(int dirfd, pid_t pid, unsigned page_size, struct mm_parent *p,
			struct ckpt_err *err)
{
	struct page_reader *pr = NULL;
	struct page_entry e;
	int r;

	r = pager_open(dirfd, pid, &pr);
	if (r == 0 && pager_page_size(pr) != page_size)
		r = -EBADMSG;
	/* a PE_COW page is the parent task's as of that set: a later round
	 * saves it again rather than point at it (restore-chain.c refuses) */
	while (r == 0 && (r = pager_next(pr, &e)) > 0)
		if (e.flags != PE_COW)
			r = run_list_add(&p->covered, e.vaddr,
					 e.vaddr + (uint64_t)e.nr_pages * page_size);
	if (r < 0)
		ckpt_fail(err, r, "pid %d: the parent set's %s", pid,
			  pr ? pager_errmsg(pr) : "pagemap image cannot be read");
	pager_close(pr);
	return r < 0 ? r : 0;
}

int mm_parent_load(int dirfd, pid_t pid, unsigned page_size, struct mm_parent *ret,
		   struct ckpt_err *err)
{
	int r;

	*ret = (struct mm_parent){ 0 };
	r = load_vmas(dirfd, pid, ret, err);
	if (r == 0)
		r = load_covered(dirfd, pid, page_size, ret, err);
	if (r < 0)
		mm_parent_free(ret);
	return r;
}

void mm_parent_free(struct mm_parent *p)
{
	free(p->vmas);
	run_list_free(&p->covered);
	*p = (struct mm_parent){ 0 };
}

bool mm_parent_same_vma(struct mm_parent *p, const struct vma *v)
{
	const struct parent_vma *pv;

	while (p->vi < p->nr_vmas && p->vmas[p->vi].end <= v->start)
		p->vi++;
	if (p->vi == p->nr_vmas)
		return false;
	pv = &p->vmas[p->vi];
	return pv->start == v->start && pv->end == v->end && pv->pgoff == v->pgoff &&
	       pv->prot == v->prot && pv->flags == v->flags && pv->kind == v->kind;
}

bool run_list_at(const struct run_list *l, size_t *i, uint64_t addr, uint64_t end,
		 uint64_t *ret_next)
{
	while (*i < l->nr && l->r[*i].end <= addr)
		(*i)++;
	if (*i < l->nr && l->r[*i].start <= addr) {
		*ret_next = MIN(l->r[*i].end, end);
		return true;
	}
	*ret_next = *i < l->nr ? MIN(l->r[*i].start, end) : end;
	return false;
}
