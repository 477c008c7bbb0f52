/* pidfd: the process it names, from fdinfo's "Pid:" line; its flags
 * (O_NONBLOCK, PIDFD_THREAD) are the description's. A restore gives it
 * back as a pidfd of the same process, restored with the same pid: only a
 * process of the tree, or a thread of the process that holds it; a pidfd
 * of a process outside the tree, of one that has exited and was reaped,
 * or of a thread of another process is refused.
 *
 * The named process must exist when the pidfd is made, so the
 * intermediate process opens a stand-in (an eventfd) and each task
 * replaces it at its fd number in post_open, once every task of the tree
 * exists. Fds of one task sharing the description share the new one;
 * tasks sharing it get a pidfd each (O_NONBLOCK is then no longer shared).
 *
 * A thread other than the main one exists only once the task's restorer
 * blob made it, after the fds: the stand-in stays, and the blob replaces
 * it (restore_args.pidfds_off, rst_pidfd_threads). A thread of another
 * process would need that process's blob to have made its threads before
 * this one's finishes, a barrier between blobs the restore doesn't have:
 * refused. */
#include "daemon/files/pidfd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/compat.h"
#include "common/util.h"
#include "daemon/files/kinds.h"
#include "daemon/restore-int.h"

#define PIDFD_NAME	"anon_inode:[pidfd]"
#define PIDFD_FLAGS	(O_NONBLOCK | PIDFD_THREAD)

static bool pidfd_match(const struct fd_parms *p)
{
	return fd_is_anon(p, PIDFD_NAME);
}

bool pidfd_parse_pid(const char *l, int *ret_pid)
{
	return sscanf(l, "Pid: %d", ret_pid) == 1;
}

/* --- dump ------------------------------------------------------------------ */

static int parse_line(const struct fd_parms *p, FileDescEntry *e, const char *l)
{
	int pid;

	if (e->pidfd || !pidfd_parse_pid(l, &pid))
		return 0;
	e->pidfd = malloc(sizeof(*e->pidfd));
	if (!e->pidfd)
		return -ENOMEM;
	pidfd_entry__init(e->pidfd);
	e->pidfd->pid = pid;
	return 0;
}

static int pidfd_describe(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e)
{
	int r = fd_anon_describe(ctx, p, e);

	if (r == 0)
		r = fd_fdinfo_each(ctx, p, parse_line, e);
	if (r == 0 && !e->pidfd)
		r = fd_fdinfo_lacks(ctx, p);
	return r;
}

/* --- restore --------------------------------------------------------------- */

static bool pidfd_restorable(const FileDescEntry *fe)
{
	return fe->pidfd;
}

/* The task of the tree pid is, or (*ret_thread) the one it is a thread
 * of; NULL: neither. */
static struct rst_task *in_tree(struct rst_ctx *ctx, int pid, bool *ret_thread)
{
	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		const PstreeEntry *pe = ctx->tasks[i].pe;

		if (pe->pid == pid) {
			*ret_thread = false;
			return &ctx->tasks[i];
		}
		for (size_t j = 1; j < pe->n_threads; j++)
			if (pe->threads[j] == pid) {
				*ret_thread = true;
				return &ctx->tasks[i];
			}
	}
	return NULL;
}

/* A pidfd of one of t's own threads other than its main one: its blob
 * makes it. */
static bool own_thread(struct rst_ctx *ctx, struct rst_task *t, const FileDescEntry *fe)
{
	bool thread = false;

	return in_tree(ctx, fe->pidfd->pid, &thread) == t && thread;
}

