/* Restart target: threads asleep in every kind of interrupted syscall a
 * dump catches (and injects syscalls into), each checking afterwards that
 * its syscall went on as if nothing happened: no EINTR, no -ERESTART*
 * (512..516) leaking to user space, no signal mask lost.
 *
 *   main	pause() in the wait loop: any return but EINTR fails
 *   sleeper	nanosleep(SLEEP_S) (-ERESTART_RESTARTBLOCK): returns 0, and
 *		not before SLEEP_S seconds have passed
 *   reader	read() on an empty pipe (-ERESTARTSYS): gets the byte main
 *		writes after SIGUSR1
 *   waiter	futex(FUTEX_WAIT) (-ERESTARTSYS): woken by main, returns 0
 *   poller	ppoll() with SIGUSR2 unblocked only while it sleeps
 *		(-ERESTARTNOHAND, saved sigmask): main sends SIGUSR2, the
 *		handler runs, ppoll says EINTR, and SIGUSR2 is blocked again
 *
 *	core_restart [SLEEP_S]	(default 4) */
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>

#include "target.h"

static int sleep_s = 4;
static int pipefd[2];
static uint32_t futex_word;
static volatile sig_atomic_t usr2_seen;
static char verdict[5][256];	/* "" = ok */
static volatile int started;

static void on_usr2(int sig)
{
	usr2_seen = 1;
}

static void note(int i, const char *fmt, long a, long b)
{
	snprintf(verdict[i], sizeof(verdict[i]), fmt, a, b);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *sleeper(void *arg)
{
	struct timespec req = { sleep_s, 0 };
	double t0 = now_s();
	long r;

	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	r = syscall(SYS_nanosleep, &req, NULL);
	if (r != 0)
		note(0, "nanosleep returned %ld errno %ld", r, errno);
	else if (now_s() - t0 < sleep_s - 0.05)
		note(0, "nanosleep returned after %ld ms of %ld s", (long)((now_s() - t0) * 1000), sleep_s);
	return NULL;
}

static void *reader(void *arg)
{
	char c = 0;
	long r;

	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	r = syscall(SYS_read, pipefd[0], &c, 1);
	if (r != 1 || c != 'x')
		note(1, "read returned %ld errno %ld", r, r < 0 ? errno : c);
	return NULL;
}

static void *waiter(void *arg)
{
	long r;

	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	do {
		r = syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	} while (r < 0 && errno == EAGAIN && !__atomic_load_n(&futex_word, __ATOMIC_SEQ_CST));
	if (r != 0 && !(r < 0 && errno == EAGAIN))
		note(2, "futex wait returned %ld errno %ld", r, errno);
	return NULL;
}

static void *poller(void *arg)
{
	sigset_t during, after;
	long r;

	sigemptyset(&during);
	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	r = syscall(SYS_ppoll, NULL, 0, NULL, &during, 8);
	if (r != -1 || errno != EINTR)
		note(3, "ppoll returned %ld errno %ld (want EINTR)", r, errno);
	else if (!usr2_seen)
		note(3, "ppoll returned EINTR before SIGUSR2 (%ld, %ld)", r, errno);
	pthread_sigmask(SIG_BLOCK, NULL, &after);
	if (!sigismember(&after, SIGUSR2))
		note(3, "SIGUSR2 no longer blocked after ppoll (%ld, %ld)", 0, 0);
	return NULL;
}

int main(int argc, char **argv)
{
	void *(*fn[4])(void *) = { sleeper, reader, waiter, poller };
	struct sigaction sa = { .sa_handler = on_usr2 };
	pthread_t th[4];
	sigset_t usr2;

	(void)target_wait;	/* its loop would hide a pause() gone wrong */
	if (argc > 1)
		sleep_s = atoi(argv[1]);
	target_init();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &usr2, NULL);	/* inherited by the threads */
	if (pipe(pipefd) < 0)
		target_fail("pipe: %s", strerror(errno));
	for (int i = 0; i < 4; i++)
		if (pthread_create(&th[i], NULL, fn[i], NULL))
			target_fail("pthread_create");
	while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < 4)
		usleep(1000);
	usleep(100000);		/* let them fall asleep in their syscalls */
	target_ready();
	while (!target_go) {
		long r = syscall(SYS_pause);

		if (r != -1 || errno != EINTR)
			target_fail("pause returned %ld errno %d", r, errno);
	}
	if (write(pipefd[1], "x", 1) != 1)
		target_fail("write: %s", strerror(errno));
	__atomic_store_n(&futex_word, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	pthread_kill(th[3], SIGUSR2);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 4; i++)
		if (verdict[i][0])
			target_fail("%s", verdict[i]);
	target_pass();
}
