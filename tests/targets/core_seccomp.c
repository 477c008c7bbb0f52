/* Seccomp target: threads under different filters, which a dump saves and
 * a restore installs again, thread by thread. After SIGUSR1 it checks
 * from inside that every filtered call is still denied, exactly per
 * thread, and that the unfiltered main thread is still free.
 *
 *	core_seccomp [-s | -p]
 *
 * (no option) the main thread sets no_new_privs and no filter; thread A
 *	installs one denying getpid() with EPERM (SECCOMP_FILTER_FLAG_LOG,
 *	kept in the metadata); thread B a chain of three: uname() denied
 *	with EACCES, getppid() killing the thread (SECCOMP_RET_KILL_THREAD),
 *	prctl() killing the process (the dump injects prctl() in every
 *	thread: it must get past the filters, and so must the restore's).
 *	After the restore A's getpid() and B's uname() fail as they did, B
 *	dies of its getppid() (the process lives on), and the main thread's
 *	getpid(), getppid() and uname() still work.
 * -s	a thread in strict mode (which a dump refuses).
 * -p	the only thread installs an allow-all filter without no_new_privs
 *	(as root, with CAP_SYS_ADMIN), then drops CAP_SYS_ADMIN: the
 *	restorer could not install the filter again, so a dump refuses. */
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/utsname.h>

#include "target.h"

#define DENY(sysno, ret) \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)), \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (sysno), 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, (ret)), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static pthread_barrier_t filtered;
static volatile int check_now, a_result, b_result, b_tid;

static int install(struct sock_filter *f, unsigned short len, unsigned flags)
{
	struct sock_fprog prog = { len, f };

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) < 0)
		return -errno;
	return 0;
}

static void block_usr1(void)
{
	sigset_t s;

	/* target_on_usr1 calls getpid(): not in a filtered thread */
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
}

static void *thread_a(void *arg)
{
	struct sock_filter f[] = { DENY(__NR_getpid, SECCOMP_RET_ERRNO | EPERM) };
	int r;

	block_usr1();
	r = install(f, 4, SECCOMP_FILTER_FLAG_LOG);
	if (r < 0)
		target_fail("thread A: seccomp: %s", strerror(-r));
	pthread_barrier_wait(&filtered);
	while (!check_now)
		usleep(10000);
	errno = 0;
	if (syscall(SYS_getpid) != -1 || errno != EPERM)
		a_result = 1;	/* the filter is gone */
	else if (prctl(PR_GET_SECCOMP) != SECCOMP_MODE_FILTER)
		a_result = 2;
	else
		a_result = 3;
	return arg;
}

static void *thread_b(void *arg)
{
	struct sock_filter f1[] = { DENY(__NR_uname, SECCOMP_RET_ERRNO | EACCES) };
	struct sock_filter f2[] = { DENY(__NR_getppid, SECCOMP_RET_KILL_THREAD) };
	struct sock_filter f3[] = { DENY(__NR_prctl, SECCOMP_RET_KILL_PROCESS) };
	struct utsname u;
	int r;

	block_usr1();
	b_tid = syscall(SYS_gettid);
	r = install(f1, 4, 0);
	if (r == 0)
		r = install(f2, 4, 0);
	if (r == 0)
		r = install(f3, 4, 0);
	if (r < 0)
		target_fail("thread B: seccomp: %s", strerror(-r));
	pthread_barrier_wait(&filtered);
	while (!check_now)
		usleep(10000);
	errno = 0;
	if (uname(&u) != -1 || errno != EACCES) {
		b_result = 1;
		for (;;)
			pause();
	}
	b_result = 2;
	syscall(SYS_getppid);	/* kills this thread */
	b_result = 3;		/* the kill filter is gone */
	for (;;)
		pause();
	return arg;
}

static void *strict_thread(void *arg)
{
	char c;
	int p[2];

	if (pipe(p))
		target_fail("pipe: %s", strerror(errno));
	pthread_barrier_wait(&filtered);
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) == 0)
		read(p[0], &c, 1);	/* sleeps until killed */
	target_fail("strict mode: %s", strerror(errno));
	return arg;
}

static bool thread_gone(int tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d", tid);
	return access(path, F_OK) < 0;
}

static void check_threads(void)
{
	struct utsname u;
	int i;

	check_now = 1;
	for (i = 0; i < 300 && (!a_result || !b_result || (b_result == 2 && !thread_gone(b_tid)));
	     i++)
		usleep(10000);
	if (a_result == 1)
		target_fail("thread A: getpid() is no longer denied");
	if (a_result != 3)
		target_fail("thread A: not under its filter (%d)", a_result);
	if (b_result == 1)
		target_fail("thread B: uname() is no longer denied");
	if (b_result == 3)
		target_fail("thread B: getppid() no longer kills it");
	if (!thread_gone(b_tid))
		target_fail("thread B (%d) is still alive after its getppid()", b_tid);
	if (syscall(SYS_getpid) < 0 || syscall(SYS_getppid) < 0 || uname(&u) < 0)
		target_fail("the main thread is filtered: %s", strerror(errno));
	if (prctl(PR_GET_SECCOMP) != 0)
		target_fail("the main thread is under seccomp");
}

static void drop_sys_admin(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		target_fail("capget: %s", strerror(errno));
	d[0].effective &= ~(1u << CAP_SYS_ADMIN);
	d[0].permitted &= ~(1u << CAP_SYS_ADMIN);
	d[0].inheritable &= ~(1u << CAP_SYS_ADMIN);
	if (syscall(SYS_capset, &h, d))
		target_fail("capset: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	pthread_t a, b;

	target_init();
	if (!strcmp(mode, "-s")) {
		pthread_barrier_init(&filtered, NULL, 2);
		if (pthread_create(&a, NULL, strict_thread, NULL))
			target_fail("pthread_create");
		pthread_barrier_wait(&filtered);
		usleep(100000);	/* into strict mode and read() */
		target_ready();
		target_wait();
		target_pass();
	}
	if (!strcmp(mode, "-p")) {
		struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
		int r = install(allow, 1, 0);

		if (r < 0)
			target_fail("seccomp without no_new_privs: %s", strerror(-r));
		drop_sys_admin();
		target_ready();
		target_wait();
		target_pass();
	}
	/* the threads inherit it: only the filters differ between them */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		target_fail("no_new_privs: %s", strerror(errno));
	pthread_barrier_init(&filtered, NULL, 3);
	if (pthread_create(&a, NULL, thread_a, NULL) || pthread_create(&b, NULL, thread_b, NULL))
		target_fail("pthread_create");
	pthread_barrier_wait(&filtered);
	target_ready();
	target_wait();
	check_threads();
	target_pass();
}
