/* The address space: drop the engine's mappings, put the kernel's vdso
 * where the image had it, then every VMA with its pages, protections and
 * advice, and last the mm fields the kernel checks against the VMAs. */
#include <asm/mman.h>
#include <linux/errno.h>
#include <linux/mman.h>
#include <linux/prctl.h>
#include <linux/uio.h>
#include <stdbool.h>

#include "blob.h"
#include "syscall.h"
#include "xxh3.h"

/* Linux 6.13; the blob cannot include common/compat.h (glibc headers) */
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define RVMA_HUGE_SIZE_MASK	(0x3fu << 26)	/* MAP_HUGE_SHIFT: log2 of the page size */

/* Linux 6.11: a mapping type (MAP_TYPE bits), in place of MAP_PRIVATE */
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif

#define PAGE		((__u64)RESTORE_PAGE_SIZE)
#define TASK_SIZE_47	0x7ffffffff000ULL
#define RSEQ_UNREGISTER	1
#define SS_DISABLE	2

/* If-chains, not tables: a table of string pointers would need
 * relocations, which the blob cannot have. */
static const char *vdso_name(unsigned i)
{
	if (i == RVDSO_VVAR)
		return "[vvar]";
	if (i == RVDSO_VVAR_VCLOCK)
		return "[vvar_vclock]";
	return "[vdso]";
}

static inline __u64 page_up(__u64 x)
{
	return (x + PAGE - 1) & ~(PAGE - 1);
}

/* Signals queued for the engine's process since it was forked (a child of
 * the tree dying while the engine blocked everything, say): the image
 * lists the process's real pending signals, they are queued later. */
static void drop_engine_signals(void)
{
	struct { __s64 sec, nsec; } zero = { 0, 0 };
	__u64 all = ~0ULL;

	for (int i = 0; i < 65536; i++)
		if (sys_rt_sigtimedwait(&all, 0, &zero, sizeof(all)) <= 0)
			break;
}

/* What the engine's process left that would outlive its memory: glibc's
 * rseq registration (the kernel writes to it on every return to user
 * space), an alternate signal stack, signals meant for the engine. */
int blob_forget_engine(struct restore_args *a)
{
	struct { __u64 sp; __s32 flags; __u32 pad; __u64 size; } ss = { 0, SS_DISABLE, 0, 0 };
	long r;

	drop_engine_signals();

	if (a->self_rseq_ptr) {
		r = sys_rseq(a->self_rseq_ptr, a->self_rseq_len, RSEQ_UNREGISTER, a->self_rseq_sig);
		if (r < 0)
			return (int)blob_fail(a, RSTEP_UNMAP, r, a->self_rseq_ptr,
					     "unregistering the engine's rseq area at 0x%llx",
					     (unsigned long long)a->self_rseq_ptr);
	}
	r = blob_syscall2(__NR_sigaltstack, &ss, 0);
	if (r < 0)
		return (int)blob_fail(a, RSTEP_UNMAP, r, 0, "sigaltstack(SS_DISABLE)");
	return 0;
}

/* The engine may have mapped the whole region writable and executable:
 * code read-execute, arguments read-write from here on. */
int blob_seal_region(struct restore_args *a)
{
	long r = sys_mprotect(a->blob_start, a->blob_len, PROT_READ | PROT_EXEC);

	if (r >= 0)
		r = sys_mprotect((__u64)a, page_up(a->args_len), PROT_READ | PROT_WRITE);
	if (r < 0)
		return (int)blob_fail(a, RSTEP_UNMAP, r, a->blob_start,
				     "mprotect of the restorer's region");
	return 0;
}

/* The page of the engine's progress counter, or 0: none (or a misaligned
 * address, which an atomic add could split). */
static __u64 counter_page(const struct restore_args *a)
{
	if (!a->pages_done_addr || (a->pages_done_addr & 7))
		return 0;
	return a->pages_done_addr & ~(PAGE - 1);
}

