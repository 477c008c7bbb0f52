/* The uffd-wp tracker: asynchronous userfaultfd write protection (Linux
 * 6.7+), read and re-armed with one PAGEMAP_SCAN per VMA.
 *
 * Arming: a userfaultfd() call is injected into the frozen task (the uffd
 * must belong to the task's mm), the fd is taken with pidfd_getfd() and
 * closed again inside the task, so its fd table is as it was. The uffd
 * gets UFFD_FEATURE_WP_ASYNC (a write to a protected page is resolved by
 * the kernel itself, the task never waits or sees a signal) and
 * WP_UNPOPULATED (without it the kernel does not offer anonymous VMAs to
 * PAGEMAP_SCAN's write-protect). UFFD_USER_MODE_ONLY lets a task without
 * CAP_SYS_PTRACE make it under vm.unprivileged_userfaultfd=0; it changes
 * nothing for async write protection, which never calls out to a handler.
 * Every VMA whose pages a dump saves is registered in WP mode, and its
 * present and swapped pages write-protected. A keeper process holds the
 * uffd until the next round (keeper.c): closing the last copy would drop
 * every registration.
 *
 * A round: for each such VMA one PAGEMAP_SCAN with PM_SCAN_WP_MATCHING |
 * PM_SCAN_CHECK_WPASYNC, asking for present or swapped pages that are
 * PAGE_IS_WRITTEN: the kernel returns their runs and protects them again
 * in the same walk, TRACK_SCAN_REGIONS runs per call (a call that fills its vector
 * stops there, walk_end says where). Holes are neither reported nor
 * protected: a page that appears in one later is unprotected, so it reads
 * as written (a read fault mapping the zero page too, which the dump then
 * recognises), and no page tables are spent on empty address space.
 *
 * What moves VMAs out of tracking: a VMA made since the last round, one
 * moved by mremap (without UFFD_FEATURE_EVENT_REMAP the kernel drops the
 * registration of the moved VMA; checked on this kernel), a mapping
 * replaced by MAP_FIXED. CHECK_WPASYNC makes the scan of such a VMA fail
 * with EPERM before anything of it is touched; it is then registered and
 * protected, and reported written whole. A VMA the kernel refuses to
 * register is reported whole every round. munmap'ed memory is simply no
 * longer in the maps. A fork gives the child VMAs without registration (no
 * EVENT_FORK) and no keeper: the child reads as lost. An exec replaces the
 * mm the uffd belongs to: UFFDIO_WRITEPROTECT then answers ESRCH (and
 * UFFDIO_REGISTER ENOMEM), the attach reports it lost.
 *
 * Cost: a scan walks the page tables of the saved VMAs in the kernel, and
 * never touches the pages: measured here (tests/unit/test_track.c, 1 GiB
 * all present) 1.5-3 ms with nothing written, 8-16 ms with 1% of the pages
 * written one by one in every 2 MiB (re-protecting flushes the TLB per
 * page table); contiguous writes cost less. Each first write to a
 * protected page after a round costs the task a minor fault. */
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>

#include "common/compat.h"
#include "common/util.h"
#include "daemon/inject.h"
#include "daemon/kerndat.h"
#include "daemon/proc.h"
#include "daemon/pstree.h"
#include "daemon/track/backend.h"
#include "daemon/vma.h"

#define UFFD_FLAGS	(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY)
#define UFFD_FEATURES	(UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED)
#define UFFD_LINK	"anon_inode:[userfaultfd]"

/* A thread of pid held in a ptrace stop by us, its registers read. */
static int held_thread(pid_t pid, struct thread *ret)
{
	_cleanup_free_ pid_t *tids = NULL;
	unsigned nr = 0;
	int r;

	r = proc_read_tids(pid, &tids, &nr);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < nr; i++) {
		struct thread th = { .tid = tids[i], .seized = true };

		if (ptrace(PTRACE_GETREGS, th.tid, NULL, &th.regs) == 0) {
			*ret = th;
			return 0;
		}
	}
	return -ESRCH;
}

static int inject_simple(struct task *t, struct thread *th, long nr, unsigned long a0, long *ret)
{
	unsigned long args[6] = { a0 };

	return inject_syscall(t, th, nr, args, ret);
}

