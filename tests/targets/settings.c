/* Task-settings target: signal handlers (flags, masks), the blocked mask,
 * pending signals (thread and process queues, with queued values), a
 * sigaltstack, itimers, POSIX timers, cwd, umask, rlimits, timer slack,
 * personality and comm. All are read back before ready and compared after
 * SIGUSR1; pending signals are then taken and their siginfo checked, and a
 * signal is delivered to see the handler run on the alternate stack.
 * A second thread has a mask, a pending thread-directed signal and an
 * alternate stack of its own, checked the same way.
 *
 *	settings */
#include <pthread.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "target.h"

#define ALTSTACK_SIZE	(64u << 10)
#define SIG_RT_Q	(SIGRTMIN + 3)
#define SIG_TIMER	(SIGRTMIN + 5)

static const int handled[] = { SIGUSR2, SIGHUP, SIGPIPE, SIGTERM, SIGWINCH, SIGINT };
static struct sigaction saved_sa[sizeof(handled) / sizeof(handled[0])];
static struct sigaction saved_rt;
static sigset_t saved_blocked;
static stack_t saved_ss;
static struct itimerval saved_real, saved_virt;
static timer_t timer_mono, timer_none;
static struct itimerspec saved_mono;
static char saved_cwd[4200];
static struct rlimit saved_nofile, saved_stack, saved_msgq, saved_core;
static char *altstack;
static volatile sig_atomic_t usr2_on_altstack, usr2_calls;

#define SIG_T2		(SIGRTMIN + 7)
#define T2_STACK_SIZE	(32u << 10)
static pthread_t t2;
static pid_t t2_tid;
static char *t2_stack;
static pthread_mutex_t t2_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t t2_cond = PTHREAD_COND_INITIALIZER;
static int t2_state;		/* 1: set up, 2: go check */
static const char *t2_fail;

static void on_usr2(int sig, siginfo_t *si, void *uc)
{
	char here;

	usr2_calls++;
	usr2_on_altstack = &here >= altstack && &here < altstack + ALTSTACK_SIZE;
}

static void on_rt(int sig)
{
}

static void setup_signals(void)
{
	struct sigaction sa = { .sa_sigaction = on_usr2,
				.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK };
	sigset_t block;
	union sigval v;

	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGQUIT);
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	/* the harness's shell starts background jobs with SIGINT ignored */
	signal(SIGINT, SIG_DFL);
	sa = (struct sigaction){ .sa_handler = on_rt, .sa_flags = SA_NODEFER | SA_RESETHAND };
	sigfillset(&sa.sa_mask);
	sigdelset(&sa.sa_mask, SIGUSR1);
	sigaction(SIGWINCH, &sa, NULL);
	sa = (struct sigaction){ .sa_handler = on_rt, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	sigaction(SIG_RT_Q, &sa, NULL);

	altstack = malloc(ALTSTACK_SIZE);
	target_fill(altstack, ALTSTACK_SIZE, 77);
	stack_t ss = { .ss_sp = altstack, .ss_size = ALTSTACK_SIZE };
	if (sigaltstack(&ss, NULL))
		target_fail("sigaltstack: %s", strerror(errno));

	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIG_RT_Q);
	sigaddset(&block, SIGWINCH);
	sigaddset(&block, SIG_TIMER);
	sigprocmask(SIG_BLOCK, &block, NULL);

	/* thread-directed, process-directed, and two queued RT instances */
	syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2);
	kill(getpid(), SIGWINCH);
	v.sival_int = 0x1234;
	sigqueue(getpid(), SIG_RT_Q, v);
	v.sival_int = 0x5678;
	sigqueue(getpid(), SIG_RT_Q, v);

	for (unsigned i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		sigaction(handled[i], NULL, &saved_sa[i]);
	sigaction(SIG_RT_Q, NULL, &saved_rt);
	sigprocmask(SIG_BLOCK, NULL, &saved_blocked);
	sigaltstack(NULL, &saved_ss);
}

static int same_sa(const struct sigaction *a, const struct sigaction *b)
{
	return a->sa_handler == b->sa_handler && a->sa_flags == b->sa_flags &&
	       !memcmp(&a->sa_mask, &b->sa_mask, 8);
}

