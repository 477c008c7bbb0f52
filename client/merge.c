/* ckptctl merge DIR -D OUT [--force] [--json]
 *
 * One self-contained image set from an incremental chain, written here in
 * the client from the images the user can read (no daemon): every image
 * file of the top set is copied (its records checked on the way), each
 * pagemap-PID.img and its pages file rewritten with every IN_PARENT run
 * resolved, through the chain, to the parent's data or zeros, and a new
 * inventory without parent. Every page block read is verified against its
 * checksum; a bad one is refused naming the link, the file and the offset.
 *
 * Cost: one pass over each link's pagemap per task, reading only the
 * blocks an IN_PARENT run needs, each once (a cursor per link walks its
 * pagemap in address order, as the runs come); memory is one block buffer
 * per link plus the output block. The output goes into a temporary
 * directory inside OUT and appears all at once (images/imgset.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/chain-open.h"
#include "client/commands.h"
#include "client/rpc-client.h"
#include "common/util.h"
#include "images/img.h"
#include "images/imgset.h"
#include "images/json.h"
#include "images/pages.h"

struct merge_args {
	const char *dir, *out;
	bool force, json;
};

/* Where one link's pagemap of the current task has got to. */
struct merge_cursor {
	struct page_reader *pr;		/* NULL: not opened yet */
	struct page_entry e;		/* the entry at hand */
	bool have;			/* e holds an entry */
	bool loaded;			/* block holds e's bytes */
	uint8_t *block;
	size_t block_len;
};

struct merge {
	const struct merge_args *a;
	struct chain chain;
	int fds[CHAIN_MAX];
	int tmpfd;
	unsigned page_size;
	int exit_code;
	char err[2048];
	/* the task being rewritten */
	unsigned pid;
	struct merge_cursor cur[CHAIN_MAX];
	struct page_writer *w;
	uint8_t *obuf;			/* data waiting to become one block */
	uint64_t ovaddr;
	unsigned on;			/* pages in obuf */
	uint64_t pages_stored, pages_zero, pages_resolved;
	unsigned files;
};