/* userfaultfd() run by pid, its fd taken into ours and closed in pid. */
static int uffd_from_target(pid_t pid, int *ret_fd, struct ckpt_err *err)
{
	struct thread th;
	struct task t = { .pid = pid, .threads = &th, .nr_threads = 1, .pidfd = -1 };
	_cleanup_close_ int pidfd = -EBADF, fd = -EBADF;
	long tfd, closed;
	int r;

	r = held_thread(pid, &th);
	if (r < 0)
		return ckpt_fail(err, r, "pid %d: no thread of it is held in a ptrace stop by ckptd", pid);
	r = inject_find_syscall(pid, 0, 0, &t.syscall_ip);
	if (r < 0)
		return ckpt_fail(err, r, "pid %d: no syscall instruction in its code to run "
				 "userfaultfd() at", pid);
	r = inject_simple(&t, &th, __NR_userfaultfd, UFFD_FLAGS, &tfd);
	if (r < 0)
		return ckpt_fail(err, r, "thread %d of pid %d: cannot inject userfaultfd()", th.tid, pid);
	if (tfd < 0)
		return ckpt_fail(err, (int)tfd, "pid %d: userfaultfd() inside it failed (a seccomp "
				 "filter?); use --track hash", pid);
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd >= 0)
		fd = syscall(SYS_pidfd_getfd, pidfd, (int)tfd, 0);
	r = fd < 0 ? negerrno() : 0;
	/* whatever happened, the task's fd table goes back as it was */
	if (inject_simple(&t, &th, __NR_close, tfd, &closed) < 0 || closed != 0)
		return ckpt_fail(err, -EIO, "pid %d: cannot close fd %ld, the userfaultfd made "
				 "inside it; the task keeps it open", pid, tfd);
	if (r < 0)
		return ckpt_fail(err, r, "pid %d: cannot take its userfaultfd (pidfd_getfd)", pid);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* Scan [start, end) of a registered VMA: written runs into out (NULL:
 * protect only), protected again. -EPERM: not registered for async WP. */
static int scan_vma(struct track_task *tt, uint64_t start, uint64_t end, struct run_list *out)
{
	const struct pm_scan_arg how = {
		.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
		.category_mask = PAGE_IS_WRITTEN,
		.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
		.return_mask = PAGE_IS_WRITTEN,
	};

	return track_pagemap_scan(tt, &how, start, end, out);
}

/* A VMA out of tracking: register and protect it if the kernel lets us,
 * and report it whole either way. */
static int adopt_vma(struct track_task *tt, uint64_t start, uint64_t end, struct run_list *out)
{
	struct uffdio_register reg = {
		.range = { .start = start, .len = end - start },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	int r;

	if (ioctl(tt->uffd, UFFDIO_REGISTER, &reg) == 0) {
		r = scan_vma(tt, start, end, NULL);
		if (r < 0 && r != -EPERM)
			return r;
	} else if (errno == ENOMEM) {
		return -ENOMEM;		/* the uffd's mm is gone, or no memory */
	}
	return out ? run_list_add(out, start, end) : 0;
}

/* Scan every saved VMA of the task; out NULL: arm only. */
static int scan_all(struct track_task *tt, struct run_list *out, struct ckpt_err *err)
{
	struct vma_list vmas = { 0 };
	int r;

	r = track_scan_begin(tt, &vmas, err);
	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < vmas.nr; i++) {
		const struct vma *v = &vmas.v[i];

		r = scan_vma(tt, v->start, v->end, out);
		if (r == -EPERM)
			r = adopt_vma(tt, v->start, v->end, out);
		if (r < 0)
			r = ckpt_fail(err, r, "pid %d: cannot scan and write-protect %#llx-%#llx "
				      "(PAGEMAP_SCAN on /proc/%d/pagemap)", tt->pid,
				      (unsigned long long)v->start, (unsigned long long)v->end,
				      tt->pid);
	}
	vma_list_free(&vmas);
	return r;
}

/* A page-sized hole in pid's address space (above its lowest VMA, so
 * above mmap_min_addr), 0 if none. */
static uint64_t find_hole(pid_t pid)
{
	_cleanup_free_ char *maps = NULL;
	unsigned long long s, e, prev_end = 0;
	char path[64], *line, *save = NULL;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	if (read_file_at(AT_FDCWD, path, &maps, NULL) < 0)
		return 0;
	for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%llx-%llx", &s, &e) != 2)
			return 0;
		if (prev_end && s > prev_end)
			return prev_end;
		prev_end = e;
	}
	return 0;
}

/* Whether the uffd still belongs to pid's address space: un-protecting a
 * hole answers ENOENT (no VMA) while its mm lives, ESRCH once the mm is
 * gone (an exec replaced it). Nothing changes either way (and had the
 * hole been mapped, un-protecting only makes pages read as written). 1
 * yes, 0 no. */
