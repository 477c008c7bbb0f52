/* Read page batches from a stopped task, write them from a second thread.
 *
 * Why a thread: copying a page out of the task (process_vm_readv, ~5 GB/s
 * here) and writing it (write(2) into the page cache, ~4 GB/s) cost about
 * the same, and checksumming it (XXH3-64, ~17 GB/s) a third of either, so
 * overlapping them nearly halves a dump's page time. Two batches take
 * turns: the caller fills and reads one while the writer writes the other.
 *
 * Pages that read as zeros are not stored: they become zero entries, which
 * cost no space in pages-N.img, whatever the kernel maps for them (a read
 * fault may get the shared zero page, which pagescan leaves out, or a
 * zero-filled page of its own, which only its bytes tell apart from data).
 * The reader tests each page right after reading the batch, while it is
 * still in cache (measured here on a 4 MiB batch just copied in): a page
 * with data fails on its first cache line, so the pages that are stored
 * cost next to nothing (under 10 ns each); a zero page is read whole at
 * ~50 GB/s, several times faster than hashing it (XXH3 ~10-14 GB/s), and
 * is then neither hashed nor written. The worst case, a page of zeros but
 * for its last bytes, is tested whole and hashed: the test adds about a
 * tenth to what reading it with process_vm_readv (~5 GB/s) cost.
 *
 * The checksums are shared out. A batch is cut into segments in address
 * order: runs of zero pages, and blocks of stored pages (contiguous, each
 * checksummed whole, so a block never spans two batches or a zero page);
 * the reader checksums blocks from the batch's end while the writer is
 * still busy with the previous batch, and the writer checksums, in order,
 * whatever blocks it reaches unclaimed. Whichever side is idle does the
 * hashing, so neither waits for the other while there is work.
 *
 * An incremental round adds two kinds of segment. Runs queued IN_PARENT
 * (pagepipe_commit_in_parent) are not read at all and become IN_PARENT
 * entries. With the hash tracker (pagepipe_set_hashes) every page read that
 * is not all zeros is hashed (XXH3-128, ~15 GB/s) in the reader's plan of
 * the batch, right after the zero test while it is still in cache: the
 * hash decides the segment (same as the parent's: IN_PARENT), so it cannot
 * wait for the writer; the hashes file is written there too.
 *
 * The writer thread touches only the page writer and its batch; everything
 * else stays in the caller's thread, which is the ptrace tracer. */
#include "daemon/pagepipe.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "common/util.h"
#include "daemon/track/hash.h"
#include "images/pages.h"

/* A segment of a batch: a checksummed block of stored pages (contiguous,
 * packed in buf at off; flags 0), or contiguous pages stored as an entry
 * without data (flags PE_ZERO: they read as zeros; PE_IN_PARENT: queued as
 * such, or read and found unchanged by the hash tracker): nothing stored,
 * never checksummed. */
enum block_state { UNHASHED, HASHING, HASHED };

struct block {
	uint64_t vaddr;
	uint64_t off;
	uint32_t nr_pages;
	uint32_t flags;			/* 0: stored; PE_ZERO or PE_IN_PARENT */
	enum block_state state;		/* under the pipe's lock once handed over */
	uint64_t xxh3;
};

/* The smallest page size the pipe takes (pagew_open's too). */
#define MIN_PAGE_SIZE	4096u

/* Every segment holds at least one page: at most one per page read into
 * a batch (zero pages alternating with stored ones cut it that finely),
 * plus one per run queued IN_PARENT (not read). */
#define BATCH_BLOCKS	(PAGEPIPE_BATCH_BYTES / MIN_PAGE_SIZE + PAGEPIPE_BATCH_RUNS)

