/* imgcmp: compare an image set with the live process tree it was dumped
 * from (dumped with --leave-running, memory unchanged since).
 *
 *	imgcmp [-v] [--no-vmas] [--info FILE] [--expect-present [PID:]START-END]...
 *	       [--expect-absent [PID:]START-END]... DIR PID
 *
 * For every task of pstree.img (PID must be the root):
 *   - its live threads are the image's threads, and a zombie or stopped
 *     task is still one;
 *   - the VMAs of mm-PID.img are the live /proc/PID/maps, one for one
 *     (start, end, protection, the mapped file's inode; [vsyscall] aside),
 *     unless --no-vmas;
 *   - every PRESENT block of pagemap-PID.img is read from the pages file
 *     (its checksum verified) and compared byte for byte with
 *     /proc/PID/mem at its address;
 *   - no PRESENT page lies in a shared file mapping or in vdso/vvar;
 *   - no PRESENT page holds only zeros, and every ZERO page reads as
 *     zeros live: a page that reads as zeros costs no space, and comes
 *     back as zeros;
 *   - no page the image leaves out holds data: in anonymous private
 *     memory, a live page (present or swapped, says /proc/PID/pagemap) in
 *     no entry reads as zeros, as restore will give it; in a private file
 *     mapping, no anonymous copy (a page the task wrote) is in no entry;
 *   - "present" ranges (from --info lines "present PID START END" as a
 *     target notes them, or --expect-present) are stored whole: PRESENT,
 *     or ZERO where the live page is all zeros; "absent" ranges have no
 *     PRESENT page (pages never written: whatever the kernel mapped for
 *     a read, if anything, reads as zeros and so costs no space).
 * None of this depends on what a kernel maps for a read fault (nothing,
 * the shared zero page, or a zero-filled page of its own).
 * The rseq areas of the threads (core-PID.img) are left out of the byte
 * comparison: the kernel rewrites their cpu fields whenever a thread moves.
 * Exit status 0 only if everything matched; 1 on a mismatch; 2 on usage
 * or an unreadable image. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/img.h"
#include "images/pages.h"
#include "core.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pstree.pb-c.h"

struct range {
	int pid;		/* 0: any task */
	uint64_t start, end;
	bool present;		/* expect stored (else: expect not stored) */
};

struct span {
	uint64_t start, end;
	uint32_t flags;
};

/* Byte ranges the kernel changes on its own (rseq areas), per task. */
static struct span *masks;
static size_t nr_masks;

static struct range *ranges;
static size_t nr_ranges;
static bool verbose, check_vmas = true;
static unsigned long problems;

__attribute__((format(printf, 1, 2)))
static void problem(const char *fmt, ...)
{
	va_list ap;

	if (++problems > 50)
		return;
	va_start(ap, fmt);
	fputs("MISMATCH: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "imgcmp: out of memory\n");
		exit(2);
	}
	return p;
}

static void add_range(int pid, uint64_t start, uint64_t end, bool present)
{
	ranges = xrealloc(ranges, (nr_ranges + 1) * sizeof(*ranges));
	ranges[nr_ranges++] = (struct range){ pid, start, end, present };
}

static int parse_range_arg(const char *arg, bool present)
{
	unsigned long long s, e;
	int pid = 0;
	const char *colon = strchr(arg, ':');

	if (colon) {
		pid = atoi(arg);
		arg = colon + 1;
	}
	if (sscanf(arg, "%llx-%llx", &s, &e) != 2 || e <= s) {
		fprintf(stderr, "imgcmp: bad range '%s' (want [PID:]START-END in hex)\n", arg);
		return -1;
	}
	add_range(pid, s, e, present);
	return 0;
}

static int read_info(const char *path)
{
	char line[512], kind[32];
	unsigned long long s, e;
	FILE *f = fopen(path, "re");
	int pid;

	if (!f)
		return errno == ENOENT ? 0 : -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%31s %d %llx %llx", kind, &pid, &s, &e) != 4)
			continue;
		if (!strcmp(kind, "present"))
			add_range(pid, s, e, true);
		else if (!strcmp(kind, "absent"))
			add_range(pid, s, e, false);
	}
	fclose(f);
	return 0;
}

/* ---- image reading ---- */

