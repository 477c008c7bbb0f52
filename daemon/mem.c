/* A task's memory: mm-PID.img (mm fields and one record per VMA),
 * pagemap-PID.img and pages-N.img (the pages only the process holds).
 *
 * What is saved, and why:
 *  - anonymous private memory, stack and heap: every present or swapped
 *    page except the shared zero page; of those, a page that reads as all
 *    zeros (a kernel may give a read fault a zero-filled page of its own)
 *    is recorded as a zero entry and costs no space;
 *  - private file mappings: only their anonymous COW copies (the rest is
 *    in the file, whose identity the VMA record carries);
 *  - shared file mappings: nothing (the file holds the data);
 *  - shared anonymous memory and deleted or memfd files: their contents
 *    once per object, through dump_ghost_file();
 *  - vdso, vvar, vsyscall: nothing, the kernel provides them.
 *
 * Pages travel in batches: PAGEMAP_SCAN finds runs (kernel-filtered, a
 * window at a time), pagepipe reads each batch with one process_vm_readv
 * and writes it from a second thread. The dumper's memory is two batch
 * buffers plus one record per VMA, whatever the target's size.
 *
 * A round of an incremental chain (struct mm_incr, mem.h) selects the same
 * present pages and records those its parent can stand for as IN_PARENT
 * instead of reading them: with a live tracker, those of an unchanged VMA
 * that were not written since the parent and that the parent covers; with
 * the hash tracker the pipe reads and hashes every page and decides
 * (pagepipe_set_hashes). The parent's VMAs and coverage cost one record
 * per VMA and per pagemap entry (mem-parent.c).
 *
 * A set without a parent set records a page a child still shares with its
 * parent task since a fork (the same frame) as PE_COW: the parent stores
 * it once (mem-cow.c; restore shares it again, restore-cow.c). */
#include "daemon/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/dump.h"
#include "daemon/dump-io.h"
#include "daemon/inject.h"
#include "daemon/mem-cow.h"
#include "daemon/mem-parent.h"
#include "daemon/pagepipe.h"
#include "daemon/pagescan.h"
#include "daemon/track/hash.h"
#include "daemon/vma.h"
#include "images/img.h"
#include "images/pages.h"
#include "mm.pb-c.h"

#define PROGRESS_BYTES	(8u << 20)
#define AUXV_MAX	128		/* u64 values: AT_VECTOR_SIZE is far below */

struct mm_dump {
	struct dump_ctx *ctx;
	struct task *t;
	pid_t pid;
	uint64_t ps;
	unsigned long syscall_ip;	/* from dump_task_core; 0: none */
	struct vma_list vmas;
	const struct mm_incr *incr;	/* NULL: a full dump */

	/* an incremental round with a live tracker: the parent's view */
	struct mm_parent parent;
	bool have_parent;
	size_t dirty_i;			/* cursor into incr->dirty */
	/* the hash tracker */
	struct hash_file *hash_parent, *hash_out;
	bool running;			/* a pre-dump's copy: the tree runs again */

	/* the pages pass */
	struct pagescan *scan;
	struct page_writer *pw;
	struct page_pipe *pipe;
	uint64_t counted;		/* pages smaps says there are to save */
	uint64_t reported;		/* pages written, as last reported */
	uint64_t reported_zero;		/* zero pages (not written), as last reported */
	uint64_t in_parent;		/* pages recorded IN_PARENT */
	/* a set without a parent set: the pages shared with the parent task */
	const struct run_list *cow;	/* NULL: none recorded (mem-cow.h) */
	size_t cow_i;			/* cursor into cow */
	uint64_t cow_pages;		/* pages recorded PE_COW (not written) */
	/* the task has a live parent or child in the tree: its private
	 * anonymous memory may share pages with them (see read_via_mem) */
	bool has_kin;
};

/* ---- mm fields ------------------------------------------------------- */

