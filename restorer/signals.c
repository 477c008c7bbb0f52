/* Signal dispositions, timers and pending signals. Dispositions come
 * first: a signal queued while its disposition is still SIG_DFL-ignore
 * (SIGCHLD, SIGURG, SIGWINCH) would be dropped at once. Everything stays
 * blocked until each thread's rt_sigreturn installs its own mask. */
#include <linux/errno.h>
#include <linux/prctl.h>
#include <stdbool.h>

#include "blob.h"
#include "syscall.h"

#define SIGKILL_NR	9
#define SIGSTOP_NR	19
#define SIGEV_THREAD_ID_NR 4
#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS	77
#define PR_TIMER_CREATE_RESTORE_IDS_OFF	0
#define PR_TIMER_CREATE_RESTORE_IDS_ON	1
#endif

int blob_restore_sigactions(struct restore_args *a)
{
	for (int sig = 1; sig <= (int)RESTORE_NSIG; sig++) {
		const struct restore_sigaction *sa = &a->sigactions[sig - 1];
		long r;

		if (sig == SIGKILL_NR || sig == SIGSTOP_NR)
			continue;
		/* struct restore_sigaction is the kernel's own layout */
		r = sys_rt_sigaction(sig, sa, 0, 8);
		if (r < 0)
			return (int)blob_fail(a, RSTEP_SIGNALS, r, sa->handler,
					     "rt_sigaction(%d, handler 0x%llx, flags 0x%llx)", sig,
					     (unsigned long long)sa->handler,
					     (unsigned long long)sa->flags);
	}
	return 0;
}

struct k_sigevent {		/* sigevent_t, x86-64 */
	__u64 value;
	__s32 signo;
	__s32 notify;
	__s32 tid;
	__s32 pad[11];
};

struct k_itimerspec {
	__s64 interval_sec, interval_nsec;
	__s64 value_sec, value_nsec;
};

static long create_timer(const struct restore_posix_timer *t, int *id)
{
	struct k_sigevent sev;

	blob_memset(&sev, 0, sizeof(sev));
	sev.value = t->sival;
	sev.signo = t->signo;
	sev.notify = t->notify;
	sev.tid = t->notify_tid;
	*id = t->id;		/* read back by the kernel in restore-ids mode */
	return sys_timer_create(t->clock_id, &sev, id);
}

/* Without PR_TIMER_CREATE_RESTORE_IDS the kernel hands out ids in order
 * from 0: create placeholders for the gaps and delete them afterwards. */
static int create_linear(struct restore_args *a, const struct restore_posix_timer *t, int *next)
{
	struct restore_posix_timer filler = { .clock_id = 1 /* CLOCK_MONOTONIC */, .notify = 1 /* SIGEV_NONE */ };
	int id;
	long r;

	while (*next < t->id) {
		r = create_timer(&filler, &id);
		if (r < 0 || id != *next)
			return (int)blob_fail(a, RSTEP_TIMERS, r < 0 ? r : -EEXIST, 0,
					     "posix timer %d: placeholder id %d came back as %d",
					     t->id, *next, id);
		(*next)++;
	}
	r = create_timer(t, &id);
	if (r >= 0 && id != t->id)
		r = -EEXIST;
	if (r < 0)
		return (int)blob_fail(a, RSTEP_TIMERS, r, 0, "timer_create for posix timer %d", t->id);
	(*next)++;
	return 0;
}

static int arm_timer(struct restore_args *a, const struct restore_posix_timer *t)
{
	struct k_itimerspec its = {
		.interval_sec = (__s64)(t->interval_ns / 1000000000ULL),
		.interval_nsec = (__s64)(t->interval_ns % 1000000000ULL),
		.value_sec = (__s64)(t->value_ns / 1000000000ULL),
		.value_nsec = (__s64)(t->value_ns % 1000000000ULL),
	};
	long r;

	if (!t->value_ns)
		return 0;
	r = sys_timer_settime(t->id, 0, &its, 0);
	return r < 0 ? (int)blob_fail(a, RSTEP_TIMERS, r, 0, "timer_settime for posix timer %d",
				     t->id) : 0;
}