static ProtobufCMessage **read_all(int dirfd, enum img_kind kind, unsigned id, size_t *nr)
{
	ProtobufCMessage **msgs = NULL, *m;
	struct img *img = NULL;
	size_t n = 0;
	int r;

	r = img_open(dirfd, kind, id, &img);
	if (r < 0) {
		fprintf(stderr, "imgcmp: %s: %s\n", img_errmsg(img), strerror(-r));
		img_abort(img);
		exit(2);
	}
	for (;;) {
		r = img_read_next(img, &m);
		if (r < 0) {
			fprintf(stderr, "imgcmp: %s: %s\n", img_errmsg(img), strerror(-r));
			exit(2);
		}
		if (!m)
			break;
		msgs = xrealloc(msgs, (n + 1) * sizeof(*msgs));
		msgs[n++] = m;
	}
	img_close(img);
	*nr = n;
	return msgs;
}

static void free_all(ProtobufCMessage **msgs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		protobuf_c_message_free_unpacked(msgs[i], NULL);
	free(msgs);
}

/* ---- live state ---- */

static char live_state(int pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void compare_threads(const PstreeEntry *t)
{
	static int live[65536], saved[65536];
	size_t nl = 0, ns = 0;
	struct dirent *de;
	char path[64];
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", t->pid);
	d = opendir(path);
	if (!d) {
		problem("pid %d: %s: %s", t->pid, path, strerror(errno));
		return;
	}
	while (nl < 65536 && (de = readdir(d)))
		if (de->d_name[0] != '.')
			live[nl++] = atoi(de->d_name);
	closedir(d);
	for (size_t i = 0; i < t->n_threads && ns < 65536; i++)
		saved[ns++] = t->threads[i];
	if (ns && saved[0] != t->pid)
		problem("pid %d: first thread in the image is %d, not the main thread", t->pid, saved[0]);
	qsort(live, nl, sizeof(int), cmp_int);
	qsort(saved, ns, sizeof(int), cmp_int);
	if (nl != ns || memcmp(live, saved, nl * sizeof(int)))
		problem("pid %d: image has %zu threads, the live task %zu", t->pid, ns, nl);
}

struct live_vma {
	uint64_t start, end;
	uint32_t prot;
	uint64_t ino;
	char name[256];
};

static struct live_vma *read_maps(int pid, size_t *nr)
{
	char path[64], line[4400], perms[8];
	struct live_vma *v = NULL;
	unsigned long long s, e, ino;
	size_t n = 0;
	int off = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "imgcmp: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx %7s %*s %*s %llu%n", &s, &e, perms, &ino, &off) < 4)
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n] = (struct live_vma){ s, e, 0, ino, "" };
		v[n].prot = (perms[0] == 'r' ? 1 : 0) | (perms[1] == 'w' ? 2 : 0) |
			    (perms[2] == 'x' ? 4 : 0);
		sscanf(line + off, " %255[^\n]", v[n].name);
		n++;
	}
	fclose(f);
	*nr = n;
	return v;
}

static void compare_vmas(int pid, VmaEntry **vmas, size_t nv)
{
	size_t nl, i = 0, j = 0;
	struct live_vma *live = read_maps(pid, &nl);

	while (i < nv || j < nl) {
		const VmaEntry *v = i < nv ? vmas[i] : NULL;
		const struct live_vma *l = j < nl ? &live[j] : NULL;

		if (l && !strcmp(l->name, "[vsyscall]")) {
			j++;
			continue;
		}
		if (v && v->kind == VMA_KIND__VMA_VSYSCALL) {
			i++;
			continue;
		}
		if (v && l && v->start == l->start && v->end == l->end) {
			if ((v->prot & 7) != l->prot)
				problem("pid %d: VMA %#" PRIx64 "-%#" PRIx64 ": prot %#x in the image, %#x live",
					pid, v->start, v->end, v->prot, l->prot);
			if (v->file && l->ino && v->file->ino != l->ino)
				problem("pid %d: VMA %#" PRIx64 "-%#" PRIx64 ": inode %" PRIu64
					" in the image, %" PRIu64 " live (%s)", pid, v->start, v->end,
					v->file->ino, l->ino, l->name);
			if (l->ino && !v->file && v->kind != VMA_KIND__VMA_ANON_SHARED)
				problem("pid %d: VMA %#" PRIx64 "-%#" PRIx64 " maps %s but has no file in the image",
					pid, v->start, v->end, l->name);
			i++;
			j++;
		} else if (v && (!l || v->start < l->start)) {
			problem("pid %d: VMA %#" PRIx64 "-%#" PRIx64 " in the image is not live", pid,
				v->start, v->end);
			i++;
		} else {
			problem("pid %d: live VMA %#" PRIx64 "-%#" PRIx64 " %s is not in the image", pid,
				l->start, l->end, l->name);
			j++;
		}
	}
	free(live);
}