/* Tell the engine n more pages are in place. */
static void count_pages(const struct restore_args *a, const struct restore_page *p, unsigned cnt)
{
	__u64 n = 0;

	if (!counter_page(a))
		return;
	for (unsigned i = 0; i < cnt; i++)
		n += p[i].nr_pages;
	__atomic_fetch_add((__u64 *)a->pages_done_addr, n, __ATOMIC_RELAXED);
}

/* Ranges to keep, sorted by start: blob, args, this kernel's vdso areas,
 * the progress counter's page. */
static unsigned keep_ranges(const struct restore_args *a, struct restore_range *k)
{
	unsigned n = 0;

	k[n++] = (struct restore_range){ a->blob_start, a->blob_start + a->blob_len };
	k[n++] = (struct restore_range){ (__u64)a, (__u64)a + page_up(a->args_len) };
	if (counter_page(a))
		k[n++] = (struct restore_range){ counter_page(a), counter_page(a) + PAGE };
	for (unsigned i = 0; i < RVDSO_NR; i++)
		if (a->vdso.cur[i].end > a->vdso.cur[i].start)
			k[n++] = a->vdso.cur[i];
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && k[j].start < k[j - 1].start; j--) {
			struct restore_range t = k[j];

			k[j] = k[j - 1];
			k[j - 1] = t;
		}
	return n;
}

/* munmap [from, to) but the premapped copies lying in it (restore_vma
 * .premap: outside every VMA, never overlapping each other). */
static long unmap_gap(const struct restore_args *a, __u64 from, __u64 to)
{
	const struct restore_vma *v = blob_at(a, a->vmas_off);

	while (from < to) {
		__u64 next = to, skip = to;
		long r;

		for (unsigned i = 0; i < a->nr_vmas; i++) {
			__u64 s = v[i].premap, e = s + (v[i].end - v[i].start);

			if (s && e > from && s < next) {
				next = s > from ? s : from;
				skip = e;
			}
		}
		if (next > from) {
			r = sys_munmap(from, next - from);
			if (r < 0)
				return r;
		}
		from = skip;
	}
	return 0;
}

int blob_unmap_others(struct restore_args *a)
{
	struct restore_range keep[3 + RVDSO_NR];
	__u64 top = a->task_size ? a->task_size : TASK_SIZE_47, from = 0;
	unsigned n = keep_ranges(a, keep);

	for (unsigned i = 0; i <= n; i++) {
		__u64 to = i < n ? keep[i].start : top;
		long r;

		if (to > from) {
			r = unmap_gap(a, from, to);
			if (r < 0)
				return (int)blob_fail(a, RSTEP_UNMAP, r, from, "munmap 0x%llx-0x%llx",
						     (unsigned long long)from, (unsigned long long)to);
		}
		if (i < n && keep[i].end > from)
			from = keep[i].end;
	}
	return 0;
}

static long move_area(__u64 from, __u64 len, __u64 to)
{
	long r = sys_mremap(from, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to);

	return r < 0 ? r : (r == (long)to ? 0 : -EFAULT);
}

/* Decide for one area: 0 = nothing to move, 1 = move, <0 = refuse. */
static int vdso_plan(struct restore_args *a, unsigned i)
{
	const struct restore_range *cur = &a->vdso.cur[i], *img = &a->vdso.img[i];
	__u64 clen = cur->end - cur->start, ilen = img->end - img->start;
	long r;

	if (!clen && ilen)
		return (int)blob_fail(a, RSTEP_VDSO, -EOPNOTSUPP, img->start,
				     "the image has %s at 0x%llx, this kernel maps none",
				     vdso_name(i), (unsigned long long)img->start);
	if (clen && !ilen) {
		/* The restored code will call this kernel's vdso, which needs
		 * all of its areas: only a process without any vdso (booted
		 * with vdso=0) does without them. */
		if (a->vdso.img[RVDSO_VDSO].end > a->vdso.img[RVDSO_VDSO].start)
			return (int)blob_fail(a, RSTEP_VDSO, -EOPNOTSUPP, cur->start,
					     "this kernel's vdso needs %s, the image has none",
					     vdso_name(i));
		r = sys_munmap(cur->start, clen);
		return r < 0 ? (int)blob_fail(a, RSTEP_VDSO, r, cur->start, "munmap %s",
					     vdso_name(i)) : 0;
	}
	if (clen != ilen)
		return (int)blob_fail(a, RSTEP_VDSO, -EOPNOTSUPP, img->start,
				     "%s is %llu bytes on this kernel, %llu in the image",
				     vdso_name(i), (unsigned long long)clen, (unsigned long long)ilen);
	return clen && cur->start != img->start;
}

