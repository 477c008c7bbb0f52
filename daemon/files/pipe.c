/* Pipes and FIFOs, both halves.
 *
 * Dump: the bytes buffered in the pipe, read without consuming them. We
 * need a read end of the pipe: the target's own when it holds one
 * (pidfd_getfd, which works whoever created the pipe), else a new one
 * opened through /proc/PID/fd/N. tee() duplicates its buffers into a pipe
 * of our own (as large as the target's, so every buffer fits in one call)
 * without taking them out, and we read our copy. The target's pipe keeps
 * every byte, and a pipe has no offset that tee() could move.
 *
 * Restore: one pipe2() per pipe inode, both ends taken from it, the saved
 * bytes written back once; a FIFO is opened by path, kept open O_RDWR
 * meanwhile so neither end blocks. */
#include "daemon/files/kinds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/dump.h"
#include "daemon/restore-creds.h"
#include "daemon/restore-int.h"

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

static bool pipe_match(const struct fd_parms *p)
{
	return S_ISFIFO(p->st.st_mode) && fd_str_starts(p->link, "pipe:[");
}

static bool fifo_match(const struct fd_parms *p)
{
	return S_ISFIFO(p->st.st_mode);
}

static int pipe_describe(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e)
{
	e->has_pipe_ino = true;
	e->pipe_ino = p->st.st_ino;
	return 0;
}

static int fifo_describe(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e)
{
	e->has_pipe_ino = true;
	e->pipe_ino = p->st.st_ino;
	if (fd_strip_deleted(p->link, &p->st))
		e->has_deleted = e->deleted = true;
	return fd_set_identity(e, &p->st, p->link);
}

/* --- restore --------------------------------------------------------------- */

struct pipe_slot {
	uint64_t ino;
	int fds[2];
	bool used[2];
	bool filled;
};

static int pipe_end(const FileDescEntry *fe)
{
	return (fe->flags & O_ACCMODE) == O_RDONLY ? 0 : 1;
}

/* The pipe of fe's inode, made on first use. */
static int pipe_slot_get(struct rst_ctx *ctx, FileDescEntry *fe, struct fd_open_state *st,
			 struct pipe_slot **ret)
{
	struct pipe_slot *p = NULL, *ns;