/* ---- pages ---- */

static const VmaEntry *vma_of(VmaEntry **vmas, size_t nv, uint64_t addr)
{
	size_t lo = 0, hi = nv;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (addr < vmas[mid]->start)
			hi = mid;
		else if (addr >= vmas[mid]->end)
			lo = mid + 1;
		else
			return vmas[mid];
	}
	return NULL;
}

static bool all_zero(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* Spans of one kind (PRESENT or ZERO), merged when adjacent. */
static void add_span(struct span **s, size_t *n, uint64_t start, uint64_t end, uint32_t flags)
{
	if (*n && (*s)[*n - 1].end == start && (*s)[*n - 1].flags == flags) {
		(*s)[*n - 1].end = end;
		return;
	}
	*s = xrealloc(*s, (*n + 1) * sizeof(**s));
	(*s)[(*n)++] = (struct span){ start, end, flags };
}

struct task_stats {
	uint64_t entries, pages, zero_pages, left_out;
};

static void load_masks(int dirfd, int pid)
{
	ProtobufCMessage **core;
	size_t n;

	free(masks);
	masks = NULL;
	nr_masks = 0;
	core = read_all(dirfd, IMG_CORE, pid, &n);
	for (size_t i = 1; i < n; i++) {
		const ThreadCoreEntry *th = (const ThreadCoreEntry *)core[i];

		if (!th->rseq || !th->rseq->ptr)
			continue;
		masks = xrealloc(masks, (nr_masks + 1) * sizeof(*masks));
		masks[nr_masks++] = (struct span){ th->rseq->ptr, th->rseq->ptr + th->rseq->len, 0 };
	}
	free_all(core, n);
}

/* Copy the masked bytes of the live page over the image's copy. */
static void apply_masks(uint64_t addr, unsigned ps, unsigned char *img, const unsigned char *live)
{
	for (size_t i = 0; i < nr_masks; i++) {
		uint64_t s = masks[i].start > addr ? masks[i].start : addr;
		uint64_t e = masks[i].end < addr + ps ? masks[i].end : addr + ps;

		if (s < e)
			memcpy(img + (s - addr), live + (s - addr), e - s);
	}
}

static void compare_block(int pid, int memfd, VmaEntry **vmas, size_t nv, unsigned ps,
			  const struct page_entry *e, unsigned char *img,
			  unsigned char *live, struct task_stats *st)
{
	size_t len = (size_t)e->nr_pages * ps;
	ssize_t n = pread(memfd, live, len, e->vaddr);
	bool whole = n == (ssize_t)len;
	unsigned bad = 0;

	for (uint32_t p = 0; p < e->nr_pages; p++) {
		uint64_t addr = e->vaddr + (uint64_t)p * ps;
		const VmaEntry *v = vma_of(vmas, nv, addr);

		if (!v) {
			problem("pid %d: stored page %#" PRIx64 " lies in no VMA of the image", pid, addr);
			continue;
		}
		switch (v->kind) {
		case VMA_KIND__VMA_FILE_SHARED:
		case VMA_KIND__VMA_VDSO:
		case VMA_KIND__VMA_VVAR:
		case VMA_KIND__VMA_VVAR_VCLOCK:
		case VMA_KIND__VMA_VSYSCALL:
			problem("pid %d: page %#" PRIx64 " of a %s VMA (%#" PRIx64 "-%#" PRIx64 ") is stored",
				pid, addr, protobuf_c_enum_descriptor_get_value(&vma_kind__descriptor,
										   v->kind)->name,
				v->start, v->end);
			break;
		default:
			break;
		}
		if (!whole && pread(memfd, live + (size_t)p * ps, ps, addr) != ps) {
			problem("pid %d: cannot read live page %#" PRIx64 ": %s", pid, addr, strerror(errno));
			continue;
		}
		if (all_zero(img + (size_t)p * ps, ps))
			problem("pid %d: stored page %#" PRIx64 " holds only zeros (it should "
				"be a zero entry, which costs no space)", pid, addr);
		apply_masks(addr, ps, img + (size_t)p * ps, live + (size_t)p * ps);
		if (memcmp(img + (size_t)p * ps, live + (size_t)p * ps, ps)) {
			if (bad++ < 4) {
				size_t off = 0;

				while (img[(size_t)p * ps + off] == live[(size_t)p * ps + off])
					off++;
				problem("pid %d: page %#" PRIx64 " differs from byte %zu on (image %#x, live %#x)",
					pid, addr, off, img[(size_t)p * ps + off],
					live[(size_t)p * ps + off]);
			}
		}
	}
	if (bad > 4)
		problem("pid %d: block at %#" PRIx64 ": %u pages differ in all", pid, e->vaddr, bad);
	st->pages += e->nr_pages;
}

/* A ZERO entry must read as zeros live: restore gives it nothing else. */
static void check_zero_entry(int pid, int memfd, unsigned ps, const struct page_entry *e,
			     unsigned char *live)
{
	for (uint32_t p = 0; p < e->nr_pages;) {
		uint32_t n = e->nr_pages - p < PAGES_MAX_BLOCK_PAGES ? e->nr_pages - p :
			     PAGES_MAX_BLOCK_PAGES;
		uint64_t addr = e->vaddr + (uint64_t)p * ps;
		size_t len = (size_t)n * ps;

		if (pread(memfd, live, len, addr) != (ssize_t)len) {
			problem("pid %d: cannot read the live pages %#" PRIx64 "-%#" PRIx64
				" of a zero entry: %s", pid, addr, addr + len, strerror(errno));
			return;
		}
		for (size_t i = 0; i < len; i++)
			if (live[i]) {
				problem("pid %d: page %#" PRIx64 " is a zero entry, but byte %zu "
					"reads %#x live", pid, addr + i / ps * ps, i % ps, live[i]);
				return;
			}
		p += n;
	}
}

/* The span holding addr (spans ascending, not overlapping), or NULL. */
static const struct span *span_at(const struct span *sp, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (addr < sp[mid].start)
			hi = mid;
		else if (addr >= sp[mid].end)
			lo = mid + 1;
		else
			return &sp[mid];
	}
	return NULL;
}