int blob_restore_posix_timers(struct restore_args *a)
{
	const struct restore_posix_timer *t = blob_at(a, a->timers_off);
	int next = 0, r = 0;
	bool exact;

	if (!a->nr_timers)
		return 0;
	exact = sys_prctl(PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0) == 0;
	for (unsigned i = 0; i < a->nr_timers && !r; i++) {
		int id;
		long e;

		if (i && t[i].id <= t[i - 1].id)
			return (int)blob_fail(a, RSTEP_TIMERS, -EINVAL, 0,
					     "posix timers not sorted by id (%d after %d)",
					     t[i].id, t[i - 1].id);
		if (!exact) {
			r = create_linear(a, &t[i], &next);
			continue;
		}
		e = create_timer(&t[i], &id);
		if (e >= 0 && id != t[i].id)
			e = -EEXIST;
		if (e < 0)
			r = (int)blob_fail(a, RSTEP_TIMERS, e, 0, "timer_create for posix timer %d (clock %d, notify %d, tid %d)",
					  t[i].id, t[i].clock_id, t[i].notify, t[i].notify_tid);
	}
	if (exact)
		sys_prctl(PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, 0);
	for (int id = 0; !exact && !r && id < next; id++) {	/* drop the placeholders */
		bool wanted = false;

		for (unsigned i = 0; i < a->nr_timers; i++)
			wanted |= t[i].id == id;
		if (!wanted)
			sys_timer_delete(id);
	}
	for (unsigned i = 0; i < a->nr_timers && !r; i++)
		r = arm_timer(a, &t[i]);
	return r;
}

int blob_restore_itimers(struct restore_args *a)
{
	for (int which = 0; which < 3; which++) {
		const struct restore_itimer *it = &a->itimers[which];
		struct { __s64 isec, iusec, vsec, vusec; } val = {
			(__s64)(it->interval_us / 1000000), (__s64)(it->interval_us % 1000000),
			(__s64)(it->value_us / 1000000), (__s64)(it->value_us % 1000000),
		};
		long r = sys_setitimer(which, &val, 0);

		if (r < 0)
			return (int)blob_fail(a, RSTEP_TIMERS, r, 0, "setitimer(%d)", which);
	}
	return 0;
}

static int siginfo_signo(const struct restore_siginfo *si)
{
	return si->raw[0] | si->raw[1] << 8 | si->raw[2] << 16 | si->raw[3] << 24;
}

/* Queue raw siginfos to the process (tid 0) or one thread. SIGKILL and
 * SIGSTOP are not queued: they would act at once, not wait. */
static int queue(struct restore_args *a, int tid, const struct restore_siginfo *si, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int sig = siginfo_signo(&si[i]);
		long r;

		if (sig < 1 || sig > (int)RESTORE_NSIG)
			return (int)blob_fail(a, RSTEP_SIGNALS, -EINVAL, 0,
					     "pending signal %u of %s %d: signo %d", i,
					     tid ? "thread" : "process", tid ? tid : a->pid, sig);
		if (sig == SIGKILL_NR || sig == SIGSTOP_NR)
			continue;
		if (tid)
			r = sys_rt_tgsigqueueinfo(a->pid, tid, sig, &si[i]);
		else
			r = sys_rt_sigqueueinfo(a->pid, sig, &si[i]);
		if (r < 0)
			return (int)blob_fail(a, RSTEP_SIGNALS, r, 0, "queueing pending signal %d to %s %d",
					     sig, tid ? "thread" : "process", tid ? tid : a->pid);
	}
	return 0;
}

int blob_queue_shared_pending(struct restore_args *a)
{
	return queue(a, 0, blob_at(a, a->shared_pending_off), a->nr_shared_pending);
}

int blob_queue_thread_pending(struct restore_args *a, const struct restore_thread *t)
{
	return queue(a, t->tid, blob_at(a, t->pending_off), t->nr_pending);
}
