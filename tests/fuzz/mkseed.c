/* Pack a real image set into one input of fuzz_imgset (and its files into
 * inputs of fuzz_img), to seed the corpus:
 *
 *	mkseed SETDIR OUTDIR [MAX_PAGES]
 *
 * writes OUTDIR/set (the whole set in fuzz_imgset's framing: u8 kind,
 * le32 id, le32 length, bytes) and OUTDIR/img-NAME for each file (one byte
 * naming the kind, then the file, as fuzz_img reads it). To keep the corpus
 * small, page data is cut down: each pagemap is rewritten so that at most
 * MAX_PAGES (default 4) pages keep their data, the first page of the first
 * blocks; every other page becomes a zero page. The result is still a
 * consistent set (entries, offsets and checksums agree). Ghost files keep
 * the first GHOST_KEEP bytes of each chunk (a deleted file's contents are
 * not checked against anything). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "images/img.h"
#include "images/pages.h"
#include "files.pb-c.h"

#define GHOST_KEEP 64	/* bytes kept of each ghost chunk */

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "mkseed: %s: %s\n", what, detail);
	exit(1);
}

static void put_le32(FILE *f, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		fputc(v >> (8 * i), f);
}

static void pack_file(FILE *set, const char *outdir, int dirfd, const char *name)
{
	_cleanup_free_ char *data = NULL;
	enum img_kind kind;
	char path[4200];
	unsigned id;
	size_t len;
	FILE *one;

	if (img_parse_name(name, &kind, &id) < 0)
		return;
	if (read_file_at(dirfd, name, &data, &len) < 0)
		die(name, "cannot read");
	fputc(kind, set);
	put_le32(set, id);
	put_le32(set, len);
	fwrite(data, 1, len, set);
	snprintf(path, sizeof(path), "%s/img-%s", outdir, name);
	one = fopen(path, "w");
	if (!one)
		die(path, "cannot create");
	fputc(kind, one);
	fwrite(data, 1, len, one);
	fclose(one);
}

/* Rewrite pagemap-PID (and its pages file) into tmpfd with at most *budget
 * pages of data left. */
static void trim_pages(int dirfd, int tmpfd, unsigned pid, unsigned *budget)
{
	struct page_reader *r = NULL;
	struct page_writer *w = NULL;
	struct page_entry e;
	_cleanup_free_ uint8_t *buf = NULL;
	int ret;

	if (pager_open(dirfd, pid, &r) < 0)
		die("pager_open", pager_errmsg(r));
	if (pagew_open(tmpfd, pid, pager_pages_id(r), pager_page_size(r), &w) < 0)
		die("pagew_open", "cannot create");
	buf = malloc((size_t)pager_max_block_pages(r) * pager_page_size(r));
	if (!buf)
		die("malloc", "out of memory");
	while ((ret = pager_next(r, &e)) > 0) {
		uint64_t ps = pager_page_size(r), rest = e.nr_pages;

		if (e.flags == PE_PRESENT && *budget) {
			if (pager_read(r, &e, buf) < 0)
				die("pager_read", pager_errmsg(r));
			if (pagew_add_block(w, e.vaddr, buf, 1, pages_block_hash(buf, ps)) < 0)
				die("pagew_add_block", pagew_errmsg(w));
			(*budget)--;
			e.vaddr += ps;
			rest--;
		}
		if (rest && pagew_add_hole(w, e.vaddr, rest,
					   e.flags == PE_PRESENT ? PE_ZERO : e.flags) < 0)
			die("pagew_add_hole", pagew_errmsg(w));
	}
	if (ret < 0)
		die("pager_next", pager_errmsg(r));
	if (pagew_close(w) < 0)
		die("pagew_close", "failed");
	pager_close(r);
}

/* Rewrite ghost-ID into tmpfd with every chunk cut to GHOST_KEEP bytes. */
static void trim_ghost(int dirfd, int tmpfd, unsigned id)
{
	struct img *in = NULL, *out = NULL;
	ProtobufCMessage *m;
	int r;

	if (img_open(dirfd, IMG_GHOST, id, &in) < 0)
		die("img_open", img_errmsg(in));
	if (img_create(tmpfd, IMG_GHOST, id, &out) < 0)
		die("img_create", "ghost");
	while ((r = img_read_next(in, &m)) == 0 && m) {
		if (img_nr_records(in) > 1) {
			GhostChunk *c = (GhostChunk *)m;

			if (c->data.len > GHOST_KEEP)
				c->data.len = GHOST_KEEP;
		}
		if (img_write_msg(out, m) < 0)
			die("img_write_msg", img_errmsg(out));
		protobuf_c_message_free_unpacked(m, NULL);
	}
	if (r < 0)
		die("img_read_next", img_errmsg(in));
	img_close(in);
	if (img_close(out) < 0)
		die("img_close", "ghost");
}

int main(int argc, char **argv)
{
	char tmp[] = "/tmp/mkseed.XXXXXX", path[4200];
	unsigned budget = argc > 3 ? strtoul(argv[3], NULL, 0) : 4;
	struct dirent *de;
	int dirfd, tmpfd;
	FILE *set;
	DIR *d;

	if (argc < 3)
		die("usage", "mkseed SETDIR OUTDIR [MAX_PAGES]");
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || !mkdtemp(tmp))
		die(argv[1], "cannot open");
	tmpfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/set", argv[2]);
	set = fopen(path, "w");
	d = opendir(argv[1]);
	if (tmpfd < 0 || !set || !d)
		die(argv[2], "cannot create");
	while ((de = readdir(d))) {
		enum img_kind kind;
		unsigned id;

		if (img_parse_name(de->d_name, &kind, &id) < 0 || kind == IMG_PAGES)
			continue;
		if (kind == IMG_PAGEMAP) {
			trim_pages(dirfd, tmpfd, id, &budget);
			continue;
		}
		if (kind == IMG_GHOST) {
			trim_ghost(dirfd, tmpfd, id);
			continue;
		}
		pack_file(set, argv[2], dirfd, de->d_name);
	}
	closedir(d);
	/* the trimmed pagemaps and pages files */
	d = fdopendir(tmpfd);
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.') {
			pack_file(set, argv[2], tmpfd, de->d_name);
			unlinkat(tmpfd, de->d_name, 0);
		}
	if (d)
		closedir(d);
	rmdir(tmp);
	fclose(set);
	return 0;
}