static void take(int sig, int code, int value)
{
	struct timespec ts = { 0, 0 };
	siginfo_t si;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	if (sigtimedwait(&set, &si, &ts) != sig)
		target_fail("signal %d no longer pending", sig);
	/* kernels differ on tgkill's si_code (SI_TKILL or SI_USER) */
	if (si.si_code != code && !(code == SI_TKILL && si.si_code == SI_USER))
		target_fail("signal %d: si_code %d, expected %d", sig, si.si_code, code);
	if (si.si_pid != getpid())
		target_fail("signal %d: si_pid %d, expected %d", sig, si.si_pid, getpid());
	if (code == SI_QUEUE && si.si_value.sival_int != value)
		target_fail("signal %d: queued value %#x, expected %#x", sig,
			    si.si_value.sival_int, value);
}

static void check_signals(void)
{
	struct sigaction sa;
	sigset_t blocked, pending;
	stack_t ss;

	for (unsigned i = 0; i < sizeof(handled) / sizeof(handled[0]); i++) {
		sigaction(handled[i], NULL, &sa);
		if (!same_sa(&sa, &saved_sa[i]))
			target_fail("sigaction of signal %d differs", handled[i]);
	}
	sigaction(SIG_RT_Q, NULL, &sa);
	if (!same_sa(&sa, &saved_rt))
		target_fail("sigaction of signal %d differs", SIG_RT_Q);
	sigprocmask(SIG_BLOCK, NULL, &blocked);
	if (memcmp(&blocked, &saved_blocked, 8))
		target_fail("blocked mask %#lx, expected %#lx", *(unsigned long *)&blocked,
			    *(unsigned long *)&saved_blocked);
	sigaltstack(NULL, &ss);
	if (ss.ss_sp != saved_ss.ss_sp || ss.ss_size != saved_ss.ss_size ||
	    ss.ss_flags != saved_ss.ss_flags)
		target_fail("sigaltstack %p/%zu/%d, expected %p/%zu/%d", ss.ss_sp, ss.ss_size,
			    ss.ss_flags, saved_ss.ss_sp, saved_ss.ss_size, saved_ss.ss_flags);
	sigpending(&pending);
	if (!sigismember(&pending, SIGUSR2) || !sigismember(&pending, SIGWINCH) ||
	    !sigismember(&pending, SIG_RT_Q))
		target_fail("pending signals lost: %#lx", *(unsigned long *)&pending);
	/* the handler will use the top of the alternate stack: the rest
	 * must still hold what was written there */
	if (target_check(altstack, ALTSTACK_SIZE / 2, 77) >= 0)
		target_fail("alternate stack memory differs");
	take(SIGUSR2, SI_TKILL, 0);
	take(SIGWINCH, SI_USER, 0);
	take(SIG_RT_Q, SI_QUEUE, 0x1234);
	take(SIG_RT_Q, SI_QUEUE, 0x5678);
	sigpending(&pending);
	if (sigismember(&pending, SIG_RT_Q))
		target_fail("a third signal %d appeared", SIG_RT_Q);
	/* the handler runs, on the alternate stack */
	raise(SIGUSR2);
	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_UNBLOCK, &usr2, NULL);
	if (usr2_calls != 1 || !usr2_on_altstack)
		target_fail("SIGUSR2 handler: %d calls, on altstack %d", usr2_calls, usr2_on_altstack);
}

/* The second thread: SIGUSR2 and SIG_T2 blocked, SIG_T2 pending for it
 * alone (with a value), its own alternate stack. */