struct batch {
	char *buf;			/* PAGEPIPE_BATCH_BYTES, mmap'ed */
	struct page_run runs[PAGEPIPE_BATCH_RUNS];
	bool via_mem[PAGEPIPE_BATCH_RUNS];
	uint32_t hole[PAGEPIPE_BATCH_RUNS];	/* not read: entries of these flags
						   (PE_IN_PARENT, PE_COW); 0: read */
	unsigned nr_runs;
	uint64_t pages;			/* queued to read: stored, zero or unchanged */
	uint64_t zero_pages;		/* of those, read as zeros */
	uint64_t parent_pages;		/* IN_PARENT, queued so or found unchanged */
	struct block blocks[BATCH_BLOCKS];
	unsigned nr_blocks;
};

struct page_pipe {
	pid_t pid;
	uint64_t ps;
	bool vm_readv;
	int memfd;			/* /proc/PID/mem, opened on first need */
	struct page_writer *pw;
	struct batch b[2];
	unsigned cur;			/* the batch being filled */
	uint64_t done;			/* pages known stored */
	uint64_t zero;			/* pages known recorded as zeros */
	uint64_t parent;		/* pages known recorded IN_PARENT */
	bool running;			/* pagepipe_set_running */
	struct hash_file *hash_parent;	/* the hash tracker (pagepipe_set_hashes) */
	struct hash_file *hash_out;
	char errmsg[768];		/* the caller's thread's failure */

	/* shared with the writer thread, under lock */
	bool threaded;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct batch *queued;		/* handed over, not yet written */
	uint64_t inflight;		/* its stored pages */
	uint64_t inflight_zero;		/* its zero pages */
	uint64_t inflight_parent;	/* its IN_PARENT pages */
	bool stop;
	int werr;			/* the writer's first failure */
	char werrmsg[768];		/* set before werr */
};

__attribute__((format(printf, 4, 5)))
static int fail(char *buf, size_t len, int code, const char *fmt, ...)
{
	va_list ap;

	if (!buf[0]) {
		va_start(ap, fmt);
		vsnprintf(buf, len, fmt, ap);
		va_end(ap);
	}
	return code;
}

#define pipe_fail(p, code, ...) fail((p)->errmsg, sizeof((p)->errmsg), code, __VA_ARGS__)

/* ---- the writer's side ------------------------------------------------ */

static void hash_block(struct page_pipe *p, struct batch *b, struct block *k)
{
	k->xxh3 = pages_block_hash(b->buf + k->off, k->nr_pages * p->ps);
}

/* The writer's claim on block k: hash it if nobody has, else wait for the
 * reader to finish it. */
