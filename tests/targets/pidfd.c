/* pidfds a restore must bring back as pidfds of the same processes.
 *
 *	pidfd
 *
 * The parent forks a child (which sleeps until SIGTERM) and holds: a pidfd
 * of the child (pidfd_open), a dup of it (one description), a non-blocking
 * pidfd of the child, a non-blocking pidfd of itself, and where the kernel
 * has PIDFD_THREAD (Linux 6.9) a thread pidfd of itself. After SIGUSR1 it
 * checks each one's fdinfo (Pid:, O_NONBLOCK, PIDFD_THREAD = O_EXCL), that
 * the dup still shares its description (F_SETFL seen through both), then
 * uses them: the child's pidfd polls not ready, pidfd_send_signal(SIGTERM)
 * kills the child, poll then says it exited, and waitid(P_PIDFD) reaps it
 * killed by SIGTERM.
 *
 * With PIDFD_THREAD it also starts a thread (not the group leader) and
 * holds thread pidfds of it: one, a dup of it (one description) and a
 * non-blocking one. After the restore: their fdinfo names the thread's
 * tid, the dup shares its description (kcmp) but not its close-on-exec, pidfd_send_signal(SIGUSR2)
 * through the first reaches that thread (its handler records gettid()),
 * which then exits, and poll on the non-blocking one says so. */
#include <poll.h>
#include <pthread.h>
#include <linux/kcmp.h>
#include <sys/wait.h>

#include "target.h"

#ifndef P_PIDFD
#define P_PIDFD		3
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD	O_EXCL
#endif

static pid_t child;
static int pfd, pfd_dup, pfd_nb, self_nb, self_thread = -1;
static int th_pfd = -1, th_dup, th_nb;
static pthread_t thread;
static volatile pid_t thread_tid, usr2_tid;

static int pidfd_open(pid_t pid, unsigned flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

/* fd must be a pidfd of pid with (only) the flags of mask set. */
static void check_pidfd(const char *what, int fd, pid_t pid, int want_flags)
{
	char path[64], line[256];
	int got_pid = 0, flags = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		target_fail("%s: %s: %s", what, path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "Pid: %d", &got_pid);
		sscanf(line, "flags: %o", &flags);
	}
	fclose(f);
	if (got_pid != pid)
		target_fail("%s: fdinfo Pid %d, wanted %d", what, got_pid, pid);
	if ((flags & (O_NONBLOCK | PIDFD_THREAD)) != want_flags)
		target_fail("%s: flags %o, wanted %o", what, flags & (O_NONBLOCK | PIDFD_THREAD),
			    want_flags);
}

static void use_child_pidfd(void)
{
	struct pollfd p = { .fd = pfd, .events = POLLIN };
	siginfo_t si = { 0 };

	if (poll(&p, 1, 0) != 0)
		target_fail("the child's pidfd is ready before it exited");
	if (syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0) < 0)
		target_fail("pidfd_send_signal: %s", strerror(errno));
	if (poll(&p, 1, 5000) != 1 || !(p.revents & POLLIN))
		target_fail("the child's pidfd did not say it exited");
	if (waitid(P_PIDFD, (id_t)pfd, &si, WEXITED) < 0)
		target_fail("waitid(P_PIDFD): %s", strerror(errno));
	if (si.si_pid != child || si.si_code != CLD_KILLED || si.si_status != SIGTERM)
		target_fail("waitid: pid %d code %d status %d", si.si_pid, si.si_code,
			    si.si_status);
}

static void on_usr2(int sig)
{
	(void)sig;
	usr2_tid = (pid_t)syscall(SYS_gettid);
}

/* Sleeps until SIGUSR2 reaches it, then exits. */
static void *thread_main(void *arg)
{
	(void)arg;
	thread_tid = (pid_t)syscall(SYS_gettid);
	while (usr2_tid != thread_tid)
		pause();
	return NULL;
}

