/* images/pages.c: the page store round trip, block splitting and merging,
 * and a reader that refuses every inconsistent pagemap or pages file. */
#include "tests/unit/img-fixture.h"

#include <malloc.h>
#include <sys/mman.h>

#include "images/pages.h"
#include "pagemap.pb-c.h"

TestSuite(pages, .init = fx_setup, .fini = fx_teardown);

#define PS 4096u

/* Page number n of the test pattern (every page distinct). */
static void fill(uint8_t *p, uint64_t vaddr, uint64_t nr)
{
	for (uint64_t i = 0; i < nr * PS; i += 8) {
		uint64_t v = (vaddr + i) * 0x9e3779b97f4a7c15ull;

		memcpy(p + i, &v, 8);
	}
}

static struct page_writer *wopen_id(unsigned id)
{
	struct page_writer *w = NULL;

	cr_assert_eq(pagew_open(fx_dirfd, id, id, PS, &w), 0);
	return w;
}

static struct page_writer *wopen(void)
{
	return wopen_id(1);
}

/* nr pages of buf for vaddr, cut into blocks of at most
 * PAGES_MAX_BLOCK_PAGES as the dump cuts them; returns the first failure. */
static int add_buf(struct page_writer *w, uint64_t vaddr, const uint8_t *buf, uint64_t nr)
{
	while (nr) {
		uint64_t n = nr < PAGES_MAX_BLOCK_PAGES ? nr : PAGES_MAX_BLOCK_PAGES;
		int r = pagew_add_block(w, vaddr, buf, n, pages_block_hash(buf, n * PS));

		if (r < 0)
			return r;
		vaddr += n * PS;
		buf += n * PS;
		nr -= n;
	}
	return 0;
}

static void add(struct page_writer *w, uint64_t vaddr, uint64_t nr)
{
	uint8_t *buf = malloc(nr * PS);

	fill(buf, vaddr, nr);
	cr_assert_eq(add_buf(w, vaddr, buf, nr), 0, "%s", pagew_errmsg(w));
	free(buf);
}

static struct page_reader *ropen(void)
{
	struct page_reader *r = NULL;
	int ret = pager_open(fx_dirfd, 1, &r);

	cr_assert_eq(ret, 0, "%d %s", ret, pager_errmsg(r));
	return r;
}

/* A set of ranges of every kind: holes merge, blocks stand alone. */
static void write_sample(void)
{
	struct page_writer *w = wopen();

	add(w, 0x10000, 3);
	cr_assert_eq(pagew_add_hole(w, 0x13000, 5, PE_ZERO), 0);
	cr_assert_eq(pagew_add_hole(w, 0x18000, 2, PE_ZERO), 0);	/* merges */
	add(w, 0x100000, 600);						/* 512 + 88 */
	add(w, 0x100000 + 600 * PS, 1);					/* its own */
	add(w, 0x100000 + 601 * PS, 1);
	cr_assert_eq(pagew_add_hole(w, 0x400000, 7, PE_IN_PARENT), 0);
	add(w, 0x500000, 1);
	cr_assert_eq(pagew_pages_written(w), 3 + 600 + 2 + 1);
	cr_assert_eq(pagew_close(w), 0);
}

static const struct page_entry sample[] = {
	{ 0x10000, 3, PE_PRESENT, IMG_PAGES_DATA_OFF, 0 },
	{ 0x13000, 7, PE_ZERO, 0, 0 },
	{ 0x100000, 512, PE_PRESENT, IMG_PAGES_DATA_OFF + 3 * PS, 0 },
	{ 0x100000 + 512 * PS, 88, PE_PRESENT, IMG_PAGES_DATA_OFF + 515 * PS, 0 },
	{ 0x100000 + 600 * PS, 1, PE_PRESENT, IMG_PAGES_DATA_OFF + 603 * PS, 0 },
	{ 0x100000 + 601 * PS, 1, PE_PRESENT, IMG_PAGES_DATA_OFF + 604 * PS, 0 },
	{ 0x400000, 7, PE_IN_PARENT, 0, 0 },
	{ 0x500000, 1, PE_PRESENT, IMG_PAGES_DATA_OFF + 605 * PS, 0 },
};