/* Move every area into the park first, then to its image address: the
 * park touches no image VMA, so no move can land on an area not yet
 * moved. */
/* The vdso's code finds its data pages at fixed offsets from itself: the
 * image's areas must sit relative to each other as this kernel's do. */
static int vdso_layout_same(struct restore_args *a)
{
	const struct restore_range *cur = a->vdso.cur, *img = a->vdso.img;

	for (unsigned i = 0; i < RVDSO_NR; i++) {
		if (i == RVDSO_VDSO || cur[i].end == cur[i].start || img[i].end == img[i].start ||
		    !img[RVDSO_VDSO].start || !cur[RVDSO_VDSO].start)
			continue;
		if (cur[i].start - cur[RVDSO_VDSO].start != img[i].start - img[RVDSO_VDSO].start)
			return (int)blob_fail(a, RSTEP_VDSO, -EOPNOTSUPP, img[i].start,
					     "%s sits at a different offset from [vdso] in the image",
					     vdso_name(i));
	}
	return 0;
}

int blob_move_vdso(struct restore_args *a)
{
	__u64 park = (__u64)blob_at(a, a->vdso.park_off), used = 0, parked[RVDSO_NR] = { 0 };
	long r = vdso_layout_same(a);

	if (r)
		return (int)r;

	for (unsigned i = 0; i < RVDSO_NR; i++) {
		__u64 len = a->vdso.cur[i].end - a->vdso.cur[i].start;

		r = vdso_plan(a, i);
		if (r <= 0) {
			if (r < 0)
				return (int)r;
			continue;
		}
		if (used + len > a->vdso.park_len)
			return (int)blob_fail(a, RSTEP_VDSO, -ENOSPC, 0,
					     "vdso park of %llu bytes too small",
					     (unsigned long long)a->vdso.park_len);
		r = move_area(a->vdso.cur[i].start, len, park + used);
		if (r < 0)
			return (int)blob_fail(a, RSTEP_VDSO, r, a->vdso.cur[i].start,
					     "mremap %s to the park", vdso_name(i));
		parked[i] = park + used;
		used += len;
	}
	for (unsigned i = 0; i < RVDSO_NR; i++) {
		const struct restore_range *img = &a->vdso.img[i];

		if (!parked[i])
			continue;
		r = move_area(parked[i], img->end - img->start, img->start);
		if (r < 0)
			return (int)blob_fail(a, RSTEP_VDSO, r, img->start, "mremap %s to 0x%llx",
					     vdso_name(i), (unsigned long long)img->start);
	}
	return 0;
}

static const char *kind_name(__u32 kind)
{
	if (kind == RVMA_ANON_PRIVATE)
		return "anon private";
	if (kind == RVMA_ANON_SHARED)
		return "anon shared";
	if (kind == RVMA_FILE_PRIVATE)
		return "file private";
	if (kind == RVMA_FILE_SHARED)
		return "file shared";
	if (kind == RVMA_STACK)
		return "stack";
	if (kind == RVMA_HEAP)
		return "heap";
	return "unknown kind";
}

static bool is_private(__u32 kind)
{
	return kind != RVMA_ANON_SHARED && kind != RVMA_FILE_SHARED;
}

