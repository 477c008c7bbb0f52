/* Scheduling policy, RT priority, nice and reset-on-fork of every thread,
 * and oom_score_adj of every process.
 *
 * Dump: asked from outside, no injection: sched_getattr(tid) gives the
 * policy, its flags and the RT priority; getpriority(tid) the nice value
 * (sched_getattr leaves it out for an RT thread, which still has one).
 *
 * Restore: the intermediate process sets them on every tid once every
 * thread exists and waits in the blob, before any runs its own code, with
 * ckptd's powers (CAP_SYS_NICE, CAP_SYS_RESOURCE when ckptd has it). What
 * those powers would grant beyond the requester is refused first, before
 * anything is forked (rst_check_sched; a killing dump runs it too), by the
 * kernel's own rules for an unprivileged caller: a realtime priority up to
 * the task's RLIMIT_RTPRIO, a nice below ckptd's own down to what the
 * task's RLIMIT_NICE allows, an oom_score_adj no lower than the
 * requester's own. Lowering oom_score_adj below ckptd's own needs
 * CAP_SYS_RESOURCE, which ckptd may lack: then that is refused too. */
#include "daemon/sched.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/restore-int.h"

/* struct sched_attr of <linux/sched/types.h>, which clashes with glibc's
 * <sched.h> */
struct k_sched_attr {
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
	uint32_t sched_util_min, sched_util_max;
};

#define OOM_ADJ_MIN	(-1000)
#define OOM_ADJ_MAX	1000

static const char *policy_name(uint32_t p)
{
	switch (p) {
	case SCHED_NORMAL: return "SCHED_OTHER";
	case SCHED_FIFO: return "SCHED_FIFO";
	case SCHED_RR: return "SCHED_RR";
	case SCHED_BATCH: return "SCHED_BATCH";
	case SCHED_IDLE: return "SCHED_IDLE";
	case SCHED_DEADLINE: return "SCHED_DEADLINE";
	}
	return "an unknown policy";
}

static bool is_rt(uint32_t p)
{
	return p == SCHED_FIFO || p == SCHED_RR;
}

int sched_dump_thread(pid_t tid, SchedEntry *ret)
{
	struct k_sched_attr a = { 0 };
	int nice;

	if (syscall(SYS_sched_getattr, tid, &a, sizeof(a), 0) < 0)
		return negerrno();
	errno = 0;
	nice = getpriority(PRIO_PROCESS, tid);
	if (nice == -1 && errno)
		return negerrno();
	if (a.sched_policy == SCHED_DEADLINE)
		return -EOPNOTSUPP;
	*ret = (SchedEntry)SCHED_ENTRY__INIT;
	ret->policy = a.sched_policy;
	ret->prio = a.sched_priority;
	ret->nice = nice;
	ret->has_reset_on_fork = true;
	ret->reset_on_fork = !!(a.sched_flags & SCHED_FLAG_RESET_ON_FORK);
	return 0;
}

static int read_oom(pid_t pid, int *ret)
{
	_cleanup_free_ char *s = NULL;
	char path[64], *end;
	long v;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", pid);
	r = read_file_at(AT_FDCWD, path, &s, NULL);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	v = strtol(s, &end, 10);
	if (end == s || v < OOM_ADJ_MIN || v > OOM_ADJ_MAX)
		return -EBADMSG;
	*ret = (int)v;
	return 0;
}

int sched_dump_oom(pid_t pid, int32_t *ret)
{
	int v, r = read_oom(pid, &v);

	if (r == 0)
		*ret = v;
	return r;
}

/* ---- restore ------------------------------------------------------------- */

static uint64_t rlimit_cur(const TaskCoreEntry *c, unsigned res)
{
	for (size_t i = 0; i < c->n_rlimits; i++)
		if (c->rlimits[i]->resource == res)
			return c->rlimits[i]->cur;
	return 0;
}

static int check_thread(struct rst_ctx *ctx, struct rst_task *t, const ThreadCoreEntry *th,
			bool requester, int own_nice)
{
	const SchedEntry *s = th->sched;
	uint64_t lim;

	if (s->policy != SCHED_NORMAL && s->policy != SCHED_BATCH && s->policy != SCHED_IDLE &&
	    !is_rt(s->policy))
		return ckpt_fail(ctx->err, -EINVAL, "core-%d.img: thread %d: policy %u is not "
				 "one ckpt restores", t->pe->pid, th->tid, s->policy);
	if (s->nice < -20 || s->nice > 19 || (is_rt(s->policy) ? s->prio < 1 || s->prio > 99 :
					      s->prio != 0))
		return ckpt_fail(ctx->err, -EINVAL, "core-%d.img: thread %d: %s with priority %u "
				 "and nice %d is out of range", t->pe->pid, th->tid,
				 policy_name(s->policy), s->prio, s->nice);
	if (!requester)
		return 0;
	lim = rlimit_cur(t->core, RLIMIT_RTPRIO);
	if (is_rt(s->policy) && s->prio > lim)
		return ckpt_fail(ctx->err, -EPERM, "pid %d: thread %d ran %s priority %u, above its "
				 "RLIMIT_RTPRIO (%llu): only root may restore it", t->pe->pid,
				 th->tid, policy_name(s->policy), s->prio, (unsigned long long)lim);
	lim = rlimit_cur(t->core, RLIMIT_NICE);
	if (s->nice < own_nice && (uint64_t)(20 - s->nice) > lim)
		return ckpt_fail(ctx->err, -EPERM, "pid %d: thread %d ran at nice %d, below what "
				 "its RLIMIT_NICE (%llu) allows: only root may restore it",
				 t->pe->pid, th->tid, s->nice, (unsigned long long)lim);
	return 0;
}