static void *t2_main(void *arg)
{
	stack_t ss = { .ss_size = T2_STACK_SIZE }, now;
	sigset_t block, mask, pending;
	siginfo_t si;
	struct timespec ts = { 0, 0 };
	union sigval v = { .sival_int = 0x7272 };

	sigemptyset(&block);
	sigaddset(&block, SIG_T2);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIG_RT_Q);
	sigaddset(&block, SIGWINCH);
	sigaddset(&block, SIG_TIMER);
	sigaddset(&block, SIGUSR1);	/* SIGUSR1 is the main thread's */
	pthread_sigmask(SIG_SETMASK, &block, NULL);
	t2_stack = malloc(T2_STACK_SIZE);
	ss.ss_sp = t2_stack;
	sigaltstack(&ss, NULL);
	t2_tid = gettid();
	if (pthread_sigqueue(pthread_self(), SIG_T2, v))
		t2_fail = "pthread_sigqueue failed";

	pthread_mutex_lock(&t2_lock);
	t2_state = 1;
	pthread_cond_broadcast(&t2_cond);
	while (t2_state != 2)
		pthread_cond_wait(&t2_cond, &t2_lock);
	pthread_mutex_unlock(&t2_lock);

	pthread_sigmask(SIG_BLOCK, NULL, &mask);
	sigaltstack(NULL, &now);
	sigpending(&pending);
	if (gettid() != t2_tid)
		t2_fail = "second thread: tid changed";
	else if (memcmp(&mask, &block, 8))
		t2_fail = "second thread: blocked mask differs";
	else if (now.ss_sp != t2_stack || now.ss_size != T2_STACK_SIZE)
		t2_fail = "second thread: sigaltstack differs";
	else if (!sigismember(&pending, SIG_T2))
		t2_fail = "second thread: its pending signal is lost";
	else {
		sigemptyset(&mask);
		sigaddset(&mask, SIG_T2);
		if (sigtimedwait(&mask, &si, &ts) != SIG_T2 || si.si_code != SI_QUEUE ||
		    si.si_value.sival_int != 0x7272)
			t2_fail = "second thread: pending signal's siginfo differs";
	}
	return NULL;
}

static void setup_thread(void)
{
	if (pthread_create(&t2, NULL, t2_main, NULL))
		target_fail("pthread_create");
	pthread_mutex_lock(&t2_lock);
	while (t2_state != 1)
		pthread_cond_wait(&t2_cond, &t2_lock);
	pthread_mutex_unlock(&t2_lock);
	if (t2_fail)
		target_fail("%s", t2_fail);
}

static void check_thread(void)
{
	pthread_mutex_lock(&t2_lock);
	t2_state = 2;
	pthread_cond_broadcast(&t2_cond);
	pthread_mutex_unlock(&t2_lock);
	pthread_join(t2, NULL);
	if (t2_fail)
		target_fail("%s", t2_fail);
}

static void setup_timers(void)
{
	struct itimerval real = { { 500, 0 }, { 1000, 0 } };
	struct itimerval virt = { { 0, 0 }, { 2000, 0 } };
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIG_TIMER };
	struct itimerspec its = { { 100, 0 }, { 3000, 0 } };

	setitimer(ITIMER_REAL, &real, NULL);
	setitimer(ITIMER_VIRTUAL, &virt, NULL);
	sev.sigev_value.sival_int = 0xabcd;
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer_mono))
		target_fail("timer_create: %s", strerror(errno));
	timer_settime(timer_mono, 0, &its, NULL);
	sev = (struct sigevent){ .sigev_notify = SIGEV_NONE };
	if (timer_create(CLOCK_REALTIME, &sev, &timer_none))
		target_fail("timer_create: %s", strerror(errno));
	its = (struct itimerspec){ { 0, 0 }, { 5000, 0 } };
	timer_settime(timer_none, 0, &its, NULL);
	getitimer(ITIMER_REAL, &saved_real);
	getitimer(ITIMER_VIRTUAL, &saved_virt);
	timer_gettime(timer_mono, &saved_mono);
}

