/* ckptctl show --pages ADDR: one page of a task, as a hex dump.
 *
 * The page is looked up as restore would find it: in the set's pagemap of
 * the task, and for a page left in the parent, in each parent of the
 * chain in turn (opened and checked with images/chain.h). The block that
 * holds it is read whole and its checksum verified before a byte is shown
 * (a block is at most PAGES_MAX_BLOCK_PAGES pages: 2 MiB). An address with
 * no page stored says why: a zero page, inside a VMA but not dumped, or
 * outside every VMA. */
#include "client/show.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/chain-open.h"
#include "client/commands.h"
#include "common/escape.h"
#include "common/util.h"
#include "images/chain.h"
#include "images/pages.h"
#include "mm.pb-c.h"
#include "pstree.pb-c.h"

/* The entry of pid's pagemap in dirfd that covers page pg into *ret_e,
 * the reader left open in *ret_pr: 1; no entry covers it (or pid has no
 * pagemap there): 0; a bad pagemap: -errno, reported. */
static int find_entry(struct show *s, int dirfd, const char *dir, int pid, uint64_t pg,
		      struct page_reader **ret_pr, struct page_entry *ret_e)
{
	struct page_reader *pr = NULL;
	struct page_entry e;
	char name[64];
	int r;

	snprintf(name, sizeof(name), "pagemap-%d.img", pid);
	if (faccessat(dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	r = pager_open(dirfd, pid, &pr);
	while (r == 0 && (r = pager_next(pr, &e)) > 0) {
		uint64_t end = e.vaddr + (uint64_t)e.nr_pages * pager_page_size(pr);

		if (e.vaddr > pg)
			break;
		if (pg < end) {
			*ret_pr = pr;
			*ret_e = e;
			return 1;
		}
		r = 0;
	}
	if (r < 0)
		show_fail(s, r, client_image_exit_code(r), "%s/%s", dir, pager_errmsg(pr));
	pager_close(pr);
	return r < 0 ? r : 0;
}

static void hex_dump(const uint8_t *p, size_t len, uint64_t addr, FILE *out)
{
	for (size_t off = 0; off < len; off += 16) {
		fprintf(out, "%012llx:", (unsigned long long)(addr + off));
		for (size_t i = 0; i < 16; i += 2)
			fprintf(out, " %02x%02x", p[off + i], p[off + i + 1]);
		fputs("  ", out);
		for (size_t i = 0; i < 16; i++)
			fputc(p[off + i] >= 0x20 && p[off + i] < 0x7f ? p[off + i] : '.', out);
		fputc('\n', out);
	}
}

struct found {
	unsigned link;
	char dir[4096];
	unsigned pages_id;
	struct page_entry e;
};

/* Read and verify the block of f, then print page pg of it. */
static int print_page(struct show *s, struct page_reader *pr, const struct found *f, int pid,
		      uint64_t pg, bool json, FILE *out)
{
	size_t ps = pager_page_size(pr);
	_cleanup_free_ uint8_t *buf = malloc((size_t)f->e.nr_pages * ps);
	char esc[4096];
	int r;

	if (!buf)
		return show_fail(s, -ENOMEM, EXIT_FAIL, "out of memory");
	if (ps % 16 || (pg - f->e.vaddr) % ps)
		return show_fail(s, -EBADMSG, EXIT_BADIMAGE, "%s/pagemap-%d.img: page size %zu is "
				 "not the inventory's", f->dir, pid, ps);
	r = pager_read(pr, &f->e, buf);
	if (r < 0)
		return show_fail(s, r, client_image_exit_code(r), "%s/%s", f->dir,
				 pager_errmsg(pr));
	if (json) {
		json_obj_begin(&s->j, NULL);
		json_i64(&s->j, "pid", pid);
		json_u64(&s->j, "vaddr", pg);
		json_u64(&s->j, "link", f->link);
		json_str(&s->j, "dir", f->dir);
		json_u64(&s->j, "pages_id", f->pages_id);
		json_u64(&s->j, "block_vaddr", f->e.vaddr);
		json_u64(&s->j, "block_pages", f->e.nr_pages);
		json_bool(&s->j, "verified", true);
		json_hex(&s->j, "data", buf + (pg - f->e.vaddr), ps);
		json_obj_end(&s->j);
		return 0;
	}
	fprintf(out, "# pid %d, page %#llx: link %u (%s), pages-%u.img, block of %u page%s at "
		"%#llx, checksum verified\n", pid, (unsigned long long)pg, f->link,
		ckpt_escape(esc, sizeof(esc), f->dir), f->pages_id, f->e.nr_pages,
		f->e.nr_pages == 1 ? "" : "s", (unsigned long long)f->e.vaddr);
	hex_dump(buf + (pg - f->e.vaddr), ps, pg, out);
	return 0;
}

/* Follow pg of pid down the chain from link 0, where find_entry found e. */
static int resolve(struct show *s, const struct chain *c, const char *top, int pid, uint64_t pg,
		   struct page_reader *pr, struct page_entry e, bool json, FILE *out)
{
	struct found f = { 0 };
	unsigned i = 0;
	int r;

	for (;;) {
		show_link_path(c, i, top, f.dir, sizeof(f.dir));
		if (e.flags != PE_IN_PARENT)
			break;
		pager_close(pr);
		pr = NULL;
		if (++i >= c->nr)
			return show_fail(s, -EBADMSG, EXIT_BADIMAGE, "%s: pid %d, page %#llx: "
					 "left in the parent, but the chain ends there", f.dir,
					 pid, (unsigned long long)pg);
		show_link_path(c, i, top, f.dir, sizeof(f.dir));
		r = find_entry(s, c->link[i].dirfd, f.dir, pid, pg, &pr, &e);
		if (r < 0)
			return r;
		if (r == 0)
			return show_fail(s, -EBADMSG, EXIT_BADIMAGE, "%s: pid %d, page %#llx: its "
					 "child left it here, but this link has no entry for it",
					 f.dir, pid, (unsigned long long)pg);
	}
	if (e.flags == PE_COW) {
		pager_close(pr);
		return show_fail(s, -ENXIO, EXIT_FAIL, "%#llx: pid %d: a page shared with its "
				 "parent task (recorded in %s as COW: the parent's pagemap holds "
				 "it at the same address)", (unsigned long long)pg, pid, f.dir);
	}
	if (e.flags == PE_ZERO) {
		pager_close(pr);
		return show_fail(s, -ENXIO, EXIT_FAIL, "%#llx: pid %d: a zero page (recorded in "
				 "%s: it reads as zeros, no data is stored)",
				 (unsigned long long)pg, pid, f.dir);
	}
	f.link = i;
	f.pages_id = pager_pages_id(pr);
	f.e = e;
	r = print_page(s, pr, &f, pid, pg, json, out);
	pager_close(pr);
	return r;
}

/* No task stores pg: say whether a VMA of one holds it. */
static int no_page(struct show *s, const struct show_recs *pst, int want, uint64_t addr)
{
	for (size_t i = 0; i < pst->n; i++) {
		const PstreeEntry *p = (const PstreeEntry *)pst->m[i];
		struct show_recs mm = { 0 };
		int r;

		if ((want && p->pid != want) || !show_has(s, IMG_MM, p->pid))
			continue;
		r = show_load(s, IMG_MM, p->pid, &mm);
		if (r < 0)
			return r;
		for (size_t k = 1; k < mm.n; k++) {
			const VmaEntry *v = (const VmaEntry *)mm.m[k];

			if (v->start <= addr && addr < v->end) {
				r = show_fail(s, -ENXIO, EXIT_FAIL, "%#llx: pid %d: not dumped: "
					      "inside the VMA %llx-%llx, but no page is stored "
					      "there (never written, or a file's page read back "
					      "from the file)",
					      (unsigned long long)addr, p->pid,
					      (unsigned long long)v->start,
					      (unsigned long long)v->end);
				break;
			}
		}
		show_recs_free(&mm);
		if (r < 0)
			return r;
	}
	if (want)
		return show_fail(s, -ENXIO, EXIT_FAIL, "%#llx: outside every VMA of pid %d",
				 (unsigned long long)addr, want);
	return show_fail(s, -ENXIO, EXIT_FAIL, "%#llx: outside every VMA of every task of "
			 "the set", (unsigned long long)addr);
}

static int find_task(struct show *s, const struct show_recs *pst, int pid)
{
	for (size_t i = 0; i < pst->n; i++) {
		const PstreeEntry *p = (const PstreeEntry *)pst->m[i];

		if (p->pid != pid)
			continue;
		if (p->state == TASK_STATE__TASK_ZOMBIE)
			return show_fail(s, -ESRCH, EXIT_NOTARGET, "-t %d: a zombie in this set: "
					 "it has no memory", pid);
		return 0;
	}
	return show_fail(s, -ESRCH, EXIT_NOTARGET, "-t %d: no such task in %spstree.img", pid,
			 s->prefix);
}

static int page_in_chain(struct show *s, const struct chain *c, const char *top,
			 const struct show_recs *pst, int want, uint64_t addr, bool json, FILE *out)
{
	uint64_t ps = c->link[0].inv->page_size, pg;
	int r;

	if (!ps || (ps & (ps - 1)))
		return show_fail(s, -EBADMSG, EXIT_BADIMAGE, "%sinventory.img: page size %llu",
				 s->prefix, (unsigned long long)ps);
	pg = addr & ~(ps - 1);
	for (size_t i = 0; i < pst->n; i++) {
		const PstreeEntry *p = (const PstreeEntry *)pst->m[i];
		struct page_reader *pr = NULL;
		struct page_entry e;

		if ((want && p->pid != want) || p->state == TASK_STATE__TASK_ZOMBIE)
			continue;
		r = find_entry(s, s->dirfd, top, p->pid, pg, &pr, &e);
		if (r < 0)
			return r;
		if (r > 0)
			return resolve(s, c, top, p->pid, pg, pr, e, json, out);
	}
	return no_page(s, pst, want, pg);
}

int show_page(struct show *s, uint64_t addr, int pid, bool json, FILE *out)
{
	struct show_recs pst = { 0 };
	int fds[CHAIN_MAX];
	char top[4096];
	struct chain c;
	unsigned n;
	int r;

	r = show_need_set(s);
	if (r < 0)
		return r;
	r = show_load(s, IMG_PSTREE, 0, &pst);
	if (r == 0 && pid)
		r = find_task(s, &pst, pid);
	if (r == 0)
		r = show_chain_open(s, top, sizeof(top), fds, &n, &c);
	if (r == 0) {
		r = page_in_chain(s, &c, top, &pst, pid, addr, json, out);
		show_chain_close(&c, fds, n);
	}
	show_recs_free(&pst);
	return r;
}