/* The lowest oom_score_adj this restore may set: ckptd's own without
 * CAP_SYS_RESOURCE (its floor is at most that), the requester's own for a
 * non-root requester (lower is what the requester could not set). */
static int oom_floor(struct rst_ctx *ctx, int *ret, const char **who)
{
	int v, r;

	*ret = OOM_ADJ_MIN;
	*who = NULL;
	if (!ctx->can_raise_rlimits) {
		r = read_oom(getpid(), &v);
		if (r < 0)
			return ckpt_fail(ctx->err, r, "cannot read ckptd's own oom_score_adj");
		*ret = v;
		*who = "ckptd may set without CAP_SYS_RESOURCE";
	}
	if (ctx->opts && ctx->opts->requester_uid != 0) {
		r = read_oom(ctx->opts->requester, &v);
		if (r < 0)
			return ckpt_fail(ctx->err, -EPERM, "cannot read the oom_score_adj of the "
					 "requesting process %d", ctx->opts->requester);
		if (v >= *ret) {
			*ret = v;
			*who = "the requesting process may set without CAP_SYS_RESOURCE";
		}
	}
	return 0;
}

int rst_check_sched(struct rst_ctx *ctx, struct rst_task *t)
{
	bool requester = ctx->opts && ctx->opts->requester_uid != 0;
	TaskCoreEntry *c = t->core;
	const char *who;
	int floor, r;

	if (c->has_oom_score_adj) {
		if (c->oom_score_adj < OOM_ADJ_MIN || c->oom_score_adj > OOM_ADJ_MAX)
			return ckpt_fail(ctx->err, -EINVAL, "core-%d.img: oom_score_adj %d is out "
					 "of range", t->pe->pid, c->oom_score_adj);
		r = oom_floor(ctx, &floor, &who);
		if (r < 0)
			return r;
		if (c->oom_score_adj < floor)
			return ckpt_fail(ctx->err, -EPERM, "pid %d: oom_score_adj %d is below %d, "
					 "the lowest %s: restore it as root with a ckptd that has "
					 "CAP_SYS_RESOURCE", t->pe->pid,
					 c->oom_score_adj, floor, who);
	}
	for (unsigned i = 0; i < t->nr_threads; i++) {
		if (!t->threads[i]->sched)
			continue;
		r = check_thread(ctx, t, t->threads[i], requester,
				 getpriority(PRIO_PROCESS, 0));
		if (r < 0)
			return r;
	}
	return 0;
}

static int apply_oom(struct rst_ctx *ctx, struct rst_task *t)
{
	char path[64], buf[16];
	_cleanup_close_ int fd = -EBADF;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", t->pe->pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	n = snprintf(buf, sizeof(buf), "%d", t->core->oom_score_adj);
	if (fd < 0 || write(fd, buf, n) != n)
		return ckpt_fail(ctx->err, negerrno(), "pid %d: cannot set oom_score_adj %d",
				 t->pe->pid, t->core->oom_score_adj);
	return 0;
}

/* Nice first (sched_setattr sets it only for the non-RT policies). */
static int apply_thread(struct rst_ctx *ctx, struct rst_task *t, const ThreadCoreEntry *th)
{
	const SchedEntry *s = th->sched;
	struct k_sched_attr a = {
		.size = sizeof(a),
		.sched_policy = s->policy,
		.sched_flags = s->reset_on_fork ? SCHED_FLAG_RESET_ON_FORK : 0,
		.sched_nice = s->nice,
		.sched_priority = s->prio,
	};

	if (setpriority(PRIO_PROCESS, th->tid, s->nice) < 0 ||
	    syscall(SYS_sched_setattr, th->tid, &a, 0) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d: thread %d: the kernel refused "
				 "%s priority %u nice %d", t->pe->pid, th->tid,
				 policy_name(s->policy), s->prio, s->nice);
	return 0;
}

int rst_apply_sched(struct rst_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		struct rst_task *t = &ctx->tasks[i];
		int r;

		if (!t->core)
			continue;
		if (t->core->has_oom_score_adj) {
			r = apply_oom(ctx, t);
			if (r < 0)
				return r;
		}
		for (unsigned j = 0; j < t->nr_threads; j++) {
			if (!t->threads[j]->sched)
				continue;
			r = apply_thread(ctx, t, t->threads[j]);
			if (r < 0)
				return r;
		}
	}
	return 0;
}
