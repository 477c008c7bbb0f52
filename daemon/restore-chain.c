/* Restore of an incremental set: its chain, and the IN_PARENT pages
 * resolved through it.
 *
 * The client opened the set's parents (nearest first) and passed them with
 * the set; chain_load binds them by set id, process and depth. A range
 * that is IN_PARENT in link i is looked up in link i + 1's pagemap-PID.img
 * for the same pid: it may span several of its entries; data there is
 * data in that link's pages-N.img (the blob reads it through an fd of its
 * own per link), zeros stay zeros, and IN_PARENT goes one link further. A
 * link that holds nothing for part of the range fails the restore, naming
 * it: a chain never makes up pages.
 *
 * A piece of a parent's block gets a checksum of its own, later
 * (restore-int.h): rst_hash_pieces reads the whole block once, verifies it
 * against its entry and hashes the pieces the blobs fill, which read them
 * again; the lazy server reads and checks the whole block for its pieces
 * itself. Each link's pagemap of the task is read once (one record per
 * entry). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/restore-int.h"
#include "images/chain.h"

int rst_load_chain(struct rst_ctx *ctx)
{
	const struct restore_opts *o = ctx->opts;
	int fds[CHAIN_MAX];
	int r;

	if (!o->nr_parents) {
		if (ctx->inv->kind == DUMP_KIND__DUMP_INCREMENTAL ||
		    (ctx->inv->parent && ctx->inv->parent[0]))
			return ckpt_fail(ctx->err, -EINVAL,
					 "inventory.img: this set is incremental (its parent is %s): "
					 "restore it with its chain (ckptctl restore follows the "
					 "parent paths itself)", ctx->inv->parent ? ctx->inv->parent : "?");
		return 0;
	}
	if (o->nr_parents + 1 > CHAIN_MAX)
		return ckpt_fail(ctx->err, -E2BIG, "a chain of %u sets is longer than the %u allowed",
				 o->nr_parents + 1, CHAIN_MAX);
	ctx->chain = calloc(1, sizeof(*ctx->chain));
	if (!ctx->chain)
		return -ENOMEM;
	fds[0] = ctx->dirfd;
	memcpy(fds + 1, o->parent_fds, o->nr_parents * sizeof(int));
	r = chain_load(fds, o->nr_parents + 1, true, ctx->chain, ctx->err);
	if (r < 0) {
		free(ctx->chain);
		ctx->chain = NULL;
		return r;
	}
	return 0;
}

void rst_free_chain(struct rst_ctx *ctx)
{
	if (!ctx->chain)
		return;
	chain_free(ctx->chain);
	free(ctx->chain);
	ctx->chain = NULL;
}

/* One link's pagemap of the task being loaded. */
struct link_map {
	struct page_reader *pr;
	struct page_entry *e;
	size_t n, cap;
	bool loaded;
};

struct resolver {
	struct rst_ctx *ctx;
	struct rst_task *t;
	rst_emit_fn emit;
	void *opaque;
	struct link_map *links;		/* [nr_links], [0] unused */
	uint8_t *buf;			/* rst_hash_pieces: the last block read */
};

static int load_link(struct resolver *rs, unsigned l)
{
	struct link_map *m = &rs->links[l];
	struct rst_ctx *ctx = rs->ctx;
	pid_t pid = rs->t->pe->pid;
	struct page_entry e;
	char name[4200];
	int r;

	if (m->loaded)
		return 0;
	m->loaded = true;
	r = pager_open(ctx->chain->link[l].dirfd, pid, &m->pr);
	if (r == -ENOENT)
		return 0;	/* no pages of pid there: it covers nothing */
	if (r < 0)
		return ckpt_fail(ctx->err, r, "%s: %s", chain_link_name(ctx->chain, l, name, sizeof(name)),
				 m->pr ? pager_errmsg(m->pr) : "cannot open its pagemap image");
	if (pager_page_size(m->pr) != ctx->page_size)
		return ckpt_fail(ctx->err, -EBADMSG, "%s: pagemap-%d.img: page size %u is not %ld",
				 chain_link_name(ctx->chain, l, name, sizeof(name)), pid,
				 pager_page_size(m->pr), ctx->page_size);
	rs->t->link_pages_id[l] = pager_pages_id(m->pr);
	while ((r = pager_next(m->pr, &e)) > 0) {
		if (m->n == m->cap) {
			struct page_entry *ne;

			m->cap = m->cap ? m->cap * 2 : 64;
			ne = realloc(m->e, m->cap * sizeof(*ne));
			if (!ne)
				return -ENOMEM;
			m->e = ne;
		}
		m->e[m->n++] = e;
	}
	if (r < 0)
		return ckpt_fail(ctx->err, r, "%s: %s", chain_link_name(ctx->chain, l, name, sizeof(name)),
				 pager_errmsg(m->pr));
	return 0;
}