static void check_timers(void)
{
	struct itimerval it;
	struct itimerspec its;

	getitimer(ITIMER_REAL, &it);
	if (it.it_interval.tv_sec != 500 || it.it_value.tv_sec > saved_real.it_value.tv_sec ||
	    it.it_value.tv_sec < 700)
		target_fail("ITIMER_REAL: interval %lds value %lds, expected 500s and %ld..700s",
			    it.it_interval.tv_sec, it.it_value.tv_sec, saved_real.it_value.tv_sec);
	getitimer(ITIMER_VIRTUAL, &it);
	if (it.it_value.tv_sec < 1990 || it.it_value.tv_sec > 2000)
		target_fail("ITIMER_VIRTUAL: value %lds, expected about 2000s", it.it_value.tv_sec);
	if (timer_gettime(timer_mono, &its))
		target_fail("POSIX timer %p is gone: %s", timer_mono, strerror(errno));
	if (its.it_interval.tv_sec != 100 || its.it_value.tv_sec > saved_mono.it_value.tv_sec ||
	    its.it_value.tv_sec < 2700)
		target_fail("POSIX timer: interval %lds value %lds, expected 100s and %ld..2700s",
			    its.it_interval.tv_sec, its.it_value.tv_sec, saved_mono.it_value.tv_sec);
	if (timer_gettime(timer_none, &its))
		target_fail("second POSIX timer is gone: %s", strerror(errno));
	if (its.it_value.tv_sec < 4700 || its.it_value.tv_sec > 5000)
		target_fail("second POSIX timer: value %lds, expected about 5000s", its.it_value.tv_sec);
}

static void setup_fs_limits(void)
{
	char dir[4200];
	struct rlimit rl;

	snprintf(dir, sizeof(dir), "%s/cwd dir", target_dir());
	mkdir(dir, 0755);
	if (chdir(dir))
		target_fail("chdir %s: %s", dir, strerror(errno));
	if (!getcwd(saved_cwd, sizeof(saved_cwd)))
		target_fail("getcwd: %s", strerror(errno));
	umask(027);

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 777;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_STACK, &rl);
	rl.rlim_cur = 16 << 20;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < rl.rlim_cur)
		rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_STACK, &rl);
	getrlimit(RLIMIT_MSGQUEUE, &rl);
	rl.rlim_cur = 12345;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < rl.rlim_cur)
		rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_MSGQUEUE, &rl);
	rl = (struct rlimit){ 0, 1 << 30 };
	getrlimit(RLIMIT_CORE, &rl);
	rl.rlim_cur = 0;
	setrlimit(RLIMIT_CORE, &rl);
	getrlimit(RLIMIT_NOFILE, &saved_nofile);
	getrlimit(RLIMIT_STACK, &saved_stack);
	getrlimit(RLIMIT_MSGQUEUE, &saved_msgq);
	getrlimit(RLIMIT_CORE, &saved_core);

	prctl(PR_SET_TIMERSLACK, 123456ul);
	personality(PER_LINUX | ADDR_NO_RANDOMIZE);
	prctl(PR_SET_NAME, "settings-tgt");
}

static void check_rlimit(int res, const char *name, const struct rlimit *want)
{
	struct rlimit rl;

	getrlimit(res, &rl);
	if (rl.rlim_cur != want->rlim_cur || rl.rlim_max != want->rlim_max)
		target_fail("%s: %llu/%llu, expected %llu/%llu", name,
			    (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max,
			    (unsigned long long)want->rlim_cur, (unsigned long long)want->rlim_max);
}

static void check_fs_limits(void)
{
	char cwd[4200], name[16] = "";
	mode_t m;
	int slack;

	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, saved_cwd))
		target_fail("cwd is '%s', expected '%s'", cwd, saved_cwd);
	m = umask(027);
	if (m != 027)
		target_fail("umask %#o, expected 027", m);
	check_rlimit(RLIMIT_NOFILE, "RLIMIT_NOFILE", &saved_nofile);
	check_rlimit(RLIMIT_STACK, "RLIMIT_STACK", &saved_stack);
	check_rlimit(RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE", &saved_msgq);
	check_rlimit(RLIMIT_CORE, "RLIMIT_CORE", &saved_core);
	slack = prctl(PR_GET_TIMERSLACK);
	if (slack != 123456)
		target_fail("timer slack %d, expected 123456", slack);
	if (personality(0xffffffff) != (PER_LINUX | ADDR_NO_RANDOMIZE))
		target_fail("personality %#x", personality(0xffffffff));
	prctl(PR_GET_NAME, name);
	if (strcmp(name, "settings-tgt"))
		target_fail("comm '%s', expected 'settings-tgt'", name);
}

int main(void)
{
	target_init();
	setup_fs_limits();
	setup_timers();
	setup_signals();
	setup_thread();
	target_note("thread %d", t2_tid);

	target_ready();
	target_wait();

	check_fs_limits();
	check_timers();
	check_signals();
	check_thread();
	target_pass();
}