/* PE_COW (the parent task's page) is a hole like PE_ZERO: no data. */
Test(pages, cow_hole)
{
	struct page_writer *w = wopen();
	struct page_reader *r;
	struct page_entry e;

	add(w, 0x10000, 1);
	cr_assert_eq(pagew_add_hole(w, 0x11000, 3, PE_COW), 0);
	cr_assert_eq(pagew_add_hole(w, 0x14000, 1, PE_COW), 0);	/* merges */
	cr_assert_eq(pagew_close(w), 0);
	r = ropen();
	cr_assert_eq(pager_next(r, &e), 1);
	cr_assert_eq(e.flags, PE_PRESENT);
	cr_assert_eq(pager_next(r, &e), 1);
	cr_assert_eq(e.vaddr, 0x11000);
	cr_assert_eq(e.nr_pages, 4);
	cr_assert_eq(e.flags, PE_COW);
	cr_assert_eq(pager_next(r, &e), 0);
	pager_close(r);
}

Test(pages, roundtrip)
{
	uint8_t *buf = malloc(PAGES_MAX_BLOCK_PAGES * PS), *want = malloc(PAGES_MAX_BLOCK_PAGES * PS);
	struct page_reader *r;
	struct page_entry e;
	unsigned i = 0;
	int ret;

	write_sample();
	cr_assert_eq(fx_size("pages-1.img"), IMG_PAGES_DATA_OFF + 606 * PS);
	r = ropen();
	cr_assert_eq(pager_pages_id(r), 1);
	cr_assert_eq(pager_page_size(r), PS);
	cr_assert_eq(pager_max_block_pages(r), PAGES_MAX_BLOCK_PAGES);
	cr_assert_geq(pager_pages_fd(r), 0);
	while ((ret = pager_next(r, &e)) > 0) {
		cr_assert_lt(i, ARRAY_SIZE(sample));
		cr_assert_eq(e.vaddr, sample[i].vaddr, "entry %u: 0x%llx", i,
			     (unsigned long long)e.vaddr);
		cr_assert_eq(e.nr_pages, sample[i].nr_pages, "entry %u", i);
		cr_assert_eq(e.flags, sample[i].flags, "entry %u", i);
		if (e.flags == PE_PRESENT) {
			cr_assert_eq(e.data_off, sample[i].data_off, "entry %u", i);
			cr_assert_eq(pager_read(r, &e, buf), 0, "%s", pager_errmsg(r));
			fill(want, e.vaddr, e.nr_pages);
			cr_assert_eq(memcmp(buf, want, e.nr_pages * PS), 0, "entry %u", i);
			cr_assert_eq(pager_verify(r, &e, buf), 0);
		}
		i++;
	}
	cr_assert_eq(ret, 0, "%s", pager_errmsg(r));
	cr_assert_eq(i, ARRAY_SIZE(sample));
	cr_assert_eq(pager_next(r, &e), 0);
	pager_close(r);
	free(buf);
	free(want);
}

/* Blocks checksummed by the caller (the dump's reader thread): each stands
 * alone, even when the next one is contiguous, and carries the given hash,
 * which the reader then checks like any other. */
