/* daemon/pagepipe.c on this very process: runs queued across several
 * batches (more runs than one batch holds, more bytes than one buffer),
 * read with process_vm_readv or /proc/self/mem, written by the writer
 * thread or inline, must come back from the page store byte for byte. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/pagepipe.h"
#include "common/util.h"
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
