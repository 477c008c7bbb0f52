/* The soft-dirty tracker: writing "4" to /proc/PID/clear_refs clears the
 * soft-dirty bit of every page table entry of the task (and marks its VMAs
 * clean); the kernel sets it again on each write, and for every page of a
 * VMA made since (VM_SOFTDIRTY), so a new VMA reads as written whole.
 * Bit 55 of /proc/PID/pagemap words shows it; where the PAGEMAP_SCAN ioctl
 * exists, PAGE_IS_SOFT_DIRTY asks the kernel to filter and merge instead.
 *
 * It has no live state between rounds: nothing here can tell that the
 * task exec'd since the last clear_refs (its new mm is all VM_SOFTDIRTY,
 * so every page reads as written anyway), but nothing tells either that
 * the task is the one tracked last time: the dump side checks that against
 * its parent image set (pid, start time, exe).
 *
 * Cost: reading pagemap words is 8 bytes per page of every saved VMA
 * (about 2 MB and ~25 ms per GiB); PAGEMAP_SCAN walks the page tables in
 * the kernel and returns only the written runs. Needs
 * CONFIG_MEM_SOFT_DIRTY (x86, ppc64, s390, riscv); kerndat probes it. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "common/compat.h"
#include "common/util.h"
#include "daemon/kerndat.h"
#include "daemon/track/backend.h"
#include "daemon/vma.h"

#define PM_SOFT_DIRTY	(1ull << 55)
#define WORDS		4096u	/* pagemap words read per pread: 32 KiB */

bool soft_dirty_word(uint64_t word)
{
	return word & PM_SOFT_DIRTY;
}

static int clear_refs(pid_t pid)
{
	_cleanup_close_ int fd = -EBADF;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : negerrno();
	return write_full(fd, "4", 1);
}

static int sd_arm(struct track_task *tt, struct ckpt_err *err)
{
	int r = clear_refs(tt->pid);

	if (r < 0)
		return ckpt_fail(err, r, "pid %d: cannot clear its soft-dirty bits "
				 "(/proc/%d/clear_refs)", tt->pid, tt->pid);
	return 0;
}

static int sd_open(struct track_task *tt, bool first, char *lost, size_t lostlen,
		   struct ckpt_err *err)
{
	return 0;	/* no state: the caller arms */
}

/* The soft-dirty pages of [start, end) by their pagemap words. */
static int scan_words(struct track_task *tt, uint64_t start, uint64_t end, struct run_list *out)
{
	uint64_t words[WORDS];
	long ps = tt->kd->page_size;

	for (uint64_t a = start; a < end;) {
		uint64_t n = MIN((uint64_t)WORDS, (end - a) / ps);
		int r = pread_full(tt->pagemap, words, n * sizeof(*words), a / ps * sizeof(*words));

		if (r < 0)
			return r;
		for (uint64_t i = 0; i < n; i++, a += ps)
			if (soft_dirty_word(words[i])) {
				r = run_list_add(out, a, a + ps);
				if (r < 0)
					return r;
			}
	}
	return 0;
}

/* The same through PAGEMAP_SCAN. */
static int scan_ioctl(struct track_task *tt, uint64_t start, uint64_t end, struct run_list *out)
{
	const struct pm_scan_arg how = {
		.category_mask = PAGE_IS_SOFT_DIRTY,
		.return_mask = PAGE_IS_SOFT_DIRTY,
	};

	return track_pagemap_scan(tt, &how, start, end, out);
}

static int sd_collect(struct track_task *tt, struct run_list *out, struct ckpt_err *err)
{
	struct vma_list vmas = { 0 };
	int r;

	r = track_scan_begin(tt, &vmas, err);
	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < vmas.nr; i++) {
		r = tt->kd->pagemap_scan ? scan_ioctl(tt, vmas.v[i].start, vmas.v[i].end, out)
					 : scan_words(tt, vmas.v[i].start, vmas.v[i].end, out);
		if (r < 0)
			r = ckpt_fail(err, r, "pid %d: cannot read the soft-dirty bits of "
				      "%#llx-%#llx (/proc/%d/pagemap)", tt->pid,
				      (unsigned long long)vmas.v[i].start,
				      (unsigned long long)vmas.v[i].end, tt->pid);
	}
	vma_list_free(&vmas);
	if (r < 0)
		return r;
	return sd_arm(tt, err);
}

static void sd_close(struct track_task *tt, bool keep)
{
	/* nothing kept: the bits live in the task's page tables */
}

const struct track_backend track_soft_dirty_backend = {
	.kind = TRACK_SOFT_DIRTY,
	/* bit 55 is read, then cleared for the whole mm at once: a write in
	 * between would be lost, so the task stays frozen for both */
	.scans_running = false,
	.open = sd_open,
	.collect = sd_collect,
	.arm = sd_arm,
	.close = sd_close,
};
