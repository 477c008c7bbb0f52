/* Scheduling state that must come back: the main thread at nice 5 under
 * SCHED_BATCH, a second thread under SCHED_IDLE, a third under SCHED_FIFO
 * priority 3 with SCHED_RESET_ON_FORK (skipped with "nofifo" as argv[1],
 * for a tree that may not be realtime), and the process's oom_score_adj
 * (argv[2], default 500). After SIGUSR1 each thread checks its own with
 * sched_getattr() and getpriority(), the main one /proc/self/oom_score_adj. */
#include "target.h"

#include <linux/sched.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/resource.h>

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

struct want {
	unsigned policy;
	unsigned prio;
	int nice;
	bool reset;
	pid_t tid;
	char err[256];
};

static pthread_barrier_t ready, verify, done;

static int set_mine(const struct want *w)
{
	struct k_sched_attr a = {
		.size = sizeof(a),
		.sched_policy = w->policy,
		.sched_flags = w->reset ? SCHED_FLAG_RESET_ON_FORK : 0,
		.sched_nice = w->nice,
		.sched_priority = w->prio,
	};

	if (setpriority(PRIO_PROCESS, 0, w->nice) < 0)
		return -errno;
	return syscall(SYS_sched_setattr, 0, &a, 0) < 0 ? -errno : 0;
}

static void check_mine(struct want *w)
{
	struct k_sched_attr a = { 0 };
	int nice;

	if (syscall(SYS_gettid) != w->tid) {
		snprintf(w->err, sizeof(w->err), "tid %ld, was %d", syscall(SYS_gettid), w->tid);
		return;
	}
	if (syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0) < 0) {
		snprintf(w->err, sizeof(w->err), "sched_getattr: %s", strerror(errno));
		return;
	}
	errno = 0;
	nice = getpriority(PRIO_PROCESS, 0);
	if (a.sched_policy != w->policy || a.sched_priority != w->prio || nice != w->nice ||
	    !!(a.sched_flags & SCHED_FLAG_RESET_ON_FORK) != w->reset)
		snprintf(w->err, sizeof(w->err),
			 "thread %d: policy %u prio %u nice %d reset %d, want %u %u %d %d", w->tid,
			 a.sched_policy, a.sched_priority, nice,
			 !!(a.sched_flags & SCHED_FLAG_RESET_ON_FORK), w->policy, w->prio, w->nice,
			 w->reset);
}

static void *thread_main(void *arg)
{
	struct want *w = arg;
	int r;

	w->tid = syscall(SYS_gettid);
	r = set_mine(w);
	if (r < 0)
		snprintf(w->err, sizeof(w->err), "thread %d: cannot set policy %u: %s", w->tid,
			 w->policy, strerror(-r));
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&verify);
	if (!w->err[0])
		check_mine(w);
	pthread_barrier_wait(&done);
	return NULL;
}

static int oom_adj(void)
{
	char buf[32] = "";
	int fd = open("/proc/self/oom_score_adj", O_RDONLY);

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) < 0)
		return -10000;
	close(fd);
	return atoi(buf);
}

static int set_oom_adj(int v)
{
	char buf[32];
	int fd = open("/proc/self/oom_score_adj", O_WRONLY), n, r = 0;

	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%d", v);
	if (write(fd, buf, n) != n)
		r = -errno;
	close(fd);
	return r;
}

int main(int argc, char **argv)
{
	bool fifo = !(argc > 1 && strcmp(argv[1], "nofifo") == 0);
	int oom = argc > 2 ? atoi(argv[2]) : 500, r;
	struct want w[3] = {
		{ .policy = SCHED_BATCH, .nice = 5 },
		{ .policy = SCHED_IDLE, .nice = 7 },
		{ .policy = SCHED_FIFO, .prio = 3, .nice = 2, .reset = true },
	};
	unsigned nr = fifo ? 3 : 2;
	pthread_t th[3];

	target_init();
	pthread_barrier_init(&ready, NULL, nr);
	pthread_barrier_init(&verify, NULL, nr);
	pthread_barrier_init(&done, NULL, nr);
	r = set_oom_adj(oom);
	if (r < 0)
		target_fail("cannot set oom_score_adj %d: %s", oom, strerror(-r));
	w[0].tid = getpid();
	for (unsigned i = 1; i < nr; i++)
		if (pthread_create(&th[i], NULL, thread_main, &w[i]))
			target_fail("pthread_create");
	r = set_mine(&w[0]);
	if (r < 0)
		target_fail("cannot set SCHED_BATCH nice 5: %s", strerror(-r));
	pthread_barrier_wait(&ready);
	for (unsigned i = 1; i < nr; i++)
		if (w[i].err[0])
			target_fail("%s", w[i].err);
	target_ready();
	target_wait();
	pthread_barrier_wait(&verify);
	check_mine(&w[0]);
	pthread_barrier_wait(&done);
	for (unsigned i = 0; i < nr; i++)
		if (w[i].err[0])
			target_fail("%s", w[i].err);
	if (oom_adj() != oom)
		target_fail("oom_score_adj %d, want %d", oom_adj(), oom);
	target_pass();
}