#define PM_PRESENT	(1ull << 63)
#define PM_SWAPPED	(1ull << 62)
#define PM_FILE		(1ull << 61)	/* file page or shared anonymous */
#define PM_WORDS	4096u

/* One page of a VMA whose pages the dump saves, live but in no entry:
 * fine only if restore brings it back as it is. */
static void check_left_out_page(int pid, int memfd, unsigned ps, const VmaEntry *v,
				uint64_t addr, unsigned char *page, struct task_stats *st)
{
	st->left_out++;
	if (v->kind == VMA_KIND__VMA_FILE_PRIVATE) {
		problem("pid %d: page %#" PRIx64 " of the private file map %#" PRIx64 "-%#" PRIx64
			" was written (an anonymous copy) but is in no entry", pid, addr,
			v->start, v->end);
		return;
	}
	if (pread(memfd, page, ps, addr) != ps) {
		problem("pid %d: cannot read live page %#" PRIx64 ": %s", pid, addr, strerror(errno));
		return;
	}
	if (!all_zero(page, ps))
		problem("pid %d: page %#" PRIx64 " holds data live but is in no entry (restore "
			"would give zeros)", pid, addr);
}

/* Every live page of the VMAs whose pages the dump saves is in an entry,
 * or comes back right without one (see check_left_out_page). */
static void check_left_out(int pid, int memfd, unsigned ps, VmaEntry **vmas, size_t nv,
			   const struct span *sp, size_t n, struct task_stats *st)
{
	uint64_t *words = xrealloc(NULL, PM_WORDS * sizeof(*words));
	unsigned char *page = xrealloc(NULL, ps);
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		problem("pid %d: %s: %s", pid, path, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < nv; i++) {
		const VmaEntry *v = vmas[i];

		if (v->kind != VMA_KIND__VMA_ANON_PRIVATE && v->kind != VMA_KIND__VMA_STACK &&
		    v->kind != VMA_KIND__VMA_HEAP && v->kind != VMA_KIND__VMA_FILE_PRIVATE)
			continue;
		for (uint64_t a = v->start; a < v->end;) {
			size_t nw = (v->end - a) / ps < PM_WORDS ? (v->end - a) / ps : PM_WORDS;
			ssize_t got = pread(fd, words, nw * sizeof(*words), a / ps * sizeof(*words));

			if (got != (ssize_t)(nw * sizeof(*words))) {
				problem("pid %d: %s at %#" PRIx64 ": %s", pid, path, a,
					got < 0 ? strerror(errno) : "short read");
				break;
			}
			for (size_t w = 0; w < nw; w++, a += ps)
				if ((words[w] & (PM_PRESENT | PM_SWAPPED)) && !(words[w] & PM_FILE) &&
				    !span_at(sp, n, a))
					check_left_out_page(pid, memfd, ps, v, a, page, st);
		}
	}
	close(fd);
out:
	free(words);
	free(page);
}