Test(pages, whole_blocks_with_given_hashes)
{
	uint8_t *buf = malloc(PAGES_MAX_BLOCK_PAGES * PS), *got = malloc(PAGES_MAX_BLOCK_PAGES * PS);
	struct page_writer *w = wopen_id(2);
	struct page_reader *r;
	struct page_entry e;
	uint64_t h[3];

	fill(buf, 0x10000, 4);
	h[0] = pages_block_hash(buf, 4 * PS);
	cr_assert_eq(pagew_add_block(w, 0x10000, buf, 4, h[0]), 0, "%s", pagew_errmsg(w));
	fill(buf, 0x14000, 2);
	h[1] = pages_block_hash(buf, 2 * PS) ^ 1;	/* a wrong hash, on purpose */
	cr_assert_eq(pagew_add_block(w, 0x14000, buf, 2, h[1]), 0, "%s", pagew_errmsg(w));
	add(w, 0x16000, 1);				/* contiguous, yet its own */
	cr_assert_eq(pagew_add_block(w, 0x17000, buf, PAGES_MAX_BLOCK_PAGES + 1, 0), -EINVAL);
	cr_assert_not_null(strstr(pagew_errmsg(w), "is over 512"), "%s", pagew_errmsg(w));
	pagew_abort(w);

	w = wopen_id(3);
	fill(buf, 0x10000, 4);
	cr_assert_eq(pagew_add_block(w, 0x10000, buf, 4, h[0]), 0);
	fill(buf, 0x14000, 2);
	cr_assert_eq(pagew_add_block(w, 0x14000, buf, 2, h[1]), 0);
	add(w, 0x16000, 1);
	cr_assert_eq(pagew_add_block(w, 0x16000, buf, 1, 0), -EINVAL);	/* overlaps */
	pagew_abort(w);

	w = wopen();
	fill(buf, 0x10000, 4);
	cr_assert_eq(pagew_add_block(w, 0x10000, buf, 4, h[0]), 0);
	fill(buf, 0x14000, 2);
	cr_assert_eq(pagew_add_block(w, 0x14000, buf, 2, h[1]), 0);
	add(w, 0x16000, 1);
	cr_assert_eq(pagew_pages_written(w), 7);
	cr_assert_eq(pagew_close(w), 0);

	r = ropen();
	cr_assert_eq(pager_next(r, &e), 1);
	cr_assert(e.vaddr == 0x10000 && e.nr_pages == 4 && e.xxh3 == h[0]);
	cr_assert_eq(pager_read(r, &e, got), 0);
	cr_assert_eq(pager_verify(r, &e, got), 0);
	cr_assert_eq(pager_next(r, &e), 1);
	cr_assert(e.vaddr == 0x14000 && e.nr_pages == 2 && e.xxh3 == h[1]);
	cr_assert_eq(pager_read(r, &e, got), -EBADMSG, "a wrong given hash must not verify");
	cr_assert_not_null(strstr(pager_errmsg(r), "pages-1.img"), "%s", pager_errmsg(r));
	cr_assert_eq(pager_next(r, &e), 1);
	cr_assert(e.vaddr == 0x16000 && e.nr_pages == 1, "0x%llx %u", (unsigned long long)e.vaddr,
		  e.nr_pages);
	cr_assert_eq(pager_next(r, &e), 0);
	pager_close(r);
	free(buf);
	free(got);
}

Test(pages, empty)
{
	struct page_writer *w = wopen();
	struct page_reader *r;
	struct page_entry e;

	cr_assert_eq(pagew_close(w), 0);
	r = ropen();
	cr_assert_eq(pager_next(r, &e), 0);
	pager_close(r);
}

Test(pages, huge_hole_is_split_at_the_entry_limit)
{
	struct page_writer *w = wopen();
	struct page_reader *r;
	struct page_entry e;
	uint64_t nr = (1ull << 33) + 5;		/* 32 TiB of zeros */

	cr_assert_eq(pagew_add_hole(w, 0x1000, nr, PE_ZERO), 0);
	cr_assert_eq(pagew_close(w), 0);
	r = ropen();
	cr_assert_eq(pager_next(r, &e), 1);
	cr_assert_eq(e.nr_pages, UINT32_MAX);
	cr_assert_eq(pager_next(r, &e), 1);
	cr_assert_eq(pager_next(r, &e), 1);
	cr_assert_eq(e.nr_pages, 7);
	cr_assert_eq(e.vaddr + (uint64_t)e.nr_pages * PS, 0x1000 + nr * PS);
	cr_assert_eq(pager_next(r, &e), 0, "%s", pager_errmsg(r));
	pager_close(r);
}

/* The writer's memory does not grow with the pages written: after the
 * first block (which sets up the buffers of both files), adding more pages,
 * in one call or in many, allocates nothing. */
