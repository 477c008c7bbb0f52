/* ckptctl show: decode an image set, or one image file, to JSON on stdout.
 *
 * It reads files only (no daemon) and checks what it reads as a restore
 * would: framing, record checksums, every pagemap entry and, unless
 * --no-verify, the checksum of every page block. The JSON is built in memory
 * (it never contains page data, so it stays small) and printed only when the
 * whole set decoded; on a bad file, stdout stays empty and stderr names the
 * file and the offset. An incremental set's chain is opened and checked as
 * restore does (images/chain.h) and listed, link by link, with what each
 * link stores; --chain shows only that. */
#include "client/show.h"

#include "client/chain-open.h"
#include "client/commands.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/util.h"
#include "images/img.h"
#include "images/json.h"
#include "images/pages.h"
#include "files.pb-c.h"
#include "inventory.pb-c.h"
#include "pstree.pb-c.h"

int show_fail(struct show *s, int r, int exit_code, const char *fmt, ...)
{
	va_list ap;

	if (s->err[0])
		return r;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	/* file names and messages come from the set: no control characters
	 * to the terminal */
	ckpt_escape_inplace(s->err, sizeof(s->err));
	s->exit_code = exit_code;
	return r;
}

bool is_format_error(int r)
{
	return r == -EBADMSG || r == -ENODATA || r == -EPROTO || r == -EPROTONOSUPPORT;
}