static int read_vmas(struct mm_dump *d)
{
	_cleanup_fclose_ FILE *f = NULL;
	char path[64];
	unsigned line = 0;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/smaps", d->pid);
	f = fopen(path, "re");
	if (!f)
		return ckpt_fail(d->ctx->err, negerrno(), "pid %d: cannot open %s", d->pid, path);
	r = vma_list_read_smaps(f, &d->vmas, &line);
	if (r == -EOPNOTSUPP) {
		const struct vma *v = &d->vmas.v[d->vmas.nr - 1];

		return ckpt_fail(d->ctx->err, r,
				 "pid %d: %" PRIx64 "-%" PRIx64 " '%s' cannot be saved: %s",
				 d->pid, v->start, v->end, v->name, vma_refusal(v));
	}
	if (r < 0)
		return ckpt_fail(d->ctx->err, r, "pid %d: cannot parse %s at line %u",
				 d->pid, path, line);
	return 0;
}

static const struct vma *find_vma_kind(const struct mm_dump *d, int kind)
{
	for (size_t i = 0; i < d->vmas.nr; i++)
		if (d->vmas.v[i].kind == kind)
			return &d->vmas.v[i];
	return NULL;
}

/* The program break is not in /proc: ask the task with brk(0), through its
 * main thread (or the first seized one when the main thread has exited). */
static int read_brk(struct mm_dump *d, const struct mm_stat *st, uint64_t *ret)
{
	const unsigned long args[6] = { 0 };
	struct thread *th = NULL;
	const struct vma *heap;
	long brk;
	int r;

	for (unsigned i = 0; i < d->t->nr_threads && !th; i++)
		if (d->t->threads[i].seized)
			th = &d->t->threads[i];
	if (d->syscall_ip && th) {
		r = inject_syscall(d->t, th, __NR_brk, args, &brk);
		if (r < 0)
			return ckpt_fail(d->ctx->err, r, "pid %d: cannot run brk(0) in thread %d",
					 d->pid, th->tid);
		if (brk < 0 || (uint64_t)brk < st->start_brk)
			return ckpt_fail(d->ctx->err, -EIO, "pid %d: brk(0) answered %#lx "
					 "below start_brk %#" PRIx64, d->pid, brk, st->start_brk);
		*ret = brk;
		return 0;
	}
	/* No syscall instruction was found to inject through (dump_task_core
	 * gave syscall_ip 0 then), or no thread is held: the end of [heap] is brk
	 * rounded up to a page, which restore accepts as well (PR_SET_MM_MAP
	 * only checks that brk lies within bounds). */
	heap = find_vma_kind(d, VMA_KIND__VMA_HEAP);
	*ret = heap ? heap->end : st->start_brk;
	return 0;
}

static void fill_identity(FileIdentity *fi, const struct stat *st, char *path)
{
	fi->path = path;
	fi->dev = st->st_dev;
	fi->ino = st->st_ino;
	fi->size = st->st_size;
	fi->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	fi->has_mode = true;
	fi->mode = st->st_mode;
}

