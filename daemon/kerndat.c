/* Probe what this kernel and CPU offer, once per daemon start.
 *
 * Every probe exercises the feature itself instead of trusting a version
 * number or a config file: soft-dirty is checked by dirtying a page and
 * reading its pagemap bit (a kernel without CONFIG_MEM_SOFT_DIRTY accepts
 * the clear_refs write and silently tracks nothing), clone3's set_tid by
 * asking for a pid that is in use, ptrace requests on a child of our own.
 * A probe that fails marks its feature absent; none of them is fatal. */
#include "daemon/kerndat.h"

#include <cpuid.h>
#include <fcntl.h>
#include <linux/elf.h>
#include <linux/netlink.h>
#include <linux/sched.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "common/compat.h"
#include "common/util.h"

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif

/* include/uapi/linux/ptrace.h (5.13); glibc's <sys/ptrace.h> clashes with
 * <linux/ptrace.h>, so the layout is spelled out here. */
struct kd_rseq_configuration {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t pad;
};

#define PM_SOFT_DIRTY_BIT 55

static bool pagemap_soft_dirty(int pagemap, void *addr, long page_size)
{
	uint64_t e = 0;

	if (pread_full(pagemap, &e, sizeof(e), (uintptr_t)addr / page_size * sizeof(e)) < 0)
		return false;
	return e & (1ull << PM_SOFT_DIRTY_BIT);
}

static int clear_soft_dirty(void)
{
	_cleanup_close_ int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return negerrno();
	return write_full(fd, "4", 1);
}

/* After clear_refs the page must read clean, and dirty again after a write. */
static bool probe_soft_dirty(long page_size)
{
	_cleanup_close_ int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	volatile char *p;
	bool clean, dirty;

	if (pagemap < 0)
		return false;
	p = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return false;
	p[0] = 1;
	if (clear_soft_dirty() < 0) {
		munmap((void *)p, page_size);
		return false;
	}
	clean = !pagemap_soft_dirty(pagemap, (void *)p, page_size);
	p[0] = 2;
	dirty = pagemap_soft_dirty(pagemap, (void *)p, page_size);
	munmap((void *)p, page_size);
	return clean && dirty;
}

static bool probe_pagemap_scan(long page_size)
{
	_cleanup_close_ int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	struct page_region region;
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.vec = (uintptr_t)&region,
		.vec_len = 1,
		.category_anyof_mask = PAGE_IS_PRESENT,
		.return_mask = PAGE_IS_PRESENT,
	};
	volatile char *p;
	long r;

	if (pagemap < 0)
		return false;
	p = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return false;
	p[0] = 1;
	arg.start = (uintptr_t)p;
	arg.end = (uintptr_t)p + page_size;
	r = ioctl(pagemap, PAGEMAP_SCAN, &arg);
	munmap((void *)p, page_size);
	return r == 1 && region.start == arg.start;
}

/* uffd: the syscall works at all; uffd_wp_async: the kernel accepts a
 * handshake asking for UFFD_FEATURE_WP_ASYNC (it refuses unknown features);
 * uffd_wp_unpopulated: a handshake asking for nothing lists it (the answer
 * is every feature the kernel has; one handshake per uffd). */
static void probe_uffd(struct kerndat *kd)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC };
	struct uffdio_api all = { .api = UFFD_API };
	_cleanup_close_ int fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	_cleanup_close_ int fd2 = -EBADF;

	kd->uffd = fd >= 0;
	if (fd < 0)
		return;
	kd->uffd_wp_async = ioctl(fd, UFFDIO_API, &api) == 0 &&
			    (api.features & UFFD_FEATURE_WP_ASYNC);
	fd2 = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	kd->uffd_wp_unpopulated = fd2 >= 0 && ioctl(fd2, UFFDIO_API, &all) == 0 &&
				  (all.features & UFFD_FEATURE_WP_UNPOPULATED);
}

/* Ask for our own pid: a kernel that honours set_tid answers EEXIST; one
 * without it EINVAL/E2BIG/ENOSYS; without the capability EPERM. No process
 * is created (if one were, it leaves at once and is reaped). */
static bool probe_clone3_set_tid(void)
{
	pid_t tid = getpid();
	struct clone_args args = {
		.exit_signal = SIGCHLD,
		.set_tid = (uintptr_t)&tid,
		.set_tid_size = 1,
	};
	long r = syscall(__NR_clone3, &args, sizeof(args));

	if (r == 0)
		_exit(0);
	if (r > 0) {
		waitpid(r, NULL, 0);
		return false;
	}
	return errno == EEXIST;
}

static bool probe_pidfd_getfd(void)
{
	_cleanup_close_ int pidfd = syscall(__NR_pidfd_open, getpid(), 0);
	_cleanup_close_ int fd = -EBADF;

	if (pidfd < 0)
		return false;
	fd = syscall(__NR_pidfd_getfd, pidfd, pidfd, 0);
	return fd >= 0;
}

