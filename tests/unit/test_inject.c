/* daemon/inject.c (with freeze.c to hold the target): syscalls injected
 * into a forked child asleep in pause() return what they should; the
 * registers go back exactly as caught; the scratch page comes and goes
 * without a trace in the maps; the child's pause() goes on undisturbed,
 * and a signal sent while it is held interrupts it with EINTR after the
 * handler ran, as without a dump (the child checks both and reports
 * through its exit status); the restart fix-up turns each -ERESTART*
 * into the registers the kernel would make; and the syscall-site finder
 * sees a `syscall` instruction that straddles two of its reads, and keeps
 * out of a range it is told to avoid (the restore's blob region). */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
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

/* Wait (up to tries * 10 ms) for the child to exit and assert it did so
 * with 0, its pause() having seen only EINTR; a child still asleep is
 * killed and the test fails with why. */
static void expect_clean_exit(pid_t pid, int tries, const char *asleep)
{
	int status = 0;
	pid_t w = 0;

	for (int i = 0; i < tries && w == 0; i++) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == 0)
			usleep(10000);
	}
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		cr_assert_fail("%s", asleep);
	}
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the child's pause() saw something else than EINTR (status %#x)", status);
}

/* Let the child go, and once it sleeps in pause() again, end it with
 * SIGUSR1. Not before: a signal that reaches a thread the kernel is
 * restarting a syscall for, after the restart and before user mode (it
 * may be preempted there), runs its handler and then the restarted
 * pause(), which sleeps on; that window is the kernel's, open for any
 * stopped and continued process, not the injection's. */