static int merge_fail(struct merge *m, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The first failure's message (a libckptimg one starts with the file). */
static int merge_fail(struct merge *m, int r, const char *fmt, ...)
{
	bool format = r == -EBADMSG || r == -ENODATA || r == -EPROTO || r == -EPROTONOSUPPORT;
	va_list ap;
	size_t n;

	if (m->err[0])
		return r;
	va_start(ap, fmt);
	vsnprintf(m->err, sizeof(m->err), fmt, ap);
	va_end(ap);
	n = strlen(m->err);
	if (!format && n < sizeof(m->err) - 2)
		snprintf(m->err + n, sizeof(m->err) - n, ": %s", strerror(-r));
	m->exit_code = format ? EXIT_BADIMAGE : EXIT_FAIL;
	return r;
}

/* ---- the output block ---- */

static int out_flush(struct merge *m)
{
	size_t len = (size_t)m->on * m->page_size;
	int r;

	if (!m->on)
		return 0;
	r = pagew_add_block(m->w, m->ovaddr, m->obuf, m->on, pages_block_hash(m->obuf, len));
	m->pages_stored += m->on;
	m->on = 0;
	if (r < 0)
		return merge_fail(m, r, "%s", pagew_errmsg(m->w));
	return 0;
}

/* Append n pages of data for vaddr, cutting blocks as the writer wants. */
static int out_data(struct merge *m, uint64_t vaddr, const uint8_t *src, uint64_t n)
{
	int r;

	while (n) {
		unsigned take;

		if (m->on && (m->on == PAGES_MAX_BLOCK_PAGES ||
			      m->ovaddr + (uint64_t)m->on * m->page_size != vaddr)) {
			r = out_flush(m);
			if (r < 0)
				return r;
		}
		if (!m->on)
			m->ovaddr = vaddr;
		take = MIN(n, (uint64_t)(PAGES_MAX_BLOCK_PAGES - m->on));
		memcpy(m->obuf + (size_t)m->on * m->page_size, src, (size_t)take * m->page_size);
		m->on += take;
		src += (size_t)take * m->page_size;
		vaddr += (uint64_t)take * m->page_size;
		n -= take;
	}
	return 0;
}

/* n pages without data (PE_ZERO, PE_COW) at vaddr. */
static int out_hole(struct merge *m, uint64_t vaddr, uint64_t n, uint32_t flags)
{
	int r = out_flush(m);

	if (r < 0)
		return r;
	r = pagew_add_hole(m->w, vaddr, n, flags);
	if (r < 0)
		return merge_fail(m, r, "%s", pagew_errmsg(m->w));
	if (flags == PE_ZERO)
		m->pages_zero += n;
	return 0;
}

static int out_zero(struct merge *m, uint64_t vaddr, uint64_t n)
{
	return out_hole(m, vaddr, n, PE_ZERO);
}

/* ---- resolving IN_PARENT through the chain ---- */

static int cursor_open(struct merge *m, unsigned k, uint64_t vaddr)
{
	struct merge_cursor *c = &m->cur[k];
	char name[4200];
	int r;

	chain_link_name(&m->chain, k, name, sizeof(name));
	r = pager_open(m->chain.link[k].dirfd, m->pid, &c->pr);
	if (r == -ENOENT) {
		pager_close(c->pr);
		c->pr = NULL;
		return merge_fail(m, -EBADMSG,
				  "%s: has no pagemap-%u.img, but link %u says pages of pid %u at "
				  "0x%llx are in it", name, m->pid, k - 1, m->pid,
				  (unsigned long long)vaddr);
	}
	if (r < 0) {
		merge_fail(m, r, "%s: %s", name, pager_errmsg(c->pr));
		pager_close(c->pr);
		c->pr = NULL;
		return r;
	}
	if (pager_page_size(c->pr) != m->page_size)
		return merge_fail(m, -EBADMSG, "%s: pagemap-%u.img: page size %u, not %u", name,
				  m->pid, pager_page_size(c->pr), m->page_size);
	return 0;
}

/* Advance link k's cursor to the entry holding vaddr. */
static int cursor_seek(struct merge *m, unsigned k, uint64_t vaddr)
{
	struct merge_cursor *c = &m->cur[k];
	char name[4200];
	int r;

	while (!c->have || c->e.vaddr + (uint64_t)c->e.nr_pages * m->page_size <= vaddr) {
		r = pager_next(c->pr, &c->e);
		if (r < 0)
			return merge_fail(m, r, "%s: %s", chain_link_name(&m->chain, k, name, sizeof(name)),
					  pager_errmsg(c->pr));
		c->have = r > 0;
		c->loaded = false;
		if (!r)
			break;
	}
	if (!c->have || c->e.vaddr > vaddr)
		return merge_fail(m, -EBADMSG,
				  "%s: pagemap-%u.img holds no page at 0x%llx, which link %u says "
				  "is in it", chain_link_name(&m->chain, k, name, sizeof(name)), m->pid,
				  (unsigned long long)vaddr, k - 1);
	return 0;
}

static int cursor_load(struct merge *m, unsigned k)
{
	struct merge_cursor *c = &m->cur[k];
	size_t need = (size_t)pager_max_block_pages(c->pr) * m->page_size;
	char name[4200];
	int r;

	if (c->loaded)
		return 0;
	if (need > c->block_len) {
		free(c->block);
		c->block = malloc(need);
		c->block_len = c->block ? need : 0;
		if (!c->block)
			return merge_fail(m, -ENOMEM, "out of memory");
	}
	r = pager_read(c->pr, &c->e, c->block);
	if (r < 0)
		return merge_fail(m, r, "%s: %s", chain_link_name(&m->chain, k, name, sizeof(name)),
				  pager_errmsg(c->pr));
	c->loaded = true;
	return 0;
}

/* n pages at vaddr that link k - 1 says are in link k: its data, its
 * zeros, or further up the chain. */
static int resolve(struct merge *m, unsigned k, uint64_t vaddr, uint64_t n)
{
	char name[4200];
	int r;

	if (k >= m->chain.nr)
		return merge_fail(m, -EBADMSG,
				  "%s: pagemap-%u.img: pages at 0x%llx are IN_PARENT, but it has "
				  "no parent", chain_link_name(&m->chain, k - 1, name, sizeof(name)), m->pid,
				  (unsigned long long)vaddr);
	if (!m->cur[k].pr) {
		r = cursor_open(m, k, vaddr);
		if (r < 0)
			return r;
	}
	while (n) {
		struct merge_cursor *c = &m->cur[k];
		uint64_t off, take;

		r = cursor_seek(m, k, vaddr);
		if (r < 0)
			return r;
		off = (vaddr - c->e.vaddr) / m->page_size;
		take = MIN(n, c->e.nr_pages - off);
		switch (c->e.flags) {
		case PE_PRESENT:
			r = cursor_load(m, k);
			if (r == 0)
				r = out_data(m, vaddr, c->block + off * m->page_size, take);
			break;
		case PE_ZERO:
			r = out_zero(m, vaddr, take);
			break;
		case PE_COW:	/* the parent task's page as of link k: not the top's */
			r = merge_fail(m, -EBADMSG,
				       "%s: pagemap-%u.img: pages at 0x%llx are IN_PARENT, but there "
				       "they are shared with the parent task (COW): this chain "
				       "cannot be merged", chain_link_name(&m->chain, k, name,
				       sizeof(name)), m->pid, (unsigned long long)vaddr);
			break;
		default:	/* PE_IN_PARENT: pager_next allows nothing else */
			r = resolve(m, k + 1, vaddr, take);
			break;
		}
		if (r < 0)
			return r;
		vaddr += take * m->page_size;
		n -= take;
	}
	return 0;
}

/* ---- one task ---- */

static void task_end(struct merge *m)
{
	for (unsigned k = 0; k < m->chain.nr; k++) {
		pager_close(m->cur[k].pr);
		free(m->cur[k].block);
		m->cur[k] = (struct merge_cursor){ 0 };
	}
	m->on = 0;
}

/* The top's entries: its own blocks and zeros as they are, IN_PARENT
 * resolved. */
static int merge_entries(struct merge *m)
{
	struct merge_cursor *top = &m->cur[0];
	char name[4200];
	int r;

	while ((r = pager_next(top->pr, &top->e)) > 0) {
		top->have = true;
		top->loaded = false;
		if (top->e.flags == PE_IN_PARENT) {
			m->pages_resolved += top->e.nr_pages;
			r = resolve(m, 1, top->e.vaddr, top->e.nr_pages);
		} else if (top->e.flags == PE_ZERO) {
			r = out_zero(m, top->e.vaddr, top->e.nr_pages);
		} else if (top->e.flags == PE_COW) {
			/* the parent task's page as of the top link: the merged
			 * set holds the parent's pages as of the top too */
			r = out_hole(m, top->e.vaddr, top->e.nr_pages, PE_COW);
		} else {
			r = cursor_load(m, 0);
			if (r == 0)
				r = out_data(m, top->e.vaddr, top->block, top->e.nr_pages);
		}
		if (r < 0)
			return r;
	}
	if (r < 0)
		return merge_fail(m, r, "%s: %s", chain_link_name(&m->chain, 0, name, sizeof(name)),
				  pager_errmsg(top->pr));
	return out_flush(m);
}

static int merge_task(struct merge *m, unsigned pid)
{
	char name[4200];
	int r;

	m->pid = pid;
	r = pager_open(m->chain.link[0].dirfd, pid, &m->cur[0].pr);
	if (r < 0) {
		r = merge_fail(m, r, "%s: %s", chain_link_name(&m->chain, 0, name, sizeof(name)),
			       pager_errmsg(m->cur[0].pr));
		goto out;
	}
	r = pagew_open(m->tmpfd, pid, pager_pages_id(m->cur[0].pr), m->page_size, &m->w);
	if (r < 0) {
		r = merge_fail(m, r, "%s: cannot create pagemap-%u.img", m->a->out, pid);
		goto out;
	}
	r = merge_entries(m);
	if (r == 0) {
		r = pagew_finish(m->w);
		if (r < 0)
			merge_fail(m, r, "%s: %s", m->a->out, pagew_errmsg(m->w));
	}
	pagew_abort(m->w);
	m->w = NULL;
out:
	task_end(m);
	return r;
}

/* ---- the other files ---- */

/* Read every record of a record file: framing and checksums. */
static int verify_records(struct merge *m, const char *file)
{
	char msg[1024], name[4200];
	struct img *img = NULL;
	ProtobufCMessage *rec;
	int r;

	r = img_open_any(m->chain.link[0].dirfd, file, &img, msg, sizeof(msg));
	if (r < 0)
		return merge_fail(m, r, "%s: %s", chain_link_name(&m->chain, 0, name, sizeof(name)), msg);
	while ((r = img_read_next(img, &rec)) == 0 && rec)
		protobuf_c_message_free_unpacked(rec, NULL);
	if (r < 0)
		merge_fail(m, r, "%s: %s", chain_link_name(&m->chain, 0, name, sizeof(name)), img_errmsg(img));
	img_abort(img);
	return r;
}

static int copy_file(struct merge *m, const char *file)
{
	_cleanup_close_ int in = -EBADF, out = -EBADF;
	const char *why = NULL;
	char buf[65536];
	ssize_t n;
	int r;

	r = verify_records(m, file);
	if (r < 0)
		return r;
	r = img_open_regular(m->chain.link[0].dirfd, file, &in, &why);
	if (r < 0)
		return merge_fail(m, r, "%s/%s: %s", m->a->dir, file, why ? why : "cannot open");
	out = openat(m->tmpfd, file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0)
		return merge_fail(m, negerrno(), "%s: cannot create %s", m->a->out, file);
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		r = write_full(out, buf, n);
		if (r < 0)
			return merge_fail(m, r, "%s: cannot write %s", m->a->out, file);
	}
	if (n < 0)
		return merge_fail(m, negerrno(), "%s/%s: cannot read", m->a->dir, file);
	if (fsync(out) < 0)
		return merge_fail(m, negerrno(), "%s: cannot write %s", m->a->out, file);
	m->files++;
	return 0;
}

