/* A process whose main thread has exited (pthread_exit) while a second
 * thread runs on: /proc/PID/task/PID reads Z. The second thread says
 * ready once the leader is a zombie, and after SIGUSR1 checks that it
 * still runs alone, beside its zombie leader. */
#include <pthread.h>
#include <stdbool.h>

#include "target.h"

static pid_t leader;

static char leader_state(void)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", leader, leader);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	p = p ? strrchr(buf, ')') : NULL;
	return p && p[1] ? p[2] : 0;
}

static void *worker(void *arg)
{
	int i;

	for (i = 0; i < 500 && leader_state() != 'Z'; i++)
		usleep(10000);
	if (leader_state() != 'Z')
		target_fail("the main thread is not a zombie");
	target_ready();
	target_wait();
	if (leader_state() != 'Z')
		target_fail("after: the main thread is not a zombie (%c)", leader_state());
	target_pass();
	return arg;
}

int main(void)
{
	pthread_t th;

	target_init();
	leader = getpid();
	if (pthread_create(&th, NULL, worker, NULL))
		target_fail("pthread_create");
	pthread_exit(NULL);
}
