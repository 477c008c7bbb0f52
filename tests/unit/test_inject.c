/* daemon/inject.c (with freeze.c to hold the target): syscalls injected
 * into a forked child asleep in pause() return what they should; the
 * registers go back exactly as caught; the scratch page comes and goes
 * without a trace in the maps; the child's pause() goes on undisturbed,
 * and a signal sent while it is held interrupts it with EINTR after the
 * handler ran, as without a dump (the child checks both and reports
 * through its exit status); and the restart fix-up turns each -ERESTART*
 * into the registers the kernel would make. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/dump.h"
#include "daemon/inject.h"

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	go = 1;
}

/* The child: sleeps in pause(); exit 0 if every return was a plain EINTR
 * from the SIGUSR1 that ends it, 1 otherwise. */
static pid_t spawn_sleeper(void)
{
	int p[2];
	pid_t pid;
	char c;

	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1 };

		sigaction(SIGUSR1, &sa, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* a failed test leaves nothing */
		close(p[0]);
		if (write(p[1], "r", 1) != 1)
			_exit(2);
		while (!go) {
			long r = syscall(SYS_pause);

			if (r != -1 || errno != EINTR)
				_exit(1);
		}
		_exit(0);
	}
	close(p[1]);
	cr_assert_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	usleep(50000);		/* into pause() */
	return pid;
}

static char *read_maps(pid_t pid)
{
	char path[64], *buf = NULL;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	cr_assert_eq(read_file_at(AT_FDCWD, path, &buf, NULL), 0);
	return buf;
}

struct held {
	struct dump_opts opts;
	struct kerndat kd;
	struct ckpt_err err;
	struct dump_ctx ctx;
};

static void hold(struct held *h, pid_t pid)
{
	memset(h, 0, sizeof(*h));
	h->opts.pid = pid;
	h->opts.leave_running = true;
	h->ctx.opts = &h->opts;
	h->ctx.kd = &h->kd;
	h->ctx.err = &h->err;
	h->ctx.dirfd = -1;
	cr_assert_eq(freeze_tree(&h->ctx), 0, "freeze: %s", h->err.msg);
	cr_assert_eq(h->ctx.tree.nr_tasks, 1);
}

/* Whether pid sleeps in pause() again: its wchan is the syscall's, not
 * ptrace_stop (a detached thread not yet run still shows the latter, and
 * /proc/PID/syscall names pause in both). */
static bool back_in_pause(pid_t pid)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	return read_file_at(AT_FDCWD, path, &buf, NULL) == 0 && strstr(buf, "pause");
}

/* Let the child go, and once it sleeps in pause() again, end it with
 * SIGUSR1. Not before: a signal that reaches a thread the kernel is
 * restarting a syscall for, after the restart and before user mode (it
 * may be preempted there), runs its handler and then the restarted
 * pause(), which sleeps on; that window is the kernel's, open for any
 * stopped and continued process, not the injection's. */
static void finish(struct held *h, pid_t pid)
{
	int status = 0;
	pid_t w = 0;

	release_tree(&h->ctx, false);
	pstree_free(&h->ctx.tree);
	for (int i = 0; i < 5000 && !back_in_pause(pid); i++)
		usleep(1000);
	kill(pid, SIGUSR1);
	for (int i = 0; i < 500 && w == 0; i++) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == 0)
			usleep(10000);
	}
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		cr_assert_fail("the child slept on in pause() after SIGUSR1");
	}
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the child's pause() saw something else than EINTR (status %#x)", status);
}

