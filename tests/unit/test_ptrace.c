/* daemon/ptrace.c: waiting for a set of threads takes only their events
 * (another child's exit stays for whoever waits for it, as the restore's
 * subreaper needs), and stepping a seized thread to its next syscall stop
 * hands back a signal that comes first. */
#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/ptrace.h"

static volatile sig_atomic_t got;

static void on_usr1(int sig)
{
	got = sig;
}

/* A child asleep in pause(): exits 0 once a SIGUSR1 handler ran and
 * pause() returned EINTR, 1 otherwise. */
static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1 };

		sigaction(SIGUSR1, &sa, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (syscall(SYS_pause) != -1 || errno != EINTR || got != SIGUSR1)
			_exit(1);
		_exit(0);
	}
	return pid;
}

Test(ptrace, wait_any_takes_only_its_own)
{
	pid_t sleeper = spawn_sleeper(), quick = fork(), set[2];
	unsigned idx = 99;
	int st = 0;

	cr_assert_geq(quick, 0);
	if (quick == 0)
		_exit(7);
	set[0] = sleeper;
	cr_assert_eq(ptrace_wait_any(set, 1, 200, &idx, &st), -ETIMEDOUT);
	cr_assert_eq(waitpid(quick, &st, 0), quick, "the other child's exit is still there");
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 7);

	set[1] = quick;		/* reaped: no longer ours to wait for */
	cr_assert_eq(ptrace_wait_any(set, 2, 1000, &idx, &st), -ESRCH);
	cr_assert_eq(idx, 1);
	kill(sleeper, SIGKILL);
	cr_assert_eq(ptrace_wait_any(set, 1, 5000, &idx, &st), 0);
	cr_assert_eq(idx, 0);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

Test(ptrace, to_syscall_hands_back_a_signal)
{
	pid_t pid = spawn_sleeper();
	struct user_regs_struct regs;
	int st, sig = 0;

	usleep(50000);		/* into pause() */
	cr_assert_eq(ptrace(PTRACE_SEIZE, pid, NULL, (void *)PTRACE_O_TRACESYSGOOD), 0);
	cr_assert_eq(ptrace(PTRACE_INTERRUPT, pid, NULL, NULL), 0);
	cr_assert_eq(ptrace_wait(pid, &st), 0);
	cr_assert(WIFSTOPPED(st));
	cr_assert_eq(kill(pid, SIGUSR1), 0);
	cr_assert_eq(ptrace_to_syscall(pid, 0, &sig), 0, "the signal comes first");
	cr_assert_eq(sig, SIGUSR1);
	cr_assert(ptrace_stop_signal(SIGTSTP) && !ptrace_stop_signal(sig));
	/* delivered now: the handler runs, its return is the next syscall */
	cr_assert_eq(ptrace_to_syscall(pid, sig, &sig), 1, "then a syscall stop");
	cr_assert_eq(ptrace(PTRACE_GETREGS, pid, NULL, &regs), 0);
	cr_assert_eq(regs.orig_rax, SYS_rt_sigreturn, "the handler's rt_sigreturn");
	cr_assert_eq(ptrace(PTRACE_DETACH, pid, NULL, NULL), 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
}