/* A pidfd of a thread that leads no thread group (Linux 6.9+). */
static void open_thread_pidfds(void)
{
	struct sigaction sa = { .sa_handler = on_usr2 };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	if (pthread_create(&thread, NULL, thread_main, NULL))
		target_fail("pthread_create failed");
	while (!thread_tid)
		usleep(1000);
	th_pfd = pidfd_open(thread_tid, PIDFD_THREAD);
	th_nb = pidfd_open(thread_tid, PIDFD_THREAD | O_NONBLOCK);
	if (th_pfd < 0 || th_nb < 0)
		target_fail("pidfd_open(thread %d): %s", thread_tid, strerror(errno));
	th_dup = dup(th_pfd);
}

static void use_thread_pidfds(void)
{
	struct pollfd p = { .fd = th_nb, .events = POLLIN };
	pid_t self = getpid();

	check_pidfd("thread's pidfd", th_pfd, thread_tid, PIDFD_THREAD);
	check_pidfd("its dup", th_dup, thread_tid, PIDFD_THREAD);
	check_pidfd("thread's non-blocking pidfd", th_nb, thread_tid, PIDFD_THREAD | O_NONBLOCK);
	if (!(fcntl(th_pfd, F_GETFD) & FD_CLOEXEC) || (fcntl(th_dup, F_GETFD) & FD_CLOEXEC))
		target_fail("the thread's pidfd lost O_CLOEXEC, or its dup gained it");
	if (syscall(SYS_kcmp, self, self, KCMP_FILE, th_pfd, th_dup) != 0)
		target_fail("the thread pidfd's dup no longer shares its description");
	if (syscall(SYS_kcmp, self, self, KCMP_FILE, th_pfd, th_nb) == 0)
		target_fail("the thread's two pidfds share one description");
	if (poll(&p, 1, 0) != 0)
		target_fail("the thread's pidfd is ready before the thread exited");
	if (syscall(SYS_pidfd_send_signal, th_pfd, SIGUSR2, NULL, 0) < 0)
		target_fail("pidfd_send_signal(thread): %s", strerror(errno));
	if (poll(&p, 1, 5000) != 1 || !(p.revents & POLLIN))
		target_fail("the thread's pidfd did not say it exited");
	if (usr2_tid != thread_tid)
		target_fail("SIGUSR2 through the thread's pidfd reached tid %d, not %d",
			    usr2_tid, thread_tid);
	pthread_join(thread, NULL);
}

int main(void)
{
	target_init();
	child = fork();
	if (child < 0)
		target_fail("fork: %s", strerror(errno));
	if (child == 0) {
		for (;;)
			pause();
	}
	pfd = pidfd_open(child, 0);
	pfd_nb = pidfd_open(child, O_NONBLOCK);
	self_nb = pidfd_open(getpid(), O_NONBLOCK);
	if (pfd < 0 || pfd_nb < 0 || self_nb < 0)
		target_fail("pidfd_open: %s", strerror(errno));
	pfd_dup = dup(pfd);
	self_thread = pidfd_open(getpid(), PIDFD_THREAD);	/* -1: Linux < 6.9 */
	if (self_thread >= 0)
		open_thread_pidfds();
	target_ready();
	target_wait();

	check_pidfd("child pidfd", pfd, child, 0);
	check_pidfd("its dup", pfd_dup, child, 0);
	check_pidfd("non-blocking child pidfd", pfd_nb, child, O_NONBLOCK);
	check_pidfd("non-blocking own pidfd", self_nb, getpid(), O_NONBLOCK);
	if (self_thread >= 0)
		check_pidfd("thread pidfd", self_thread, getpid(), PIDFD_THREAD);
	if (fcntl(pfd_dup, F_SETFL, O_NONBLOCK) < 0 || !(fcntl(pfd, F_GETFL) & O_NONBLOCK))
		target_fail("the dup no longer shares the child pidfd's description");
	fcntl(pfd, F_SETFL, 0);
	use_child_pidfd();
	if (th_pfd >= 0)
		use_thread_pidfds();
	target_pass();
}
