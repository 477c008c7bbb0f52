/* The owner of an open file description (F_SETOWN, F_SETOWN_EX): the
 * process, thread or process group the kernel sends SIGIO and SIGURG to,
 * and the signal it sends instead of SIGIO (F_SETSIG). Neither shows in
 * /proc/PID/fdinfo, so a dump asks the description itself (its own copy,
 * pidfd_getfd: one syscall and two fcntl per file description, of any
 * kind but O_PATH fds, which can have no owner). An owner must be in the
 * tree, where a restore gives it the same pid; one outside is refused,
 * never dropped. A restore sets both in the task holding the fd, once its
 * fds are in place (restore-files.c): the tree's pids exist then. A kernel
 * without pidfd_getfd (before 5.6) can't tell: owners are not saved.
 *
 * The kernel checks, when it signals, that the process which set the
 * owner may signal the owner; a restore sets it as ckptd, so that check
 * can only pass where the original one did. A thread other than a task's
 * first does not exist before the restorer blob runs: an owner thread
 * must be a task's main thread. */
#include "daemon/files/kinds.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/dump.h"
#include "daemon/restore-int.h"

static const char *owner_what(int type)
{
	switch (type) {
	case F_OWNER_TID:
		return "thread";
	case F_OWNER_PGRP:
		return "process group";
	default:
		return "pid";
	}
}

/* Whether the owner is in the tree (where a restore can set it again);
 * *main_thread: a thread owner is a task's first thread. */
static bool owner_in_tree(const struct pstree *tree, const struct f_owner_ex *o,
			  bool *main_thread)
{
	*main_thread = true;
	for (unsigned i = 0; i < tree->nr_tasks; i++) {
		const struct task *t = tree->tasks[i];

		if (o->type == F_OWNER_PID && t->pid == o->pid)
			return true;
		if (o->type == F_OWNER_PGRP && t->pgid == o->pid)
			return true;
		for (unsigned j = 0; o->type == F_OWNER_TID && j < t->nr_threads; j++) {
			if (t->threads[j].tid == o->pid) {
				*main_thread = j == 0;
				return true;
			}
		}
	}
	return false;
}

int fd_fown_describe(struct dump_ctx *ctx, const struct fd_parms *p, FileDescEntry *e)
{
	_cleanup_close_ int fd = -EBADF;
	struct f_owner_ex o;
	bool main_thread;
	FownEntry *fo;
	int sig;

	fd = fd_take_shared(ctx, p->pid, p->fd);
	if (fd == -ENOSYS)
		return 0;
	if (fd < 0)
		return ckpt_fail(ctx->err, fd, "pid %d fd %d: cannot take it to read its owner",
				 p->pid, p->fd);
	if (fcntl(fd, F_GETOWN_EX, &o) < 0 || (sig = fcntl(fd, F_GETSIG)) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %d: cannot read its owner",
				 p->pid, p->fd);
	if (!o.pid && !sig)
		return 0;
	if (o.pid && !owner_in_tree(&ctx->tree, &o, &main_thread))
		return ckpt_fail(ctx->err, -EOPNOTSUPP,
				 "pid %d fd %d (%s): owned by %s %d (F_SETOWN), which is outside "
				 "the tree; dump the owner with it or clear the owner "
				 "(F_SETOWN 0)", p->pid, p->fd, p->link, owner_what(o.type), o.pid);
	if (o.pid && !main_thread)
		return ckpt_fail(ctx->err, -EOPNOTSUPP,
				 "pid %d fd %d (%s): owned by thread %d (F_SETOWN_EX), not a "
				 "task's main thread: that can't be restored yet", p->pid, p->fd,
				 p->link, o.pid);
	fo = malloc(sizeof(*fo));
	if (!fo)
		return -ENOMEM;
	fown_entry__init(fo);
	fo->type = o.type;
	fo->pid = o.pid;
	fo->has_sig = sig != 0;
	fo->sig = sig;
	e->fown = fo;
	return 0;
}

int fd_fown_restore(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
		    const FileDescEntry *fe)
{
	const FownEntry *fo = fe->fown;
	struct f_owner_ex o;

	if (!fo)
		return 0;
	if (fo->has_sig && fcntl(f->fd, F_SETSIG, (int)fo->sig) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %u: cannot set its signal to %u "
				 "(F_SETSIG)", t->pe->pid, f->fd, fo->sig);
	if (!fo->pid)
		return 0;
	o.type = fo->type;
	o.pid = fo->pid;
	if (fcntl(f->fd, F_SETOWN_EX, &o) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %u: cannot give it back to its "
				 "owner, %s %d (F_SETOWN_EX)", t->pe->pid, f->fd,
				 owner_what(fo->type), fo->pid);
	return 0;
}

int fd_fown_check(struct rst_ctx *ctx, const FileDescEntry *fe)
{
	const FownEntry *fo = fe->fown;

	if (!fo)
		return 0;
	if ((fo->type != F_OWNER_TID && fo->type != F_OWNER_PID && fo->type != F_OWNER_PGRP) ||
	    fo->pid < 0 || (fo->has_sig && fo->sig >= _NSIG))
		return ckpt_fail(ctx->err, -EBADMSG, "files.img: file description %u: owner "
				 "type %u pid %d signal %u is invalid", fe->id, fo->type, fo->pid,
				 fo->sig);
	return 0;
}