Test(inject, syscalls_scratch_and_maps)
{
	pid_t pid = spawn_sleeper();
	_cleanup_free_ char *before = read_maps(pid), *during = NULL, *after = NULL;
	unsigned long args[6] = { 0 };
	struct user_regs_struct live;
	struct held h;
	struct task *t;
	char buf[16];
	long ret;

	hold(&h, pid);
	t = h.ctx.tree.tasks[0];
	cr_assert_eq(t->threads[0].regs.orig_rax, SYS_pause, "caught in pause()");
	cr_assert_eq((long)t->threads[0].regs.rax, -514, "-ERESTARTNOHAND");

	cr_assert_eq(inject_prepare(t), 0);
	cr_assert_neq(t->syscall_ip, 0);
	cr_assert_neq(t->scratch, 0);
	during = read_maps(pid);
	cr_assert_str_neq(during, before, "the scratch page shows while mapped");

	cr_assert_eq(inject_syscall(t, &t->threads[0], SYS_getpid, args, &ret), 0);
	cr_assert_eq(ret, pid);
	/* the live thread now sits in a syscall-exit stop with its raw
	 * registers back: the kernel restarts pause() when it leaves */
	cr_assert_eq(ptrace(PTRACE_GETREGS, pid, NULL, &live), 0);
	cr_assert_eq(memcmp(&live, &t->threads[0].regs, sizeof(live)), 0);
	args[0] = (unsigned long)-1;
	cr_assert_eq(inject_syscall(t, &t->threads[0], SYS_close, args, &ret), 0);
	cr_assert_eq(ret, -EBADF, "a failure inside the target is its raw -errno");

	/* our writes and reads of the scratch page, and the target's */
	cr_assert_eq(inject_write(t, 100, "hello", 6), 0);
	cr_assert_eq(inject_read(t, 100, buf, 6), 0);
	cr_assert_str_eq(buf, "hello");
	args[0] = t->scratch;
	args[1] = 4096;
	cr_assert_eq(inject_syscall(t, &t->threads[0], SYS_getcwd, args, &ret), 0);
	cr_assert_gt(ret, 0);
	cr_assert_eq(inject_read(t, 0, buf, 2), 0);
	cr_assert_eq(buf[0], '/');
	cr_assert_eq(inject_read(t, 4090, buf, 16), -EINVAL, "reads stay inside the scratch page");

	cr_assert_eq(inject_finish(t), 0);
	cr_assert_eq(t->scratch, 0);
	after = read_maps(pid);
	cr_assert_str_eq(after, before, "the maps are exactly as before");
	args[0] = 0;
	cr_assert_eq(inject_syscall(t, &t->threads[0], SYS_getppid, args, &ret), 0,
		     "syscall_ip stays usable after inject_finish");
	cr_assert_eq(ret, getpid());
	finish(&h, pid);
}

/* SIGUSR1 arrives while the child is held and injected into: once let go,
 * its handler runs and pause() returns EINTR (the child exits 0); had the
 * registers gone back in restarted form, pause() would sleep on. */
Test(inject, signal_while_held)
{
	pid_t pid = spawn_sleeper();
	unsigned long args[6] = { 0 };
	struct held h;
	struct task *t;
	int status = 0;
	pid_t w = 0;
	long ret;

	hold(&h, pid);
	t = h.ctx.tree.tasks[0];
	cr_assert_eq(inject_prepare(t), 0);
	cr_assert_eq(kill(pid, SIGUSR1), 0);
	cr_assert_eq(inject_syscall(t, &t->threads[0], SYS_getpid, args, &ret), 0);
	cr_assert_eq(ret, pid, "the pending signal waits while we inject");
	cr_assert_eq(inject_finish(t), 0);
	release_tree(&h.ctx, false);
	pstree_free(&h.ctx.tree);
	for (int i = 0; i < 300 && w == 0; i++) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == 0)
			usleep(10000);
	}
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		cr_assert_fail("pause() slept on after the signal's handler ran");
	}
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the child's pause() saw something else than EINTR (status %#x)", status);
}

Test(inject, restart_fixup)
{
	struct user_regs_struct r = { 0 };
	static const struct { long rax, want_rax; } cases[] = {
		{ -512, 7 }, { -513, 7 }, { -514, 7 }, { -516, SYS_restart_syscall },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		r.orig_rax = 7;
		r.rax = cases[i].rax;
		r.rip = 0x1002;
		inject_restart_fixup(&r);
		cr_assert_eq(r.rax, (unsigned long long)cases[i].want_rax);
		cr_assert_eq(r.rip, 0x1000);
		cr_assert_eq((long)r.orig_rax, -1);
	}
	/* not in a syscall, or a syscall that finished: untouched */
	r.orig_rax = -1;
	r.rax = -512;
	r.rip = 0x1002;
	inject_restart_fixup(&r);
	cr_assert_eq((long)r.rax, -512);
	cr_assert_eq(r.rip, 0x1002);
	r.orig_rax = 0;
	r.rax = -4;	/* -EINTR */
	inject_restart_fixup(&r);
	cr_assert_eq((long)r.rax, -4);
	cr_assert_eq(r.orig_rax, 0);
}

Test(inject, refuses_without_prepare)
{
	pid_t pid = spawn_sleeper();
	unsigned long args[6] = { 0 };
	struct held h;
	char buf[8];
	long ret;

	hold(&h, pid);
	cr_assert_eq(inject_syscall(h.ctx.tree.tasks[0], &h.ctx.tree.tasks[0]->threads[0],
				    SYS_getpid, args, &ret), -EINVAL, "no syscall_ip yet");
	cr_assert_eq(inject_read(h.ctx.tree.tasks[0], 0, buf, 8), -EINVAL, "no scratch yet");
	finish(&h, pid);
}
