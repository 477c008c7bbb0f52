/* The page store: pagemap-PID.img lists address ranges in ascending order;
 * pages-N.img holds the bytes of the PRESENT ones, one block per entry, back
 * to back from IMG_PAGES_DATA_OFF. The writer writes each block straight
 * from the caller's buffer, with the checksum the caller computed, and
 * keeps one pending entry (a run of holes grows until something else
 * comes), so its memory does not grow with the number of pages.
 *
 * The reader trusts nothing: every entry is checked against the previous one
 * and against the pages file's size before anyone preads through it. */
#include "images/pages.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "common/util.h"
#include "images/img.h"
#include "pagemap.pb-c.h"

#define PE_KIND_MASK (PE_PRESENT | PE_IN_PARENT | PE_ZERO | PE_COW)

static bool page_size_ok(uint64_t ps)
{
	return ps >= 4096 && ps <= (1u << 16) && !(ps & (ps - 1));
}

static void vfail(char *buf, size_t len, const char *fmt, va_list ap)
{
	if (!buf[0])
		vsnprintf(buf, len, fmt, ap);
}

/* ---- writer ---- */

struct page_writer {
	struct img *map;
	struct img *pages;
	unsigned page_size;
	uint64_t pages_written;
	uint64_t end;			/* end of the last range added */
	bool pending;			/* cur holds an entry not yet written */
	struct page_entry cur;
	int code;
	char err[512];
};