/* Whether madvise(MADV_GUARD_INSTALL) works (Linux 6.13+), on a page of
 * our own. */
static bool probe_guard_regions(long page_size)
{
	void *p = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	bool ok;

	if (p == MAP_FAILED)
		return false;
	ok = madvise(p, page_size, MADV_GUARD_INSTALL) == 0;
	munmap(p, page_size);
	return ok;
}

static bool probe_process_vm_readv(void)
{
	char src[16] = "ckpt kerndat", dst[16] = "";
	struct iovec l = { dst, sizeof(dst) }, r = { src, sizeof(src) };

	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == sizeof(src) &&
	       memcmp(src, dst, sizeof(src)) == 0;
}

/* Seize a child of our own, stop it, ask for its rseq configuration and its
 * xsave area, then kill it. */
static void probe_ptrace(struct kerndat *kd)
{
	struct kd_rseq_configuration rseq;
	struct iovec iov;
	void *xsave;
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) < 0 || ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0 ||
	    waitpid(pid, &status, __WALL) != pid || !WIFSTOPPED(status))
		goto out_kill;

	kd->ptrace_rseq = ptrace(PTRACE_GET_RSEQ_CONFIGURATION, pid, sizeof(rseq), &rseq) > 0;
	xsave = calloc(1, MAX(kd->xsave_size, 4096u));
	if (xsave) {
		iov.iov_base = xsave;
		iov.iov_len = MAX(kd->xsave_size, 4096u);
		kd->ptrace_xstate = ptrace(PTRACE_GETREGSET, pid, NT_X86_XSTATE, &iov) == 0 &&
				    iov.iov_len >= 576;
		free(xsave);
	}
out_kill:
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
		;
}

/* Send one sock_diag dump request; true when the kernel answers with
 * anything but an error (an empty dump is an answer). */
static bool sock_diag_answers(int fd, const void *req, size_t len)
{
	char buf[8192];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	ssize_t n;

	if (send(fd, req, len, 0) != (ssize_t)len)
		return false;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < (ssize_t)sizeof(*h) || !NLMSG_OK(h, (size_t)n))
		return false;
	if (h->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *e = NLMSG_DATA(h);
		return e->error == 0;
	}
	return true;
}

static bool probe_sock_diag(void)
{
	struct timeval tv = { .tv_sec = 1 };
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req = {
		.h = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		},
		.r = {
			.sdiag_family = AF_UNIX,
			.udiag_states = -1,
			.udiag_show = UDIAG_SHOW_NAME,
		},
	};
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd < 0)
		return false;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return sock_diag_answers(fd, &req, sizeof(req));
}

static inline uint64_t xgetbv(uint32_t index)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
	return ((uint64_t)hi << 32) | lo;
}

/* XCR0 says which state components the OS enabled; CPUID 0xd/0 EBX is the
 * size of an xsave area holding exactly those. */
static void probe_xsave(struct kerndat *kd)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
		return;
	kd->xfeatures = xgetbv(0);
	__cpuid_count(0xd, 0, a, b, c, d);
	kd->xsave_size = b;
}

static void probe_vdso(struct kerndat *kd)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/maps", "re");
	char line[512];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;
		uint64_t *slot = NULL;

		if (sscanf(line, "%lx-%lx", &start, &end) != 2)
			continue;
		if (strstr(line, "[vdso]"))
			slot = &kd->vdso_size;
		else if (strstr(line, "[vvar]"))
			slot = &kd->vvar_size;
		else if (strstr(line, "[vvar_vclock]"))
			slot = &kd->vvar_vclock_size;
		if (slot)
			*slot += end - start;
	}
}

int kerndat_probe(struct kerndat *kd)
{
	struct utsname u;

	memset(kd, 0, sizeof(*kd));
	if (uname(&u) < 0)
		return negerrno();
	snprintf(kd->release, sizeof(kd->release), "%s", u.release);
	kd->page_size = sysconf(_SC_PAGESIZE);
	if (kd->page_size <= 0)
		return -EINVAL;

	kd->soft_dirty = probe_soft_dirty(kd->page_size);
	kd->pagemap_scan = probe_pagemap_scan(kd->page_size);
	probe_uffd(kd);
	kd->clone3_set_tid = probe_clone3_set_tid();
	kd->pidfd_getfd = probe_pidfd_getfd();
	kd->process_vm_readv = probe_process_vm_readv();
	kd->guard_regions = probe_guard_regions(kd->page_size);
	kd->sock_diag = probe_sock_diag();
	probe_xsave(kd);
	probe_ptrace(kd);
	probe_vdso(kd);
	return 0;
}
