/* The hash tracker's image: see hash.h. */
#include "daemon/track/hash.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "images/img.h"
#include "hashes.pb-c.h"

struct hash_file {
	struct img *img;
	bool writer;
	uint64_t ps;
	char err[256];		/* our own failures; the img's are img_errmsg */

	/* the run being written (writer), or the record last read (reader) */
	uint64_t vaddr;
	uint32_t nr;
	uint8_t h[HASH_RUN_PAGES * 16];
	HashesRun *rec;		/* reader: the current record, NULL at the end */
	bool eof;
};

void hash_page(const void *buf, size_t len, struct page_hash *ret)
{
	XXH128_hash_t h = XXH3_128bits(buf, len);

	ret->lo = h.low64;
	ret->hi = h.high64;
}

__attribute__((format(printf, 3, 4)))
static int hfail(struct hash_file *f, int code, const char *fmt, ...)
{
	va_list ap;

	if (!f->err[0]) {
		va_start(ap, fmt);
		vsnprintf(f->err, sizeof(f->err), fmt, ap);
		va_end(ap);
	}
	return code;
}

static int hash_new(bool writer, unsigned page_size, struct hash_file **ret)
{
	struct hash_file *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->writer = writer;
	f->ps = page_size;
	*ret = f;
	return 0;
}

int hash_writer_open(int dirfd, pid_t pid, unsigned page_size, struct hash_file **ret)
{
	HashesHead head = HASHES_HEAD__INIT;
	struct hash_file *f;
	int r;

	r = hash_new(true, page_size, &f);
	if (r < 0)
		return r;
	*ret = f;
	r = img_create(dirfd, IMG_HASHES, pid, &f->img);
	if (r < 0)
		return r;	/* img_errmsg(f->img) says it */
	head.page_size = page_size;
	return img_write_msg(f->img, &head.base);
}

static int flush_run(struct hash_file *w)
{
	HashesRun run = HASHES_RUN__INIT;
	int r;

	if (!w->nr)
		return 0;
	run.vaddr = w->vaddr;
	run.h.data = w->h;
	run.h.len = (size_t)w->nr * 16;
	r = img_write_msg(w->img, &run.base);
	w->nr = 0;
	return r;
}

static void put_hash(uint8_t *p, const struct page_hash *h)
{
	memcpy(p, &h->lo, 8);
	memcpy(p + 8, &h->hi, 8);
}

int hash_writer_add(struct hash_file *w, uint64_t vaddr, const struct page_hash *h)
{
	int r;

	if (w->nr && (vaddr != w->vaddr + w->nr * w->ps || w->nr == HASH_RUN_PAGES)) {
		r = flush_run(w);
		if (r < 0)
			return r;
	}
	if (!w->nr)
		w->vaddr = vaddr;
	put_hash(w->h + (size_t)w->nr * 16, h);
	w->nr++;
	return 0;
}

int hash_writer_finish(struct hash_file *w)
{
	int r = flush_run(w);

	if (r < 0)
		return r;
	r = img_finish(w->img);
	if (r < 0)
		return r;
	return 0;
}

int hash_reader_open(int dirfd, pid_t pid, unsigned page_size, struct hash_file **ret)
{
	ProtobufCMessage *m;
	HashesHead *head;
	struct hash_file *f;
	int r;

	r = hash_new(false, page_size, &f);
	if (r < 0)
		return r;
	*ret = f;
	r = img_open(dirfd, IMG_HASHES, pid, &f->img);
	if (r < 0)
		return r;
	r = img_read_next(f->img, &m);
	if (r < 0)
		return r;
	if (!m)
		return hfail(f, -EBADMSG, "%s: no head record", img_name(f->img));
	head = (HashesHead *)m;
	if (head->page_size != page_size) {
		r = hfail(f, -EBADMSG, "%s: page size %u is not %u", img_name(f->img),
			  head->page_size, page_size);
		protobuf_c_message_free_unpacked(m, NULL);
		return r;
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

/* The next record, checked: whole hashes, ascending, page aligned. */
static int next_record(struct hash_file *f)
{
	uint64_t prev_end = f->rec ? f->rec->vaddr + f->rec->h.len / 16 * f->ps : 0;
	ProtobufCMessage *m;
	HashesRun *run;
	int r;

	if (f->rec)
		protobuf_c_message_free_unpacked(&f->rec->base, NULL);
	f->rec = NULL;
	r = img_read_next(f->img, &m);
	if (r < 0)
		return r;
	if (!m) {
		f->eof = true;
		return 0;
	}
	run = (HashesRun *)m;
	f->rec = run;
	if (!run->h.len || run->h.len % 16 || run->h.len / 16 > HASH_RUN_PAGES ||
	    run->vaddr % f->ps || run->vaddr < prev_end)
		return hfail(f, -EBADMSG, "%s: record %u (0x%llx, %zu bytes) is malformed or "
			     "out of order", img_name(f->img), img_nr_records(f->img),
			     (unsigned long long)run->vaddr, run->h.len);
	return 0;
}

int hash_reader_same(struct hash_file *r, uint64_t vaddr, const struct page_hash *h,
		     bool *ret)
{
	uint8_t want[16];
	int e;

	*ret = false;
	if (r->err[0] || img_failed(r->img))
		return -EBADMSG;
	while (!r->eof && (!r->rec || r->rec->vaddr + r->rec->h.len / 16 * r->ps <= vaddr)) {
		e = next_record(r);
		if (e < 0)
			return e;
	}
	if (r->eof || vaddr < r->rec->vaddr)
		return 0;
	put_hash(want, h);
	*ret = !memcmp(r->rec->h.data + (vaddr - r->rec->vaddr) / r->ps * 16, want, 16);
	return 0;
}

const char *hash_errmsg(const struct hash_file *f)
{
	if (!f)
		return "out of memory";
	return f->err[0] ? f->err : img_errmsg(f->img);
}

void hash_close(struct hash_file *f)
{
	if (!f)
		return;
	if (f->rec)
		protobuf_c_message_free_unpacked(&f->rec->base, NULL);
	if (f->writer)
		img_abort(f->img);	/* a finished writer's img is only freed */
	else
		img_close(f->img);
	free(f);
}
