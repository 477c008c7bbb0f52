/* The dump side of incremental rounds: the hash tracker's image
 * (daemon/track/hash.c), run lists walked by cursor (daemon/mem-parent.c),
 * and the page pipe recording IN_PARENT runs and deciding by hash
 * (daemon/pagepipe.c), on this very process. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/mem-parent.h"
#include "daemon/pagepipe.h"
#include "daemon/track/hash.h"
#include "images/img.h"
#include "images/pages.h"

#define PS 4096ul

static char dir[] = "/tmp/ckpt-incr-XXXXXX";
static int dirfd_ = -1;

static void setup(void)
{
	strcpy(dir, "/tmp/ckpt-incr-XXXXXX");
	cr_assert(mkdtemp(dir));
	dirfd_ = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dirfd_, 0);
}

static void teardown(void)
{
	char cmd[128];

	close(dirfd_);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static struct page_hash h_of(unsigned v)
{
	char page[PS];
	struct page_hash h;

	memset(page, v, sizeof(page));
	hash_page(page, sizeof(page), &h);
	return h;
}

TestSuite(incr, .init = setup, .fini = teardown);

/* Runs longer than one record, gaps, and lookups before, inside, between
 * and after them, in ascending order as a round asks. */
Test(incr, hashes_roundtrip)
{
	struct hash_file *w, *r;
	struct page_hash h;
	bool same;

	cr_assert_eq(hash_writer_open(dirfd_, 7, PS, &w), 0);
	for (unsigned i = 0; i < 1000; i++) {	/* 0x100000.. : two records */
		h = h_of(i & 0xff);
		cr_assert_eq(hash_writer_add(w, 0x100000 + i * PS, &h), 0);
	}
	h = h_of(1);
	cr_assert_eq(hash_writer_add(w, 0x900000, &h), 0);
	cr_assert_eq(hash_writer_finish(w), 0, "%s", hash_errmsg(w));
	hash_close(w);

	cr_assert_eq(hash_reader_open(dirfd_, 7, PS, &r), 0, "%s", hash_errmsg(r));
	h = h_of(0);
	cr_assert_eq(hash_reader_same(r, 0x1000, &h, &same), 0);
	cr_expect_not(same, "before every run");
	cr_assert_eq(hash_reader_same(r, 0x100000, &h, &same), 0);
	cr_expect(same);
	h = h_of(5);
	cr_assert_eq(hash_reader_same(r, 0x100000 + 5 * PS, &h, &same), 0);
	cr_expect(same);
	cr_assert_eq(hash_reader_same(r, 0x100000 + 6 * PS, &h, &same), 0);
	cr_expect_not(same, "another page's hash");
	h = h_of(700 & 0xff);
	cr_assert_eq(hash_reader_same(r, 0x100000 + 700 * PS, &h, &same), 0);
	cr_expect(same, "in the second record");
	h = h_of(1);
	cr_assert_eq(hash_reader_same(r, 0x800000, &h, &same), 0);
	cr_expect_not(same, "in a gap");
	cr_assert_eq(hash_reader_same(r, 0x900000, &h, &same), 0);
	cr_expect(same);
	cr_assert_eq(hash_reader_same(r, 0xa00000, &h, &same), 0);
	cr_expect_not(same, "after the end");
	hash_close(r);
}

Test(incr, hashes_missing_or_foreign)
{
	struct hash_file *r = NULL;

	cr_expect_eq(hash_reader_open(dirfd_, 8, PS, &r), -ENOENT);
	hash_close(r);
	r = NULL;
	{
		struct hash_file *w;

		cr_assert_eq(hash_writer_open(dirfd_, 9, PS, &w), 0);
		cr_assert_eq(hash_writer_finish(w), 0);
		hash_close(w);
	}
	cr_expect_eq(hash_reader_open(dirfd_, 9, 2 * PS, &r), -EBADMSG);
	cr_expect_not_null(strstr(hash_errmsg(r), "page size"), "%s", hash_errmsg(r));
	hash_close(r);
}