int show_need_set(struct show *s)
{
	if (faccessat(s->dirfd, "inventory.img", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		int e = errno;

		/* no set there: a bad set (ckptctl(1), exit 5) */
		return show_fail(s, -e, e == ENOENT ? EXIT_BADIMAGE : EXIT_FAIL,
				 "%sinventory.img: %s (not an image set, or an unfinished dump)",
				 s->prefix, strerror(e));
	}
	return 0;
}

int show_opendir(struct show *s, DIR **ret)
{
	DIR *d = fd_opendir(s->dirfd);

	if (!d) {
		int r = negerrno();

		return show_fail(s, r, EXIT_FAIL, "cannot list %s: %s", s->prefix, strerror(-r));
	}
	*ret = d;
	return 0;
}

/* Report a message from libckptimg (it starts with the file name). A file
 * missing from a set makes the set bad too. */
static int show_fail_img(struct show *s, int r, const char *msg)
{
	bool format = is_format_error(r);

	return show_fail(s, r, format || r == -ENOENT ? EXIT_BADIMAGE : EXIT_FAIL, "%s%s%s%s",
			 s->prefix, msg, format ? "" : ": ", format ? "" : strerror(-r));
}

/* Called with each record, its index and its offset in the file. */
typedef int (*record_fn)(struct show *s, unsigned idx, off_t at, const ProtobufCMessage *m,
			 void *arg);

/* Call fn on every record of an open image, then check it held any. */
static int show_img_records(struct show *s, struct img *img, record_fn fn, void *arg)
{
	ProtobufCMessage *m;
	unsigned idx = 0;
	off_t at;
	int r;

	for (;;) {
		at = img_offset(img);
		r = img_read_next(img, &m);
		if (r < 0)
			return show_fail_img(s, r, img_errmsg(img));
		if (!m)
			break;
		r = fn(s, idx++, at, m, arg);
		protobuf_c_message_free_unpacked(m, NULL);
		if (r < 0)
			return r;
	}
	s->nr_files++;
	s->nr_records += idx;
	if (!idx && img_get_desc(img)->head != img_get_desc(img)->entry)
		return show_fail(s, -EBADMSG, EXIT_BADIMAGE, "%s%s at offset %lld: no %s record",
				 s->prefix, img_name(img), (long long)at,
				 img_get_desc(img)->head->name);
	return 0;
}

static int show_records(struct show *s, enum img_kind kind, unsigned id, record_fn fn,
			void *arg)
{
	struct img *img = NULL;
	int r;

	r = img_open(s->dirfd, kind, id, &img);
	if (r < 0) {
		show_fail_img(s, r, img_errmsg(img));
		img_abort(img);
		return r;
	}
	r = show_img_records(s, img, fn, arg);
	img_close(img);
	return r;
}

/* Every record as an element of the array being written. */
static int rec_element(struct show *s, unsigned idx, off_t at, const ProtobufCMessage *m,
		       void *arg)
{
	json_msg(&s->j, NULL, m);
	return 0;
}

/* The head's fields into the open object, the rest into array `list`. */
static int rec_merge(struct show *s, unsigned idx, off_t at, const ProtobufCMessage *m,
		     void *list)
{
	if (idx == 0) {
		json_msg_fields(&s->j, m);
		json_arr_begin(&s->j, list);
	} else {
		json_msg(&s->j, NULL, m);
	}
	return 0;
}

static int show_merged(struct show *s, const char *key, enum img_kind kind, unsigned id,
		       const char *list)
{
	int r;

	json_obj_begin(&s->j, key);
	r = show_records(s, kind, id, rec_merge, (void *)list);
	if (r < 0)
		return r;
	json_arr_end(&s->j);
	json_obj_end(&s->j);
	return 0;
}

static int rec_inventory(struct show *s, unsigned idx, off_t at, const ProtobufCMessage *m,
			 void *arg)
{
	const InventoryEntry *e = (const InventoryEntry *)m;

	if (idx)
		return show_fail(s, -EBADMSG, EXIT_BADIMAGE,
				 "%sinventory.img at offset %lld: more than one record", s->prefix,
				 (long long)at);
	s->predump = e->kind == DUMP_KIND__DUMP_PRE;
	s->incremental = e->parent && e->parent[0];
	s->have_inventory = true;
	json_msg(&s->j, "inventory", m);
	return 0;
}

static int rec_pstree(struct show *s, unsigned idx, off_t at, const ProtobufCMessage *m,
		      void *arg)
{
	const PstreeEntry *e = (const PstreeEntry *)m;

	json_msg(&s->j, NULL, m);
	if (e->pid <= 0)
		return show_fail(s, -EBADMSG, EXIT_BADIMAGE,
				 "%spstree.img at offset %lld: record %u: bad pid %d", s->prefix,
				 (long long)at, idx, e->pid);
	if (s->nr_pids == s->cap_pids) {
		size_t cap = s->cap_pids * 2 + 16;
		struct show_pid *v = realloc(s->pids, cap * sizeof(*v));

		if (!v)
			return show_fail(s, -ENOMEM, EXIT_FAIL, "out of memory");
		s->pids = v;
		s->cap_pids = cap;
	}
	s->pids[s->nr_pids++] = (struct show_pid){ e->pid, at, e->state == TASK_STATE__TASK_ZOMBIE };
	return 0;
}

/* ---- pages ---- */

static int show_block(struct show *s, struct page_reader *pr, const struct page_entry *e)
{
	size_t need = (size_t)pager_max_block_pages(pr) * pager_page_size(pr);
	int r;

	if (need > s->block_len) {
		free(s->block);
		s->block = malloc(need);
		s->block_len = s->block ? need : 0;
		if (!s->block)
			return show_fail(s, -ENOMEM, EXIT_FAIL, "out of memory");
	}
	r = pager_read(pr, e, s->block);
	if (r < 0)
		return show_fail_img(s, r, pager_errmsg(pr));
	s->nr_blocks++;
	s->block_bytes += (uint64_t)e->nr_pages * pager_page_size(pr);
	return 0;
}

static void json_page_entry(struct json *j, const struct page_entry *e, unsigned page_size)
{
	json_obj_begin(j, NULL);
	json_u64(j, "vaddr", e->vaddr);
	json_u64(j, "nr_pages", e->nr_pages);
	json_u64(j, "flags", e->flags);
	if (e->flags == PE_PRESENT) {
		json_u64(j, "off", (e->data_off - IMG_PAGES_DATA_OFF) / page_size);
		json_u64(j, "xxh3", e->xxh3);
	}
	json_obj_end(j);
}

static int show_pages_entries(struct show *s, struct page_reader *pr)
{
	struct page_entry e;
	int r;

	json_arr_begin(&s->j, "entries");
	while ((r = pager_next(pr, &e)) > 0) {
		s->nr_entries++;
		json_page_entry(&s->j, &e, pager_page_size(pr));
		if (e.flags == PE_PRESENT && s->verify) {
			r = show_block(s, pr, &e);
			if (r < 0)
				return r;
		}
	}
	if (r < 0)
		return show_fail_img(s, r, pager_errmsg(pr));
	json_arr_end(&s->j);
	return 0;
}

static int show_pagemap(struct show *s, const char *key, unsigned pid)
{
	struct page_reader *pr = NULL;
	int r;

	r = pager_open(s->dirfd, pid, &pr);
	if (r < 0) {
		show_fail_img(s, r, pager_errmsg(pr));
		pager_close(pr);
		return r;
	}
	s->nr_files++;
	json_obj_begin(&s->j, key);
	json_obj_begin(&s->j, "head");
	json_u64(&s->j, "pages_id", pager_pages_id(pr));
	json_u64(&s->j, "page_size", pager_page_size(pr));
	json_u64(&s->j, "max_block_pages", pager_max_block_pages(pr));
	json_obj_end(&s->j);
	r = show_pages_entries(s, pr);
	json_obj_end(&s->j);
	pager_close(pr);
	return r;
}

/* ---- the set ---- */

bool show_has(struct show *s, enum img_kind kind, unsigned id)
{
	char name[64];

	return img_filename(kind, id, name, sizeof(name)) == 0 &&
	       faccessat(s->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

void show_recs_free(struct show_recs *r)
{
	for (size_t i = 0; i < r->n; i++)
		protobuf_c_message_free_unpacked(r->m[i], NULL);
	free(r->m);
	*r = (struct show_recs){ 0 };
}

/* Read again what the checks passed: no counting, no JSON. */
int show_load(struct show *s, enum img_kind kind, unsigned id, struct show_recs *ret)
{
	struct show_recs recs = { 0 };
	struct img *img = NULL;
	ProtobufCMessage *m;
	size_t cap = 0;
	int r;

	r = img_open(s->dirfd, kind, id, &img);
	if (r < 0) {
		show_fail_img(s, r, img_errmsg(img));
		img_abort(img);
		return r;
	}
	while ((r = img_read_next(img, &m)) == 0 && m) {
		if (recs.n == cap) {
			ProtobufCMessage **v = realloc(recs.m, (cap = cap * 2 + 16) * sizeof(*v));

			if (!v) {
				protobuf_c_message_free_unpacked(m, NULL);
				r = show_fail(s, -ENOMEM, EXIT_FAIL, "out of memory");
				break;
			}
			recs.m = v;
		}
		recs.m[recs.n++] = m;
	}
	if (r < 0 && !s->err[0])
		show_fail_img(s, r, img_errmsg(img));
	img_close(img);
	if (r < 0) {
		show_recs_free(&recs);
		return r;
	}
	*ret = recs;
	return 0;
}

static int show_task(struct show *s, int pid)
{
	char key[16];
	int r;

	snprintf(key, sizeof(key), "%d", pid);
	json_obj_begin(&s->j, key);
	if (!s->predump || show_has(s, IMG_CORE, pid)) {
		r = show_merged(s, "core", IMG_CORE, pid, "threads");
		if (r < 0)
			return r;
	}
	r = show_merged(s, "mm", IMG_MM, pid, "vmas");
	if (r < 0)
		return r;
	r = show_pagemap(s, "pagemap", pid);
	if (r < 0)
		return r;
	if (!s->predump || show_has(s, IMG_FS, pid)) {
		r = show_merged(s, "fs", IMG_FS, pid, "fds");
		if (r < 0)
			return r;
	}
	json_obj_end(&s->j);
	return 0;
}

struct ghost_sum {
	uint64_t chunks, bytes;
};

static int rec_ghost(struct show *s, unsigned idx, off_t at, const ProtobufCMessage *m,
		     void *arg)
{
	struct ghost_sum *g = arg;

	if (idx == 0) {
		json_msg(&s->j, "head", m);
		return 0;
	}
	g->chunks++;
	g->bytes += ((const GhostChunk *)m)->data.len;
	return 0;
}

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

/* The ids of every ghost-N.img in the directory, sorted. */
static int ghost_ids(struct show *s, unsigned **ret, size_t *ret_n)
{
	_cleanup_free_ unsigned *ids = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = NULL;	/* set by show_opendir; for -Wmaybe-uninitialized */
	int r = show_opendir(s, &d);

	if (r < 0)
		return r;
	while ((de = readdir(d))) {
		enum img_kind kind;
		unsigned id;

		if (img_parse_name(de->d_name, &kind, &id) < 0 || kind != IMG_GHOST)
			continue;
		if (n == cap) {
			unsigned *nids = realloc(ids, (cap = cap * 2 + 16) * sizeof(*ids));

			if (!nids) {
				closedir(d);
				return show_fail(s, -ENOMEM, EXIT_FAIL, "out of memory");
			}
			ids = nids;
		}
		ids[n++] = id;
	}
	closedir(d);
	if (n)
		qsort(ids, n, sizeof(*ids), cmp_unsigned);
	*ret = TAKE_PTR(ids);
	*ret_n = n;
	return 0;
}

static int show_ghosts(struct show *s)
{
	_cleanup_free_ unsigned *ids = NULL;
	size_t n = 0;
	int r;

	r = ghost_ids(s, &ids, &n);
	if (r < 0)
		return r;
	json_obj_begin(&s->j, "ghosts");
	for (size_t i = 0; i < n; i++) {
		struct ghost_sum g = { 0 };
		char key[16];

		snprintf(key, sizeof(key), "%u", ids[i]);
		json_obj_begin(&s->j, key);
		r = show_records(s, IMG_GHOST, ids[i], rec_ghost, &g);
		if (r < 0)
			return r;
		json_u64(&s->j, "chunks", g.chunks);
		json_u64(&s->j, "bytes", g.bytes);
		json_obj_end(&s->j);
	}
	json_obj_end(&s->j);
	return 0;
}

/* By pid, then by offset. */
static int cmp_pid(const void *a, const void *b)
{
	const struct show_pid *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* Each task once: "tasks" is keyed by pid. */
static int check_unique_pids(struct show *s)
{
	_cleanup_free_ struct show_pid *sorted = NULL;

	sorted = malloc(s->nr_pids * sizeof(*sorted));
	if (!sorted)
		return show_fail(s, -ENOMEM, EXIT_FAIL, "out of memory");
	memcpy(sorted, s->pids, s->nr_pids * sizeof(*sorted));
	qsort(sorted, s->nr_pids, sizeof(*sorted), cmp_pid);
	for (size_t i = 1; i < s->nr_pids; i++)
		if (sorted[i].pid == sorted[i - 1].pid)
			return show_fail(s, -EBADMSG, EXIT_BADIMAGE,
					 "%spstree.img at offset %lld: pid %d appears again",
					 s->prefix, (long long)sorted[i].at, sorted[i].pid);
	return 0;
}

static int show_set(struct show *s)
{
	int r = show_need_set(s);

	if (r < 0)
		return r;
	json_obj_begin(&s->j, NULL);
	r = show_records(s, IMG_INVENTORY, 0, rec_inventory, NULL);
	if (r < 0)
		return r;
	if (!s->have_inventory)
		return show_fail(s, -EBADMSG, EXIT_BADIMAGE, "%sinventory.img: no record",
				 s->prefix);
	json_arr_begin(&s->j, "pstree");
	r = show_records(s, IMG_PSTREE, 0, rec_pstree, NULL);
	if (r < 0)
		return r;
	if (!s->nr_pids)
		return show_fail(s, -EBADMSG, EXIT_BADIMAGE, "%spstree.img: no process",
				 s->prefix);
	r = check_unique_pids(s);
	if (r < 0)
		return r;
	json_arr_end(&s->j);
	if (!s->predump || show_has(s, IMG_FILES, 0)) {
		json_arr_begin(&s->j, "files");
		r = show_records(s, IMG_FILES, 0, rec_element, NULL);
		if (r < 0)
			return r;
		json_arr_end(&s->j);
	}
	json_obj_begin(&s->j, "tasks");
	for (size_t i = 0; i < s->nr_pids; i++) {
		if (s->pids[i].zombie)
			continue;
		r = show_task(s, s->pids[i].pid);
		if (r < 0)
			return r;
	}
	json_obj_end(&s->j);
	r = show_ghosts(s);
	if (r < 0)
		return r;
	if (s->incremental) {
		json_arr_begin(&s->j, "chain");
		r = show_chain_links(s, &s->j, NULL);
		if (r < 0)
			return r;
		json_arr_end(&s->j);
	}
	json_obj_end(&s->j);
	return 0;
}

/* ---- one file ---- */

/* A pagemap file is checked with its pages file when its name gives the pid. */
static int show_file_pages(struct show *s, const char *name, const struct img_desc *d)
{
	enum img_kind kind;
	unsigned id;

	if (d->kind != IMG_PAGEMAP || img_parse_name(name, &kind, &id) < 0 || kind != IMG_PAGEMAP)
		return 0;
	return show_pagemap(s, "pages", id);
}

static int show_file(struct show *s, const char *name)
{
	char msg[1024];
	struct img *img = NULL;
	struct stat st;
	int r;

	r = img_open_any(s->dirfd, name, &img, msg, sizeof(msg));
	if (r < 0)
		return show_fail_img(s, r, msg);
	json_obj_begin(&s->j, NULL);
	json_str(&s->j, "file", name);
	json_str(&s->j, "kind", img_get_desc(img)->name);
	if (!img_get_desc(img)->head) {
		/* pages-N.img: raw data, described by its pagemap */
		if (fstat(img_fd(img), &st) < 0) {
			r = negerrno();
			img_abort(img);
			return show_fail(s, r, EXIT_FAIL, "%s%s: %s", s->prefix, name, strerror(-r));
		}
		json_u64(&s->j, "size", st.st_size);
		json_u64(&s->j, "data_bytes", st.st_size > IMG_PAGES_DATA_OFF ?
			 st.st_size - IMG_PAGES_DATA_OFF : 0);
	} else {
		json_arr_begin(&s->j, "records");
		r = show_img_records(s, img, rec_element, NULL);
		if (r == 0) {
			json_arr_end(&s->j);
			r = show_file_pages(s, name, img_get_desc(img));
		}
	}
	img_abort(img);
	json_obj_end(&s->j);
	return r;
}

/* ---- entry ---- */

/* Set s->dirfd and s->prefix for path; the file name (or NULL for a
 * directory) into *ret_name. */
static int show_open(struct show *s, const char *path, char **ret_name)
{
	_cleanup_free_ char *copy = strdup(path);
	const char *dir;
	struct stat st;

	if (!copy)
		return show_fail(s, -ENOMEM, EXIT_FAIL, "out of memory");
	if (stat(path, &st) < 0) {
		int r = negerrno();

		/* no set there: a bad set, as restore says (ckptctl(1), exit 5) */
		return show_fail(s, r, r == -ENOENT || r == -ENOTDIR ? EXIT_BADIMAGE : EXIT_FAIL,
				 "%s: %s", path, strerror(-r));
	}
	if (S_ISDIR(st.st_mode)) {
		dir = path;
		*ret_name = NULL;
		snprintf(s->prefix, sizeof(s->prefix), "%s%s", path,
			 path[strlen(path) - 1] == '/' ? "" : "/");
	} else {
		char *slash = strrchr(copy, '/');

		*ret_name = strdup(slash ? slash + 1 : copy);
		if (!*ret_name)
			return show_fail(s, -ENOMEM, EXIT_FAIL, "out of memory");
		dir = ".";
		if (slash) {
			slash[1] = '\0';
			dir = copy;
			snprintf(s->prefix, sizeof(s->prefix), "%s", copy);
		}
	}
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0)
		return show_fail(s, negerrno(), EXIT_FAIL, "%s: %s", dir, strerror(errno));
	return 0;
}

enum show_mode {
	SHOW_ALL,		/* the whole set (or file) as JSON */
	SHOW_SUMMARY,		/* the same, checked the same, for a person */
	SHOW_CHAIN,		/* its chain, one line per link */
	SHOW_CHAIN_JSON,	/* its chain as a JSON array */
	SHOW_PAGE,		/* one page as a hex dump */
	SHOW_PAGE_JSON,		/* one page as JSON */
};

struct show_opts {
	bool verify;
	enum show_mode mode;
	uint64_t addr;		/* SHOW_PAGE*: the address */
	int pid;		/* SHOW_PAGE*: the task, or 0 */
	bool json_errors;	/* ckptctl's --json: a failure is a JSON object on
				 * stdout, and nothing on stderr */
};

/* ckptctl show --chain: the chain alone (a set without parent is a chain
 * of one). */
static int show_chain(struct show *s, enum show_mode mode, FILE *mem)
{
	int r = show_need_set(s);

	if (r < 0)
		return r;
	if (mode == SHOW_CHAIN)
		return show_chain_links(s, NULL, mem);
	json_arr_begin(&s->j, NULL);
	r = show_chain_links(s, &s->j, NULL);
	if (r == 0)
		json_arr_end(&s->j);
	return r;
}

/* The whole set or file, checked (and decoded to JSON in s->j); for the
 * summary, then printed from what passed to mem. */
static int show_all(struct show *s, const char *name, enum show_mode mode, FILE *mem)
{
	int r;

	r = name ? show_file(s, name) : show_set(s);
	if (r == 0 && mode == SHOW_SUMMARY)
		r = show_summary(s, name, mem);
	return r;
}

static int show_run(struct show *s, const char *path, const char *name,
		    const struct show_opts *o, FILE *mem)
{
	switch (o->mode) {
	case SHOW_ALL:
	case SHOW_SUMMARY:
		return show_all(s, name, o->mode, mem);
	case SHOW_CHAIN:
	case SHOW_CHAIN_JSON:
		if (name)
			return show_fail(s, -ENOTDIR, EXIT_USAGE, "--chain: %s is a file, not an "
					 "image set directory", path);
		return show_chain(s, o->mode, mem);
	default:
		if (name)
			return show_fail(s, -ENOTDIR, EXIT_USAGE, "--pages: %s is a file, not an "
					 "image set directory", path);
		return show_page(s, o->addr, o->pid, o->mode == SHOW_PAGE_JSON, mem);
	}
}

static bool mode_is_json(enum show_mode mode)
{
	return mode == SHOW_ALL || mode == SHOW_CHAIN_JSON || mode == SHOW_PAGE_JSON;
}

/* Show path (a set directory or one image file) as o asks into out; on
 * failure write one line to errf and leave out untouched. Returns the
 * exit code. */
static int show_path_opts(const char *path, const struct show_opts *o, FILE *out, FILE *errf)
{
	struct show s = { .dirfd = -1, .verify = o->verify };
	_cleanup_free_ char *buf = NULL, *jbuf = NULL, *name = NULL;
	size_t len = 0, jlen = 0;
	FILE *mem, *jmem = NULL;
	int r;

	mem = open_memstream(&buf, &len);
	/* the summary is checked as the JSON is: build that JSON aside */
	if (mem && o->mode == SHOW_SUMMARY)
		jmem = open_memstream(&jbuf, &jlen);
	if (!mem || (o->mode == SHOW_SUMMARY && !jmem)) {
		if (mem)
			fclose(mem);
		fprintf(errf, "ckptctl show: out of memory\n");
		return EXIT_FAIL;
	}
	json_init(&s.j, jmem ? jmem : mem, true);
	r = show_open(&s, path, &name);
	if (r == 0)
		r = show_run(&s, path, name, o, mem);
	if (r == 0 && mode_is_json(o->mode) && json_finish(&s.j) < 0)
		r = show_fail(&s, -EIO, EXIT_FAIL, "cannot build the JSON output");
	if (r == 0 && fflush(mem) == EOF)
		r = show_fail(&s, -ENOMEM, EXIT_FAIL, "out of memory");
	fclose(mem);
	if (jmem)
		fclose(jmem);
	if (s.dirfd >= 0)
		close(s.dirfd);
	free(s.block);
	free(s.pids);
	if (r < 0) {
		const char *msg = s.err[0] ? s.err : strerror(-r);

		if (o->json_errors) {
			struct json j;

			json_init(&j, out, false);
			json_obj_begin(&j, NULL);
			json_str(&j, "error", msg);
			json_i64(&j, "errno", -r);
			json_obj_end(&j);
			json_finish(&j);
		} else {
			fprintf(errf, "ckptctl show: %s\n", msg);
		}
		return s.exit_code ? s.exit_code : EXIT_FAIL;
	}
	if (fwrite(buf, 1, len, out) != len || fflush(out) == EOF) {
		fprintf(errf, "ckptctl show: cannot write the output: %s\n", strerror(errno));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* The JSON of path (the unit test's entry). */
static __attribute__((unused)) int show_path(const char *path, bool verify, FILE *out,
					    FILE *errf)
{
	struct show_opts o = { .verify = verify, .mode = SHOW_ALL };

	return show_path_opts(path, &o, out, errf);
}

static void show_usage(FILE *f)
{
	fputs("Usage: ckptctl show [--no-verify] [--json] DIR|FILE.img\n"
	      "       ckptctl show [--no-verify] [--json] -D DIR\n"
	      "       ckptctl show --chain [--json] DIR\n"
	      "       ckptctl show --pages ADDR [-t PID] [--json] DIR\n"
	      "\n"
	      "Summarise an image set (or one image file) for a person: the set and\n"
	      "its chain, the process tree, per task its VMAs with the pages each\n"
	      "stores, its fds, the sizes, and what was verified. Every record and,\n"
	      "unless --no-verify, every page block is checked first; a bad image is\n"
	      "reported on stderr with the file and the offset (exit 5).\n"
	      "\n"
	      "  -D, --images-dir DIR  the image set directory\n"
	      "  -j, --json            the set decoded to JSON instead (every field)\n"
	      "      --no-verify       do not read the pages files to check blocks\n"
	      "  -c, --chain           only the set's chain, one line per link: its\n"
	      "                        directory, kind, tracker, dump time, pages\n"
	      "                        stored in it and left in its parent (with\n"
	      "                        --json, the links as a JSON array)\n"
	      "  -p, --pages ADDR      the page at ADDR (hex) as a hex dump, read from\n"
	      "                        the chain and its block's checksum verified; no\n"
	      "                        page stored there (zero, not dumped, outside\n"
	      "                        every VMA): exit 1, saying which\n"
	      "  -t, --tree PID        with --pages: the task (default: the first that\n"
	      "                        has the page)\n"
	      "  -h, --help            this help\n", f);
}

static int show_usage_error(const char *fmt, const char *arg)
{
	fputs("ckptctl show: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (see ckptctl show --help)\n", stderr);
	return EXIT_USAGE;
}

/* "0x7f00..." or "7f00...": a hex address. */
static int parse_addr(const char *arg, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 16);
	if (!arg[0] || *end || errno || arg[0] == '-')
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_pid(const char *arg, int *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (!arg[0] || *end || errno || v <= 0 || v > 0x7fffffff)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

/* argv[0] is the command's name ("show"), as getopt expects. */
int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "images-dir", required_argument, NULL, 'D' },
		{ "no-verify", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "chain", no_argument, NULL, 'c' },
		{ "pages", required_argument, NULL, 'p' },
		{ "tree", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct show_opts o = { .verify = true };
	const char *path = NULL;
	bool json = false, chain = false, pages = false;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "D:chjp:t:", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			path = optarg;
			break;
		case 'n':
			o.verify = false;
			break;
		case 'j':
			json = true;
			break;
		case 'c':
			chain = true;
			break;
		case 'p':
			if (parse_addr(optarg, &o.addr) < 0)
				return show_usage_error("--pages '%s': give an address in hex",
							optarg);
			pages = true;
			break;
		case 't':
			if (parse_pid(optarg, &o.pid) < 0)
				return show_usage_error("invalid pid '%s'", optarg);
			break;
		case 'h':
			show_usage(stdout);
			return EXIT_OK;
		default:
			show_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc && !path)
		path = argv[optind++];
	if (!path || optind != argc) {
		show_usage(stderr);
		return EXIT_USAGE;
	}
	if (chain && pages)
		return show_usage_error("%s--chain and --pages do not go together", "");
	if (o.pid && !pages)
		return show_usage_error("%s-t PID goes with --pages ADDR", "");
	if (chain)
		o.mode = json ? SHOW_CHAIN_JSON : SHOW_CHAIN;
	else if (pages)
		o.mode = json ? SHOW_PAGE_JSON : SHOW_PAGE;
	else if (json)
		o.mode = SHOW_ALL;
	else
		o.mode = SHOW_SUMMARY;
	o.json_errors = json;
	return show_path_opts(path, &o, stdout, stderr);
}
