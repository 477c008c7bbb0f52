/* Restore, per task: what a new task sets on itself with ordinary system
 * calls before it enters the blob (cwd, root, umask, rlimits, name,
 * timer slack), and the authorization check on credentials (which the blob
 * sets last). */
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
#include <unistd.h>

#include "common/util.h"

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

int rst_task_fs(struct rst_ctx *ctx, struct rst_task *t)
{
	FsEntry *fs = t->fs;

	if (strcmp(fs->root, "/") != 0 && chroot(fs->root) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d: cannot change root to %s",
				 t->pe->pid, fs->root);
	if (chdir(fs->cwd) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d: cannot change directory to %s",
				 t->pe->pid, fs->cwd);
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

int rst_task_misc(struct rst_ctx *ctx, struct rst_task *t)
{
	TaskCoreEntry *c = t->core;

	prctl(PR_SET_NAME, c->comm, 0, 0, 0);
	if (c->has_timerslack_ns && c->timerslack_ns)
		prctl(PR_SET_TIMERSLACK, c->timerslack_ns, 0, 0, 0);
	if (personality(c->personality) < 0 && (int)c->personality != -1)
		return ckpt_fail(ctx->err, negerrno(), "pid %d: cannot set personality 0x%x",
				 t->pe->pid, c->personality);
	return 0;
}

/* Is gid among the requester's supplementary groups (its /proc status)? */
static bool requester_in_group(struct rst_ctx *ctx, gid_t gid)
{
	_cleanup_free_ char *buf = NULL;
	char path[64], *p, *end;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/status", ctx->opts->requester);
	if (ctx->opts->requester <= 0 || read_file_at(AT_FDCWD, path, &buf, &len) < 0)
		return false;
	p = strstr(buf, "\nGroups:");
	if (!p)
		return false;
	p += 8;
	for (;;) {
		unsigned long v = strtoul(p, &end, 10);

		if (end == p)
			return false;
		if (v == gid)
			return true;
		p = end;
	}
}

/* Anyone but root restores only images of their own identity, without
 * capabilities. */
int rst_check_creds(struct rst_ctx *ctx)
{
	uid_t u = ctx->opts->requester_uid;
	gid_t g = ctx->opts->requester_gid;

	if (u == 0)
		return 0;
	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		struct rst_task *t = &ctx->tasks[i];
		CredsEntry *cr;

		if (!t->core)
			continue;
		cr = t->core->creds;
		if (cr->uid != u || cr->euid != u || cr->suid != u || cr->fsuid != u ||
		    cr->gid != g || cr->egid != g || cr->sgid != g || cr->fsgid != g)
			return ckpt_fail(ctx->err, -EPERM,
					 "pid %d ran as uid %u gid %u; uid %u may restore only its "
					 "own processes", t->pe->pid, cr->euid, cr->egid, u);
		if (cr->cap_prm || cr->cap_eff || cr->cap_amb)
			return ckpt_fail(ctx->err, -EPERM,
					 "pid %d held capabilities; only root may restore it",
					 t->pe->pid);
		for (size_t j = 0; j < cr->n_groups; j++) {
			if (cr->groups[j] != g && !requester_in_group(ctx, cr->groups[j]))
				return ckpt_fail(ctx->err, -EPERM,
						 "pid %d belonged to group %u; uid %u may not restore "
						 "that", t->pe->pid, cr->groups[j], u);
		}
	}
	return 0;
}
