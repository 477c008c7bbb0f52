/* ckptctl show, the chain of an incremental set: each link's directory,
 * kind, tracker, dump time and what its pagemaps hold (pages stored here,
 * left in the parent, zero), checked as restore checks it (images/chain.h). */
#include "client/show.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/chain-open.h"
#include "client/commands.h"
#include "common/escape.h"
#include "common/util.h"
#include "images/chain.h"
#include "images/img.h"
#include "images/pages.h"
#include "inventory.pb-c.h"

struct link_pages {
	uint64_t stored, in_parent, zero, cow;
};

/* Add up the entries of every pagemap-PID.img in dirfd (path: its name). */
static int count_link_pages(struct show *s, int dirfd, const char *path, struct link_pages *ret)
{
	struct dirent *de;
	DIR *d = fd_opendir(dirfd);
	int r = 0;

	if (!d) {
		r = negerrno();
		return show_fail(s, r, EXIT_FAIL, "cannot list %s: %s", path, strerror(-r));
	}
	while (r == 0 && (de = readdir(d))) {
		struct page_reader *pr = NULL;
		struct page_entry e;
		enum img_kind kind;
		unsigned id;

		if (img_parse_name(de->d_name, &kind, &id) < 0 || kind != IMG_PAGEMAP)
			continue;
		r = pager_open(dirfd, id, &pr);
		while (r == 0 && (r = pager_next(pr, &e)) > 0) {
			if (e.flags == PE_PRESENT)
				ret->stored += e.nr_pages;
			else if (e.flags == PE_IN_PARENT)
				ret->in_parent += e.nr_pages;
			else if (e.flags == PE_ZERO)
				ret->zero += e.nr_pages;
			else	/* PE_COW: stored by the parent task */
				ret->cow += e.nr_pages;
			r = 0;
		}
		if (r < 0)
			show_fail(s, r, is_format_error(r) || r == -ENOENT ? EXIT_BADIMAGE : EXIT_FAIL,
				  "%s/%s%s%s", path, pager_errmsg(pr), is_format_error(r) ? "" : ": ",
				  is_format_error(r) ? "" : strerror(-r));
		pager_close(pr);
	}
	closedir(d);
	return r;
}

static const char *dump_kind_name(DumpKind k)
{
	switch (k) {
	case DUMP_KIND__DUMP_FULL:
		return "full";
	case DUMP_KIND__DUMP_INCREMENTAL:
		return "incremental";
	case DUMP_KIND__DUMP_PRE:
		return "pre-dump";
	default:
		return "unknown";
	}
}

/* The directory of link i as the user reaches it: the set's path, then
 * each parent path in turn (an absolute one starts afresh). */
void show_link_path(const struct chain *c, unsigned i, const char *top, char *buf, size_t len)
{
	snprintf(buf, len, "%s", top);
	for (unsigned k = 1; k <= i; k++) {
		const char *p = c->link[k - 1].inv->parent;
		size_t n = strlen(buf);

		if (p[0] == '/')
			snprintf(buf, len, "%s", p);
		else if (n < len)
			snprintf(buf + n, len - n, "/%s", p);
	}
}

static void show_link(struct json *j, FILE *text, const struct chain *c, unsigned i,
		      const char *path, const struct link_pages *lp)
{
	const InventoryEntry *inv = c->link[i].inv;
	time_t t = inv->dump_time_ns / 1000000000ull;
	char when[64] = "?", esc[8192];
	struct tm tm;

	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	if (text) {
		fprintf(text, "link %u: %s: %s, tracker %s, dumped %s: %llu pages stored, %llu in "
			"parent, %llu zero\n", i, ckpt_escape(esc, sizeof(esc), path),
			dump_kind_name(inv->kind),
			inv->tracker ? ckpt_escape(esc + 4096, 4096, inv->tracker) : "none", when,
			(unsigned long long)lp->stored, (unsigned long long)lp->in_parent,
			(unsigned long long)lp->zero);
		return;
	}
	json_obj_begin(j, NULL);
	json_u64(j, "link", i);
	json_str(j, "dir", path);
	if (inv->parent && inv->parent[0])
		json_str(j, "parent", inv->parent);
	json_str(j, "kind", dump_kind_name(inv->kind));
	if (inv->tracker)
		json_str(j, "tracker", inv->tracker);
	if (inv->set_id)
		json_str(j, "set_id", inv->set_id);
	json_u64(j, "dump_time_ns", inv->dump_time_ns);
	json_str(j, "dump_time", when);
	json_u64(j, "pages", lp->stored);
	json_u64(j, "pages_in_parent", lp->in_parent);
	json_u64(j, "pages_zero", lp->zero);
	json_u64(j, "pages_cow", lp->cow);
	json_obj_end(j);
}

void show_chain_close(struct chain *c, int *fds, unsigned n)
{
	chain_free(c);
	for (unsigned i = 1; i <= n; i++)
		close(fds[i]);
}

int show_chain_open(struct show *s, char *top, size_t top_len, int *fds, unsigned *n,
		    struct chain *c)
{
	struct ckpt_err err = { 0 };
	size_t len;
	int r;

	snprintf(top, top_len, "%s", s->prefix);
	len = strlen(top);
	if (len > 1 && top[len - 1] == '/')
		top[len - 1] = '\0';
	fds[0] = s->dirfd;
	*n = 0;
	r = chain_open_parents(s->dirfd, fds + 1, CHAIN_MAX - 1, n, &err);
	if (r < 0)
		return show_fail(s, r, client_image_exit_code(r), "%s: %s", top,
				 ckpt_err_msg(&err, r));
	r = chain_load(fds, *n + 1, false, c, &err);
	if (r < 0) {
		show_fail(s, r, client_image_exit_code(r), "%s: %s", top, ckpt_err_msg(&err, r));
		show_chain_close(c, fds, *n);
	}
	return r;
}

int show_chain_links(struct show *s, struct json *j, FILE *text)
{
	char top[4096], path[4096];
	int fds[CHAIN_MAX];
	struct chain c;
	unsigned n;
	int r;

	r = show_chain_open(s, top, sizeof(top), fds, &n, &c);
	if (r < 0)
		return r;
	for (unsigned i = 0; r == 0 && i < c.nr; i++) {
		struct link_pages lp = { 0 };

		show_link_path(&c, i, top, path, sizeof(path));
		r = count_link_pages(s, c.link[i].dirfd, path, &lp);
		if (r == 0)
			show_link(j, text, &c, i, path, &lp);
	}
	show_chain_close(&c, fds, n);
	return r;
}