static int uffd_mm_alive(struct track_task *tt)
{
	uint64_t hole = find_hole(tt->pid);
	struct uffdio_writeprotect wp = {
		.range = { .start = hole, .len = tt->kd->page_size },
		.mode = 0,
	};

	if (!hole)
		return -EBADMSG;
	if (ioctl(tt->uffd, UFFDIO_WRITEPROTECT, &wp) == 0)
		return -EEXIST;	/* cannot be: nothing is mapped there */
	if (errno == ENOENT)
		return 1;
	if (errno == ESRCH)
		return 0;
	return negerrno();
}

static bool is_uffd(int fd)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return strcmp(link, UFFD_LINK) == 0;
}

static int uw_arm(struct track_task *tt, struct ckpt_err *err)
{
	return scan_all(tt, NULL, err);
}

static int uw_first(struct track_task *tt, struct ckpt_err *err)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURES };
	int r;

	r = keeper_stop(tt->pid);	/* a previous chain's */
	if (r < 0)
		return ckpt_fail(err, r, "pid %d: cannot stop the ckpt-keeper of its previous "
				 "tracking (%s)", tt->pid, KEEPER_DIR);
	r = uffd_from_target(tt->pid, &tt->uffd, err);
	if (r < 0)
		return r;
	if (ioctl(tt->uffd, UFFDIO_API, &api) < 0)
		return ckpt_fail(err, -EOPNOTSUPP, "pid %d: the kernel refused asynchronous "
				 "write protection (UFFD_FEATURE_WP_ASYNC|WP_UNPOPULATED) on its "
				 "userfaultfd; use --track soft-dirty or hash", tt->pid);
	r = keeper_start(tt->pid, tt->uffd, track_name(TRACK_UFFD_WP), &tt->keeper);
	if (r < 0)
		return ckpt_fail(err, r, "pid %d: cannot start a ckpt-keeper to hold its "
				 "userfaultfd between rounds (%s)", tt->pid, KEEPER_DIR);
	return 0;
}

static int uw_attach(struct track_task *tt, char *lost, size_t lostlen, struct ckpt_err *err)
{
	int r;

	r = keeper_find(tt->pid, &tt->keeper);
	if (r == 0)
		r = keeper_take_fd(&tt->keeper, &tt->uffd);
	if (r == -ENOENT) {
		snprintf(lost, lostlen, "pid %d has no uffd-wp tracking from the previous round "
			 "(a task new since then, or its ckpt-keeper exited)", tt->pid);
		return 0;
	}
	if (r == -ESRCH)
		return ckpt_fail(err, r, "pid %d exited", tt->pid);
	if (r < 0)
		return ckpt_fail(err, r, "pid %d: cannot take its userfaultfd from its ckpt-keeper "
				 "(%s)", tt->pid, KEEPER_DIR);
	if (!is_uffd(tt->uffd)) {
		snprintf(lost, lostlen, "the ckpt-keeper (pid %d) of pid %d holds no userfaultfd",
			 tt->keeper.pid, tt->pid);
		keeper_stop(tt->pid);
		return 0;
	}
	r = uffd_mm_alive(tt);
	if (r < 0)
		return ckpt_fail(err, r, "pid %d: cannot tell whether its userfaultfd still "
				 "tracks its memory", tt->pid);
	if (r == 0) {
		snprintf(lost, lostlen, "pid %d replaced its address space (exec) since the "
			 "previous round", tt->pid);
		keeper_stop(tt->pid);
	}
	return 0;
}

static int uw_open(struct track_task *tt, bool first, char *lost, size_t lostlen,
		   struct ckpt_err *err)
{
	return first ? uw_first(tt, err) : uw_attach(tt, lost, lostlen, err);
}

static int uw_collect(struct track_task *tt, struct run_list *out, struct ckpt_err *err)
{
	return scan_all(tt, out, err);
}

static void uw_close(struct track_task *tt, bool keep)
{
	if (!keep)
		keeper_stop(tt->pid);
}

const struct track_backend track_uffd_wp_backend = {
	.kind = TRACK_UFFD_WP,
	/* WP_MATCHING reads and re-protects each PTE under its page-table
	 * lock, and flushes the TLB before the ioctl returns */
	.scans_running = true,
	.open = uw_open,
	.collect = uw_collect,
	.arm = uw_arm,
	.close = uw_close,
};