static void writer_hash(struct page_pipe *p, struct batch *b, struct block *k)
{
	if (!p->threaded) {
		hash_block(p, b, k);
		return;
	}
	pthread_mutex_lock(&p->lock);
	if (k->state == UNHASHED) {
		k->state = HASHING;
		pthread_mutex_unlock(&p->lock);
		hash_block(p, b, k);
		pthread_mutex_lock(&p->lock);
		k->state = HASHED;
	}
	while (k->state != HASHED)
		pthread_cond_wait(&p->cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

static int write_batch(struct page_pipe *p, struct batch *b)
{
	for (unsigned i = 0; i < b->nr_blocks; i++) {
		struct block *k = &b->blocks[i];
		int r;

		if (k->flags) {
			r = pagew_add_hole(p->pw, k->vaddr, k->nr_pages, k->flags);
		} else {
			writer_hash(p, b, k);
			r = pagew_add_block(p->pw, k->vaddr, b->buf + k->off, k->nr_pages,
					    k->xxh3);
		}
		if (r < 0)
			return fail(p->werrmsg, sizeof(p->werrmsg), r,
				    "pid %d: pages %" PRIx64 "-%" PRIx64 ": %s", p->pid, k->vaddr,
				    k->vaddr + k->nr_pages * p->ps, pagew_errmsg(p->pw));
	}
	return 0;
}

static void *writer_main(void *arg)
{
	struct page_pipe *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct batch *b;
		int r = 0;

		while (!p->queued && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if (!p->queued)
			break;
		b = p->queued;
		pthread_mutex_unlock(&p->lock);
		if (!p->werr)	/* only this thread sets it */
			r = write_batch(p, b);
		pthread_mutex_lock(&p->lock);
		if (r < 0)
			p->werr = r;
		p->queued = NULL;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Wait until the writer holds no batch; count what it finished. */
static int wait_idle(struct page_pipe *p)
{
	int r;

	pthread_mutex_lock(&p->lock);
	while (p->queued)
		pthread_cond_wait(&p->cond, &p->lock);
	p->done += p->inflight;
	p->zero += p->inflight_zero;
	p->parent += p->inflight_parent;
	p->inflight = 0;
	p->inflight_zero = 0;
	p->inflight_parent = 0;
	r = p->werr;
	pthread_mutex_unlock(&p->lock);
	return r;
}

static int submit(struct page_pipe *p, struct batch *b)
{
	int r;

	if (!p->threaded) {
		r = write_batch(p, b);
		if (r < 0)
			return r;
		p->done += b->pages - b->zero_pages - b->parent_pages;
		p->zero += b->zero_pages;
		p->parent += b->parent_pages;
		return 0;
	}
	r = wait_idle(p);
	if (r < 0)
		return r;
	pthread_mutex_lock(&p->lock);
	p->queued = b;
	p->inflight = b->pages - b->zero_pages - b->parent_pages;
	p->inflight_zero = b->zero_pages;
	p->inflight_parent = b->parent_pages;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* ---- the reader's side ------------------------------------------------ */

static int read_run_mem(struct page_pipe *p, const struct page_run *run, char *dst)
{
	char path[64];
	int r;

	if (p->memfd < 0) {
		snprintf(path, sizeof(path), "/proc/%d/mem", p->pid);
		p->memfd = open(path, O_RDONLY | O_CLOEXEC);
		if (p->memfd < 0)
			return pipe_fail(p, negerrno(), "pid %d: cannot open %s", p->pid, path);
	}
	r = pread_full(p->memfd, dst, run->end - run->start, run->start);
	if (r < 0)
		return pipe_fail(p, r == -EIO ? -EFAULT : r, "pid %d: cannot read %" PRIx64
				 "-%" PRIx64 " through /proc/%d/mem", p->pid, run->start,
				 run->end, p->pid);
	return 0;
}

/* Runs [i, j) of b, all readable, with one process_vm_readv into dst. */
static int read_runs_vm(struct page_pipe *p, struct batch *b, unsigned i, unsigned j,
			char *dst, size_t len)
{
	struct iovec local = { dst, len }, remote[PAGEPIPE_BATCH_RUNS];
	size_t done;
	ssize_t n;

	for (unsigned k = i; k < j; k++) {
		remote[k - i].iov_base = (void *)(uintptr_t)b->runs[k].start;
		remote[k - i].iov_len = b->runs[k].end - b->runs[k].start;
	}
	do
		n = process_vm_readv(p->pid, &local, 1, remote, j - i, 0);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && errno == ENOSYS) {
		p->vm_readv = false;	/* kernel without it: /proc/PID/mem */
		for (unsigned k = i; k < j; k++) {
			int r = read_run_mem(p, &b->runs[k], dst);

			if (r < 0)
				return r;
			dst += b->runs[k].end - b->runs[k].start;
		}
		return 0;
	}
	/* name the run it stopped in */
	for (done = n < 0 ? 0 : n; i + 1 < j; i++) {
		size_t l = b->runs[i].end - b->runs[i].start;

		if (done < l)
			break;
		done -= l;
	}
	return pipe_fail(p, n < 0 ? negerrno() : -EFAULT, "pid %d: cannot read %" PRIx64
			 "-%" PRIx64 " with process_vm_readv", p->pid, b->runs[i].start,
			 b->runs[i].end);
}

/* The task runs (pagepipe_set_running): what could not be read in one go
 * is read a page at a time, and a page that is gone (unmapped meanwhile)
 * reads as zeros; only the task's exit fails. */
static int read_pages_one_by_one(struct page_pipe *p, const struct page_run *run,
				 bool via_mem, char *dst)
{
	char path[64];

	p->errmsg[0] = '\0';	/* the failure that sent us here is handled */
	if ((via_mem || !p->vm_readv) && p->memfd < 0) {
		snprintf(path, sizeof(path), "/proc/%d/mem", p->pid);
		p->memfd = open(path, O_RDONLY | O_CLOEXEC);
		if (p->memfd < 0)
			return pipe_fail(p, errno == ENOENT ? -ESRCH : negerrno(),
					 "pid %d: cannot open %s", p->pid, path);
	}
	for (uint64_t a = run->start; a < run->end; a += p->ps, dst += p->ps) {
		struct iovec l = { dst, p->ps }, r = { (void *)(uintptr_t)a, p->ps };
		ssize_t n;

		if (via_mem || !p->vm_readv)
			n = pread(p->memfd, dst, p->ps, a);
		else
			n = process_vm_readv(p->pid, &l, 1, &r, 1, 0);
		if (n == (ssize_t)p->ps)
			continue;
		if (n < 0 && errno == ESRCH)
			return pipe_fail(p, -ESRCH, "pid %d exited while its pages were copied",
					 p->pid);
		memset(dst, 0, p->ps);
	}
	return 0;
}

static int read_batch(struct page_pipe *p, struct batch *b)
{
	size_t off = 0;
	int r;

	for (unsigned i = 0; i < b->nr_runs;) {
		unsigned j = i;
		size_t len = 0;

		if (b->hole[i]) {
			i++;
			continue;
		}
		if (b->via_mem[i] || !p->vm_readv) {
			r = read_run_mem(p, &b->runs[i], b->buf + off);
			if (r < 0 && p->running && r != -ESRCH)
				r = read_pages_one_by_one(p, &b->runs[i], true, b->buf + off);
			if (r < 0)
				return r;
			off += b->runs[i].end - b->runs[i].start;
			i++;
			continue;
		}
		while (j < b->nr_runs && !b->via_mem[j] && !b->hole[j]) {
			len += b->runs[j].end - b->runs[j].start;
			j++;
		}
		r = read_runs_vm(p, b, i, j, b->buf + off, len);
		if (r < 0 && p->running && r != -ESRCH) {
			size_t o = off;

			r = 0;
			for (unsigned k = i; k < j && r == 0; k++) {
				r = read_pages_one_by_one(p, &b->runs[k], false, b->buf + o);
				o += b->runs[k].end - b->runs[k].start;
			}
		}
		if (r < 0)
			return r;
		off += len;
		i = j;
	}
	return 0;
}

/* Whether the len bytes at buf (a whole page) are all zero. Eight words at
 * a time: a page with data stops at its first non-zero cache line. */
static bool page_is_zero(const void *buf, size_t len)
{
	const uint64_t *w = buf;

	for (size_t i = 0; i < len / sizeof(*w); i += 8)
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] |
		    w[i + 7])
			return false;
	return true;
}

/* Cut the batch, just read, into segments in address order: pages that
 * read as zeros (contiguous ones joined) and blocks of the others
 * (contiguous runs joined, at most PAGES_MAX_BLOCK_PAGES each). A block's
 * pages lie back to back in buf too, since buf packs the runs in order. */
static int plan_page(struct page_pipe *p, struct batch *b, uint64_t addr, uint64_t off,
		     uint32_t *ret_flags)
{
	struct page_hash h;
	bool same = false;
	int r;

	if (page_is_zero(b->buf + off, p->ps)) {
		*ret_flags = PE_ZERO;
		return 0;
	}
	*ret_flags = 0;
	if (!p->hash_out)
		return 0;
	hash_page(b->buf + off, p->ps, &h);
	r = hash_writer_add(p->hash_out, addr, &h);
	if (r < 0)
		return pipe_fail(p, r, "pid %d: %s", p->pid, hash_errmsg(p->hash_out));
	if (p->hash_parent) {
		r = hash_reader_same(p->hash_parent, addr, &h, &same);
		if (r < 0)
			return pipe_fail(p, r, "pid %d: the parent's %s", p->pid,
					 hash_errmsg(p->hash_parent));
	}
	*ret_flags = same ? PE_IN_PARENT : 0;
	return 0;
}

static int plan_blocks(struct page_pipe *p, struct batch *b)
{
	struct block *k = NULL;
	uint64_t off = 0;
	int r;

	b->nr_blocks = 0;
	b->zero_pages = 0;
	b->parent_pages = 0;
	for (unsigned i = 0; i < b->nr_runs; i++) {
		if (b->hole[i]) {
			uint64_t n = (b->runs[i].end - b->runs[i].start) / p->ps;

			k = &b->blocks[b->nr_blocks++];
			*k = (struct block){ .vaddr = b->runs[i].start, .off = off,
					     .nr_pages = n, .flags = b->hole[i] };
			if (b->hole[i] == PE_IN_PARENT)
				b->parent_pages += n;
			continue;
		}
		for (uint64_t addr = b->runs[i].start; addr < b->runs[i].end;
		     addr += p->ps, off += p->ps) {
			uint32_t flags;

			r = plan_page(p, b, addr, off, &flags);
			if (r < 0)
				return r;
			if (!k || k->flags != flags || k->vaddr + k->nr_pages * p->ps != addr ||
			    (!flags && k->nr_pages == PAGES_MAX_BLOCK_PAGES)) {
				k = &b->blocks[b->nr_blocks++];
				*k = (struct block){ .vaddr = addr, .off = off, .flags = flags };
			}
			k->nr_pages++;
			b->zero_pages += flags == PE_ZERO;
			b->parent_pages += flags == PE_IN_PARENT;
		}
	}
	/* queued IN_PARENT runs count among the pages too, for submit's sums */
	for (unsigned i = 0; i < b->nr_runs; i++)
		if (b->hole[i] == PE_IN_PARENT)
			b->pages += (b->runs[i].end - b->runs[i].start) / p->ps;
	return 0;
}

/* The reader's share of b's checksums, from the end: hash unclaimed blocks
 * until none is left (zero segments have nothing to hash). Before b is
 * handed over, stop as soon as the writer is idle, to hand it over at once
 * (*submitted). */
static int reader_hash(struct page_pipe *p, struct batch *b, bool *submitted)
{
	int r;

	pthread_mutex_lock(&p->lock);
	for (unsigned i = b->nr_blocks; i-- > 0;) {
		struct block *k = &b->blocks[i];

		if (!*submitted && !p->queued) {
			pthread_mutex_unlock(&p->lock);
			r = submit(p, b);
			if (r < 0)
				return r;
			*submitted = true;
			pthread_mutex_lock(&p->lock);
		}
		if (k->flags)
			continue;
		if (k->state != UNHASHED)
			break;		/* the writer got here first */
		k->state = HASHING;
		pthread_mutex_unlock(&p->lock);
		hash_block(p, b, k);
		pthread_mutex_lock(&p->lock);
		k->state = HASHED;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* Read the current batch, share out its checksums, hand it over, and start
 * filling the other. */
static int send_current(struct page_pipe *p)
{
	struct batch *b = &p->b[p->cur];
	bool submitted = false;
	int r;

	if (!b->nr_runs)
		return 0;
	r = read_batch(p, b);
	if (r < 0)
		return r;
	r = plan_blocks(p, b);
	if (r < 0)
		return r;
	if (p->threaded) {
		r = reader_hash(p, b, &submitted);
		if (r < 0)
			return r;
	}
	if (!submitted)
		r = submit(p, b);
	if (r < 0)
		return r;
	p->cur ^= 1;
	p->b[p->cur].nr_runs = 0;
	p->b[p->cur].pages = 0;
	return 0;
}

/* ---- interface ---------------------------------------------------------- */

static int start_writer(struct page_pipe *p)
{
	sigset_t all, old;
	int r;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);	/* signals stay the daemon's */
	r = -pthread_create(&p->thread, NULL, writer_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

int pagepipe_open(pid_t pid, struct page_writer *pw, unsigned page_size,
		  bool vm_readv, bool threaded, struct page_pipe **ret)
{
	struct page_pipe *p;

	/* a batch holds whole pages, and BATCH_BLOCKS one segment per page */
	if (page_size < MIN_PAGE_SIZE || PAGEPIPE_BATCH_BYTES % page_size)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->pid = pid;
	p->ps = page_size;
	p->vm_readv = vm_readv;
	p->memfd = -1;
	p->pw = pw;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	for (int i = 0; i < 2; i++) {
		p->b[i].buf = mmap(NULL, PAGEPIPE_BATCH_BYTES, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p->b[i].buf == MAP_FAILED) {
			p->b[i].buf = NULL;
			pagepipe_free(p);
			return -ENOMEM;
		}
	}
	/* without a thread, pages are simply written in this one */
	p->threaded = threaded && start_writer(p) == 0;
	*ret = p;
	return 0;
}

int pagepipe_room(struct page_pipe *p, struct page_run **ret_runs,
		  unsigned *ret_max_runs, uint64_t *ret_max_pages)
{
	uint64_t cap = PAGEPIPE_BATCH_BYTES / p->ps;
	struct batch *b = &p->b[p->cur];
	int r;

	if (b->nr_runs == PAGEPIPE_BATCH_RUNS || b->pages >= cap) {
		r = send_current(p);
		if (r < 0)
			return r;
		b = &p->b[p->cur];
	}
	*ret_runs = b->runs + b->nr_runs;
	*ret_max_runs = PAGEPIPE_BATCH_RUNS - b->nr_runs;
	*ret_max_pages = cap - b->pages;
	return 0;
}

void pagepipe_commit(struct page_pipe *p, unsigned n, bool via_mem)
{
	struct batch *b = &p->b[p->cur];

	for (unsigned k = b->nr_runs; k < b->nr_runs + n; k++) {
		b->via_mem[k] = via_mem;
		b->hole[k] = 0;
		b->pages += (b->runs[k].end - b->runs[k].start) / p->ps;
	}
	b->nr_runs += n;
}

/* Runs recorded IN_PARENT take a run slot but no room in the buffer (the
 * plan adds their pages to b->pages once the batch is read). */
void pagepipe_commit_in_parent(struct page_pipe *p, unsigned n)
{
	pagepipe_commit_hole(p, n, PE_IN_PARENT);
}

/* PE_COW runs (mem-cow.c) likewise, but they count nowhere: the parent
 * task stores their pages. */
void pagepipe_commit_hole(struct page_pipe *p, unsigned n, uint32_t flags)
{
	struct batch *b = &p->b[p->cur];

	for (unsigned k = b->nr_runs; k < b->nr_runs + n; k++) {
		b->via_mem[k] = false;
		b->hole[k] = flags;
	}
	b->nr_runs += n;
}

void pagepipe_set_running(struct page_pipe *p)
{
	p->running = true;
}

void pagepipe_set_hashes(struct page_pipe *p, struct hash_file *parent, struct hash_file *out)
{
	p->hash_parent = parent;
	p->hash_out = out;
}

int pagepipe_finish(struct page_pipe *p)
{
	int r = send_current(p);

	if (r < 0)
		return r;
	return p->threaded ? wait_idle(p) : 0;
}

uint64_t pagepipe_pages_done(const struct page_pipe *p)
{
	return p->done;
}

uint64_t pagepipe_pages_zero(const struct page_pipe *p)
{
	return p->zero;
}

uint64_t pagepipe_pages_in_parent(const struct page_pipe *p)
{
	return p->parent;
}

const char *pagepipe_errmsg(const struct page_pipe *p)
{
	/* the writer's message is complete once its werr was seen */
	return p->errmsg[0] ? p->errmsg : p->werrmsg;
}

void pagepipe_free(struct page_pipe *p)
{
	if (!p)
		return;
	if (p->threaded) {
		pthread_mutex_lock(&p->lock);
		p->stop = true;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	for (int i = 0; i < 2; i++)
		if (p->b[i].buf)
			munmap(p->b[i].buf, PAGEPIPE_BATCH_BYTES);
	if (p->memfd >= 0)
		close(p->memfd);
	free(p);
}