static bool kernel_has_pidfd_thread(void)
{
	int fd = (int)syscall(SYS_pidfd_open, getpid(), PIDFD_THREAD);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int pidfd_check_task(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
			    const FileDescEntry *fe)
{
	int pid = fe->pidfd->pid;
	struct rst_task *owner;
	bool thread = false;

	if (pid < 0)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: pidfd of a process that "
				 "had exited and was reaped: it can't be restored",
				 t->pe->pid, f->fd);
	owner = pid == 0 ? NULL : in_tree(ctx, pid, &thread);
	if (!owner)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: pidfd of pid %d, which is "
				 "not in the dumped tree: it can't be restored (dump the tree "
				 "that holds both)", t->pe->pid, f->fd, pid);
	if (thread && owner != t)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: pidfd of thread %d of "
				 "pid %d, another process: it can't be restored (only a "
				 "process's pidfds of its own threads come back)", t->pe->pid,
				 f->fd, pid, owner->pe->pid);
	if (thread && !(fe->flags & PIDFD_THREAD))
		return ckpt_fail(ctx->err, -EBADMSG, "pid %d fd %u: pidfd of thread %d without "
				 "PIDFD_THREAD: the image is inconsistent", t->pe->pid, f->fd, pid);
	if ((fe->flags & PIDFD_THREAD) && !kernel_has_pidfd_thread())
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: pidfd of pid %d with "
				 "PIDFD_THREAD, which this kernel lacks (Linux 6.9)",
				 t->pe->pid, f->fd, pid);
	return 0;
}

/* A stand-in, replaced in each task by post_open. */
static int pidfd_open_desc(struct rst_ctx *ctx, FileDescEntry *fe, struct fd_open_state *st)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	if (fd < 0)
		return ckpt_fail(ctx->err, negerrno(), "file description %u: cannot make a "
				 "stand-in for %s", fe->id, fe->anon_name);
	return fd;
}

/* In task t, every task of the tree existing: the pidfd itself at f->fd. */
static int pidfd_post_open(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
			   const FileDescEntry *fe)
{
	_cleanup_close_ int pfd = -EBADF;
	int src = -1;

	if (own_thread(ctx, t, fe))
		return 0;	/* the stand-in stays: the blob replaces it */

	/* an earlier fd of t with this description has its pidfd already */
	for (unsigned j = 0; j < t->nr_fds && t->fds[j] != f; j++)
		if (t->fds[j]->desc_id == fe->id)
			src = (int)t->fds[j]->fd;
	if (src < 0) {
		pfd = (int)syscall(SYS_pidfd_open, fe->pidfd->pid, fe->flags & PIDFD_FLAGS);
		if (pfd < 0)
			return ckpt_fail(ctx->err, negerrno(), "pid %d fd %u: cannot open a pidfd "
					 "of pid %d (flags %#x)", t->pe->pid, f->fd,
					 fe->pidfd->pid, fe->flags & PIDFD_FLAGS);
		src = pfd;
	}
	if (dup3(src, (int)f->fd, f->cloexec ? O_CLOEXEC : 0) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %u: cannot install its pidfd",
				 t->pe->pid, f->fd);
	return 0;
}

const struct fd_kind_ops fd_kind_pidfd = {
	.type = FD_TYPE__FD_ANON,
	.anon_name = PIDFD_NAME,
	.name = FD_ANON_REFUSED,
	.match = pidfd_match,
	.describe = pidfd_describe,
	.restorable = pidfd_restorable,
	.check_task = pidfd_check_task,
	.open = pidfd_open_desc,
	.post_open = pidfd_post_open,
};

unsigned rst_pidfd_threads(struct rst_ctx *ctx, struct rst_task *t, struct restore_pidfd *out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->nr_fds; i++) {
		const FdEntry *f = t->fds[i];
		const FileDescEntry *fe = rst_desc_find(ctx, f->desc_id)->fe;
		int same_as = -1;

		if (fd_kind_of_desc(fe) != &fd_kind_pidfd || !fe->pidfd || !own_thread(ctx, t, fe))
			continue;
		for (unsigned j = 0; j < i && same_as < 0; j++)
			if (t->fds[j]->desc_id == f->desc_id)
				same_as = (int)t->fds[j]->fd;
		if (out)
			out[n] = (struct restore_pidfd){
				.fd = (int)f->fd, .tid = fe->pidfd->pid,
				.flags = fe->flags & PIDFD_FLAGS, .cloexec = f->cloexec,
				.same_as = same_as,
			};
		n++;
	}
	return n;
}
