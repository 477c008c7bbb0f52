/* Lazy restore, the blob's part: the lazy VMAs are mapped and empty (the
 * engine left their page entries out); register them with a new
 * userfaultfd and hand it to ckptd's lazy server before anything can
 * touch them - the kernel itself does, on the rseq registration - then
 * close both fds: the restored process never sees either. */
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/ioctl.h>
#include <linux/uio.h>
#include <linux/userfaultfd.h>

#include "blob.h"
#include "syscall.h"

#define SOL_SOCKET	1
#define SCM_RIGHTS	1

/* struct msghdr and struct cmsghdr, x86-64 layout: uapi has neither */
struct blob_msghdr {
	void *name;
	__s32 namelen;
	__u32 pad;
	struct iovec *iov;
	__u64 iovlen;
	void *control;
	__u64 controllen;
	__s32 flags;
	__u32 pad2;
};

struct blob_cmsg_fd {
	__u64 len;
	__s32 level;
	__s32 type;
	__s32 fd;
	__u32 pad;
};

static int uffd_open(struct restore_args *a)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP |
			    UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP,
	};
	long fd = sys_userfaultfd(O_CLOEXEC | O_NONBLOCK);
	long r;

	if (fd < 0)
		return (int)blob_fail(a, RSTEP_LAZY, fd, 0, "userfaultfd()%s",
				     fd == -ENOSYS ? ": this kernel has no userfaultfd" :
				     fd == -EPERM ? ": not permitted (vm.unprivileged_userfaultfd, "
				     "CAP_SYS_PTRACE)" : "");
	r = sys_ioctl((int)fd, UFFDIO_API, &api);
	if (r < 0) {
		sys_close((int)fd);
		return (int)blob_fail(a, RSTEP_LAZY, r, 0,
				     "UFFDIO_API with fork, remap, remove and unmap events");
	}
	return (int)fd;
}

static int send_uffd(struct restore_args *a, int uffd)
{
	struct restore_lazy_hello h = {
		.magic = RESTORE_LAZY_MAGIC, .pid = a->pid, .nr_lazy = a->nr_lazy,
	};
	struct iovec iov = { .iov_base = &h, .iov_len = sizeof(h) };
	struct blob_cmsg_fd c = {
		.len = 16 + sizeof(__s32), .level = SOL_SOCKET, .type = SCM_RIGHTS, .fd = uffd,
	};
	struct blob_msghdr m = {
		.iov = &iov, .iovlen = 1, .control = &c, .controllen = sizeof(c),
	};
	long r;

	do
		r = sys_sendmsg(a->lazy_fd, &m, 0);
	while (r == -EINTR);
	if (r == (long)sizeof(h))
		return 0;
	return (int)blob_fail(a, RSTEP_LAZY, r < 0 ? r : -EPIPE, 0,
			     "sending the userfaultfd to the lazy server (fd %d)", a->lazy_fd);
}

int blob_lazy_register(struct restore_args *a)
{
	const struct restore_range *l = blob_at(a, a->lazy_off);
	int uffd, r = 0;

	if (!a->nr_lazy)
		return 0;
	uffd = uffd_open(a);
	if (uffd < 0)
		return uffd;
	for (unsigned i = 0; i < a->nr_lazy && !r; i++) {
		struct uffdio_register reg = {
			.range = { .start = l[i].start, .len = l[i].end - l[i].start },
			.mode = UFFDIO_REGISTER_MODE_MISSING,
		};
		long e = sys_ioctl(uffd, UFFDIO_REGISTER, &reg);

		if (e < 0)
			r = (int)blob_fail(a, RSTEP_LAZY, e, l[i].start,
					  "UFFDIO_REGISTER 0x%llx-0x%llx (missing)",
					  (unsigned long long)l[i].start,
					  (unsigned long long)l[i].end);
	}
	if (!r)
		r = send_uffd(a, uffd);
	sys_close(uffd);
	sys_close(a->lazy_fd);
	return r;
}