static void check_ranges(int pid, int memfd, unsigned ps, const struct span *sp, size_t n)
{
	unsigned char *page = xrealloc(NULL, ps);

	for (size_t r = 0; r < nr_ranges; r++) {
		const struct range *rg = &ranges[r];

		if (rg->pid && rg->pid != pid)
			continue;
		if (!rg->present) {
			for (size_t i = 0; i < n; i++)
				if ((sp[i].flags & PE_PRESENT) && sp[i].start < rg->end &&
				    rg->start < sp[i].end) {
					problem("pid %d: pages %#" PRIx64 "-%#" PRIx64 " (in %#" PRIx64
						"-%#" PRIx64 ", never written) are stored", pid,
						sp[i].start > rg->start ? sp[i].start : rg->start,
						sp[i].end < rg->end ? sp[i].end : rg->end,
						rg->start, rg->end);
					break;
				}
			continue;
		}
		for (uint64_t a = rg->start; a < rg->end; a += ps) {
			const struct span *hit = NULL;

			for (size_t i = 0; i < n; i++)
				if (sp[i].start <= a && a < sp[i].end) {
					hit = &sp[i];
					break;
				}
			if (hit && (hit->flags & PE_PRESENT))
				continue;
			if (hit && (hit->flags & PE_ZERO) && pread(memfd, page, ps, a) == ps &&
			    all_zero(page, ps))
				continue;
			problem("pid %d: page %#" PRIx64 " (of %#" PRIx64 "-%#" PRIx64
				", written by the target) is not stored", pid, a, rg->start, rg->end);
			break;
		}
	}
	free(page);
}

