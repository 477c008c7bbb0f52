/* Pipe and FIFO contents, read without consuming them.
 *
 * We need a read end of the pipe: the target's own when it holds one
 * (pidfd_getfd, which works whoever created the pipe), else a new one opened
 * through /proc/PID/fd/N. tee() duplicates its buffers into a pipe of our own
 * (as large as the target's, so every buffer fits in one call) without
 * taking them out, and we read our copy. The target's pipe keeps every byte,
 * and a pipe has no offset that tee() could move. */
#include "daemon/files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/dump.h"

/* Copy avail buffered bytes of rfd (a pipe of capacity size) into buf. */
static int pipe_copy(struct dump_ctx *ctx, const struct fd_parms *p, int rfd,
		     int size, uint8_t *buf, size_t avail)
{
	_cleanup_close_ int in = -EBADF, out = -EBADF;
	int fds[2], r;
	ssize_t n;

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %d: cannot create a pipe "
				 "to copy pipe data", p->pid, p->fd);
	in = fds[0];
	out = fds[1];
	if (fcntl(out, F_SETPIPE_SZ, size) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %d: cannot read pipe data: "
				 "cannot make a pipe of %d bytes (above fs.pipe-max-size?)",
				 p->pid, p->fd, size);
	n = tee(rfd, out, avail, SPLICE_F_NONBLOCK);
	if (n < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %d: cannot read pipe data",
				 p->pid, p->fd);
	if ((size_t)n != avail)
		return ckpt_fail(ctx->err, -EIO, "pid %d fd %d: cannot read pipe data: "
				 "copied %zd of %zu bytes", p->pid, p->fd, n, avail);
	r = read_full(in, buf, avail);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %d: cannot read pipe data",
				 p->pid, p->fd);
	return 0;
}

/* A read end of p's pipe, or -errno. */
static int open_reader(struct dump_ctx *ctx, const struct fd_parms *p)
{
	int fd;

	if ((p->flags & O_ACCMODE) != O_WRONLY) {
		fd = fd_take_shared(ctx, p->pid, p->fd);
		if (fd >= 0)
			return fd;
	}
	return fd_reopen(p->pid, p->fd, O_RDONLY | O_NONBLOCK);
}

int pipe_peek(struct dump_ctx *ctx, const struct fd_parms *p, uint8_t **ret_data,
	      size_t *ret_len, uint32_t *ret_size)
{
	_cleanup_close_ int rfd = -EBADF;
	_cleanup_free_ uint8_t *buf = NULL;
	int size, avail = 0, r;

	rfd = open_reader(ctx, p);
	if (rfd < 0)
		return ckpt_fail(ctx->err, rfd, "pid %d fd %d: cannot open the pipe to read "
				 "its data", p->pid, p->fd);
	size = fcntl(rfd, F_GETPIPE_SZ);
	if (size < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %d: cannot get pipe size",
				 p->pid, p->fd);
	if (ioctl(rfd, FIONREAD, &avail) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %d: cannot count pipe data",
				 p->pid, p->fd);
	if (avail > 0) {
		buf = malloc(avail);
		if (!buf)
			return ckpt_fail(ctx->err, -ENOMEM, "pid %d fd %d: %d bytes of pipe data",
					 p->pid, p->fd, avail);
		r = pipe_copy(ctx, p, rfd, size, buf, avail);
		if (r < 0)
			return r;
	}
	*ret_data = TAKE_PTR(buf);
	*ret_len = avail;
	*ret_size = size;
	return 0;
}