/* Copy or rewrite one file of the top set (its name an image name). */
static int merge_one(struct merge *m, const char *file)
{
	enum img_kind kind;
	unsigned id;

	if (img_parse_name(file, &kind, &id) < 0)
		return 0;	/* not part of the set */
	switch (kind) {
	case IMG_INVENTORY:
	case IMG_PAGES:		/* written with its pagemap */
		return 0;
	case IMG_PAGEMAP:
		return merge_task(m, id);
	default:
		return copy_file(m, file);
	}
}

static int merge_files(struct merge *m)
{
	struct dirent *de;
	DIR *d = fd_opendir(m->chain.link[0].dirfd);
	int r = 0;

	if (!d) {
		r = negerrno();
		return merge_fail(m, r, "cannot list %s", m->a->dir);
	}
	while (r == 0 && (de = readdir(d)))
		if (de->d_name[0] != '.')
			r = merge_one(m, de->d_name);
	closedir(d);
	return r;
}

static int write_inventory(struct merge *m)
{
	InventoryEntry inv = *m->chain.link[0].inv;
	char id[CHAIN_SET_ID_LEN];
	struct img *img;
	int r;

	r = chain_new_set_id(id);
	if (r < 0)
		return merge_fail(m, r, "cannot make a set id");
	/* a new set: its own id, no parent; a pre-dump stays one */
	if (inv.kind != DUMP_KIND__DUMP_PRE)
		inv.kind = DUMP_KIND__DUMP_FULL;
	inv.parent = NULL;
	inv.parent_set_id = NULL;
	inv.set_id = id;
	inv.has_chain_depth = true;
	inv.chain_depth = 0;
	inv.has_pages_written = true;
	inv.pages_written = m->pages_stored;
	r = img_create(m->tmpfd, IMG_INVENTORY, 0, &img);
	if (r < 0) {
		merge_fail(m, r, "%s: %s", m->a->out, img_errmsg(img));
		img_abort(img);
		return r;
	}
	r = img_write_msg(img, &inv.base);
	if (r == 0)
		r = img_finish(img);
	if (r < 0)
		merge_fail(m, r, "%s: %s", m->a->out, img_errmsg(img));
	img_abort(img);
	return r;
}