Test(pages, writer_allocates_nothing_per_page)
{
	size_t nr = 16384, before;			/* 64 MiB */
	uint8_t *buf = mmap(NULL, nr * PS, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct page_writer *w = wopen();

	cr_assert_neq(buf, MAP_FAILED);
	memset(buf, 0x5a, nr * PS);
	cr_assert_eq(add_buf(w, 0x1000, buf, 1), 0);
	before = mallinfo2().uordblks;
	cr_assert_eq(add_buf(w, 0x100000000ull, buf, nr), 0);
	for (unsigned i = 0; i < 2000; i++)
		cr_assert_eq(add_buf(w, 0x200000000ull + 2ull * i * PS, buf, 1), 0);
	cr_assert_eq(pagew_add_hole(w, 0x300000000ull, 1u << 30, PE_ZERO), 0);
	cr_assert_eq(mallinfo2().uordblks, before);
	cr_assert_eq(pagew_pages_written(w), 1 + nr + 2000);
	cr_assert_eq(pagew_close(w), 0);
	cr_assert_eq(fx_size("pages-1.img"), IMG_PAGES_DATA_OFF + (1 + nr + 2000) * PS);
	munmap(buf, nr * PS);
}

Test(pages, writer_refuses_bad_ranges)
{
	struct page_writer *w = wopen();
	uint8_t page[PS] = { 0 };

	add(w, 0x10000, 2);
	cr_assert_eq(add_buf(w, 0x10000 + PS, page, 1), -EINVAL);	/* overlaps */
	cr_assert(strstr(pagew_errmsg(w), "pagemap-1.img: range at 0x11000 is below the end 0x12000"),
		  "%s", pagew_errmsg(w));
	pagew_abort(w);

	w = wopen_id(2);
	cr_assert_eq(pagew_add_block(w, 0x10001, page, 1, 0), -EINVAL);	/* unaligned */
	pagew_abort(w);
	w = wopen_id(3);
	cr_assert_eq(pagew_add_block(w, 0x10000, page, 0, 0), -EINVAL);	/* empty */
	pagew_abort(w);
	w = wopen_id(4);
	cr_assert_eq(pagew_add_hole(w, 0x10000, 1, PE_PRESENT), -EINVAL);
	pagew_abort(w);
	w = wopen_id(5);
	cr_assert_eq(pagew_add_hole(w, UINT64_MAX - PS + 1, 2, PE_ZERO), -EINVAL); /* wraps */
	/* a writer that failed refuses everything after */
	cr_assert_eq(pagew_add_hole(w, 0x1000, 1, PE_ZERO), -EINVAL);
	cr_assert_eq(pagew_close(w), -EINVAL);
	/* the files exist already */
	cr_assert_eq(pagew_open(fx_dirfd, 1, 1, PS, &w), -EEXIST);
	cr_assert_eq(pagew_open(fx_dirfd, 2, 2, 1000, &w), -EINVAL);
}

Test(pages, checksum_mismatch)
{
	uint8_t *buf = malloc(PAGES_MAX_BLOCK_PAGES * PS);
	struct page_reader *r;
	struct page_entry e;
	char want[128];

	write_sample();
	/* a bit in the second block (0x100000, data at page 3) */
	fx_flip("pages-1.img", IMG_PAGES_DATA_OFF + 3 * PS + 5000, 0x04);
	r = ropen();
	cr_assert_eq(pager_next(r, &e), 1);
	cr_assert_eq(pager_read(r, &e, buf), 0);
	cr_assert_eq(pager_next(r, &e), 1);
	cr_assert_eq(pager_next(r, &e), 1);
	cr_assert_eq(e.vaddr, 0x100000);
	cr_assert_eq(pager_read(r, &e, buf), -EBADMSG);
	snprintf(want, sizeof(want), "pages-1.img at offset %u: block checksum mismatch (512 pages at 0x100000",
		 IMG_PAGES_DATA_OFF + 3 * PS);
	cr_assert(strstr(pager_errmsg(r), want), "%s", pager_errmsg(r));
	/* the reader goes on: a caller may list the rest */
	cr_assert_eq(pager_next(r, &e), 1);
	pager_close(r);
	free(buf);
}

/* The file offset of entry n's record in pagemap-1.img (0: the head). */
static off_t record_off(unsigned n)
{
	struct img *img;
	ProtobufCMessage *m;
	off_t off = 0;

	cr_assert_eq(img_open(fx_dirfd, IMG_PAGEMAP, 1, &img), 0);
	for (unsigned i = 0; i <= n; i++) {
		off = img_offset(img);
		cr_assert_eq(img_read_next(img, &m), 0);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	img_close(img);
	return off;
}

/* Walk the sample's entries until one fails; check its errno and message. */
static void expect_entry_bad(int want, const char *what, const char *file, off_t off)
{
	struct page_reader *r = NULL;
	struct page_entry e;
	char where[128];
	int ret;

	ret = pager_open(fx_dirfd, 1, &r);
	if (ret == 0)
		while ((ret = pager_next(r, &e)) > 0)
			;
	cr_assert_eq(ret, want, "got %d: %s", ret, pager_errmsg(r));
	snprintf(where, sizeof(where), "%s at offset %lld: ", file, (long long)off);
	cr_assert(strstr(pager_errmsg(r), where), "'%s' lacks '%s'", pager_errmsg(r), where);
	cr_assert(strstr(pager_errmsg(r), what), "'%s' lacks '%s'", pager_errmsg(r), what);
	/* a failed reader stays failed */
	if (ret != -ENOENT && ret != -ENODATA)
		cr_assert_lt(pager_next(r, &e), 0);
	pager_close(r);
}

Test(pages, entry_past_the_pages_file)
{
	write_sample();
	fx_truncate("pages-1.img", IMG_PAGES_DATA_OFF + 605 * PS);
	expect_entry_bad(-EBADMSG, "entry 7: block at page 605 (4096 bytes) runs past the end of pages-1.img",
			 "pagemap-1.img", record_off(8));
}

Test(pages, bytes_after_the_last_block)
{
	static const uint8_t page[PS];

	write_sample();
	fx_append("pages-1.img", page, PS);
	expect_entry_bad(-EBADMSG, "4096 bytes follow the last block pagemap-1.img describes",
			 "pages-1.img", IMG_PAGES_DATA_OFF + 606 * PS);
}

/* Write pagemap-1.img by hand: the head, then the given entries. */
static void write_map(const PagemapEntry *es, unsigned n, uint32_t max_block)
{
	PagemapHead h = PAGEMAP_HEAD__INIT;
	const ProtobufCMessage *msgs[8] = { &h.base };

	h.pages_id = 1;
	h.page_size = PS;
	h.max_block_pages = max_block;
	for (unsigned i = 0; i < n; i++)
		msgs[i + 1] = &es[i].base;
	unlinkat(fx_dirfd, "pagemap-1.img", 0);
	fx_write(IMG_PAGEMAP, 1, msgs, n + 1);
}

static void zero_entry(PagemapEntry *e, uint64_t vaddr, uint32_t nr)
{
	*e = (PagemapEntry)PAGEMAP_ENTRY__INIT;
	e->vaddr = vaddr;
	e->nr_pages = nr;
	e->flags = PE_ZERO;
}

static void present_entry(PagemapEntry *e, uint64_t vaddr, uint32_t nr, uint64_t off)
{
	zero_entry(e, vaddr, nr);
	e->flags = PE_PRESENT;
	e->has_off = e->has_xxh3 = true;
	e->off = off;
}

Test(pages, non_ascending_entries)
{
	PagemapEntry es[3];

	write_sample();
	zero_entry(&es[0], 0x2000, 1);
	zero_entry(&es[1], 0x3000, 2);
	zero_entry(&es[2], 0x4000, 1);		/* overlaps the one before */
	write_map(es, 3, 512);
	fx_truncate("pages-1.img", IMG_PAGES_DATA_OFF);
	expect_entry_bad(-EBADMSG, "entry 2: address 0x4000 is below the end 0x5000 of the previous entry",
			 "pagemap-1.img", record_off(3));
}

Test(pages, bad_entries)
{
	PagemapEntry es[2];

	write_sample();
	fx_truncate("pages-1.img", IMG_PAGES_DATA_OFF + 2 * PS);

	zero_entry(&es[0], 0x2001, 1);
	write_map(es, 1, 512);
	expect_entry_bad(-EBADMSG, "entry 0: address 0x2001 is not page-aligned", "pagemap-1.img",
			 record_off(1));

	zero_entry(&es[0], 0x2000, 0);
	write_map(es, 1, 512);
	expect_entry_bad(-EBADMSG, "entry 0: bad size of 0 pages", "pagemap-1.img", record_off(1));

	zero_entry(&es[0], 0x2000, 1);
	es[0].flags = PE_ZERO | PE_IN_PARENT;
	write_map(es, 1, 512);
	expect_entry_bad(-EBADMSG, "entry 0: bad flags 0x6", "pagemap-1.img", record_off(1));

	zero_entry(&es[0], 0x2000, 1);
	es[0].has_off = true;
	write_map(es, 1, 512);
	expect_entry_bad(-EBADMSG, "without data carry a data offset", "pagemap-1.img",
			 record_off(1));

	present_entry(&es[0], 0x2000, 2, 0);
	write_map(es, 1, 1);
	expect_entry_bad(-EBADMSG, "entry 0: block of 2 pages exceeds the limit of 1", "pagemap-1.img",
			 record_off(1));

	present_entry(&es[0], 0x2000, 1, 0);
	es[0].has_xxh3 = false;
	write_map(es, 1, 512);
	expect_entry_bad(-EBADMSG, "without a data offset or checksum", "pagemap-1.img", record_off(1));

	/* offsets must follow each other: a gap, then a repeat */
	present_entry(&es[0], 0x2000, 1, 1);
	write_map(es, 1, 512);
	expect_entry_bad(-EBADMSG, "entry 0: block at offset 8192 of pages-1.img, expected 4096",
			 "pagemap-1.img", record_off(1));
	present_entry(&es[0], 0x2000, 1, 0);
	present_entry(&es[1], 0x3000, 1, 0);
	write_map(es, 2, 512);
	expect_entry_bad(-EBADMSG, "entry 1: block at offset 4096 of pages-1.img, expected 8192",
			 "pagemap-1.img", record_off(2));

	present_entry(&es[0], 0x2000, 1, UINT64_MAX / 2);
	write_map(es, 1, 512);
	expect_entry_bad(-EBADMSG, "runs past the end of pages-1.img", "pagemap-1.img", record_off(1));
}

Test(pages, bad_head_and_missing_pages_file)
{
	write_sample();
	write_map(NULL, 0, 0);
	expect_entry_bad(-EBADMSG, "block size of 0 pages is not within 1..512", "pagemap-1.img", 16);
	write_map(NULL, 0, 513);
	expect_entry_bad(-EBADMSG, "block size of 513 pages", "pagemap-1.img", 16);

	write_map(NULL, 0, 512);
	fx_truncate("pages-1.img", 100);
	expect_entry_bad(-ENODATA, "truncated: the data area starts at offset 4096", "pages-1.img", 100);
	unlinkat(fx_dirfd, "pages-1.img", 0);
	{
		struct page_reader *r = NULL;

		cr_assert_eq(pager_open(fx_dirfd, 1, &r), -ENOENT);
		cr_assert_str_eq(pager_errmsg(r), "pages-1.img: cannot open (named by pagemap-1.img)");
		pager_close(r);
		cr_assert_eq(pager_open(fx_dirfd, 9, &r), -ENOENT);
		cr_assert_str_eq(pager_errmsg(r), "pagemap-9.img: cannot open");
		pager_close(r);
	}
}

Test(pages, damaged_header_padding)
{
	write_sample();
	fx_flip("pages-1.img", 1000, 0x40);
	expect_entry_bad(-EBADMSG, "non-zero byte before the data area", "pages-1.img", 1000);
}

Test(pages, damaged_pagemap_framing)
{
	off_t off;

	write_sample();
	off = record_off(2);
	fx_flip("pagemap-1.img", off + 9, 0x01);
	expect_entry_bad(-EBADMSG, "record checksum mismatch (record 2", "pagemap-1.img", off);
}

Test(pages, verify_in_memory)
{
	struct page_reader *r;
	struct page_entry e;
	uint8_t buf[3 * PS];

	write_sample();
	r = ropen();
	cr_assert_eq(pager_next(r, &e), 1);
	fill(buf, 0x10000, 3);
	cr_assert_eq(pager_verify(r, &e, buf), 0);
	buf[PS * 2 + 7] ^= 1;
	cr_assert_eq(pager_verify(r, &e, buf), -EBADMSG);
	e.flags = PE_ZERO;
	cr_assert_eq(pager_verify(r, &e, buf), -EINVAL);
	pager_close(r);
}
