/* Restore, per task: the task's runner, and what a new task sets on itself
 * with ordinary system calls before it enters the blob (cwd, root, umask,
 * rlimits, name, timer slack, THP and subreaper flags, loginuid, membarrier
 * registrations). The credentials
 * the blob sets last are checked in restore-creds.c. */
#include "daemon/restore-int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/files/lock.h"
#include "daemon/files/tty.h"
#include "daemon/loginuid.h"
#include "daemon/restore-creds.h"

static const char *const rlimit_names[RLIM_NLIMITS] = {
	[RLIMIT_CPU] = "RLIMIT_CPU",		[RLIMIT_FSIZE] = "RLIMIT_FSIZE",
	[RLIMIT_DATA] = "RLIMIT_DATA",		[RLIMIT_STACK] = "RLIMIT_STACK",
	[RLIMIT_CORE] = "RLIMIT_CORE",		[RLIMIT_RSS] = "RLIMIT_RSS",
	[RLIMIT_NPROC] = "RLIMIT_NPROC",	[RLIMIT_NOFILE] = "RLIMIT_NOFILE",
	[RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK",	[RLIMIT_AS] = "RLIMIT_AS",
	[RLIMIT_LOCKS] = "RLIMIT_LOCKS",	[RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
	[RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE",	[RLIMIT_NICE] = "RLIMIT_NICE",
	[RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",	[RLIMIT_RTTIME] = "RLIMIT_RTTIME",
};

/* As the requester for a non-root restore (restore-creds.c): a root it
 * could not have chrooted to, or a cwd it may not search, is refused. */
int rst_task_fs(struct rst_ctx *ctx, struct rst_task *t)
{
	FsEntry *fs = t->fs;
	int r;

	r = rst_enter_fs(ctx, t->pe->pid, fs->root, fs->cwd);
	if (r < 0)
		return r;
	umask(fs->umask);
	return 0;
}

static int rlimit_too_high(struct rst_ctx *ctx, struct rst_task *t, const RlimitEntry *e,
			   rlim_t have_max)
{
	return ckpt_fail(ctx->err, -EPERM,
			 "pid %d: %s: the hard limit %llu is above what this restorer may set "
			 "(%llu; raising it needs CAP_SYS_RESOURCE)", t->pe->pid,
			 rlimit_names[e->resource], (unsigned long long)e->max,
			 (unsigned long long)have_max);
}

/* Before anything is forked (and before a dump kills a tree): every hard
 * limit rst_task_rlimits will set must be one this process may set. The
 * tasks are forked from it and inherit its limits and capabilities. */
int rst_check_rlimits(struct rst_ctx *ctx, struct rst_task *t)
{
	TaskCoreEntry *c = t->core;
	struct rlimit have;

	if (ctx->can_raise_rlimits)
		return 0;
	for (size_t i = 0; i < c->n_rlimits; i++) {
		RlimitEntry *e = c->rlimits[i];

		if (getrlimit(e->resource, &have) == 0 && e->max > have.rlim_max)
			return rlimit_too_high(ctx, t, e, have.rlim_max);
	}
	return 0;
}

/* Set from inside the new task: lowering is always allowed, raising a hard
 * limit needs CAP_SYS_RESOURCE, which the daemon may lack. */
int rst_task_rlimits(struct rst_ctx *ctx, struct rst_task *t)
{
	TaskCoreEntry *c = t->core;

	for (size_t i = 0; i < c->n_rlimits; i++) {
		RlimitEntry *e = c->rlimits[i];
		struct rlimit want = { .rlim_cur = e->cur, .rlim_max = e->max }, have;

		if (getrlimit(e->resource, &have) == 0 && have.rlim_cur == want.rlim_cur &&
		    have.rlim_max == want.rlim_max)
			continue;
		if (setrlimit(e->resource, &want) == 0)
			continue;
		if (errno == EPERM)
			return rlimit_too_high(ctx, t, e, have.rlim_max);
		return ckpt_fail(ctx->err, negerrno(), "pid %d: cannot set %s to %llu/%llu",
				 t->pe->pid, rlimit_names[e->resource], (unsigned long long)e->cur,
				 (unsigned long long)e->max);
	}
	return 0;
}

/* Per process, once its children exist: a subreaper set now still gets
 * their orphans (the kernel marks the descendants), and a THP flag set now
 * is not inherited by them (each task sets its own). The per-thread
 * PR_SET_PDEATHSIG is the blob's, after the credentials that clear it. */
static int rst_task_prctl(struct rst_ctx *ctx, struct rst_task *t)
{
	TaskCoreEntry *c = t->core;

	/* bit 0 is the flag; newer kernels report their flags (arg3) above it */
	if (c->has_thp_disable &&
	    prctl(PR_SET_THP_DISABLE, c->thp_disable & 1, c->thp_disable & ~1u, 0, 0) < 0)
		return ckpt_fail(ctx->err, negerrno(),
				 "pid %d: cannot set PR_SET_THP_DISABLE %u (flags 0x%x): "
				 "this kernel may not know those flags", t->pe->pid,
				 c->thp_disable & 1, c->thp_disable & ~1u);
	if (c->has_child_subreaper && c->child_subreaper &&
	    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d: cannot set PR_SET_CHILD_SUBREAPER",
				 t->pe->pid);
	return 0;
}

/* Its own loginuid, before the blob: the threads it makes inherit it. A
 * change this ckptd can't make (ckptd's own is set, or a non-root
 * requester's is another) is left out: the dump warned of it. */
static void rst_task_loginuid(struct rst_ctx *ctx, struct rst_task *t)
{
	TaskCoreEntry *c = t->core;
	uint32_t own;

	if (!c->has_loginuid || loginuid_read(0, &own) < 0 || own == c->loginuid ||
	    !loginuid_restorable(c->loginuid, ctx->opts->requester_uid, ctx->opts->requester))
		return;
	loginuid_set_self(c->loginuid);
}

/* The membarrier registrations of its mm: each bit is the REGISTER
 * command that made it (membarrier(2)); the blob keeps this mm. */
static int rst_task_membarrier(struct rst_ctx *ctx, struct rst_task *t)
{
	TaskCoreEntry *c = t->core;

	for (unsigned bit = 0; c->has_membarrier && bit < 32; bit++) {
		unsigned cmd = 1u << bit;

		if ((c->membarrier & cmd) && syscall(SYS_membarrier, cmd, 0, 0) < 0)
			return ckpt_fail(ctx->err, negerrno(), "pid %d: cannot register "
					 "membarrier command 0x%x again (this kernel may lack it)",
					 t->pe->pid, cmd);
	}
	return 0;
}

int rst_task_misc(struct rst_ctx *ctx, struct rst_task *t)
{
	TaskCoreEntry *c = t->core;
	int r;

	rst_task_loginuid(ctx, t);
	r = rst_task_membarrier(ctx, t);
	if (r < 0)
		return r;

	prctl(PR_SET_NAME, c->comm, 0, 0, 0);
	if (c->has_timerslack_ns && c->timerslack_ns)
		prctl(PR_SET_TIMERSLACK, c->timerslack_ns, 0, 0, 0);
	if (personality(c->personality) < 0 && (int)c->personality != -1)
		return ckpt_fail(ctx->err, negerrno(), "pid %d: cannot set personality 0x%x",
				 t->pe->pid, c->personality);
	return rst_task_prctl(ctx, t);
}

/* POSIX locks belong to the process, and any close of a file by it drops
 * its locks on the file: they are taken once every fd the blob won't keep
 * is closed (files/lock.c refuses a lock on a file the blob closes). */
static int rst_task_locks(struct rst_ctx *ctx, struct rst_task *t, struct rst_blob *b)
{
	int r;

	if (!t->fs->n_posix_locks)
		return 0;
	r = rst_close_fds_but(b->keep, b->nr_keep);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d: cannot close the engine's fds", t->pe->pid);
	return fd_lock_take_posix(ctx, t);
}

/* fs, fds and the task's name and personality first; the blob's arguments
 * before the rlimits, so that a restored RLIMIT_NOFILE, AS or DATA never
 * stops the engine itself; its POSIX locks once only the fds the blob
 * keeps are left; the blob last, with the credentials it sets. */
int rst_task_run(struct rst_ctx *ctx, struct rst_task *t)
{
	struct rst_blob b = { 0 };
	int r;

	r = rst_install_fds(ctx, t);
	if (r == 0)
		r = rst_tty_fg(ctx, t);
	if (r == 0)
		r = rst_task_misc(ctx, t);
	if (r == 0)
		r = rst_blob_prepare(ctx, t, &b);
	/* root and cwd last: every path the steps before open is from
	 * ckptd's root, as the dump read it, and /proc is not in a chroot */
	if (r == 0)
		r = rst_task_fs(ctx, t);
	if (r == 0)
		r = rst_task_rlimits(ctx, t);
	if (r == 0)
		r = rst_task_locks(ctx, t, &b);
	if (r == 0)
		r = rst_blob_enter(ctx, t, &b);	/* returns only on failure */
	free(b.keep);
	return r;
}
