/* Seccomp target: runs under a seccomp filter (one that allows every
 * call), which a dump must refuse: injected calls could be denied or kill
 * it, and the image cannot hold the filter. After SIGUSR1 it checks it is
 * still filtered and untraced.
 *
 *	core_seccomp [-t]
 *
 * -t: only a second thread installs the filter (a filter is per thread
 * unless synchronised): the main thread runs unfiltered, and a dump that
 * looked at it alone would drop the thread's filter on restore. */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/prctl.h>

#include "target.h"

static struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
static struct sock_fprog prog = { 1, allow };
static pthread_barrier_t filtered;
static volatile int thread_mode = -1;

static int filter_self(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return -errno;
	return 0;
}

static void *filtered_thread(void *arg)
{
	int r = filter_self();

	if (r < 0)
		target_fail("seccomp in the thread: %s", strerror(-r));
	pthread_barrier_wait(&filtered);
	for (;;) {
		thread_mode = prctl(PR_GET_SECCOMP);
		usleep(10000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	bool in_thread = argc > 1 && !strcmp(argv[1], "-t");
	pthread_t th;
	int r;

	target_init();
	if (in_thread) {
		/* no_new_privs on both threads (the thread inherits it): only
		 * the filter differs */
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			target_fail("no_new_privs: %s", strerror(errno));
		pthread_barrier_init(&filtered, NULL, 2);
		if (pthread_create(&th, NULL, filtered_thread, NULL))
			target_fail("pthread_create");
		pthread_barrier_wait(&filtered);
	} else if ((r = filter_self()) < 0) {
		target_fail("seccomp: %s", strerror(-r));
	}
	target_ready();
	target_wait();
	if (in_thread) {
		usleep(50000);
		if (prctl(PR_GET_SECCOMP) != 0)
			target_fail("the main thread is filtered");
		if (thread_mode != SECCOMP_MODE_FILTER)
			target_fail("the thread is no longer under its seccomp filter (%d)",
				    thread_mode);
	} else if (prctl(PR_GET_SECCOMP) != SECCOMP_MODE_FILTER) {
		target_fail("no longer under a seccomp filter");
	}
	target_pass();
}