/* The first entry of m that ends after a (entries ascend). */
static size_t find_entry(const struct link_map *m, uint64_t a, uint64_t ps)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->e[mid].vaddr + (uint64_t)m->e[mid].nr_pages * ps <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The piece [a, end) of link l's data entry pe: pe itself when whole;
 * otherwise PE_RST_PIECE, its checksum left to rst_hash_pieces. */
static int data_piece(struct resolver *rs, unsigned l, const struct page_entry *pe,
		      uint64_t a, uint64_t end, struct page_entry *ret)
{
	struct rst_task *t = rs->t;
	uint64_t ps = rs->ctx->page_size;
	struct rst_src *src;

	*ret = *pe;
	if (a == pe->vaddr && end == pe->vaddr + (uint64_t)pe->nr_pages * ps)
		return 0;
	src = t->nr_srcs ? &t->srcs[t->nr_srcs - 1] : NULL;
	if (!src || src->link != l || src->off != pe->data_off) {
		if (t->nr_srcs == t->cap_srcs) {
			size_t cap = t->cap_srcs ? t->cap_srcs * 2 : 64;
			struct rst_src *n = realloc(t->srcs, cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			t->srcs = n;
			t->cap_srcs = cap;
		}
		src = &t->srcs[t->nr_srcs++];
		*src = (struct rst_src){ .vaddr = pe->vaddr, .off = pe->data_off, .xxh3 = pe->xxh3,
					 .nr_pages = pe->nr_pages, .link = l };
	}
	ret->vaddr = a;
	ret->nr_pages = (end - a) / ps;
	ret->data_off = pe->data_off + (a - pe->vaddr);
	ret->flags |= PE_RST_PIECE;
	ret->xxh3 = src - t->srcs;
	return 0;
}

/* [a, end) is IN_PARENT in link l - 1: find it in link l. */
static int resolve(struct resolver *rs, unsigned l, uint64_t a, uint64_t end)
{
	struct rst_ctx *ctx = rs->ctx;
	uint64_t ps = ctx->page_size;
	char name[4200], pname[4200];
	struct link_map *m;
	size_t i;
	int r;

	if (l >= ctx->chain->nr)
		return ckpt_fail(ctx->err, -EBADMSG,
				 "pagemap-%d.img of %s: pages at 0x%llx are IN_PARENT but it is "
				 "the last link of the chain", rs->t->pe->pid,
				 chain_link_name(ctx->chain, l - 1, name, sizeof(name)), (unsigned long long)a);
	r = load_link(rs, l);
	if (r < 0)
		return r;
	m = &rs->links[l];
	for (i = find_entry(m, a, ps); a < end; i++) {
		const struct page_entry *pe = i < m->n ? &m->e[i] : NULL;
		uint64_t pend;
		struct page_entry piece;

		if (!pe || pe->vaddr > a)
			return ckpt_fail(ctx->err, -EBADMSG,
					 "pagemap-%d.img of %s: pages at 0x%llx are IN_PARENT but "
					 "the parent, %s, holds no data for them", rs->t->pe->pid,
					 chain_link_name(ctx->chain, l - 1, name, sizeof(name)),
					 (unsigned long long)a, chain_link_name(ctx->chain, l, pname, sizeof(pname)));
		pend = MIN(end, pe->vaddr + (uint64_t)pe->nr_pages * ps);
		if (pe->flags & PE_IN_PARENT) {
			r = resolve(rs, l + 1, a, pend);
		} else if (pe->flags & PE_COW) {
			/* the parent task's page as of that link, which a later
			 * link may have changed: a dump never points there */
			r = ckpt_fail(ctx->err, -EBADMSG,
				      "pagemap-%d.img of %s: pages at 0x%llx are IN_PARENT but "
				      "%s shares them with the parent task (COW): this chain "
				      "cannot be restored; restore %s itself or dump again",
				      rs->t->pe->pid,
				      chain_link_name(ctx->chain, l - 1, name, sizeof(name)),
				      (unsigned long long)a,
				      chain_link_name(ctx->chain, l, pname, sizeof(pname)), pname);
		} else if (pe->flags & PE_ZERO) {
			piece = (struct page_entry){ .vaddr = a, .nr_pages = (pend - a) / ps,
						     .flags = PE_ZERO };
			r = rs->emit(ctx, rs->t, NULL, &piece, l, rs->opaque);
		} else {
			r = data_piece(rs, l, pe, a, pend, &piece);
			if (r == 0)
				r = rs->emit(ctx, rs->t, rs->links[l].pr, &piece, l, rs->opaque);
		}
		if (r < 0)
			return r;
		a = pend;
	}
	return 0;
}

int rst_resolve_in_parent(struct rst_ctx *ctx, struct rst_task *t, struct rst_parents **pp,
			  const struct page_entry *e, rst_emit_fn emit, void *opaque)
{
	struct resolver *rs = (struct resolver *)*pp;

	if (!ctx->chain || ctx->chain->nr < 2)
		return ckpt_fail(ctx->err, -EINVAL,
				 "pagemap-%d.img: pages at 0x%llx are IN_PARENT: this set is "
				 "incremental; restore it with its chain (ckptctl restore follows the "
				 "parent paths itself)", t->pe->pid, (unsigned long long)e->vaddr);
	if (!rs) {
		rs = calloc(1, sizeof(*rs));
		if (!rs)
			return -ENOMEM;
		*pp = (struct rst_parents *)rs;
		rs->links = calloc(ctx->chain->nr, sizeof(*rs->links));
		if (!t->link_pages_id)
			t->link_pages_id = calloc(ctx->chain->nr, sizeof(*t->link_pages_id));
		if (!rs->links || !t->link_pages_id)
			return -ENOMEM;
	}
	rs->ctx = ctx;
	rs->t = t;
	rs->emit = emit;
	rs->opaque = opaque;
	return resolve(rs, 1, e->vaddr, e->vaddr + (uint64_t)e->nr_pages * ctx->page_size);
}

void rst_parents_free(struct rst_ctx *ctx, struct rst_parents *pp)
{
	struct resolver *rs = (struct resolver *)pp;

	if (!rs)
		return;
	for (unsigned l = 0; rs->links && l < ctx->chain->nr; l++) {
		pager_close(rs->links[l].pr);
		free(rs->links[l].e);
	}
	free(rs->links);
	free(rs->buf);
	free(rs);
}

/* Hash the pieces of t the blob fills, reading each of their blocks once. */
static int hash_task(struct rst_ctx *ctx, struct rst_task *t)
{
	struct resolver *rs = (struct resolver *)t->parents;
	uint64_t ps = ctx->page_size;
	size_t held = SIZE_MAX;		/* the src whose block rs->buf holds */

	for (size_t i = 0; i < t->nr_pages; i++) {
		struct page_entry *e = &t->pages[i];
		const struct rst_src *src;

		if (!(e->flags & PE_RST_PIECE) || rst_addr_lazy(t, e->vaddr))
			continue;	/* the lazy server checks the whole block */
		if (!rs || e->xxh3 >= t->nr_srcs)
			return ckpt_fail(ctx->err, -EINVAL, "pid %d: the piece at 0x%llx has no "
					 "parent block", t->pe->pid, (unsigned long long)e->vaddr);
		src = &t->srcs[e->xxh3];
		if (!rs->buf) {
			rs->buf = malloc((size_t)PAGES_MAX_BLOCK_PAGES * ps);
			if (!rs->buf)
				return ckpt_fail(ctx->err, -ENOMEM, "pid %d: no memory to read its "
						 "parents' blocks", t->pe->pid);
		}
		if (held != e->xxh3) {
			struct page_entry whole = { .vaddr = src->vaddr, .nr_pages = src->nr_pages,
						    .flags = PE_PRESENT, .data_off = src->off,
						    .xxh3 = src->xxh3 };
			struct page_reader *pr = rs->links[src->link].pr;
			int r = pager_read(pr, &whole, rs->buf);

			if (r < 0) {
				char name[4200];

				return ckpt_fail(ctx->err, r, "%s: %s",
						 chain_link_name(ctx->chain, src->link, name,
								 sizeof(name)),
						 pager_errmsg(pr));
			}
			held = e->xxh3;
		}
		e->xxh3 = pages_block_hash(rs->buf + (e->data_off - src->off),
					   (uint64_t)e->nr_pages * ps);
		e->flags &= ~PE_RST_PIECE;
	}
	return 0;
}

int rst_hash_pieces(struct rst_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		struct rst_task *t = &ctx->tasks[i];
		int r = t->nr_srcs ? hash_task(ctx, t) : 0;

		if (r < 0)
			return r;
		rst_parents_free(ctx, t->parents);
		t->parents = NULL;
	}
	return 0;
}

int rst_chain_move_high(struct rst_ctx *ctx)
{
	for (unsigned l = 1; ctx->chain && l < ctx->chain->nr; l++) {
		int fd = rst_move_high(ctx, ctx->chain->link[l].dirfd);

		if (fd < 0)
			return fd;
		ctx->chain->link[l].dirfd = fd;
	}
	return 0;
}