static void finish(struct held *h, pid_t pid)
{
	release_tree(&h->ctx, false);
	pstree_free(&h->ctx.tree);
	for (int i = 0; i < 5000 && !back_in_pause(pid); i++)
		usleep(1000);
	kill(pid, SIGUSR1);
	expect_clean_exit(pid, 500, "the child slept on in pause() after SIGUSR1");
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
	expect_clean_exit(pid, 300, "pause() slept on after the signal's handler ran");
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

/* A child whose only executable mappings are two of ours: A holds a
 * `syscall` instruction (never run) at A + 16, B runs a loop whose only
 * `syscall` instruction straddles B + 64 KiB (the finder reads a mapping
 * in chunks of 64 KiB or a divisor of it). The child itself unmaps
 * everything else (libc, its stack, the vdso) through that instruction,
 * then spins. */
#define STRADDLE_SIZE	(128u << 10)
#define STRADDLE_AT	(64u << 10)
#define USER_TOP	0x7ffffffff000ul	/* 47-bit user space */

struct straddler {
	unsigned char *a, *b;	/* a: 4 KiB, then 4 KiB PROT_NONE, then b */
	pid_t pid;
};

static unsigned char *emit(unsigned char *p, const void *bytes, size_t n)
{
	memcpy(p, bytes, n);
	return p + n;
}

static unsigned char *emit_imm64(unsigned char *p, unsigned char op, unsigned long v)
{
	*p++ = 0x48;	/* movabs op, v */
	*p++ = op;
	return emit(p, &v, 8);
}

/* munmap(start, len), jumping to the `syscall` at b + STRADDLE_AT */
static unsigned char *emit_munmap(unsigned char *p, unsigned char *b, unsigned long start,
				  unsigned long len)
{
	static const unsigned char mov_eax_11[] = { 0xb8, 11, 0, 0, 0 };
	int32_t rel;

	p = emit(p, mov_eax_11, sizeof(mov_eax_11));
	p = emit_imm64(p, 0xbf, start);			/* rdi */
	p = emit_imm64(p, 0xbe, len);			/* rsi */
	rel = (int32_t)((b + STRADDLE_AT - 1) - (p + 5));
	*p++ = 0xe9;					/* jmp rel32 */
	return emit(p, &rel, 4);
}

static void write_straddler(unsigned char *a, unsigned char *b)
{
	static const unsigned char xor_r12[] = { 0x45, 0x31, 0xe4 };
	static const unsigned char test_r12_jnz[] = { 0x4d, 0x85, 0xe4, 0x75, 36 };
	static const unsigned char mov_r12_1[] = { 0x41, 0xbc, 1, 0, 0, 0 };
	static const unsigned char spin[] = { 0xeb, 0xfe };
	unsigned char *p = b, *end = b + STRADDLE_SIZE;

	a[16] = 0x0f;
	a[17] = 0x05;
	/* first pass (r12 = 0): unmap everything below a */
	p = emit(p, xor_r12, sizeof(xor_r12));
	p = emit_munmap(p, b, 0, (unsigned long)a);
	b[STRADDLE_AT - 1] = 0x0f;
	b[STRADDLE_AT] = 0x05;
	/* back from the syscall: second pass unmaps everything above b */
	p = b + STRADDLE_AT + 1;
	p = emit(p, test_r12_jnz, sizeof(test_r12_jnz));
	p = emit(p, mov_r12_1, sizeof(mov_r12_1));
	p = emit_munmap(p, b, (unsigned long)end, USER_TOP - (unsigned long)end);
	emit(p, spin, sizeof(spin));
}

/* The kernel writes a thread's rseq area (in its TLS) on its way back to
 * user mode: once the child unmapped it, that would be a SIGSEGV. glibc
 * registered 32 bytes, or __rseq_size. */
static void drop_rseq(void)
{
	char *tp;

	if (__rseq_size == 0)
		return;
	__asm__ volatile("mov %%fs:0, %0" : "=r"(tp));
	if (syscall(SYS_rseq, tp + __rseq_offset, __rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) < 0)
		syscall(SYS_rseq, tp + __rseq_offset, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
}

static void spawn_straddler(struct straddler *s)
{
	size_t len = 8192 + STRADDLE_SIZE;
	unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	_cleanup_free_ char *maps = NULL;

	cr_assert_neq(m, MAP_FAILED);
	s->a = m;
	s->b = m + 8192;
	write_straddler(s->a, s->b);
	cr_assert_eq(mprotect(s->a, 4096, PROT_READ | PROT_EXEC), 0);
	cr_assert_eq(mprotect(s->a + 4096, 4096, PROT_NONE), 0);
	cr_assert_eq(mprotect(s->b, STRADDLE_SIZE, PROT_READ | PROT_EXEC), 0);
	s->pid = fork();
	cr_assert_geq(s->pid, 0);
	if (s->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		drop_rseq();
		((void (*)(void))s->b)();
		_exit(3);	/* not reached */
	}
	for (int i = 0; i < 200; i++) {	/* until it unmapped its stack */
		free(maps);
		maps = read_maps(s->pid);
		if (!strstr(maps, "[stack]"))
			break;
		usleep(10000);
	}
	cr_assert_null(strstr(maps, "[stack]"), "the child unmapped the rest: %s", maps);
	/* once more: the maps are read a few lines at a time, and the read
	 * that saw the stack gone may have seen libc before it went */
	free(maps);
	maps = read_maps(s->pid);
	cr_assert_null(strstr(maps, "libc"), "%s", maps);
	cr_assert_eq(strtoul(maps, NULL, 16), (unsigned long)s->a, "A comes first: %s", maps);
}

Test(inject, syscall_site_straddling_and_avoided)
{
	unsigned long a, b, ip = 0, args[6] = { 0 };
	_cleanup_free_ char *maps = NULL;
	struct straddler s;
	struct held h;
	struct task *t;
	int status;
	long ret;

	spawn_straddler(&s);
	a = (unsigned long)s.a;
	b = (unsigned long)s.b;
	cr_assert_eq(inject_find_syscall(s.pid, 0, 0, &ip), 0);
	cr_assert_eq(ip, a + 16, "the first site, in A");
	cr_assert_eq(inject_find_syscall(s.pid, a, a + 4096, &ip), 0,
		     "the site straddling B + 64 KiB is found with A avoided");
	cr_assert_eq(ip, b + STRADDLE_AT - 1);
	cr_assert_eq(inject_find_syscall(s.pid, a + 100, b + 1, &ip), -ENOEXEC,
		     "no site outside a range overlapping both mappings");

	/* run through that site what the restore runs: munmap of another
	 * mapping (A) from outside it */
	hold(&h, s.pid);
	t = h.ctx.tree.tasks[0];
	cr_assert_eq(inject_find_syscall(s.pid, a, a + 4096, &t->syscall_ip), 0);
	cr_assert_eq(inject_syscall(t, &t->threads[0], SYS_getpid, args, &ret), 0);
	cr_assert_eq(ret, s.pid);
	args[0] = a;
	args[1] = 4096;
	cr_assert_eq(inject_syscall(t, &t->threads[0], SYS_munmap, args, &ret), 0);
	cr_assert_eq(ret, 0);
	maps = read_maps(s.pid);
	cr_assert_eq(strtoul(maps, NULL, 16), a + 4096, "A is gone: %s", maps);
	release_tree(&h.ctx, false);
	pstree_free(&h.ctx.tree);
	kill(s.pid, SIGKILL);
	cr_assert_eq(waitpid(s.pid, &status, 0), s.pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		  "the child spun on until killed (status %#x)", status);
	munmap(s.a, 8192 + STRADDLE_SIZE);
}