Test(incr, run_list_cursor)
{
	struct run_list l = { 0 };
	uint64_t next;
	size_t i = 0;

	cr_assert_eq(run_list_add(&l, 0x2000, 0x4000), 0);
	cr_assert_eq(run_list_add(&l, 0x8000, 0x9000), 0);
	cr_expect_not(run_list_at(&l, &i, 0x1000, 0x10000, &next));
	cr_expect_eq(next, 0x2000);
	cr_expect(run_list_at(&l, &i, 0x3000, 0x10000, &next));
	cr_expect_eq(next, 0x4000);
	cr_expect(run_list_at(&l, &i, 0x3000, 0x3800, &next), "bounded by end");
	cr_expect_eq(next, 0x3800);
	cr_expect_not(run_list_at(&l, &i, 0x4000, 0x10000, &next));
	cr_expect_eq(next, 0x8000);
	cr_expect_not(run_list_at(&l, &i, 0x9000, 0x10000, &next));
	cr_expect_eq(next, 0x10000);
	run_list_free(&l);
}

/* Queue all of p: run A as data, run B IN_PARENT (never read: it is
 * PROT_NONE here, so a read would fail), run C with the hash tracker. */
static void queue(struct page_pipe *pp, uint64_t start, uint64_t end, bool in_parent)
{
	struct page_run *runs;
	unsigned max_runs;
	uint64_t max_pages;

	cr_assert_eq(pagepipe_room(pp, &runs, &max_runs, &max_pages), 0);
	cr_assert_geq(max_pages, (end - start) / PS);
	runs[0] = (struct page_run){ start, end };
	if (in_parent)
		pagepipe_commit_in_parent(pp, 1);
	else
		pagepipe_commit(pp, 1, false);
}