/* mmap one VMA; writable while it has pages to receive. */
static int map_vma(struct restore_args *a, const struct restore_vma *v, bool has_pages)
{
	int prot = (int)v->prot | (has_pages ? PROT_READ | PROT_WRITE : 0);
	int flags = MAP_FIXED | (int)(v->flags & (MAP_GROWSDOWN | MAP_NORESERVE));
	int fd = -1;
	__u64 off = 0;
	long r;

	switch (v->kind) {
	case RVMA_ANON_PRIVATE:
	case RVMA_STACK:
	case RVMA_HEAP:
		flags |= (v->flags & MAP_DROPPABLE ? MAP_DROPPABLE : MAP_PRIVATE) | MAP_ANONYMOUS;
		/* hugetlb: MAP_HUGETLB and the page size as dumped */
		flags |= (int)(v->flags & (MAP_HUGETLB | RVMA_HUGE_SIZE_MASK));
		break;
	case RVMA_FILE_PRIVATE:
	case RVMA_ANON_SHARED:
	case RVMA_FILE_SHARED:
		flags |= is_private(v->kind) ? MAP_PRIVATE : MAP_SHARED;
		fd = v->fd;
		off = v->pgoff;
		if (fd < 0)
			return (int)blob_fail(a, RSTEP_VMAS, -EBADF, v->start,
					     "vma 0x%llx-0x%llx (%s) has no fd",
					     (unsigned long long)v->start, (unsigned long long)v->end,
					     kind_name(v->kind));
		break;
	default:
		return (int)blob_fail(a, RSTEP_VMAS, -EINVAL, v->start, "vma 0x%llx: kind %u",
				     (unsigned long long)v->start, v->kind);
	}
	r = sys_mmap(v->start, v->end - v->start, prot, flags, fd, off);
	if (r >= 0 && (__u64)r != v->start)
		r = -EFAULT;
	if (r < 0)
		return (int)blob_fail(a, RSTEP_VMAS, r, v->start,
				     "mmap 0x%llx-0x%llx (%s%s, fd %d, off 0x%llx)",
				     (unsigned long long)v->start, (unsigned long long)v->end,
				     kind_name(v->kind),
				     v->flags & MAP_DROPPABLE ? ", MAP_DROPPABLE: Linux 6.11+" :
				     v->flags & MAP_HUGETLB ? ", hugetlb: too few free huge pages?" : "",
				     fd, (unsigned long long)off);
	return 0;
}

static __u64 block_len(const struct restore_page *p)
{
	return (__u64)p->nr_pages * PAGE;
}

/* Check a block's bytes, read into place or into the bounce buffer,
 * against its checksum. */
static int verify_block(struct restore_args *a, const struct restore_page *p, const void *bytes)
{
	__u64 h = blob_xxh3(bytes, block_len(p));

	if (h == p->xxh3)
		return 0;
	return (int)blob_fail(a, RSTEP_PAGES, -EBADMSG, p->vaddr,
			     "pages fd %d offset 0x%llx: checksum mismatch for 0x%llx (%u pages)",
			     p->fd, (unsigned long long)p->off, (unsigned long long)p->vaddr,
			     p->nr_pages);
}

#define READ_BATCH 64

/* The bounce buffer: data blocks are preadv()ed into it, checked while
 * they are in the cache, and copied into place with one user-space copy.
 * Read straight into place, each page was first written by the kernel
 * through the process's mapping, then read by the checksum from user
 * space: in a VM of this project's kind each of the two first accesses
 * costs about 2 s per GiB (the development machines, see tests/bench/
 * criu.sh), and the bytes come from memory twice. Through the buffer
 * only the copy touches the page, and no unchecked byte ever lands in the
 * process. Two largest blocks (512 pages each) in size; len 0: none, the
 * blocks are read in place. */
#define BOUNCE_LEN	(2 * 512 * PAGE)