/* readlink into a malloc'ed string. */
static int read_link(const char *path, char **ret)
{
	char buf[PATH_MAX + 16];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return negerrno();
	buf[n] = '\0';
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

static int write_mm_entry(struct mm_dump *d, struct img *img)
{
	MmEntry e = MM_ENTRY__INIT;
	FileIdentity exe = FILE_IDENTITY__INIT;
	_cleanup_free_ char *stat_text = NULL, *auxv_buf = NULL, *exe_path = NULL;
	uint64_t auxv[AUXV_MAX];
	size_t auxv_len = 0, nauxv = 0;
	struct mm_stat ms;
	struct stat st;
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/stat", d->pid);
	r = read_file_at(AT_FDCWD, path, &stat_text, NULL);
	if (r < 0)
		return ckpt_fail(d->ctx->err, r, "pid %d: cannot read %s", d->pid, path);
	r = mm_parse_stat(stat_text, &ms);
	if (r < 0)
		return ckpt_fail(d->ctx->err, r, "pid %d: cannot parse the mm fields of %s",
				 d->pid, path);
	snprintf(path, sizeof(path), "/proc/%d/auxv", d->pid);
	r = read_file_at(AT_FDCWD, path, &auxv_buf, &auxv_len);
	if (r < 0)
		return ckpt_fail(d->ctx->err, r, "pid %d: cannot read %s", d->pid, path);
	r = mm_parse_auxv(auxv_buf, auxv_len, auxv, AUXV_MAX, &nauxv);
	if (r < 0)
		return ckpt_fail(d->ctx->err, r, "pid %d: %s: %zu bytes without AT_NULL "
				 "or too long", d->pid, path, auxv_len);

	e.start_code = ms.start_code;
	e.end_code = ms.end_code;
	e.start_data = ms.start_data;
	e.end_data = ms.end_data;
	e.start_brk = ms.start_brk;
	e.start_stack = ms.start_stack;
	e.arg_start = ms.arg_start;
	e.arg_end = ms.arg_end;
	e.env_start = ms.env_start;
	e.env_end = ms.env_end;
	r = read_brk(d, &ms, &e.brk);
	if (r < 0)
		return r;
	e.n_auxv = nauxv;
	e.auxv = auxv;

	snprintf(path, sizeof(path), "/proc/%d/exe", d->pid);
	if (stat(path, &st) < 0 || read_link(path, &exe_path) < 0)
		return ckpt_fail(d->ctx->err, negerrno(), "pid %d: cannot stat %s", d->pid, path);
	fill_identity(&exe, &st, exe_path);
	e.exe = &exe;
	e.nr_vmas = d->vmas.nr;
	e.has_pages_id = true;
	e.pages_id = d->t->pages_id;

	r = img_write_msg(img, &e.base);
	if (r < 0)
		return ckpt_fail(d->ctx->err, r, "%s", img_errmsg(img));
	return 0;
}

/* ---- VMA records ----------------------------------------------------- */

/* File identity of a file-backed VMA, and its contents for a deleted file,
 * a memfd or shared anonymous memory (one ghost per object). */
static int vma_object(struct mm_dump *d, const struct vma *v, VmaEntry *e,
		      FileIdentity *fi, char **ret_path)
{
	_cleanup_close_ int fd = -EBADF;
	char mf[96];
	struct stat st;
	bool deleted;
	int r;

	snprintf(mf, sizeof(mf), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
		 d->pid, v->start, v->end);
	if (stat(mf, &st) < 0)
		return ckpt_fail(d->ctx->err, negerrno(), "pid %d: %" PRIx64 "-%" PRIx64
				 " '%s': cannot stat %s", d->pid, v->start, v->end, v->name, mf);
	deleted = v->deleted || st.st_nlink == 0;

	if (vma_has_file(v)) {
		r = read_link(mf, ret_path);
		if (r < 0)
			return ckpt_fail(d->ctx->err, r, "pid %d: cannot read the link %s",
					 d->pid, mf);
		path_strip_deleted(*ret_path);
		fill_identity(fi, &st, *ret_path);
		e->file = fi;
		if (!deleted)
			return 0;
		e->has_deleted = true;
		e->deleted = true;
	} else {
		e->has_shmid = true;
		e->shmid = st.st_ino;
	}

	fd = open(mf, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ckpt_fail(d->ctx->err, negerrno(), "pid %d: %" PRIx64 "-%" PRIx64
				 " '%s': cannot open %s", d->pid, v->start, v->end, v->name, mf);
	r = dump_ghost_file(d->ctx, fd, &st, *ret_path ? *ret_path : v->name, &e->ghost_id);
	if (r < 0)
		return r;
	e->has_ghost_id = true;
	return 0;
}

/* Whether the kerndat probe ran: a zeroed struct means it did not, and
 * PAGEMAP_SCAN and process_vm_readv are simply tried. */
static bool kerndat_known(const struct kerndat *kd)
{
	return kd && kd->page_size > 0;
}

/* Open the pagemap scanner once, for the guard runs and the pages. */
static int open_scan(struct mm_dump *d)
{
	const struct kerndat *kd = d->ctx->kd;
	bool known = kerndat_known(kd);
	int r;

	if (d->scan)
		return 0;
	r = pagescan_open(d->pid, d->ps, !known || kd->pagemap_scan, &d->scan);
	if (r < 0)
		return ckpt_fail(d->ctx->err, r, "pid %d: cannot open /proc/%d/pagemap",
				 d->pid, d->pid);
	return 0;
}

#define GUARD_RUNS	64u

/* The guard runs (MADV_GUARD_INSTALL) of v into e->guards: restore
 * installs them again; the pages pass never reads them (they fault). */
static int vma_guards(struct mm_dump *d, const struct vma *v, VmaEntry *e,
		      PageRange **ret_ranges)
{
	struct page_run runs[GUARD_RUNS];
	PageRange *ranges = NULL;
	size_t n = 0;
	uint64_t addr = v->start;
	int r;

	while (addr < v->end) {
		unsigned nr = 0;
		uint64_t next;

		r = pagescan_guards(d->scan, addr, v->end, runs, GUARD_RUNS, &nr, &next);
		if (r >= 0 && (next <= addr || next > v->end))
			r = -EIO;
		if (r < 0)
			return ckpt_fail(d->ctx->err, r, "pid %d: cannot find the guard pages of "
					 "%" PRIx64 "-%" PRIx64 " at %" PRIx64, d->pid, v->start,
					 v->end, addr);
		if (nr) {
			PageRange *nrg = realloc(ranges, (n + nr) * sizeof(*ranges));

			if (!nrg) {
				free(ranges);
				return ckpt_fail(d->ctx->err, -ENOMEM, "pid %d: out of memory", d->pid);
			}
			ranges = nrg;
		}
		for (unsigned i = 0; i < nr; i++) {
			page_range__init(&ranges[n]);
			ranges[n].start = runs[i].start;
			ranges[n++].end = runs[i].end;
		}
		addr = next;
	}
	*ret_ranges = ranges;
	e->n_guards = n;
	return 0;
}

static int write_vma(struct mm_dump *d, struct img *img, const struct vma *v)
{
	VmaEntry e = VMA_ENTRY__INIT;
	FileIdentity fi = FILE_IDENTITY__INIT;
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ PageRange *guards = NULL;
	_cleanup_free_ PageRange **guard_ptrs = NULL;
	int r;

	e.start = v->start;
	e.end = v->end;
	e.pgoff = v->pgoff;
	e.prot = v->prot;
	e.flags = v->flags;
	e.kind = v->kind;
	if (v->madv) {
		e.has_madv = true;
		e.madv = v->madv;
	}
	if (v->name[0])
		e.name = v->name;
	if (v->vmflags & VMF_HT) {
		e.has_hugetlb_kb = true;
		e.hugetlb_kb = v->page_kb;
	}
	if (v->kind == VMA_KIND__VMA_FILE_SHARED && (v->vmflags & VMF_MW)) {
		e.has_may_write = true;
		e.may_write = true;
	}
	if (vma_has_file(v) || vma_is_shared_anon(v)) {
		r = vma_object(d, v, &e, &fi, &path);
		if (r < 0)
			return r;
	}
	/* no guard regions without MADV_GUARD_INSTALL: no search (on a
	 * kernel without PAGEMAP_SCAN it reads every pagemap word) */
	if (!vma_is_special(v) &&
	    (!d->ctx->kd || d->ctx->kd->page_size <= 0 || d->ctx->kd->guard_regions)) {
		r = vma_guards(d, v, &e, &guards);
		if (r < 0)
			return r;
	}
	if (e.n_guards) {
		guard_ptrs = malloc(e.n_guards * sizeof(*guard_ptrs));
		if (!guard_ptrs)
			return ckpt_fail(d->ctx->err, -ENOMEM, "pid %d: out of memory", d->pid);
		for (size_t i = 0; i < e.n_guards; i++)
			guard_ptrs[i] = &guards[i];
		e.guards = guard_ptrs;
	}
	r = img_write_msg(img, &e.base);
	if (r < 0)
		return ckpt_fail(d->ctx->err, r, "%s", img_errmsg(img));
	return 0;
}

static int write_mm_image(struct mm_dump *d)
{
	struct img *img;
	int r;

	r = open_scan(d);
	if (r < 0)
		return r;
	r = img_create(d->ctx->dirfd, IMG_MM, d->pid, &img);
	if (r < 0)
		return ckpt_fail(d->ctx->err, r, "pid %d: cannot create mm-%d.img", d->pid, d->pid);
	r = write_mm_entry(d, img);
	for (size_t i = 0; r >= 0 && i < d->vmas.nr; i++)
		r = write_vma(d, img, &d->vmas.v[i]);
	if (r < 0) {
		img_abort(img);
		return r;
	}
	return dump_img_close(d->ctx, img);
}

/* ---- pages ----------------------------------------------------------- */

/* Progress counts on from the tasks before this one, as ctx has them
 * (dump.c records each task's result). -ECANCELED when the requester gave
 * up (see dump_progress). */
static int report_progress(struct mm_dump *d, bool force)
{
	const struct dump_ctx *ctx = d->ctx;
	uint64_t done, zero, written, total;

	done = pagepipe_pages_done(d->pipe);
	zero = pagepipe_pages_zero(d->pipe);
	if (!force && (done - d->reported) * d->ps < PROGRESS_BYTES)
		return 0;
	d->reported = done;
	d->reported_zero = zero;
	written = ctx->stats.pages_written + done;
	/* the total counted them (smaps' Anonymous), but they are not written */
	total = ctx->pages_total + d->counted;
	total -= MIN(zero + d->cow_pages, total);
	return dump_progress(d->ctx, "pages", written, MAX(total, written));
}

/* Queue the pages to save of one VMA, a window at a time. */
/* pagescan_next within v, its failures described; the scan must move on. */
static int scan_next(struct mm_dump *d, const struct vma *v, uint64_t addr,
		     struct page_run *runs, unsigned max_runs, uint64_t max_pages,
		     unsigned *nr, uint64_t *next)
{
	int r = pagescan_next(d->scan, addr, v->end, runs, max_runs, max_pages, nr, next);

	if (r < 0)
		return ckpt_fail(d->ctx->err, r, "pid %d: cannot scan the pagemap of "
				 "%" PRIx64 "-%" PRIx64 " at %" PRIx64, d->pid, v->start, v->end,
				 addr);
	if (*next <= addr || *next > v->end)
		return ckpt_fail(d->ctx->err, -EIO, "pid %d: pagemap scan of %" PRIx64 "-%" PRIx64
				 " stopped at %" PRIx64, d->pid, v->start, v->end, *next);
	return 0;
}

/* How a VMA's pages are read: process_vm_readv, or pread of /proc/PID/mem
 * (pagepipe.c) for a VMA the task can't read itself, and for private
 * anonymous memory it may still share with its parent or a child since
 * a fork. process_vm_readv pins each page, and the kernel (5.19+) gives
 * the task its own copy of a shared anonymous page when it is pinned: a
 * dump would unshare every copy-on-write page of a forked tree, doubling
 * its memory (the dump's tree running on, or for the time of a killing
 * dump). /proc/PID/mem copies without pinning; on pages of the task's own
 * it reads about half as fast (~4.5 GB/s against ~9 here), below what
 * writing them costs. */
static bool read_via_mem(const struct mm_dump *d, const struct vma *v)
{
	return !(v->prot & PROT_READ) || (d->has_kin && mm_cow_vma_ok(v));
}

static int scan_vma(struct mm_dump *d, const struct vma *v)
{
	bool via_mem = read_via_mem(d, v);
	uint64_t addr = v->start;
	int r;

	while (addr < v->end) {
		struct page_run *runs;
		unsigned max_runs, nr = 0;
		uint64_t max_pages, next;

		r = pagepipe_room(d->pipe, &runs, &max_runs, &max_pages);
		if (r < 0)
			return ckpt_fail(d->ctx->err, r, "%s", pagepipe_errmsg(d->pipe));
		r = scan_next(d, v, addr, runs, max_runs, max_pages, &nr, &next);
		if (r < 0)
			return r;
		pagepipe_commit(d->pipe, nr, via_mem);
		r = report_progress(d, false);
		if (r < 0)
			return r;
		addr = next;
	}
	return 0;
}

/* Queue [start, end) of a VMA: as data to read (hole 0), or as entries of
 * flags hole (PE_IN_PARENT, PE_COW: not read). */
static int queue_run(struct mm_dump *d, uint64_t start, uint64_t end, bool via_mem,
		     uint32_t hole)
{
	int r;

	while (start < end) {
		struct page_run *runs;
		unsigned max_runs;
		uint64_t max_pages, n = (end - start) / d->ps;

		r = pagepipe_room(d->pipe, &runs, &max_runs, &max_pages);
		if (r < 0)
			return ckpt_fail(d->ctx->err, r, "%s", pagepipe_errmsg(d->pipe));
		if (!hole)
			n = MIN(n, max_pages);
		runs[0] = (struct page_run){ start, start + n * d->ps };
		if (hole)
			pagepipe_commit_hole(d->pipe, 1, hole);
		else
			pagepipe_commit(d->pipe, 1, via_mem);
		start += n * d->ps;
	}
	return 0;
}

/* One run of present pages of a VMA the parent has unchanged, cut where
 * it stops or starts being written (dirty) or covered by the parent. */
static int queue_tracked(struct mm_dump *d, const struct page_run *run, bool via_mem)
{
	uint64_t a = run->start;
	int r;

	while (a < run->end) {
		uint64_t dn, cn;
		bool dirty = run_list_at(d->incr->dirty, &d->dirty_i, a, run->end, &dn);
		bool covered = run_list_at(&d->parent.covered, &d->parent.ci, a, run->end, &cn);
		uint64_t next = MIN(dn, cn);

		r = queue_run(d, a, next, via_mem, !dirty && covered ? PE_IN_PARENT : 0);
		if (r < 0)
			return r;
		a = next;
	}
	return 0;
}

#define TRACKED_RUNS	256u

/* One run of present pages, cut where its frames stop or start being the
 * parent task's (as mem-cow.c found them before any page was read): those
 * are PE_COW. */
static int queue_cow(struct mm_dump *d, const struct page_run *run, bool via_mem)
{
	uint64_t a = run->start;
	int r;

	while (a < run->end) {
		uint64_t next;
		bool shared = run_list_at(d->cow, &d->cow_i, a, run->end, &next);

		if (!shared)	/* up to the next shared run, if it starts inside */
			next = d->cow_i < d->cow->nr ? MIN(MAX(d->cow->r[d->cow_i].start, a + d->ps),
							   run->end) : run->end;
		r = queue_run(d, a, next, via_mem, shared ? PE_COW : 0);
		if (r < 0)
			return r;
		if (shared)
			d->cow_pages += (next - a) / d->ps;
		a = next;
	}
	return 0;
}

typedef int (*queue_fn)(struct mm_dump *d, const struct page_run *run, bool via_mem);

/* scan_vma run by run, each run queued by queue: queue_tracked for a VMA
 * the parent set has unchanged, with a live tracker (cut against the
 * written and the covered runs), queue_cow for one that may share pages
 * with the parent task. */
static int scan_vma_runs(struct mm_dump *d, const struct vma *v, queue_fn queue)
{
	bool via_mem = read_via_mem(d, v);
	struct page_run runs[TRACKED_RUNS];
	uint64_t addr = v->start;
	int r;

	while (addr < v->end) {
		uint64_t next;
		unsigned nr = 0;

		r = scan_next(d, v, addr, runs, TRACKED_RUNS, PAGEPIPE_BATCH_BYTES / d->ps * 64,
			      &nr, &next);
		if (r < 0)
			return r;
		for (unsigned i = 0; i < nr; i++) {
			r = queue(d, &runs[i], via_mem);
			if (r < 0)
				return r;
		}
		r = report_progress(d, false);
		if (r < 0)
			return r;
		addr = next;
	}
	return 0;
}

/* With a live tracker, a VMA the parent has exactly (and a task it has)
 * is scanned against the tracker's and the parent's runs; anything else is
 * saved whole, as a full dump does (the hash tracker decides in the pipe).
 * hugetlb memory is always saved whole: soft-dirty does not follow its
 * pages, and the trackers see it through maps, without its VmFlags. */
static int scan_vma_incr(struct mm_dump *d, const struct vma *v)
{
	bool tracked = d->have_parent && !(v->vmflags & VMF_HT) &&
		       mm_parent_same_vma(&d->parent, v);

	if (tracked)
		return scan_vma_runs(d, v, queue_tracked);
	if (d->cow && d->cow->nr && mm_cow_vma_ok(v))
		return scan_vma_runs(d, v, queue_cow);
	return scan_vma(d, v);
}

/* Set up what the round needs of the parent (mem.h, struct mm_incr). */
static int open_incr(struct mm_dump *d)
{
	const struct mm_incr *in = d->incr;
	int r;

	if (!in || in->kind == TRACK_NONE)
		return 0;
	if (in->kind == TRACK_HASH) {
		r = hash_writer_open(d->ctx->dirfd, d->pid, d->ps, &d->hash_out);
		if (r < 0)
			return ckpt_fail(d->ctx->err, r, "pid %d: cannot create hashes-%d.img: %s",
					 d->pid, d->pid, hash_errmsg(d->hash_out));
		if (in->whole || in->parent_dirfd < 0)
			return 0;
		r = hash_reader_open(in->parent_dirfd, d->pid, d->ps, &d->hash_parent);
		if (r == -ENOENT) {	/* a parent of another tracker holds none */
			hash_close(d->hash_parent);
			d->hash_parent = NULL;
			return 0;
		}
		if (r < 0)
			return ckpt_fail(d->ctx->err, r, "pid %d: the parent set's %s", d->pid,
					 hash_errmsg(d->hash_parent));
		return 0;
	}
	if (in->whole || in->parent_dirfd < 0 || !in->dirty)
		return 0;
	r = mm_parent_load(in->parent_dirfd, d->pid, d->ps, &d->parent, d->ctx->err);
	if (r < 0)
		return r;
	d->have_parent = true;
	return 0;
}

static int finish_hashes(struct mm_dump *d)
{
	int r;

	if (!d->hash_out)
		return 0;
	r = hash_writer_finish(d->hash_out);
	if (r < 0)
		return ckpt_fail(d->ctx->err, r, "pid %d: %s", d->pid, hash_errmsg(d->hash_out));
	return 0;
}

static int open_pipe(struct mm_dump *d)
{
	const struct kerndat *kd = d->ctx->kd;
	bool known = kerndat_known(kd);
	int r;

	r = pagew_open(d->ctx->dirfd, d->pid, d->t->pages_id, d->ps, &d->pw);
	if (r < 0)
		return ckpt_fail(d->ctx->err, r, "pid %d: cannot create pagemap-%d.img and "
				 "pages-%u.img", d->pid, d->pid, d->t->pages_id);
	r = pagepipe_open(d->pid, d->pw, d->ps, !known || kd->process_vm_readv, true, &d->pipe);
	if (r < 0)
		return ckpt_fail(d->ctx->err, r, "pid %d: no memory for the page buffers", d->pid);
	pagepipe_set_hashes(d->pipe, d->hash_parent, d->hash_out);
	return 0;
}

static int finish_pipe(struct mm_dump *d)
{
	int r;

	r = pagepipe_finish(d->pipe);
	if (r < 0)
		return ckpt_fail(d->ctx->err, r, "%s", pagepipe_errmsg(d->pipe));
	r = finish_hashes(d);
	if (r < 0)
		return r;
	report_progress(d, true);
	d->in_parent = pagepipe_pages_in_parent(d->pipe);
	pagepipe_free(d->pipe);
	d->pipe = NULL;
	/* finish before freeing, so that the message names file and offset */
	r = pagew_finish(d->pw);
	if (r < 0)
		return ckpt_fail(d->ctx->err, r, "pid %d: %s", d->pid, pagew_errmsg(d->pw));
	pagew_close(d->pw);	/* finished: only frees it */
	d->pw = NULL;
	return 0;
}

/* Find the pages to save, VMA by VMA, into the pipe. */
static int scan_pages(struct mm_dump *d)
{
	int r;

	for (size_t i = 0; i < d->vmas.nr; i++)
		if (vma_wants_pages(&d->vmas.v[i]))
			d->counted += (d->vmas.v[i].anon_kb + d->vmas.v[i].swap_kb) * 1024 / d->ps;

	r = open_scan(d);
	if (r < 0)
		return r;
	r = open_incr(d);
	if (r < 0)
		return r;
	r = open_pipe(d);
	if (r < 0)
		return r;
	if (d->running)
		pagepipe_set_running(d->pipe);
	for (size_t i = 0; i < d->vmas.nr; i++) {
		if (!vma_wants_pages(&d->vmas.v[i]))
			continue;
		r = scan_vma_incr(d, &d->vmas.v[i]);
		if (r < 0)
			return r;
	}
	pagescan_close(d->scan);
	d->scan = NULL;
	return 0;
}

static int dump_pages(struct mm_dump *d)
{
	int r = scan_pages(d);

	return r < 0 ? r : finish_pipe(d);
}

static void mm_dump_free(struct mm_dump *d)
{
	pagepipe_free(d->pipe);	/* first: its thread may still use pw */
	if (d->pw)
		pagew_abort(d->pw);
	pagescan_close(d->scan);
	vma_list_free(&d->vmas);
	mm_parent_free(&d->parent);
	hash_close(d->hash_parent);
	hash_close(d->hash_out);
}

bool mm_in_set(int dirfd, pid_t pid)
{
	char name[64];

	img_filename(IMG_MM, pid, name, sizeof(name));
	return faccessat(dirfd, name, F_OK, 0) == 0;
}

/* Whether t has a live parent or child in the tree. */
static bool has_kin(const struct pstree *tree, const struct task *t)
{
	if (t->parent && t->parent->state != TS_ZOMBIE)
		return true;
	for (unsigned i = 0; i < tree->nr_tasks; i++)
		if (tree->tasks[i]->parent == t && tree->tasks[i]->state != TS_ZOMBIE)
			return true;
	return false;
}

static int mm_dump_new(struct dump_ctx *ctx, struct task *t, unsigned long syscall_ip,
			const struct mm_incr *incr, struct mm_dump **ret)
{
	long ps = ctx->kd && ctx->kd->page_size > 0 ? ctx->kd->page_size : sysconf(_SC_PAGESIZE);
	struct mm_dump *d;

	d = calloc(1, sizeof(*d));
	if (!d)
		return ckpt_fail(ctx->err, -ENOMEM, "pid %d: out of memory", t->pid);
	d->ctx = ctx;
	d->t = t;
	d->pid = t->pid;
	d->ps = ps;
	d->syscall_ip = syscall_ip;
	d->incr = incr && incr->kind != TRACK_NONE ? incr : NULL;
	d->cow = incr ? incr->cow : NULL;
	d->has_kin = has_kin(&ctx->tree, t);
	*ret = d;
	return 0;
}

static void mm_result_of(const struct mm_dump *d, struct mm_result *ret)
{
	*ret = (struct mm_result){
		.vmas = d->vmas.nr,
		.pages_written = d->reported,
		.pages_counted = d->counted,
		.pages_zero = d->reported_zero,
		.pages_in_parent = d->in_parent,
		.pages_cow = d->cow_pages,
	};
}

int dump_task_mm(struct dump_ctx *ctx, struct task *t, unsigned long syscall_ip,
		 const struct mm_incr *incr, struct mm_result *ret)
{
	struct mm_dump *d;
	int r;

	r = mm_dump_new(ctx, t, syscall_ip, incr, &d);
	if (r < 0)
		return r;
	r = read_vmas(d);
	if (r >= 0)
		r = write_mm_image(d);
	if (r >= 0)
		r = dump_pages(d);
	if (r >= 0)
		mm_result_of(d, ret);
	mm_dump_free(d);
	free(d);
	return r;
}

int dump_task_mm_plan(struct dump_ctx *ctx, struct task *t, const struct mm_incr *incr,
		      struct mm_dump **ret)
{
	struct mm_dump *d;
	int r;

	r = mm_dump_new(ctx, t, 0, incr, &d);
	if (r < 0)
		return r;
	r = read_vmas(d);
	if (r >= 0)
		r = write_mm_image(d);
	if (r < 0) {
		dump_task_mm_free(d);
		return r;
	}
	*ret = d;
	return 0;
}

int dump_task_mm_copy(struct mm_dump *d, struct mm_result *ret)
{
	int r;

	d->running = true;
	r = dump_pages(d);
	if (r < 0)
		return r;
	mm_result_of(d, ret);
	return 0;
}

void dump_task_mm_free(struct mm_dump *d)
{
	if (!d)
		return;
	mm_dump_free(d);
	free(d);
}