Test(incr, pipe_in_parent_and_hashes)
{
	char *p = mmap(NULL, 16 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct hash_file *parent, *out;
	struct page_writer *pw;
	struct page_pipe *pp;
	struct page_reader *pr;
	struct page_entry e;
	struct page_hash h;
	uint32_t flags[16];
	unsigned n = 0;

	cr_assert(p != MAP_FAILED);
	for (unsigned i = 0; i < 16; i++)
		memset(p + i * PS, i == 13 ? 0 : 'a' + i, PS);
	cr_assert_eq(mprotect(p + 4 * PS, 4 * PS, PROT_NONE), 0);
	/* the parent's hashes: pages 8..11 as they are, 12 changed since */
	cr_assert_eq(hash_writer_open(dirfd_, 2, PS, &out), 0);
	for (unsigned i = 8; i < 13; i++) {
		hash_page(p + i * PS, PS, &h);
		if (i == 12)
			h.lo++;
		cr_assert_eq(hash_writer_add(out, (uintptr_t)p + i * PS, &h), 0);
	}
	cr_assert_eq(hash_writer_finish(out), 0);
	hash_close(out);
	cr_assert_eq(hash_reader_open(dirfd_, 2, PS, &parent), 0);
	cr_assert_eq(hash_writer_open(dirfd_, 1, PS, &out), 0);

	cr_assert_eq(pagew_open(dirfd_, 1, 1, PS, &pw), 0);
	cr_assert_eq(pagepipe_open(getpid(), pw, PS, true, true, &pp), 0);
	queue(pp, (uintptr_t)p, (uintptr_t)p + 4 * PS, false);
	queue(pp, (uintptr_t)p + 4 * PS, (uintptr_t)p + 8 * PS, true);
	pagepipe_set_hashes(pp, parent, out);
	queue(pp, (uintptr_t)p + 8 * PS, (uintptr_t)p + 16 * PS, false);
	cr_assert_eq(pagepipe_finish(pp), 0, "%s", pagepipe_errmsg(pp));
	/* 0-3 data, 4-7 queued IN_PARENT, 8-11 same hash, 12 changed,
	 * 13 zeros, 14-15 no parent hash */
	cr_expect_eq(pagepipe_pages_in_parent(pp), 8);
	cr_expect_eq(pagepipe_pages_zero(pp), 1);
	cr_expect_eq(pagepipe_pages_done(pp), 7);
	pagepipe_free(pp);
	cr_assert_eq(pagew_close(pw), 0);
	cr_assert_eq(hash_writer_finish(out), 0);
	hash_close(out);
	hash_close(parent);

	cr_assert_eq(pager_open(dirfd_, 1, &pr), 0, "%s", pager_errmsg(pr));
	while (pager_next(pr, &e) == 1)
		for (unsigned i = 0; i < e.nr_pages; i++)
			flags[(e.vaddr - (uintptr_t)p) / PS + i] = e.flags;
	pager_close(pr);
	for (unsigned i = 0; i < 16; i++) {
		uint32_t want = i < 4 ? PE_PRESENT : i < 12 ? PE_IN_PARENT :
				i == 13 ? PE_ZERO : PE_PRESENT;

		cr_expect_eq(flags[i], want, "page %u: flags %u, not %u", i, flags[i], want);
	}

	/* this round's hashes: every non-zero page read with the tracker on */
	cr_assert_eq(hash_reader_open(dirfd_, 1, PS, &parent), 0);
	for (unsigned i = 8; i < 16; i++) {
		bool same;

		hash_page(p + i * PS, PS, &h);
		cr_assert_eq(hash_reader_same(parent, (uintptr_t)p + i * PS, &h, &same), 0);
		cr_expect_eq(same, i != 13, "page %u", i);
		n += same;
	}
	cr_expect_eq(n, 7);
	hash_close(parent);
	munmap(p, 16 * PS);
}

/* A pre-dump copies with the task running: a range unmapped after it was
 * planned reads as zeros (a zero entry), the rest as it is then. Without
 * pagepipe_set_running the same copy fails. */
static int copy_vanished(bool running, struct page_reader **ret_pr, char **ret_p)
{
	char *p = mmap(NULL, 8 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct page_writer *pw;
	struct page_pipe *pp;
	int r;

	cr_assert(p != MAP_FAILED);
	memset(p, 'x', 8 * PS);
	cr_assert_eq(pagew_open(dirfd_, running ? 3 : 4, running ? 3 : 4, PS, &pw), 0);
	cr_assert_eq(pagepipe_open(getpid(), pw, PS, true, false, &pp), 0);
	if (running)
		pagepipe_set_running(pp);
	queue(pp, (uintptr_t)p, (uintptr_t)p + 8 * PS, false);
	cr_assert_eq(munmap(p + 2 * PS, 3 * PS), 0);	/* gone since the plan */
	memset(p + 6 * PS, 'y', PS);			/* written since */
	r = pagepipe_finish(pp);
	pagepipe_free(pp);
	if (r < 0) {
		pagew_abort(pw);
		return r;
	}
	cr_assert_eq(pagew_close(pw), 0);
	cr_assert_eq(pager_open(dirfd_, 3, ret_pr), 0);
	*ret_p = p;
	return 0;
}

Test(incr, pipe_running_copy)
{
	struct page_reader *pr;
	struct page_entry e;
	char *p, buf[8 * PS];
	unsigned zero = 0, data = 0;

	cr_expect_lt(copy_vanished(false, &pr, &p), 0, "a frozen copy fails on a hole");
	cr_assert_eq(copy_vanished(true, &pr, &p), 0);
	while (pager_next(pr, &e) == 1) {
		unsigned first = (e.vaddr - (uintptr_t)p) / PS;

		if (e.flags == PE_ZERO) {
			cr_expect(first >= 2 && first + e.nr_pages <= 5, "zeros at page %u", first);
			zero += e.nr_pages;
			continue;
		}
		cr_assert_eq(pager_read(pr, &e, buf), 0);
		for (unsigned i = 0; i < e.nr_pages; i++)
			cr_expect_eq(buf[i * PS], first + i == 6 ? 'y' : 'x', "page %u", first + i);
		data += e.nr_pages;
	}
	cr_expect_eq(zero, 3);
	cr_expect_eq(data, 5);
	pager_close(pr);
	munmap(p, 8 * PS);
}