struct bounce {
	__u64 addr, len;
};

/* Map the buffer in a gap between the image's VMAs (none is mapped yet),
 * a page away from each so that it merges with none; MAP_FIXED_NOREPLACE
 * steps around what is there already (blob, arguments, vdso). Best
 * effort: without a buffer the blocks are read into place. */
static struct bounce bounce_map(const struct restore_args *a)
{
	const struct restore_vma *v = blob_at(a, a->vmas_off);
	__u64 top = a->task_size ? a->task_size : TASK_SIZE_47;

	for (unsigned i = 0; a->nr_pages && i < a->nr_vmas; i++) {
		__u64 at = v[i].end + PAGE, next = i + 1 < a->nr_vmas ? v[i + 1].start : top;
		long r;

		if (at > next || next - at < BOUNCE_LEN + PAGE)
			continue;
		r = sys_mmap(at, BOUNCE_LEN, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (r >= 0 && (__u64)r == at)
			return (struct bounce){ at, BOUNCE_LEN };
		if (r >= 0)	/* a kernel before 4.17 took the address as a hint */
			sys_munmap((__u64)r, BOUNCE_LEN);
	}
	return (struct bounce){ 0, 0 };
}

static void bounce_unmap(const struct bounce *b)
{
	if (b->len)
		sys_munmap(b->addr, b->len);
}

/* The data blocks from p[0] that follow each other in one pages file,
 * at most READ_BATCH and max bytes; their length in *len. */
static unsigned batch_blocks(const struct restore_page *p, unsigned n, __u64 max, __u64 *len)
{
	unsigned cnt = 0;

	*len = 0;
	while (cnt < n && cnt < READ_BATCH && (p[cnt].flags & RPAGE_DATA) && p[cnt].fd == p[0].fd &&
	       p[cnt].off == p[0].off + *len && *len + block_len(&p[cnt]) <= max)
		*len += block_len(&p[cnt++]);
	return cnt;
}

/* preadv the left bytes of the blocks from p[0] into iov[0..cnt). */
static int read_full(struct restore_args *a, const struct restore_page *p, struct iovec *iov,
		     unsigned cnt, __u64 left)
{
	unsigned first = 0;
	__u64 off = p[0].off;

	while (left) {
		long r = sys_preadv(p[0].fd, &iov[first], (int)(cnt - first), off);

		if (r == -EINTR)
			continue;
		if (r <= 0)
			return (int)blob_fail(a, RSTEP_PAGES, r ? r : -EIO, p[0].vaddr,
					     "preadv pages fd %d at offset 0x%llx (blocks from 0x%llx "
					     "at offset 0x%llx)%s",
					     p[0].fd, (unsigned long long)off,
					     (unsigned long long)p[0].vaddr,
					     (unsigned long long)p[0].off,
					     r ? "" : ": file too short");
		off += (__u64)r;
		left -= (__u64)r;
		while (first < cnt && (__u64)r >= iov[first].iov_len)
			r -= (long)iov[first++].iov_len;
		if (first < cnt) {
			iov[first].iov_base = (char *)iov[first].iov_base + r;
			iov[first].iov_len -= (__u64)r;
		}
	}
	return 0;
}

/* fault each block in with one call rather than page by page inside the
 * copy: several times cheaper where a fault is dear (a VM); best effort
 * (kernels before 5.14 answer -EINVAL) */
static void populate(const struct restore_page *p)
{
	sys_madvise((unsigned long)p->vaddr, block_len(p), MADV_POPULATE_WRITE);
}

/* preadv up to READ_BATCH data blocks that follow each other in one
 * pages file straight into place; returns how many entries it took. */
static int read_in_place(struct restore_args *a, const struct restore_page *p, unsigned n)
{
	struct iovec iov[READ_BATCH];
	__u64 left;
	unsigned cnt = batch_blocks(p, n, ~0ULL, &left);
	int r;

	for (unsigned i = 0; i < cnt; i++) {
		iov[i].iov_base = (void *)p[i].vaddr;
		iov[i].iov_len = block_len(&p[i]);
		populate(&p[i]);
	}
	r = read_full(a, p, iov, cnt, left);
	for (unsigned i = 0; !r && i < cnt; i++)
		r = verify_block(a, &p[i], (const void *)p[i].vaddr);
	return r ? r : (int)cnt;
}

/* The same through the bounce buffer: the blocks that fill it, read with
 * one call, each checked and then copied into place. */
static int read_bounced(struct restore_args *a, const struct restore_page *p, unsigned n,
			const struct bounce *b)
{
	__u64 len, at = 0;
	unsigned cnt = batch_blocks(p, n, b->len, &len);
	struct iovec iov = { (void *)b->addr, len };
	int r;

	if (!cnt)	/* a block larger than the buffer */
		return read_in_place(a, p, n);
	r = read_full(a, p, &iov, 1, len);
	for (unsigned i = 0; !r && i < cnt; i++) {
		const void *bytes = (const void *)(b->addr + at);

		r = verify_block(a, &p[i], bytes);
		if (!r) {
			populate(&p[i]);
			blob_memcpy((void *)p[i].vaddr, bytes, block_len(&p[i]));
			at += block_len(&p[i]);
		}
	}
	return r ? r : (int)cnt;
}

/* Fill one private VMA from its page entries p[0..n). */
static int fill_vma(struct restore_args *a, const struct restore_vma *v,
		    const struct restore_page *p, unsigned n, const struct bounce *b)
{
	for (unsigned i = 0; i < n;) {
		int r;

		if (p[i].flags & RPAGE_DATA) {
			r = b->len ? read_bounced(a, &p[i], n - i, b) : read_in_place(a, &p[i], n - i);
			if (r < 0)
				return r;
			count_pages(a, &p[i], (unsigned)r);
			i += (unsigned)r;
			continue;
		}
		if (!(p[i].flags & RPAGE_ZERO))
			return (int)blob_fail(a, RSTEP_PAGES, -EINVAL, p[i].vaddr,
					     "page entry 0x%llx: flags 0x%x",
					     (unsigned long long)p[i].vaddr, p[i].flags);
		if (v->kind == RVMA_FILE_PRIVATE)	/* anon memory is zero already */
			blob_memset((void *)p[i].vaddr, 0, block_len(&p[i]));
		i++;
	}
	return 0;
}

/* An mlock()ed VMA (VmFlags "lo") is locked again once its pages are in
 * place, which also makes the rest of it resident as mlock() did. The
 * engine set the process's RLIMIT_MEMLOCK already; the blob still runs
 * with the engine's capabilities, so CAP_IPC_LOCK lifts that limit. */
static int lock_vma(struct restore_args *a, const struct restore_vma *v)
{
	long r;

	if (!(v->flags & MAP_LOCKED))
		return 0;
	r = sys_mlock(v->start, v->end - v->start);
	if (r < 0)
		return (int)blob_fail(a, RSTEP_PROTECT, r, v->start,
				     "mlock 0x%llx-0x%llx (%llu KiB; RLIMIT_MEMLOCK too low "
				     "without CAP_IPC_LOCK?)",
				     (unsigned long long)v->start, (unsigned long long)v->end,
				     (unsigned long long)((v->end - v->start) >> 10));
	return 0;
}

/* Install the guard regions of v (the next ones of the sorted array, from
 * *next) once its pages are in place: the kernel zaps what lies under them. */
static int install_guards(struct restore_args *a, const struct restore_vma *v, unsigned *next)
{
	const struct restore_range *g = blob_at(a, a->guards_off);
	unsigned i = *next;

	for (; i < a->nr_guards && g[i].start < v->end; i++) {
		long r;

		if (g[i].start < v->start || g[i].end > v->end || g[i].end <= g[i].start ||
		    ((g[i].start | g[i].end) & (PAGE - 1)))
			return (int)blob_fail(a, RSTEP_PROTECT, -EINVAL, g[i].start,
					     "guard region 0x%llx-0x%llx is not inside vma 0x%llx-0x%llx",
					     (unsigned long long)g[i].start, (unsigned long long)g[i].end,
					     (unsigned long long)v->start, (unsigned long long)v->end);
		r = sys_madvise(g[i].start, g[i].end - g[i].start, MADV_GUARD_INSTALL);
		if (r < 0)
			return (int)blob_fail(a, RSTEP_PROTECT, r, g[i].start,
					     "madvise(MADV_GUARD_INSTALL) 0x%llx-0x%llx in vma "
					     "0x%llx-0x%llx (%s)%s",
					     (unsigned long long)g[i].start, (unsigned long long)g[i].end,
					     (unsigned long long)v->start, (unsigned long long)v->end,
					     kind_name(v->kind), r == -EINVAL ?
					     ": no guard regions in this kernel (Linux 6.13+)?" : "");
	}
	*next = i;
	return 0;
}

/* Final protection, advice and lock. */
static int finish_vma(struct restore_args *a, const struct restore_vma *v, bool has_pages)
{
	__u64 len = v->end - v->start;
	long r;

	if (has_pages && (v->prot & (PROT_READ | PROT_WRITE)) != (PROT_READ | PROT_WRITE)) {
		r = sys_mprotect(v->start, len, (int)v->prot);
		if (r < 0)
			return (int)blob_fail(a, RSTEP_PROTECT, r, v->start,
					     "mprotect 0x%llx-0x%llx to 0x%x",
					     (unsigned long long)v->start,
					     (unsigned long long)v->end, v->prot);
	}
	for (int adv = 0; adv < 64; adv++) {
		if (!(v->madv & (1ULL << adv)))
			continue;
		r = sys_madvise(v->start, len, adv);
		if (r < 0)
			return (int)blob_fail(a, RSTEP_PROTECT, r, v->start,
					     "madvise 0x%llx-0x%llx, advice %d",
					     (unsigned long long)v->start,
					     (unsigned long long)v->end, adv);
	}
	return lock_vma(a, v);
}

/* The page entries inside v, starting at *next; fails on an entry below
 * v (outside every VMA) or crossing its end. */
static int vma_pages(struct restore_args *a, const struct restore_vma *v, unsigned *next,
		     unsigned *ret_n)
{
	const struct restore_page *p = blob_at(a, a->pages_off);
	unsigned i = *next;

	for (; i < a->nr_pages && p[i].vaddr < v->end; i++) {
		if (p[i].vaddr < v->start || p[i].vaddr + block_len(&p[i]) > v->end)
			return (int)blob_fail(a, RSTEP_PAGES, -EINVAL, p[i].vaddr,
					     "page block 0x%llx (%u pages) is not inside one VMA",
					     (unsigned long long)p[i].vaddr, p[i].nr_pages);
	}
	*ret_n = i - *next;
	if (*ret_n && !is_private(v->kind))
		return (int)blob_fail(a, RSTEP_PAGES, -EINVAL, v->start,
				     "page entries for shared vma 0x%llx-0x%llx: the engine fills shared objects",
				     (unsigned long long)v->start, (unsigned long long)v->end);
	return 0;
}

/* Move the filled copy of v (restore_vma.premap) into place: its pages
 * stay the frames the parent and children share. */
static int move_premap(struct restore_args *a, const struct restore_vma *v, unsigned n)
{
	long r = -EINVAL;

	if (!n && is_private(v->kind) && v->kind != RVMA_FILE_PRIVATE)
		r = move_area(v->premap, v->end - v->start, v->start);
	if (r < 0)
		return (int)blob_fail(a, RSTEP_VMAS, r, v->start,
				     "mremap the shared copy at 0x%llx to 0x%llx-0x%llx (%s, %u "
				     "page entries)", (unsigned long long)v->premap,
				     (unsigned long long)v->start, (unsigned long long)v->end,
				     kind_name(v->kind), n);
	return 0;
}

static int restore_vmas(struct restore_args *a, const struct bounce *b)
{
	const struct restore_vma *vmas = blob_at(a, a->vmas_off);
	const struct restore_page *pages = blob_at(a, a->pages_off);
	const struct restore_range *guards = blob_at(a, a->guards_off);
	unsigned next = 0, next_guard = 0;

	for (unsigned i = 0; i < a->nr_vmas; i++) {
		const struct restore_vma *v = &vmas[i];
		unsigned n;
		int r;

		r = vma_pages(a, v, &next, &n);
		if (!r)
			r = v->premap ? move_premap(a, v, n) : map_vma(a, v, n > 0);
		if (!r)
			r = fill_vma(a, v, &pages[next], n, b);
		if (!r)
			r = install_guards(a, v, &next_guard);
		if (!r)	/* a copy is mapped read-write, as for pages */
			r = finish_vma(a, v, n > 0 || v->premap);
		if (r)
			return r;
		next += n;
	}
	if (next < a->nr_pages)
		return (int)blob_fail(a, RSTEP_PAGES, -EINVAL, pages[next].vaddr,
				     "page block 0x%llx lies outside every VMA",
				     (unsigned long long)pages[next].vaddr);
	if (next_guard < a->nr_guards)
		return (int)blob_fail(a, RSTEP_PROTECT, -EINVAL, guards[next_guard].start,
				     "guard region 0x%llx-0x%llx lies outside every VMA",
				     (unsigned long long)guards[next_guard].start,
				     (unsigned long long)guards[next_guard].end);
	return 0;
}

int blob_restore_vmas(struct restore_args *a)
{
	struct bounce b = bounce_map(a);
	int r = restore_vmas(a, &b);

	bounce_unmap(&b);
	/* the counter's page goes before anything of the process's own could
	 * be mapped over it */
	if (counter_page(a))
		sys_munmap(counter_page(a), PAGE);
	return r;
}

int blob_set_mm(struct restore_args *a)
{
	const struct restore_mm *m = &a->mm;
	struct prctl_mm_map map = {
		.start_code = m->start_code, .end_code = m->end_code,
		.start_data = m->start_data, .end_data = m->end_data,
		.start_brk = m->start_brk, .brk = m->brk,
		.start_stack = m->start_stack,
		.arg_start = m->arg_start, .arg_end = m->arg_end,
		.env_start = m->env_start, .env_end = m->env_end,
		.auxv = m->auxv_size ? (__u64 *)blob_at(a, m->auxv_off) : 0,
		.auxv_size = m->auxv_size,
		.exe_fd = m->exe_fd < 0 ? (__u32)-1 : (__u32)m->exe_fd,
	};
	long r = sys_prctl(PR_SET_MM, PR_SET_MM_MAP, (unsigned long)&map, sizeof(map), 0);

	if (r < 0)
		return (int)blob_fail(a, RSTEP_MM, r, m->start_brk,
				     "prctl(PR_SET_MM_MAP): code 0x%llx-0x%llx data 0x%llx-0x%llx "
				     "brk 0x%llx-0x%llx stack 0x%llx exe fd %d",
				     (unsigned long long)m->start_code, (unsigned long long)m->end_code,
				     (unsigned long long)m->start_data, (unsigned long long)m->end_data,
				     (unsigned long long)m->start_brk, (unsigned long long)m->brk,
				     (unsigned long long)m->start_stack, m->exe_fd);
	return 0;
}

/* The engine's helper fds (VMA objects, pages files, exe) have served:
 * the restored process must not inherit them. */
void blob_close_helper_fds(struct restore_args *a)
{
	const __s32 *fds = blob_at(a, a->close_fds_off);

	for (unsigned i = 0; i < a->nr_close_fds; i++)
		sys_close(fds[i]);
}