/* ---- OUT ---- */

/* OUT, created if missing; refused when it is a link of the chain or
 * already holds a set (unless --force). */
static int open_out(struct merge *m, int *ret_fd)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st, ls;
	char name[4200];
	int r;

	if (mkdir(m->a->out, 0700) < 0 && errno != EEXIST)
		return merge_fail(m, negerrno(), "cannot create %s", m->a->out);
	fd = open(m->a->out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return merge_fail(m, negerrno(), "cannot open %s", m->a->out);
	for (unsigned i = 0; i < m->chain.nr; i++)
		if (fstat(m->chain.link[i].dirfd, &ls) == 0 && ls.st_dev == st.st_dev &&
		    ls.st_ino == st.st_ino) {
			merge_fail(m, -EINVAL, "%s is %s of the chain; merge into another directory",
				   m->a->out, chain_link_name(&m->chain, i, name, sizeof(name)));
			m->exit_code = EXIT_USAGE;
			return -EINVAL;
		}
	r = imgset_probe(fd);
	if (r < 0)
		return merge_fail(m, r, "cannot read %s", m->a->out);
	if (r > 0 && !m->a->force) {
		merge_fail(m, -EEXIST, "%s already holds an image set; use --force to replace it",
			   m->a->out);
		m->exit_code = EXIT_EXISTS;
		return -EEXIST;
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int merge_run(struct merge *m)
{
	_cleanup_close_ int outfd = -EBADF;
	char tmp[64];
	int r;

	m->page_size = m->chain.link[0].inv->page_size;
	if (!m->page_size || m->page_size % 512 || m->page_size > (1u << 21))
		return merge_fail(m, -EBADMSG, "%s/inventory.img: bad page size %u", m->a->dir,
				  m->page_size);
	m->obuf = malloc((size_t)PAGES_MAX_BLOCK_PAGES * m->page_size);
	if (!m->obuf)
		return merge_fail(m, -ENOMEM, "out of memory");
	r = open_out(m, &outfd);
	if (r < 0)
		return r;
	r = imgset_begin(outfd, tmp, sizeof(tmp), &m->tmpfd);
	if (r < 0)
		return merge_fail(m, r, "cannot create a temporary directory in %s", m->a->out);
	r = merge_files(m);
	if (r == 0)
		r = write_inventory(m);
	if (r == 0 && fsync(m->tmpfd) < 0)
		r = merge_fail(m, negerrno(), "cannot write %s", m->a->out);
	close(m->tmpfd);
	m->tmpfd = -1;
	if (r == 0) {
		r = imgset_commit(outfd, tmp, m->a->force);
		if (r == -EEXIST) {
			merge_fail(m, r, "%s already holds an image set; use --force to replace it",
				   m->a->out);
			m->exit_code = EXIT_EXISTS;
		} else if (r < 0) {
			merge_fail(m, r, "cannot move the new set into %s", m->a->out);
		}
	}
	if (r < 0)
		imgset_discard(outfd, tmp);
	return r;
}

/* ---- command line ---- */

static void merge_usage(FILE *f)
{
	fprintf(f,
		"Usage: ckptctl merge DIR -D OUT [--force] [--json]\n"
		"\n"
		"Write one self-contained image set into OUT from the incremental chain\n"
		"that ends in DIR (a dump made with --prev, and its parents): every page\n"
		"a link leaves in its parent is copied from there, every page block's\n"
		"checksum verified. OUT restores as DIR does, without the parents.\n"
		"\n"
		"  -D, --images-dir OUT  where the merged set goes (created if missing)\n"
		"  -f, --force           replace an image set already in OUT\n"
		"  -j, --json            print the result (or the error) as JSON\n"
		"  -h, --help            show this help\n");
}

static int parse_merge_args(int argc, char **argv, struct merge_args *a)
{
	static const struct option opts[] = {
		{ "images-dir", required_argument, NULL, 'D' },
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":D:fjh", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			a->out = optarg;
			break;
		case 'f':
			a->force = true;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			merge_usage(stdout);
			return EXIT_OK;
		default:
			return client_bad_option("merge", a->json, c, argv);
		}
	}
	if (optind < argc)
		a->dir = argv[optind++];
	if (optind < argc)
		return client_fail("merge", a->json, EINVAL, EXIT_USAGE,
				   "unexpected argument '%s'", argv[optind]);
	if (!a->dir || !a->out)
		return client_fail("merge", a->json, EINVAL, EXIT_USAGE,
				   "both DIR and -D OUT are required (see 'ckptctl merge --help')");
	return 1;
}

static void print_result(const struct merge *m)
{
	struct json j;

	if (!m->a->json) {
		printf("merged %u sets of %s into %s: %llu pages stored (%llu from parents), "
		       "%llu zero\n", m->chain.nr, m->a->dir, m->a->out,
		       (unsigned long long)m->pages_stored, (unsigned long long)m->pages_resolved,
		       (unsigned long long)m->pages_zero);
		return;
	}
	json_init(&j, stdout, false);
	json_obj_begin(&j, NULL);
	json_str(&j, "dir", m->a->out);
	json_u64(&j, "links", m->chain.nr);
	json_u64(&j, "pages", m->pages_stored);
	json_u64(&j, "pages_from_parents", m->pages_resolved);
	json_u64(&j, "pages_zero", m->pages_zero);
	json_u64(&j, "files", m->files);
	json_obj_end(&j);
	json_finish(&j);
}

int cmd_merge(int argc, char **argv)
{
	struct merge_args a = { .json = args_want_json(argc, argv) };
	struct merge m = { .a = &a, .tmpfd = -1 };
	int r;

	r = parse_merge_args(argc, argv, &a);
	if (r != 1)
		return r;
	r = client_open_chain("merge", a.json, a.dir, false, m.fds, &m.chain);
	if (r)
		return r;
	r = merge_run(&m);
	if (r < 0)
		r = client_fail("merge", a.json, -r, m.exit_code ? m.exit_code : EXIT_FAIL, "%s",
				m.err[0] ? m.err : strerror(-r));
	else
		print_result(&m);
	if (m.w)
		pagew_abort(m.w);
	free(m.obuf);
	client_close_chain(&m.chain);
	return r;
}