	for (unsigned i = 0; i < st->nr_pipes; i++)
		if (st->pipes[i].ino == fe->pipe_ino)
			p = &st->pipes[i];
	if (p) {
		*ret = p;
		return 0;
	}
	ns = realloc(st->pipes, (st->nr_pipes + 1) * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	st->pipes = ns;
	p = &ns[st->nr_pipes++];
	memset(p, 0, sizeof(*p));
	p->ino = fe->pipe_ino;
	if (pipe2(p->fds, O_CLOEXEC) < 0) {
		p->fds[0] = p->fds[1] = -1;
		return ckpt_fail(ctx->err, negerrno(), "pipe %u: cannot create a pipe", fe->id);
	}
	*ret = p;
	return 0;
}

/* Size the pipe and put back its saved bytes, once per pipe. */
static int pipe_fill(struct rst_ctx *ctx, FileDescEntry *fe, struct pipe_slot *p)
{
	if (fe->has_pipe_size && fe->pipe_size)
		fcntl(p->fds[1], F_SETPIPE_SZ, (int)fe->pipe_size);
	if (!fe->has_pipe_data || !fe->pipe_data.len || p->filled)
		return 0;
	p->filled = true;
	if (fe->pipe_data.len > 65536)
		fcntl(p->fds[1], F_SETPIPE_SZ, (int)fe->pipe_data.len);
	fcntl(p->fds[1], F_SETFL, O_NONBLOCK);
	if (write_full(p->fds[1], fe->pipe_data.data, fe->pipe_data.len) < 0)
		return ckpt_fail(ctx->err, negerrno(),
				 "pipe %u: cannot put back its %zu buffered bytes", fe->id,
				 fe->pipe_data.len);
	fcntl(p->fds[1], F_SETFL, 0);
	return 0;
}

static int pipe_open(struct rst_ctx *ctx, FileDescEntry *fe, struct fd_open_state *st)
{
	struct pipe_slot *p = NULL;
	int end = pipe_end(fe);
	int fd, r;

	r = pipe_slot_get(ctx, fe, st, &p);
	if (r == 0)
		r = pipe_fill(ctx, fe, p);
	if (r < 0)
		return r;
	if (!p->used[end]) {
		p->used[end] = true;
		fd = fcntl(p->fds[end], F_DUPFD_CLOEXEC, 0);
	} else {
		fd = fd_reopen_self(p->fds[end], end ? O_WRONLY : O_RDONLY);
	}
	if (fd < 0)
		return ckpt_fail(ctx->err, fd < -1 ? fd : negerrno(), "pipe %u: cannot open", fe->id);
	if (fcntl(fd, F_SETFL, fe->flags & (O_NONBLOCK | O_DIRECT)) < 0) {
		close(fd);
		return ckpt_fail(ctx->err, negerrno(), "pipe %u: cannot set its flags", fe->id);
	}
	return fd;
}

void fd_open_state_release(struct fd_open_state *st)
{
	for (unsigned i = 0; i < st->nr_pipes; i++) {
		if (st->pipes[i].fds[0] >= 0)
			close(st->pipes[i].fds[0]);
		if (st->pipes[i].fds[1] >= 0)
			close(st->pipes[i].fds[1]);
	}
	free(st->pipes);
	st->pipes = NULL;
	st->nr_pipes = 0;
}

static int pipe_check(struct rst_ctx *ctx, const FileDescEntry *fe)
{
	if (!fe->has_pipe_ino)
		return ckpt_fail(ctx->err, -EBADMSG, "files.img: pipe %u has no pipe inode", fe->id);
	return 0;
}

static int cmp_pipe_desc(const void *a, const void *b)
{
	const FileDescEntry *x = *(FileDescEntry *const *)a, *y = *(FileDescEntry *const *)b;

	if (x->pipe_ino != y->pipe_ino)
		return x->pipe_ino < y->pipe_ino ? -1 : 1;
	return pipe_end(x) - pipe_end(y);
}

/* The first fd of the tree that holds description id, for a message. */
static void desc_holder(struct rst_ctx *ctx, uint32_t id, int *ret_pid, int *ret_fd)
{
	*ret_pid = *ret_fd = -1;
	for (unsigned i = 0; i < ctx->nr_tasks; i++)
		for (unsigned j = 0; j < ctx->tasks[i].nr_fds; j++)
			if (ctx->tasks[i].fds[j]->desc_id == id) {
				*ret_pid = ctx->tasks[i].pe->pid;
				*ret_fd = ctx->tasks[i].fds[j]->fd;
				return;
			}
}

/* A pipe comes back whole only when the image holds both its ends. The end
 * a process outside the tree held is gone after a restore: a writer would
 * die of SIGPIPE at its next write, a reader would read end-of-file once
 * the saved bytes are used up. Sorted by inode: O(n log n) in pipes. */
int rst_check_pipes(struct rst_ctx *ctx)
{
	_cleanup_free_ FileDescEntry **v = calloc(ctx->nr_descs + 1, sizeof(*v));
	unsigned n = 0;
	int pid, fd;

	if (!v)
		return -ENOMEM;
	for (unsigned i = 0; i < ctx->nr_descs; i++)
		if (ctx->descs[i].fe->type == FD_TYPE__FD_PIPE)
			v[n++] = ctx->descs[i].fe;
	qsort(v, n, sizeof(*v), cmp_pipe_desc);
	for (unsigned i = 0; i < n;) {
		unsigned j = i;
		bool ends[2] = { false, false };

		for (; j < n && v[j]->pipe_ino == v[i]->pipe_ino; j++)
			ends[pipe_end(v[j])] = true;
		if (!ends[0] || !ends[1]) {
			desc_holder(ctx, v[i]->id, &pid, &fd);
			return ckpt_fail(ctx->err, -EOPNOTSUPP,
					 "pid %d fd %d: the %s end of pipe:[%llu] is held only outside "
					 "the dumped tree; restored, this process would %s. Dump the "
					 "tree from a process that holds both ends, or give the fd a "
					 "file instead of the pipe", pid, fd,
					 ends[0] ? "write" : "read", (unsigned long long)v[i]->pipe_ino,
					 ends[0] ? "read end-of-file"
						 : "die of SIGPIPE at its next write");
		}
		i = j;
	}
	return 0;
}

/* A FIFO: keep an O_RDWR fd while opening so neither end blocks. */
static int fifo_open(struct rst_ctx *ctx, FileDescEntry *fe, struct fd_open_state *st)
{
	_cleanup_close_ int keep = -EBADF;
	char path[4096] = "";
	int fd;

	if (fe->file)
		rst_clean_path(fe->file->path, path, sizeof(path));
	if (fe->deleted)	/* made again, opened O_RDWR, removed */
		keep = fd_deleted_node(ctx, fe, path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	else
		keep = rst_open_path(ctx, path, O_RDWR | O_NONBLOCK, 0);
	if (keep < 0 && fe->deleted)
		return keep;
	if (keep < 0)
		return ckpt_fail(ctx->err, keep, "fifo %s: cannot open", path);
	fd = fe->deleted ? fd_reopen_self(keep, (fe->flags & FD_REOPEN_MASK) | O_NONBLOCK)
			 : rst_open_path(ctx, path, (fe->flags & FD_REOPEN_MASK) | O_NONBLOCK, 0);
	if (fd < 0)
		return ckpt_fail(ctx->err, fd, "fifo %s: cannot open", path);
	if (fe->has_pipe_data && fe->pipe_data.len)
		write_full(keep, fe->pipe_data.data, fe->pipe_data.len);
	fcntl(fd, F_SETFL, fe->flags & (O_NONBLOCK | O_APPEND));
	return fd;
}

const struct fd_kind_ops fd_kind_pipe = {
	.type = FD_TYPE__FD_PIPE,
	.name = "files of this kind",
	.match = pipe_match,
	.describe = pipe_describe,
	.check = pipe_check,
	.open = pipe_open,
};

const struct fd_kind_ops fd_kind_fifo = {
	.type = FD_TYPE__FD_FIFO,
	.name = "files of this kind",
	.mode = S_IFIFO,
	.by_path = true,
	.match = fifo_match,
	.describe = fifo_describe,
	.check = fd_check_file,
	.check_task = fd_check_path,
	.open = fifo_open,
};