static int pagew_fail(struct page_writer *w, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int pagew_fail(struct page_writer *w, int code, const char *fmt, ...)
{
	va_list ap;

	if (!w->code)
		w->code = code;
	va_start(ap, fmt);
	vfail(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	return code;
}

static int pagew_img_fail(struct page_writer *w, struct img *img, int r)
{
	return pagew_fail(w, r, "%s", img_errmsg(img));
}

int pagew_open(int dirfd, unsigned pid, unsigned pages_id, unsigned page_size,
	       struct page_writer **ret)
{
	PagemapHead h = PAGEMAP_HEAD__INIT;
	struct page_writer *w;
	char name[64];
	int r;

	if (!page_size_ok(page_size))
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->page_size = page_size;
	r = img_create(dirfd, IMG_PAGES, pages_id, &w->pages);
	if (r < 0)
		goto out_free;
	r = img_create(dirfd, IMG_PAGEMAP, pid, &w->map);
	if (r < 0)
		goto out_unlink_pages;
	h.pages_id = pages_id;
	h.page_size = page_size;
	h.max_block_pages = PAGES_MAX_BLOCK_PAGES;
	r = img_write_msg(w->map, &h.base);
	if (r < 0)
		goto out_unlink_map;
	*ret = w;
	return 0;

out_unlink_map:
	img_abort(w->map);
	if (img_filename(IMG_PAGEMAP, pid, name, sizeof(name)) == 0)
		unlinkat(dirfd, name, 0);
out_unlink_pages:
	img_abort(w->pages);
	if (img_filename(IMG_PAGES, pages_id, name, sizeof(name)) == 0)
		unlinkat(dirfd, name, 0);
out_free:
	free(w);
	return r;
}

/* Write the pending entry to the pagemap. */
static int pagew_flush(struct page_writer *w)
{
	PagemapEntry e = PAGEMAP_ENTRY__INIT;
	int r;

	if (!w->pending)
		return 0;
	e.vaddr = w->cur.vaddr;
	e.nr_pages = w->cur.nr_pages;
	e.flags = w->cur.flags;
	if (w->cur.flags == PE_PRESENT) {
		e.has_off = e.has_xxh3 = true;
		e.off = (w->cur.data_off - IMG_PAGES_DATA_OFF) / w->page_size;
		e.xxh3 = w->cur.xxh3;
	}
	r = img_write_msg(w->map, &e.base);
	if (r < 0)
		return pagew_img_fail(w, w->map, r);
	w->pending = false;
	return 0;
}

/* Check that [vaddr, vaddr + nr_pages pages) may follow what came before. */
static int pagew_check_range(struct page_writer *w, uint64_t vaddr, uint64_t nr_pages)
{
	uint64_t ps = w->page_size;

	if (w->code)
		return -EINVAL;
	if (vaddr % ps || !nr_pages || nr_pages > (UINT64_MAX - vaddr) / ps)
		return pagew_fail(w, -EINVAL, "%s: bad range at 0x%llx (%llu pages)",
				  img_name(w->map), (unsigned long long)vaddr,
				  (unsigned long long)nr_pages);
	if (vaddr < w->end)
		return pagew_fail(w, -EINVAL,
				  "%s: range at 0x%llx is below the end 0x%llx of the previous one",
				  img_name(w->map), (unsigned long long)vaddr,
				  (unsigned long long)w->end);
	return 0;
}

/* Start a new entry at vaddr; PRESENT blocks start at the next data byte. */
static int pagew_start(struct page_writer *w, uint64_t vaddr, uint32_t flags)
{
	int r;

	r = pagew_flush(w);
	if (r < 0)
		return r;
	w->cur = (struct page_entry){ .vaddr = vaddr, .flags = flags };
	if (flags == PE_PRESENT)
		w->cur.data_off = img_offset(w->pages);
	w->pending = true;
	return 0;
}

static bool pagew_extends(const struct page_writer *w, uint64_t vaddr, uint32_t flags,
			  uint64_t limit)
{
	return w->pending && w->cur.flags == flags && w->cur.nr_pages < limit &&
	       w->cur.vaddr + (uint64_t)w->cur.nr_pages * w->page_size == vaddr;
}

uint64_t pages_block_hash(const void *buf, size_t len)
{
	return XXH3_64bits(buf, len);
}

int pagew_add_block(struct page_writer *w, uint64_t vaddr, const void *buf, uint64_t nr_pages,
		    uint64_t xxh3)
{
	int r;

	r = pagew_check_range(w, vaddr, nr_pages);
	if (r < 0)
		return r;
	if (nr_pages > PAGES_MAX_BLOCK_PAGES)
		return pagew_fail(w, -EINVAL, "%s: a block of %llu pages at 0x%llx is over %u",
				  img_name(w->map), (unsigned long long)nr_pages,
				  (unsigned long long)vaddr, PAGES_MAX_BLOCK_PAGES);
	r = pagew_start(w, vaddr, PE_PRESENT);
	if (r < 0)
		return r;
	w->end = vaddr + nr_pages * w->page_size;
	r = img_write_raw(w->pages, buf, nr_pages * w->page_size);
	if (r < 0)
		return pagew_img_fail(w, w->pages, r);
	w->cur.nr_pages = nr_pages;
	w->cur.xxh3 = xxh3;
	w->pages_written += nr_pages;
	return pagew_flush(w);
}

int pagew_add_hole(struct page_writer *w, uint64_t vaddr, uint64_t nr_pages, uint32_t flags)
{
	int r;

	if (flags != PE_ZERO && flags != PE_IN_PARENT && flags != PE_COW)
		return pagew_fail(w, -EINVAL, "%s: bad flags 0x%x for a range without data",
				  img_name(w->map), flags);
	r = pagew_check_range(w, vaddr, nr_pages);
	if (r < 0)
		return r;
	w->end = vaddr + nr_pages * w->page_size;
	while (nr_pages) {
		uint64_t n;

		if (!pagew_extends(w, vaddr, flags, UINT32_MAX)) {
			r = pagew_start(w, vaddr, flags);
			if (r < 0)
				return r;
		}
		n = MIN(nr_pages, UINT32_MAX - w->cur.nr_pages);
		w->cur.nr_pages += n;
		vaddr += n * w->page_size;
		nr_pages -= n;
	}
	return 0;
}

uint64_t pagew_pages_written(const struct page_writer *w)
{
	return w->pages_written;
}

int pagew_finish(struct page_writer *w)
{
	int r;

	if (w->code)
		return w->code;
	r = pagew_flush(w);
	if (r < 0)
		return r;
	r = img_finish(w->pages);
	if (r < 0)
		return pagew_img_fail(w, w->pages, r);
	r = img_finish(w->map);
	if (r < 0)
		return pagew_img_fail(w, w->map, r);
	return 0;
}

static void pagew_free(struct page_writer *w)
{
	img_abort(w->map);
	img_abort(w->pages);
	free(w);
}

int pagew_close(struct page_writer *w)
{
	int r;

	if (!w)
		return 0;
	r = pagew_finish(w);
	pagew_free(w);
	return r;
}

void pagew_abort(struct page_writer *w)
{
	if (w)
		pagew_free(w);
}

const char *pagew_errmsg(const struct page_writer *w)
{
	if (!w)
		return "out of memory";
	return w->err[0] ? w->err : "no error";
}

/* ---- reader ---- */

struct page_reader {
	struct img *map;
	struct img *pages;
	unsigned pages_id;
	unsigned page_size;
	unsigned max_block;
	uint64_t pages_size;		/* bytes in pages-N.img */
	uint64_t end;			/* end of the previous entry's range */
	uint64_t next_off;		/* where the next PRESENT block must start */
	unsigned index;			/* of the next entry (0: the first after the head) */
	bool done;
	bool failed;
	char err[512];
};

static int pager_fail(struct page_reader *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int pager_fail(struct page_reader *r, int code, const char *fmt, ...)
{
	va_list ap;

	r->failed = true;
	va_start(ap, fmt);
	vfail(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return code;
}

static int pager_check_head(struct page_reader *r, const PagemapHead *h, off_t at)
{
	const char *name = img_name(r->map);

	if (!page_size_ok(h->page_size))
		return pager_fail(r, -EBADMSG, "%s at offset %lld: bad page size %u", name,
				  (long long)at, h->page_size);
	if (!h->max_block_pages || h->max_block_pages > PAGES_MAX_BLOCK_PAGES)
		return pager_fail(r, -EBADMSG,
				  "%s at offset %lld: block size of %u pages is not within 1..%u",
				  name, (long long)at, h->max_block_pages, PAGES_MAX_BLOCK_PAGES);
	r->pages_id = h->pages_id;
	r->page_size = h->page_size;
	r->max_block = h->max_block_pages;
	return 0;
}

/* The bytes between the header and the data are zero: a reader that
 * covers every byte of the file with a check notices any damage there too. */
static int pager_check_padding(struct page_reader *r)
{
	uint8_t pad[IMG_PAGES_DATA_OFF - IMG_HDR_SIZE];
	int ret;

	ret = pread_full(img_fd(r->pages), pad, sizeof(pad), IMG_HDR_SIZE);
	if (ret < 0)
		return pager_fail(r, ret, "%s at offset %u: cannot read", img_name(r->pages),
				  IMG_HDR_SIZE);
	for (size_t i = 0; i < sizeof(pad); i++)
		if (pad[i])
			return pager_fail(r, -EBADMSG,
					  "%s at offset %zu: non-zero byte before the data area",
					  img_name(r->pages), IMG_HDR_SIZE + i);
	return 0;
}

static int pager_open_pages(struct page_reader *r, int dirfd)
{
	struct stat st;
	int ret;

	ret = img_open(dirfd, IMG_PAGES, r->pages_id, &r->pages);
	if (ret < 0)
		return pager_fail(r, ret, "%s (named by %s)", img_errmsg(r->pages),
				  img_name(r->map));
	if (fstat(img_fd(r->pages), &st) < 0)
		return pager_fail(r, negerrno(), "%s: cannot stat", img_name(r->pages));
	if ((uint64_t)st.st_size < IMG_PAGES_DATA_OFF)
		return pager_fail(r, -ENODATA,
				  "%s at offset %lld: truncated: the data area starts at offset %u",
				  img_name(r->pages), (long long)st.st_size, IMG_PAGES_DATA_OFF);
	r->pages_size = st.st_size;
	r->next_off = IMG_PAGES_DATA_OFF;
	return pager_check_padding(r);
}

int pager_open(int dirfd, unsigned pid, struct page_reader **ret)
{
	ProtobufCMessage *m = NULL;
	struct page_reader *r;
	off_t at;
	int ret_code;

	*ret = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	*ret = r;
	ret_code = img_open(dirfd, IMG_PAGEMAP, pid, &r->map);
	if (ret_code < 0)
		return pager_fail(r, ret_code, "%s", img_errmsg(r->map));
	at = img_offset(r->map);
	ret_code = img_read_next(r->map, &m);
	if (ret_code < 0)
		return pager_fail(r, ret_code, "%s", img_errmsg(r->map));
	if (!m)
		return pager_fail(r, -EBADMSG, "%s at offset %lld: no pagemap head record",
				  img_name(r->map), (long long)at);
	ret_code = pager_check_head(r, (PagemapHead *)m, at);
	protobuf_c_message_free_unpacked(m, NULL);
	if (ret_code < 0)
		return ret_code;
	return pager_open_pages(r, dirfd);
}

/* Every byte of the pages file must belong to exactly one block. */
static int pager_check_end(struct page_reader *r)
{
	if (r->next_off != r->pages_size)
		return pager_fail(r, -EBADMSG,
				  "%s at offset %llu: %llu bytes follow the last block %s describes",
				  img_name(r->pages), (unsigned long long)r->next_off,
				  (unsigned long long)(r->pages_size - r->next_off),
				  img_name(r->map));
	r->done = true;
	return 0;
}

#define ENTRY_FAIL(r, at, fmt, ...)						\
	pager_fail(r, -EBADMSG, "%s at offset %lld: entry %u: " fmt,		\
		   img_name((r)->map), (long long)(at), (r)->index, ##__VA_ARGS__)

static int pager_check_block(struct page_reader *r, const PagemapEntry *e, off_t at,
			     struct page_entry *pe)
{
	uint64_t len = (uint64_t)e->nr_pages * r->page_size;

	if (e->nr_pages > r->max_block)
		return ENTRY_FAIL(r, at, "block of %u pages exceeds the limit of %u",
				  e->nr_pages, r->max_block);
	if (!e->has_off || !e->has_xxh3)
		return ENTRY_FAIL(r, at, "present pages without a data offset or checksum");
	if (e->off > (r->pages_size - IMG_PAGES_DATA_OFF) / r->page_size ||
	    IMG_PAGES_DATA_OFF + e->off * r->page_size + len > r->pages_size)
		return ENTRY_FAIL(r, at,
				  "block at page %llu (%llu bytes) runs past the end of %s (%llu bytes)",
				  (unsigned long long)e->off, (unsigned long long)len,
				  img_name(r->pages), (unsigned long long)r->pages_size);
	pe->data_off = IMG_PAGES_DATA_OFF + e->off * r->page_size;
	if (pe->data_off != r->next_off)
		return ENTRY_FAIL(r, at, "block at offset %llu of %s, expected %llu",
				  (unsigned long long)pe->data_off, img_name(r->pages),
				  (unsigned long long)r->next_off);
	pe->xxh3 = e->xxh3;
	r->next_off += len;
	return 0;
}

static int pager_check_entry(struct page_reader *r, const PagemapEntry *e, off_t at,
			     struct page_entry *pe)
{
	uint64_t ps = r->page_size;
	int ret;

	if (!e->flags || (e->flags & ~PE_KIND_MASK) || (e->flags & (e->flags - 1)))
		return ENTRY_FAIL(r, at, "bad flags 0x%x", e->flags);
	if (e->vaddr % ps)
		return ENTRY_FAIL(r, at, "address 0x%llx is not page-aligned",
				  (unsigned long long)e->vaddr);
	if (!e->nr_pages || e->nr_pages > (UINT64_MAX - e->vaddr) / ps)
		return ENTRY_FAIL(r, at, "bad size of %u pages at 0x%llx", e->nr_pages,
				  (unsigned long long)e->vaddr);
	if (r->index && e->vaddr < r->end)
		return ENTRY_FAIL(r, at, "address 0x%llx is below the end 0x%llx of the previous entry",
				  (unsigned long long)e->vaddr, (unsigned long long)r->end);
	*pe = (struct page_entry){ .vaddr = e->vaddr, .nr_pages = e->nr_pages, .flags = e->flags };
	if (e->flags == PE_PRESENT) {
		ret = pager_check_block(r, e, at, pe);
		if (ret < 0)
			return ret;
	} else if (e->has_off || e->has_xxh3) {
		return ENTRY_FAIL(r, at, "pages without data carry a data offset or checksum");
	}
	r->end = e->vaddr + e->nr_pages * ps;
	return 0;
}

int pager_next(struct page_reader *r, struct page_entry *ret)
{
	ProtobufCMessage *m = NULL;
	struct page_entry pe;
	off_t at;
	int err;

	if (r->failed)
		return -EINVAL;
	if (r->done)
		return 0;
	at = img_offset(r->map);
	err = img_read_next(r->map, &m);
	if (err < 0)
		return pager_fail(r, err, "%s", img_errmsg(r->map));
	if (!m)
		return pager_check_end(r);
	err = pager_check_entry(r, (PagemapEntry *)m, at, &pe);
	protobuf_c_message_free_unpacked(m, NULL);
	if (err < 0)
		return err;
	r->index++;
	*ret = pe;
	return 1;
}

int pager_read(struct page_reader *r, const struct page_entry *e, void *buf)
{
	size_t len = (size_t)e->nr_pages * r->page_size;
	int err;

	if (e->flags != PE_PRESENT || e->nr_pages > r->max_block)
		return -EINVAL;
	err = pread_full(img_fd(r->pages), buf, len, e->data_off);
	if (err < 0)
		return pager_fail(r, err, "%s at offset %llu: cannot read a block of %zu bytes",
				  img_name(r->pages), (unsigned long long)e->data_off, len);
	return pager_verify(r, e, buf);
}

int pager_verify(struct page_reader *r, const struct page_entry *e, const void *buf)
{
	size_t len = (size_t)e->nr_pages * r->page_size;
	uint64_t sum;

	if (e->flags != PE_PRESENT)
		return -EINVAL;
	sum = pages_block_hash(buf, len);
	if (sum != e->xxh3) {
		/* Not fatal for the reader: a caller may go on to list the rest. */
		if (!r->err[0])
			snprintf(r->err, sizeof(r->err),
				 "%s at offset %llu: block checksum mismatch (%u pages at 0x%llx, "
				 "xxh3 0x%016llx, %s says 0x%016llx)",
				 img_name(r->pages), (unsigned long long)e->data_off,
				 e->nr_pages, (unsigned long long)e->vaddr,
				 (unsigned long long)sum, img_name(r->map),
				 (unsigned long long)e->xxh3);
		return -EBADMSG;
	}
	return 0;
}

unsigned pager_pages_id(const struct page_reader *r)
{
	return r->pages_id;
}

unsigned pager_page_size(const struct page_reader *r)
{
	return r->page_size;
}

unsigned pager_max_block_pages(const struct page_reader *r)
{
	return r->max_block;
}

int pager_pages_fd(const struct page_reader *r)
{
	return img_fd(r->pages);
}

void pager_close(struct page_reader *r)
{
	if (!r)
		return;
	img_abort(r->map);
	img_abort(r->pages);
	free(r);
}

const char *pager_errmsg(const struct page_reader *r)
{
	if (!r)
		return "out of memory";
	return r->err[0] ? r->err : "no error";
}
