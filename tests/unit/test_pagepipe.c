/* daemon/pagepipe.c on this very process: runs queued across several
 * batches (more runs than one batch holds, more bytes than one buffer),
 * read with process_vm_readv or /proc/self/mem, written by the writer
 * thread or inline, must come back from the page store byte for byte; a
 * page that reads as zeros (written so, or only read, or never touched)
 * must come back as a zero entry that costs no byte of pages-N.img, and
 * the stored pages around it as blocks of contiguous non-zero pages. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/pagepipe.h"
#include "common/util.h"
#include "images/img.h"
#include "images/pages.h"

#define PS 4096ul

static int make_dir(char *tmpl)
{
	int fd;

	cr_assert(mkdtemp(tmpl));
	fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	return fd;
}

static void remove_dir(int dirfd, const char *path)
{
	unlinkat(dirfd, "pagemap-1.img", 0);
	unlinkat(dirfd, "pages-1.img", 0);
	close(dirfd);
	rmdir(path);
}

/* Queue every other page of [p, p + npages) (so every run is one page and
 * batches fill by run count) then the whole of [q, q + nq) as one stretch
 * (batches fill by bytes); read it all back from the image. */
static void roundtrip(bool vm_readv, bool threaded, bool via_mem)
{
	char path[] = "/tmp/ckpt-pagepipe-XXXXXX";
	int dirfd = make_dir(path);
	size_t np = 3000, nq = 2600;	/* 1500 single-page runs; ~10 MiB */
	unsigned char *p, *q, *buf = malloc(PAGES_MAX_BLOCK_PAGES * PS);
	struct page_writer *pw;
	struct page_pipe *pp;
	struct page_reader *pr;
	struct page_entry e;
	uint64_t seen = 0;

	p = mmap(NULL, np * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	q = mmap(NULL, nq * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(p != MAP_FAILED && q != MAP_FAILED && buf);
	for (size_t i = 0; i < np * PS; i++)
		p[i] = (unsigned char)(i * 7 + i / PS);
	for (size_t i = 0; i < nq * PS; i++)
		q[i] = (unsigned char)(i * 13 + i / PS + 1);

	cr_assert_eq(pagew_open(dirfd, 1, 1, PS, &pw), 0);
	cr_assert_eq(pagepipe_open(getpid(), pw, PS, vm_readv, threaded, &pp), 0);
	/* the queue must be ascending: p and q in address order */
	for (int pass = 0; pass < 2; pass++) {
		bool first = (pass == 0) == (p < q);
		unsigned char *base = first ? p : q;

		if (base == p) {
			for (size_t i = 0; i < np; i += 2) {
				struct page_run *runs;
				unsigned max_runs;
				uint64_t max_pages;

				cr_assert_eq(pagepipe_room(pp, &runs, &max_runs, &max_pages), 0);
				cr_assert_gt(max_runs, 0);
				cr_assert_gt(max_pages, 0);
				runs[0].start = (uintptr_t)(p + i * PS);
				runs[0].end = runs[0].start + PS;
				pagepipe_commit(pp, 1, via_mem);
			}
		} else {
			uint64_t at = (uintptr_t)q, end = at + nq * PS;

			while (at < end) {
				struct page_run *runs;
				unsigned max_runs;
				uint64_t max_pages, n;

				cr_assert_eq(pagepipe_room(pp, &runs, &max_runs, &max_pages), 0);
				n = MIN(max_pages, (end - at) / PS);
				runs[0].start = at;
				runs[0].end = at + n * PS;
				pagepipe_commit(pp, 1, via_mem);
				at += n * PS;
			}
		}
	}
	cr_assert_eq(pagepipe_finish(pp), 0, "%s", pagepipe_errmsg(pp));
	cr_assert_eq(pagepipe_pages_done(pp), np / 2 + nq);
	pagepipe_free(pp);
	cr_assert_eq(pagew_close(pw), 0);

	cr_assert_eq(pager_open(dirfd, 1, &pr), 0);
	while (pager_next(pr, &e) == 1) {
		cr_assert_eq(pager_read(pr, &e, buf), 0, "%s", pager_errmsg(pr));
		cr_assert_eq(memcmp(buf, (void *)(uintptr_t)e.vaddr, e.nr_pages * PS), 0,
			     "entry at %#lx differs", (unsigned long)e.vaddr);
		seen += e.nr_pages;
	}
	cr_assert_eq(seen, np / 2 + nq);
	pager_close(pr);
	remove_dir(dirfd, path);
	munmap(p, np * PS);
	munmap(q, nq * PS);
	free(buf);
}

Test(pagepipe, threaded_vm_readv)
{
	roundtrip(true, true, false);
}

Test(pagepipe, inline_vm_readv)
{
	roundtrip(true, false, false);
}

Test(pagepipe, threaded_proc_mem)
{
	roundtrip(false, true, false);
}

Test(pagepipe, unreadable_runs_via_mem)
{
	roundtrip(true, true, true);
}

/* A run that is not mapped: the read fails, naming pid and range. */
Test(pagepipe, read_failure_names_the_range)
{
	char path[] = "/tmp/ckpt-pagepipe-XXXXXX", want[128];
	int dirfd = make_dir(path);
	unsigned char *p = mmap(NULL, 2 * PS, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct page_writer *pw;
	struct page_pipe *pp;
	struct page_run *runs;
	unsigned max_runs;
	uint64_t max_pages;

	cr_assert_neq(p, MAP_FAILED);
	memset(p, 1, PS);
	munmap(p + PS, PS);
	cr_assert_eq(pagew_open(dirfd, 1, 1, PS, &pw), 0);
	cr_assert_eq(pagepipe_open(getpid(), pw, PS, true, true, &pp), 0);
	cr_assert_eq(pagepipe_room(pp, &runs, &max_runs, &max_pages), 0);
	runs[0].start = (uintptr_t)p;
	runs[0].end = runs[0].start + PS;
	runs[1].start = (uintptr_t)p + PS;
	runs[1].end = runs[1].start + PS;
	pagepipe_commit(pp, 2, false);
	cr_assert_eq(pagepipe_finish(pp), -EFAULT);
	snprintf(want, sizeof(want), "pid %d: cannot read %lx-%lx", getpid(),
		 (unsigned long)p + PS, (unsigned long)p + 2 * PS);
	cr_assert(strstr(pagepipe_errmsg(pp), want), "message: %s", pagepipe_errmsg(pp));
	pagepipe_free(pp);
	pagew_abort(pw);
	remove_dir(dirfd, path);
	munmap(p, PS);
}

/* ---- zero pages --------------------------------------------------------- */

/* The test's own notion of a zero page, byte by byte (not the pipe's). */
static bool zero_page(const void *addr)
{
	const unsigned char *c = addr;

	for (size_t i = 0; i < PS; i++)
		if (c[i])
			return false;
	return true;
}

struct dumped {
	struct page_entry *e;
	unsigned n;
	uint64_t done, zero;		/* pagepipe_pages_done, _zero */
	uint64_t pages_size;		/* of pages-1.img */
};

/* Queue runs (ascending) through a page pipe into a fresh page store, as
 * the dump does (a run cut where a batch is full), and read the entries
 * back; every PRESENT block is read, its checksum verified, and compared
 * with memory. */
static void dump_runs(const struct page_run *runs, unsigned nr, bool vm_readv, bool threaded,
		      bool via_mem, struct dumped *d)
{
	char path[] = "/tmp/ckpt-pagepipe-XXXXXX";
	int dirfd = make_dir(path);
	unsigned char *buf = malloc(PAGES_MAX_BLOCK_PAGES * PS);
	struct page_writer *pw;
	struct page_pipe *pp;
	struct page_reader *pr;
	struct page_entry e;
	unsigned cap = 0;
	struct stat st;
	int r;

	cr_assert(buf);
	cr_assert_eq(pagew_open(dirfd, 1, 1, PS, &pw), 0);
	cr_assert_eq(pagepipe_open(getpid(), pw, PS, vm_readv, threaded, &pp), 0);
	for (unsigned i = 0; i < nr; i++) {
		uint64_t at = runs[i].start;

		while (at < runs[i].end) {
			struct page_run *room;
			unsigned max_runs;
			uint64_t max_pages, n;

			cr_assert_eq(pagepipe_room(pp, &room, &max_runs, &max_pages), 0,
				     "%s", pagepipe_errmsg(pp));
			n = MIN(max_pages, (runs[i].end - at) / PS);
			room[0].start = at;
			room[0].end = at + n * PS;
			pagepipe_commit(pp, 1, via_mem);
			at += n * PS;
		}
	}
	cr_assert_eq(pagepipe_finish(pp), 0, "%s", pagepipe_errmsg(pp));
	d->done = pagepipe_pages_done(pp);
	d->zero = pagepipe_pages_zero(pp);
	pagepipe_free(pp);
	cr_assert_eq(pagew_close(pw), 0);

	cr_assert_eq(fstatat(dirfd, "pages-1.img", &st, 0), 0);
	d->pages_size = st.st_size;
	d->e = NULL;
	d->n = 0;
	cr_assert_eq(pager_open(dirfd, 1, &pr), 0);
	while ((r = pager_next(pr, &e)) == 1) {
		if (d->n == cap) {
			cap = cap ? 2 * cap : 64;
			d->e = realloc(d->e, cap * sizeof(*d->e));
			cr_assert(d->e);
		}
		d->e[d->n++] = e;
		if (e.flags != PE_PRESENT)
			continue;
		cr_assert_eq(pager_read(pr, &e, buf), 0, "%s", pager_errmsg(pr));
		cr_assert_eq(memcmp(buf, (void *)(uintptr_t)e.vaddr, e.nr_pages * PS), 0,
			     "block at %#lx differs", (unsigned long)e.vaddr);
	}
	/* 0: the end, and no byte of pages-1.img left over */
	cr_assert_eq(r, 0, "%s", pager_errmsg(pr));
	pager_close(pr);
	remove_dir(dirfd, path);
	free(buf);
}

/* The entries cover exactly the queued pages, in order: a page that reads
 * as zeros in a ZERO entry (zero runs merged), every other one in a
 * PRESENT block of at most PAGES_MAX_BLOCK_PAGES, nothing else stored. */
static void check_cover(const struct page_run *runs, unsigned nr, const struct dumped *d)
{
	uint64_t stored = 0, zero = 0, at;
	unsigned ri = 0, ei = 0, pi = 0;

	for (at = runs[0].start; ri < nr; ) {
		const struct page_entry *e;
		bool z = zero_page((void *)(uintptr_t)at);

		cr_assert_lt(ei, d->n, "page %#lx is in no entry", (unsigned long)at);
		e = &d->e[ei];
		cr_assert_eq(e->vaddr + (uint64_t)pi * PS, at, "entry %u at %#lx, page %#lx next",
			     ei, (unsigned long)(e->vaddr + pi * PS), (unsigned long)at);
		cr_assert_eq(e->flags, z ? PE_ZERO : PE_PRESENT, "page %#lx (%s) in an entry "
			     "of flags %#x", (unsigned long)at, z ? "zero" : "data", e->flags);
		if (z)
			zero++;
		else
			stored++;
		if (++pi == e->nr_pages) {
			cr_assert_leq(e->nr_pages, e->flags == PE_ZERO ? UINT32_MAX :
				      PAGES_MAX_BLOCK_PAGES);
			if (ei && e->flags == PE_ZERO && d->e[ei - 1].flags == PE_ZERO)
				cr_assert_neq(d->e[ei - 1].vaddr + d->e[ei - 1].nr_pages * PS,
					      e->vaddr, "zero entries at %#lx not merged",
					      (unsigned long)e->vaddr);
			ei++;
			pi = 0;
		}
		at += PS;
		if (at == runs[ri].end && ++ri < nr)
			at = runs[ri].start;
	}
	cr_assert_eq(pi, 0);
	cr_assert_eq(ei, d->n, "%u entries, %u expected", d->n, ei);
	cr_assert_eq(d->done, stored);
	cr_assert_eq(d->zero, zero);
	cr_assert_eq(d->pages_size, IMG_PAGES_DATA_OFF + stored * PS,
		     "pages-1.img holds %lu bytes for %lu stored pages",
		     (unsigned long)d->pages_size, (unsigned long)stored);
}

/* One batch, every kind of page, with exact entries: D data, Z written
 * with zeros, L zeros but for the last byte, F but for the first, R only
 * read, U never touched; two runs that meet (they join), then one apart. */
static void mixed_exact(bool vm_readv, bool threaded, bool via_mem)
{
	static const char kind[] = "DDZZDZDDLZZZFRDDUUUUZUDD";
	unsigned char *p = mmap(NULL, 24 * PS, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t b = (uintptr_t)p;
	const struct page_run runs[] = {
		{ b, b + 6 * PS }, { b + 6 * PS, b + 16 * PS }, { b + 20 * PS, b + 24 * PS },
	};
	const struct { unsigned page, nr; uint32_t flags; } want[] = {
		{ 0, 2, PE_PRESENT }, { 2, 2, PE_ZERO }, { 4, 1, PE_PRESENT },
		{ 5, 1, PE_ZERO }, { 6, 3, PE_PRESENT }, { 9, 3, PE_ZERO },
		{ 12, 1, PE_PRESENT }, { 13, 1, PE_ZERO }, { 14, 2, PE_PRESENT },
		{ 20, 2, PE_ZERO }, { 22, 2, PE_PRESENT },
	};
	volatile unsigned char sink = 0;
	struct dumped d;

	cr_assert_neq(p, MAP_FAILED);
	madvise(p, 24 * PS, MADV_NOHUGEPAGE);
	for (unsigned i = 0; i < 24; i++) {
		unsigned char *pg = p + i * PS;

		switch (kind[i]) {
		case 'D':
			for (size_t j = 0; j < PS; j++)
				pg[j] = (unsigned char)(j * 31 + i + 1);
			break;
		case 'Z':
			memset(pg, 0, PS);
			break;
		case 'L':
			pg[PS - 1] = 0x80;
			break;
		case 'F':
			pg[0] = 1;
			break;
		case 'R':
			sink += pg[0];
			break;
		}
	}
	(void)sink;
	dump_runs(runs, ARRAY_SIZE(runs), vm_readv, threaded, via_mem, &d);
	cr_assert_eq(d.n, ARRAY_SIZE(want), "%u entries", d.n);
	for (unsigned i = 0; i < d.n; i++) {
		cr_assert_eq(d.e[i].vaddr, b + want[i].page * PS, "entry %u at page %lu", i,
			     (unsigned long)((d.e[i].vaddr - b) / PS));
		cr_assert_eq(d.e[i].nr_pages, want[i].nr, "entry %u: %u pages", i, d.e[i].nr_pages);
		cr_assert_eq(d.e[i].flags, want[i].flags, "entry %u: flags %#x", i, d.e[i].flags);
	}
	/* 11 stored pages, back to back: the 9 zero pages take no space */
	cr_assert_eq(d.done, 11);
	cr_assert_eq(d.zero, 9);
	cr_assert_eq(d.pages_size, IMG_PAGES_DATA_OFF + 11 * PS);
	check_cover(runs, ARRAY_SIZE(runs), &d);
	free(d.e);
	munmap(p, 24 * PS);
}

Test(pagepipe, zero_pages_threaded)
{
	mixed_exact(true, true, false);
}

Test(pagepipe, zero_pages_inline)
{
	mixed_exact(true, false, false);
}

Test(pagepipe, zero_pages_proc_mem)
{
	mixed_exact(false, true, false);
	mixed_exact(true, true, true);
}

/* Many batches of pages of every kind in runs short and long: cut by the
 * run limit and by the byte limit, so blocks and zero runs meet batch
 * boundaries, and both threads hash. */
static void mixed_many(bool vm_readv, bool threaded)
{
	size_t np = 12000;
	unsigned char *p = mmap(NULL, np * PS, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct page_run *runs = malloc(np * sizeof(*runs));
	volatile unsigned char sink = 0;
	uint64_t x = 42, b = (uintptr_t)p;
	unsigned nr = 0;
	struct dumped d;
	size_t i;

	cr_assert(p != MAP_FAILED && runs);
	madvise(p, np * PS, MADV_NOHUGEPAGE);
	for (i = 0; i < np; i++) {
		unsigned char *pg = p + i * PS;

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		switch ((x >> 33) % 8) {
		case 0: case 1: case 2:		/* data */
			for (size_t j = 0; j < PS; j += 8)
				*(uint64_t *)(pg + j) = x + j;
			break;
		case 3:				/* written zeros */
			memset(pg, 0, PS);
			break;
		case 4:				/* only read */
			sink += pg[PS / 2];
			break;
		case 5:				/* one byte, anywhere */
			pg[(x >> 40) % PS] = 1;
			break;
		default:			/* never touched */
			break;
		}
	}
	(void)sink;
	/* the first third in runs of 1-4 pages (batches fill by run count),
	 * the rest in runs of up to 1200 (by bytes); gaps of 0-2 pages */
	for (i = 0; i < np;) {
		size_t len, gap;

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		len = 1 + (x >> 33) % (i < np / 3 ? 4 : 1200);
		gap = (x >> 50) % 3;
		len = MIN(len, np - i);
		runs[nr].start = b + i * PS;
		runs[nr].end = b + (i + len) * PS;
		nr++;
		i += len + gap;
	}
	dump_runs(runs, nr, vm_readv, threaded, false, &d);
	check_cover(runs, nr, &d);
	cr_assert_gt(d.done, 0);
	cr_assert_gt(d.zero, 0);
	free(d.e);
	free(runs);
	munmap(p, np * PS);
}

Test(pagepipe, zero_pages_many_batches)
{
	mixed_many(true, true);
	mixed_many(true, false);
	mixed_many(false, true);
}

/* Nothing but zeros over many batches: one ZERO entry, an empty data area. */
Test(pagepipe, zero_pages_only)
{
	size_t np = 3000;
	unsigned char *p = mmap(NULL, np * PS, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const struct page_run run = { (uintptr_t)p, (uintptr_t)p + np * PS };
	struct dumped d;

	cr_assert_neq(p, MAP_FAILED);
	memset(p, 0, np / 2 * PS);		/* half written, half never touched */
	dump_runs(&run, 1, true, true, false, &d);
	cr_assert_eq(d.n, 1);
	cr_assert_eq(d.e[0].vaddr, run.start);
	cr_assert_eq(d.e[0].nr_pages, np);
	cr_assert_eq(d.e[0].flags, PE_ZERO);
	cr_assert_eq(d.done, 0);
	cr_assert_eq(d.zero, np);
	cr_assert_eq(d.pages_size, IMG_PAGES_DATA_OFF);
	free(d.e);
	munmap(p, np * PS);
}

Test(pagepipe, bad_page_size)
{
	struct page_pipe *pp;

	cr_assert_eq(pagepipe_open(getpid(), NULL, 2048, true, false, &pp), -EINVAL);
	cr_assert_eq(pagepipe_open(getpid(), NULL, 12288, true, false, &pp), -EINVAL);
}
