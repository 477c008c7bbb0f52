/* prctl attributes that must come back:
 *   - the root: PR_SET_THP_DISABLE 1 and PR_SET_CHILD_SUBREAPER 1; its
 *     main thread named "ckpt-main", two more threads "ckpt-a", "ckpt-b";
 *     its own PR_SET_PDEATHSIG SIGUSR2 must not fire (its parent is not
 *     of the tree, so the restore drops it);
 *   - a child with PR_SET_PDEATHSIG SIGUSR2 (a handler counts deliveries);
 *   - a grandchild whose parent (a middle child) exited and was reaped: it
 *     was reparented to the root, the subreaper.
 * After SIGUSR1 the root checks its own flags and thread names, then wakes
 * the child and the grandchild; the child exits with the pdeathsig it
 * finds (0 if a SIGUSR2 came), leaving an orphan that must come to the
 * root, and the grandchild and the orphan exit with 0 if getppid() is the
 * root. */
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "target.h"

static volatile sig_atomic_t usr2_count;
static const char *const names[2] = { "ckpt-a", "ckpt-b" };
static pid_t root_pid;
static pthread_barrier_t named;
static pid_t tids[2];

static void on_usr2(int sig)
{
	(void)sig;
	usr2_count++;
}

static void *thread_main(void *arg)
{
	unsigned i = (unsigned)(unsigned long)arg;

	tids[i] = syscall(SYS_gettid);
	prctl(PR_SET_NAME, (unsigned long)names[i], 0, 0, 0);
	pthread_barrier_wait(&named);
	for (;;)
		pause();
	return NULL;
}

static void child(void)
{
	struct sigaction sa = { .sa_handler = on_usr2 };
	pid_t me = getpid();
	int sig = -1;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0) < 0)
		_exit(100);
	target_wait();
	if (prctl(PR_GET_PDEATHSIG, (unsigned long)&sig, 0, 0, 0) < 0)
		_exit(101);
	/* an orphan made after the restore must go to the root too */
	if (fork() == 0) {
		while (getppid() == me)
			usleep(1000);
		_exit(getppid() == root_pid ? 0 : 1);
	}
	_exit(usr2_count ? 102 : sig);
}

static void grandchild(void)
{
	target_wait();
	_exit(getppid() == root_pid ? 0 : 1);
}

/* The middle child forks the grandchild, says its pid and exits. */
static pid_t orphan(void)
{
	int p[2], st;
	pid_t mid, g = -1;

	if (pipe(p) < 0)
		target_fail("pipe: %s", strerror(errno));
	mid = fork();
	if (mid < 0)
		target_fail("fork: %s", strerror(errno));
	if (mid == 0) {
		g = fork();
		if (g == 0)
			grandchild();
		_exit(write(p[1], &g, sizeof(g)) == sizeof(g) && g > 0 ? 0 : 1);
	}
	close(p[1]);
	if (read(p[0], &g, sizeof(g)) != sizeof(g) || waitpid(mid, &st, 0) != mid ||
	    !WIFEXITED(st) || WEXITSTATUS(st))
		target_fail("the middle child failed");
	close(p[0]);
	return g;
}

static void check_comm(pid_t tid, const char *want)
{
	char path[64], buf[32] = "";
	int fd, n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		target_fail("%s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	if (strcmp(buf, want))
		target_fail("thread %d is named '%s', want '%s'", tid, buf, want);
}

static void reap(pid_t pid, int want, const char *who)
{
	int st;

	kill(pid, SIGUSR1);
	if (waitpid(pid, &st, 0) != pid)
		target_fail("%s %d: waitpid: %s (not our child?)", who, pid, strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != want)
		target_fail("%s %d: status 0x%x, want exit %d", who, pid, st, want);
}

int main(void)
{
	struct sigaction sa = { 0 };
	pid_t kid, g;
	pthread_t th[2];
	int v = -1;

	target_init();
	root_pid = getpid();
	/* the root's parent is not of the tree: a restore must not make
	 * the restore's own exit fire it */
	sa.sa_handler = on_usr2;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0) < 0 ||
	    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		target_fail("prctl: %s", strerror(errno));
	kid = fork();
	if (kid < 0)
		target_fail("fork: %s", strerror(errno));
	if (kid == 0)
		child();
	g = orphan();
	pthread_barrier_init(&named, NULL, 3);
	for (unsigned i = 0; i < 2; i++)
		if (pthread_create(&th[i], NULL, thread_main, (void *)(unsigned long)i))
			target_fail("pthread_create");
	pthread_barrier_wait(&named);
	prctl(PR_SET_NAME, (unsigned long)"ckpt-main", 0, 0, 0);
	target_ready();
	target_wait();

	if (usr2_count)
		target_fail("the root got its parent-death signal %d times", (int)usr2_count);
	v = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
	if (v != 1)
		target_fail("PR_GET_THP_DISABLE is %d, want 1", v);
	v = -1;
	if (prctl(PR_GET_CHILD_SUBREAPER, (unsigned long)&v, 0, 0, 0) < 0 || v != 1)
		target_fail("PR_GET_CHILD_SUBREAPER is %d, want 1", v);
	check_comm(root_pid, "ckpt-main");
	check_comm(tids[0], "ckpt-a");
	check_comm(tids[1], "ckpt-b");
	reap(kid, SIGUSR2, "child (exit = its pdeathsig)");
	reap(g, 0, "grandchild (exit 1: its parent is not the root)");
	if (waitpid(-1, &v, 0) < 0)
		target_fail("the child's orphan did not come to the root: waitpid: %s",
			    strerror(errno));
	if (!WIFEXITED(v) || WEXITSTATUS(v))
		target_fail("the child's orphan: status 0x%x", v);
	target_pass();
}