static void compare_pages(int dirfd, int pid, VmaEntry **vmas, size_t nv)
{
	struct page_reader *r = NULL;
	struct task_stats st = { 0 };
	struct span *spans = NULL;
	size_t nspans = 0;
	unsigned char *img, *live;
	struct page_entry e;
	char path[64];
	unsigned ps;
	int memfd, rc;

	rc = pager_open(dirfd, pid, &r);
	if (rc < 0) {
		fprintf(stderr, "imgcmp: pid %d: %s: %s\n", pid, r ? pager_errmsg(r) : "pager_open",
			strerror(-rc));
		exit(2);
	}
	ps = pager_page_size(r);
	img = xrealloc(NULL, (size_t)PAGES_MAX_BLOCK_PAGES * ps);
	live = xrealloc(NULL, (size_t)PAGES_MAX_BLOCK_PAGES * ps);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	memfd = open(path, O_RDONLY | O_CLOEXEC);
	if (memfd < 0) {
		fprintf(stderr, "imgcmp: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while ((rc = pager_next(r, &e)) == 1) {
		st.entries++;
		add_span(&spans, &nspans, e.vaddr, e.vaddr + (uint64_t)e.nr_pages * ps, e.flags);
		if (!(e.flags & PE_PRESENT)) {
			if (e.flags & PE_ZERO) {
				st.zero_pages += e.nr_pages;
				check_zero_entry(pid, memfd, ps, &e, live);
			}
			continue;
		}
		if (e.nr_pages > PAGES_MAX_BLOCK_PAGES) {
			problem("pid %d: block at %#" PRIx64 " of %u pages", pid, e.vaddr, e.nr_pages);
			continue;
		}
		rc = pager_read(r, &e, img);
		if (rc < 0) {
			problem("pid %d: %s: %s", pid, pager_errmsg(r), strerror(-rc));
			break;
		}
		compare_block(pid, memfd, vmas, nv, ps, &e, img, live, &st);
	}
	if (rc < 0 && rc != -EBADMSG)
		problem("pid %d: pagemap: %s: %s", pid, pager_errmsg(r), strerror(-rc));
	check_ranges(pid, memfd, ps, spans, nspans);
	check_left_out(pid, memfd, ps, vmas, nv, spans, nspans, &st);
	printf("pid %d: %" PRIu64 " entries, %" PRIu64 " pages stored and compared, %" PRIu64
	       " zero pages, %" PRIu64 " live pages in no entry\n", pid, st.entries,
	       st.pages, st.zero_pages, st.left_out);
	close(memfd);
	free(spans);
	free(img);
	free(live);
	pager_close(r);
}

static void compare_task(int dirfd, const PstreeEntry *t)
{
	char st = live_state(t->pid);
	ProtobufCMessage **mm;
	size_t nmm;

	if (!st) {
		problem("pid %d of the image is not alive", t->pid);
		return;
	}
	if (t->state == TASK_STATE__TASK_ZOMBIE) {
		if (st != 'Z')
			problem("pid %d: a zombie in the image, state %c live", t->pid, st);
		return;
	}
	if (t->state == TASK_STATE__TASK_STOPPED && st != 'T' && st != 't')
		problem("pid %d: stopped in the image, state %c live", t->pid, st);
	if (t->state == TASK_STATE__TASK_ALIVE && (st == 'T' || st == 't' || st == 'Z'))
		problem("pid %d: alive in the image, state %c live", t->pid, st);
	compare_threads(t);

	mm = read_all(dirfd, IMG_MM, t->pid, &nmm);
	if (nmm < 1) {
		problem("pid %d: mm image holds no mm_entry", t->pid);
		return;
	}
	VmaEntry **vmas = (VmaEntry **)mm + 1;
	size_t nv = nmm - 1;

	if (((MmEntry *)mm[0])->nr_vmas != nv)
		problem("pid %d: mm_entry says %u VMAs, the image holds %zu", t->pid,
			((MmEntry *)mm[0])->nr_vmas, nv);
	for (size_t i = 1; i < nv; i++)
		if (vmas[i]->start < vmas[i - 1]->end)
			problem("pid %d: VMAs out of order at %#" PRIx64, t->pid, vmas[i]->start);
	if (check_vmas)
		compare_vmas(t->pid, vmas, nv);
	if (verbose)
		printf("pid %d: %zu VMAs\n", t->pid, nv);
	load_masks(dirfd, t->pid);
	compare_pages(dirfd, t->pid, vmas, nv);
	free_all(mm, nmm);
}

static void usage(void)
{
	fprintf(stderr, "usage: imgcmp [-v] [--no-vmas] [--info FILE] [--expect-present [PID:]START-END]...\n"
			"              [--expect-absent [PID:]START-END]... DIR PID\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "info", required_argument, NULL, 'i' },
		{ "expect-present", required_argument, NULL, 'p' },
		{ "expect-absent", required_argument, NULL, 'a' },
		{ "no-vmas", no_argument, NULL, 'N' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	ProtobufCMessage **inv, **tree;
	size_t ninv, ntree;
	int opt, dirfd, root;

	while ((opt = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (read_info(optarg) < 0) {
				fprintf(stderr, "imgcmp: %s: %s\n", optarg, strerror(errno));
				return 2;
			}
			break;
		case 'p':
		case 'a':
			if (parse_range_arg(optarg, opt == 'p') < 0)
				return 2;
			break;
		case 'N': check_vmas = false; break;
		case 'v': verbose = true; break;
		default: usage();
		}
	}
	if (argc - optind != 2)
		usage();
	root = atoi(argv[optind + 1]);
	dirfd = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		fprintf(stderr, "imgcmp: %s: %s\n", argv[optind], strerror(errno));
		return 2;
	}

	inv = read_all(dirfd, IMG_INVENTORY, 0, &ninv);
	if (ninv != 1) {
		fprintf(stderr, "imgcmp: inventory.img holds %zu records\n", ninv);
		return 2;
	}
	if (((InventoryEntry *)inv[0])->root_pid != root)
		problem("inventory.img: root pid %d, not %d", ((InventoryEntry *)inv[0])->root_pid, root);

	tree = read_all(dirfd, IMG_PSTREE, 0, &ntree);
	if (!ntree || ((PstreeEntry *)tree[0])->pid != root)
		problem("pstree.img: first task is not pid %d", root);
	if (((InventoryEntry *)inv[0])->nr_tasks != ntree)
		problem("inventory.img: %u tasks, pstree.img %zu", ((InventoryEntry *)inv[0])->nr_tasks,
			ntree);
	for (size_t i = 0; i < ntree; i++)
		compare_task(dirfd, (PstreeEntry *)tree[i]);
	free_all(inv, ninv);
	free_all(tree, ntree);

	if (problems) {
		printf("imgcmp: FAILED: %lu mismatches over %zu tasks\n", problems, ntree);
		return 1;
	}
	printf("imgcmp: OK: %zu tasks match\n", ntree);
	return 0;
}
