/* Interval timers and POSIX timers. /proc/PID/timers names each POSIX
 * timer, its clock and how it notifies; what is left to run and the
 * interval are only known inside the task, so timer_gettime(),
 * timer_getoverrun() and getitimer() are injected into the main thread. */
#include "daemon/timers.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "common/util.h"
#include "daemon/core.h"
#include "daemon/dump.h"
#include "daemon/inject.h"
#include "daemon/proc.h"

struct kspec {
	int64_t sec, frac;	/* usec for itimerval, nsec for itimerspec */
};

static uint64_t to_units(const struct kspec *s, uint64_t per_sec)
{
	return (uint64_t)s->sec * per_sec + (uint64_t)s->frac;
}

int timers_dump_itimers(struct dump_ctx *ctx, struct task *t, ItimerEntry it[TIMERS_NR_ITIMERS])
{
	for (int which = 0; which < TIMERS_NR_ITIMERS; which++) {
		unsigned long args[6] = { which, t->scratch };
		struct kspec v[2];	/* interval, value */
		long ret;
		int r;

		r = core_inject(ctx, t, &t->threads[0], "getitimer", __NR_getitimer, args, &ret);
		if (r < 0)
			return r;
		if (ret < 0)
			return ckpt_fail(ctx->err, (int)ret, "pid %d: getitimer(%d) failed",
					 t->pid, which);
		r = inject_read(t, 0, v, sizeof(v));
		if (r < 0)
			return core_fail(ctx, t->pid, r, "reading an itimer from the scratch page");
		it[which] = (ItimerEntry)ITIMER_ENTRY__INIT;
		it[which].which = which;
		it[which].interval_us = to_units(&v[0], 1000000);
		it[which].value_us = to_units(&v[1], 1000000);
	}
	return 0;
}

static int posix_timer(struct dump_ctx *ctx, struct task *t, const struct proc_timer *pt,
		       PosixTimerEntry *e)
{
	unsigned long args[6] = { (unsigned)pt->id, t->scratch };
	struct kspec v[2];	/* interval, value */
	long ret;
	int r;

	r = core_inject(ctx, t, &t->threads[0], "timer_gettime", __NR_timer_gettime, args, &ret);
	if (r < 0)
		return r;
	if (ret < 0)
		return ckpt_fail(ctx->err, (int)ret, "pid %d: timer_gettime(%d) failed",
				 t->pid, pt->id);
	r = inject_read(t, 0, v, sizeof(v));
	if (r < 0)
		return core_fail(ctx, t->pid, r, "reading a timer from the scratch page");
	*e = (PosixTimerEntry)POSIX_TIMER_ENTRY__INIT;
	e->id = pt->id;
	e->clock_id = pt->clock_id;
	e->notify = pt->notify;
	e->signo = pt->signo;
	e->sival = pt->sival;
	if (pt->notify & 4 /* SIGEV_THREAD_ID */) {
		e->has_notify_tid = true;
		e->notify_tid = pt->notify_pid;
	}
	e->interval_ns = to_units(&v[0], 1000000000);
	e->value_ns = to_units(&v[1], 1000000000);

	args[1] = 0;
	r = core_inject(ctx, t, &t->threads[0], "timer_getoverrun", __NR_timer_getoverrun,
			args, &ret);
	if (r < 0)
		return r;
	if (ret >= 0) {
		e->has_overrun = true;
		e->overrun = (int32_t)ret;
	}
	return 0;
}

int timers_dump_posix(struct dump_ctx *ctx, struct task *t, PosixTimerEntry **ret, size_t *ret_n)
{
	_cleanup_free_ struct proc_timer *pts = NULL;
	_cleanup_free_ PosixTimerEntry *v = NULL;
	unsigned n;
	int r;

	r = proc_read_timers(t->pid, &pts, &n);
	if (r < 0)
		return core_fail(ctx, t->pid, r, "cannot parse /proc/%d/timers", t->pid);
	if (n) {
		v = calloc(n, sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		r = posix_timer(ctx, t, &pts[i], &v[i]);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}
