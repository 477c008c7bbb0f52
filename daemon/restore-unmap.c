/* Restore, the engine's last duty (Documentation/restorer.md): the blob
 * can't unmap the region it runs from, so once a task resumed, the
 * intermediate process seizes it, checks that no thread's rip still lies
 * inside the region, injects munmap() and detaches. Waiting for that also
 * means that when restore_run returns, every thread has left the blob. */
#include "daemon/restore-int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/inject.h"
#include "daemon/pstree.h"

#define UNMAP_TRIES 500

static int list_threads(pid_t pid, struct task *tk)
{
	char path[64];
	struct dirent *de;
	unsigned cap = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return negerrno();
	while ((de = readdir(d))) {
		pid_t tid = atoi(de->d_name);

		if (tid <= 0)
			continue;
		if (tk->nr_threads == cap) {
			struct thread *nt;

			cap = cap ? cap * 2 : 8;
			nt = realloc(tk->threads, cap * sizeof(*nt));
			if (!nt) {
				closedir(d);
				return -ENOMEM;
			}
			tk->threads = nt;
		}
		tk->threads[tk->nr_threads++] = (struct thread){ .tid = tid };
	}
	closedir(d);
	return 0;
}

/* Run a seized thread to its next system call's entry (1), or until a signal
 * comes first (0, the signal in *ret_sig, for the caller to deliver on
 * detach). -ECHILD: the thread is gone; other -errno: ptrace failed. */
static int step_to_syscall_entry(pid_t tid, int *ret_sig)
{
	int st;

	for (int i = 0; i < 16; i++) {
		if (ptrace(PTRACE_SYSCALL, tid, NULL, NULL) < 0)
			return negerrno();
		while (waitpid(tid, &st, __WALL) < 0)
			if (errno != EINTR)
				return negerrno();
		if (!WIFSTOPPED(st))
			return -ECHILD;
		if (WSTOPSIG(st) == (SIGTRAP | 0x80))
			return 1;
		if (st >> 16 == PTRACE_EVENT_STOP)
			continue;
		*ret_sig = WSTOPSIG(st);
		return 0;
	}
	return 0;
}

/* Let a seized thread go. One that is about to (re)enter a system call
 * (pause(), read()... it slept in at dump time) is first walked into it,
 * so a signal sent once restore returned finds it inside the call and
 * interrupts it, as it would have before the dump. */
static void release_thread(struct thread *th)
{
	struct user_regs_struct regs;
	int sig = 0;
	long word;

	if (ptrace(PTRACE_GETREGS, th->tid, NULL, &regs) < 0)
		goto detach;
	inject_restart_fixup(&regs);
	if (ptrace(PTRACE_SETREGS, th->tid, NULL, &regs) < 0)
		goto detach;
	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, th->tid, (void *)(uintptr_t)regs.rip, NULL);
	if (errno || (word & 0xffff) != 0x050f)
		goto detach;
	if (step_to_syscall_entry(th->tid, &sig) == -ECHILD)
		return;
detach:
	ptrace(PTRACE_DETACH, th->tid, NULL, (void *)(long)sig);
	th->seized = false;
}

static void detach_all(struct task *tk)
{
	for (unsigned i = 0; i < tk->nr_threads; i++)
		if (tk->threads[i].seized)
			release_thread(&tk->threads[i]);
}

/* Seize and stop every thread; 1 if one still runs inside [start, end). */
static int seize_all(struct task *tk, uint64_t start, uint64_t end)
{
	int inside = 0;

	for (unsigned i = 0; i < tk->nr_threads; i++) {
		struct thread *th = &tk->threads[i];
		int st;

		if (ptrace(PTRACE_SEIZE, th->tid, NULL, (void *)PTRACE_O_TRACESYSGOOD) < 0)
			return negerrno();
		th->seized = true;
		if (ptrace(PTRACE_INTERRUPT, th->tid, NULL, NULL) < 0)
			return negerrno();
		while (waitpid(th->tid, &st, __WALL) < 0)
			if (errno != EINTR)
				return negerrno();
		if (!WIFSTOPPED(st))
			return -ESRCH;
		if (ptrace(PTRACE_GETREGS, th->tid, NULL, &th->regs) < 0)
			return negerrno();
		if (th->regs.rip >= start && th->regs.rip < end)
			inside = 1;
	}
	return inside;
}

/* A `syscall` instruction in an executable mapping outside [start, end). */
static uint64_t find_syscall_insn(pid_t pid, uint64_t start, uint64_t end)
{
	_cleanup_free_ char *maps = NULL;
	char path[64], *line, *save = NULL;
	unsigned char buf[4096];
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	if (read_file_at(AT_FDCWD, path, &maps, &len) < 0)
		return 0;
	for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long s, e;
		char perms[8];

		if (sscanf(line, "%llx-%llx %7s", &s, &e, perms) != 3 || perms[2] != 'x' ||
		    perms[0] != 'r' || strstr(line, "[vsyscall]") || (s < end && e > start))
			continue;
		for (uint64_t a = s; a < e; a += sizeof(buf)) {
			struct iovec l = { buf, sizeof(buf) }, r = { (void *)(uintptr_t)a, sizeof(buf) };

			if (process_vm_readv(pid, &l, 1, &r, 1, 0) != (ssize_t)sizeof(buf))
				break;
			for (size_t i = 0; i + 1 < sizeof(buf); i++)
				if (buf[i] == 0x0f && buf[i + 1] == 0x05)
					return a + i;
		}
	}
	return 0;
}

/* Run to the next syscall stop of tid, stepping over interrupt traps. */
static int to_syscall_stop(pid_t tid)
{
	for (int i = 0; i < 64; i++) {
		int st;

		if (ptrace(PTRACE_SYSCALL, tid, NULL, NULL) < 0)
			return negerrno();
		while (waitpid(tid, &st, __WALL) < 0)
			if (errno != EINTR)
				return negerrno();
		if (!WIFSTOPPED(st))
			return -ESRCH;
		if (WSTOPSIG(st) == (SIGTRAP | 0x80))
			return 0;
		if (st >> 16 == PTRACE_EVENT_STOP)
			continue;
		return -EIO;
	}
	return -EIO;
}

/* munmap(start, len) in the seized, stopped thread th, then its registers
 * and signal mask exactly as before. */
static int inject_munmap(struct thread *th, uint64_t ip, uint64_t start, uint64_t len)
{
	struct user_regs_struct regs = th->regs;
	uint64_t mask, all = ~0ull;
	int r;

	if (ptrace(PTRACE_GETSIGMASK, th->tid, sizeof(mask), &mask) < 0)
		return negerrno();
	regs.rip = ip;
	regs.rax = __NR_munmap;
	regs.orig_rax = -1;
	regs.rdi = start;
	regs.rsi = len;
	if (ptrace(PTRACE_SETREGS, th->tid, NULL, &regs) < 0)
		return negerrno();
	r = ptrace(PTRACE_SETSIGMASK, th->tid, sizeof(all), &all) < 0 ? negerrno() : 0;
	if (r == 0)
		r = to_syscall_stop(th->tid);
	if (r == 0)
		r = to_syscall_stop(th->tid);
	if (r == 0 && ptrace(PTRACE_GETREGS, th->tid, NULL, &regs) == 0 && (long)regs.rax < 0)
		r = (int)regs.rax;
	regs = th->regs;
	inject_restart_fixup(&regs);
	ptrace(PTRACE_SETREGS, th->tid, NULL, &regs);
	ptrace(PTRACE_SETSIGMASK, th->tid, sizeof(mask), &mask);
	return r;
}

/* 0, or -errno when the region stays mapped (not an error of the restore:
 * the task runs either way, a region left mapped costs only memory). */
int rst_unmap_region(struct rst_ctx *ctx, struct rst_task *t)
{
	struct task tk = { .pid = t->pe->pid, .pidfd = -1 };
	uint64_t ip;
	int r = 0;

	if (!t->region_start || t->region_end <= t->region_start)
		return 0;
	ip = find_syscall_insn(tk.pid, t->region_start, t->region_end);
	if (!ip)
		return -ENOEXEC;
	for (int i = 0; i < UNMAP_TRIES; i++) {
		free(tk.threads);
		tk.threads = NULL;
		tk.nr_threads = 0;
		r = list_threads(tk.pid, &tk);
		if (r < 0)
			break;
		r = seize_all(&tk, t->region_start, t->region_end);
		if (r == 0)
			r = inject_munmap(&tk.threads[0], ip, t->region_start,
					  t->region_end - t->region_start);
		detach_all(&tk);
		if (r <= 0)
			break;
		usleep(1000);
	}
	free(tk.threads);
	return r > 0 ? -ETIMEDOUT : r;
}

/* The thread's saved registers, as dumped. */
static ThreadCoreEntry *thread_image(struct rst_task *t, pid_t tid)
{
	for (unsigned i = 0; i < t->nr_threads; i++)
		if (t->threads[i]->tid == tid)
			return t->threads[i];
	return NULL;
}

/* The signals the kernel sends a thread whose state it cannot load or run:
 * queued by force_sig() with SI_KERNEL, they kill a thread that has no
 * handler; one the image itself holds pending is the process's own. */
static bool fault_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE;
}

static unsigned image_faults(struct rst_task *t, pid_t tid, int sig)
{
	ThreadCoreEntry *img = thread_image(t, tid);
	unsigned n = 0;

	for (size_t i = 0; img && i < img->n_pending; i++) {
		const siginfo_t *si = (const siginfo_t *)img->pending[i]->siginfo.data;

		if (img->pending[i]->siginfo.len >= sizeof(*si) && si->si_signo == sig &&
		    si->si_code == SI_KERNEL)
			n++;
	}
	return n;
}

/* At the exit of its rt_sigreturn, before it runs one instruction of its
 * own: a fault signal queued on the thread by the kernel (rt_sigreturn
 * refusing the frame: an xsave area XRSTOR faults on, a bad sigcontext)
 * that the image did not hold. 0, or the signal. */
static int queued_fault(struct rst_task *t, pid_t tid)
{
	struct __ptrace_peeksiginfo_args pa = { .off = 0, .flags = 0, .nr = 16 };
	siginfo_t si[16];
	unsigned seen[NSIG] = { 0 };
	int n;

	do {
		n = ptrace(PTRACE_PEEKSIGINFO, tid, &pa, si);
		for (int i = 0; i < n; i++) {
			int sig = si[i].si_signo;

			if (si[i].si_code == SI_KERNEL && fault_signal(sig) &&
			    ++seen[sig] > image_faults(t, tid, sig))
				return sig;
		}
		pa.off += n > 0 ? n : 0;
	} while (n == pa.nr);
	return 0;
}

/* A thread that died, or took a signal it can't survive, before it was out
 * of its rt_sigreturn: the restore failed. The task is killed at once (a
 * fault must not dump core nor run on); the caller detaches and fails. */
static int thread_fault(struct rst_ctx *ctx, struct rst_task *t, pid_t tid, int st, int sig)
{
	char how[96];

	kill(t->pe->pid, SIGKILL);
	if (!sig)
		return ckpt_fail(ctx->err, -EFAULT, "pid %d tid %d %s on its way out of the "
				 "restorer; every task of this restore was killed", t->pe->pid, tid,
				 rst_death(st, how, sizeof(how)));
	return ckpt_fail(ctx->err, -EFAULT, "pid %d tid %d: signal %d (SIG%s) as it resumed: the "
			 "kernel refused its saved state (registers, xsave area); every task of "
			 "this restore was killed", t->pe->pid, tid, sig,
			 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
}

/* A stopped task sits group-stopped inside the blob, its 'G' unread. Drive
 * its threads out under ptrace (a tracer may run a group-stopped thread)
 * until each is at the exit of its rt_sigreturn, unmap the region, and
 * detach: the group stop is still in effect, so every thread stops again
 * before running one instruction of its own.
 *
 * Each thread is judged on the way (thread_fault; < 0, reported): death, a
 * signal other than a stop in the blob (where every signal is blocked, so
 * only the kernel's forced ones come), or a fault signal queued by its
 * rt_sigreturn. Not seen here: a frame the kernel accepts but can't return
 * to user mode with (a non-canonical rip, bad segments): that SIGSEGV comes
 * with the first instruction, after the task was let go and the restore
 * reported success; and a thread that dies later, of its own code. */
static int drive_out(struct rst_ctx *ctx, struct rst_task *t, struct task *tk, bool *fault)
{
	uint64_t start = t->region_start, end = t->region_end;
	uint64_t deadline = now_us() + 5000000;
	unsigned left = tk->nr_threads;
	bool *done = calloc(tk->nr_threads, sizeof(*done));
	int r = 0;

	if (!done)
		return -ENOMEM;
	for (unsigned i = 0; i < tk->nr_threads; i++)
		if (ptrace(PTRACE_SYSCALL, tk->threads[i].tid, NULL, NULL) < 0)
			r = negerrno();
	while (left && r == 0) {
		struct thread *th = NULL;
		unsigned idx = 0;
		int st, sig = 0;
		pid_t w;

		w = waitpid(-1, &st, __WALL | WNOHANG);
		if (w == 0) {
			if (now_us() > deadline)
				r = -ETIMEDOUT;
			usleep(200);
			continue;
		}
		if (w < 0) {
			r = negerrno();
			break;
		}
		for (unsigned i = 0; i < tk->nr_threads; i++)
			if (tk->threads[i].tid == w) {
				th = &tk->threads[i];
				idx = i;
			}
		if (!th)
			continue;	/* not one of this task's threads */
		if (!WIFSTOPPED(st)) {
			th->seized = false;
			*fault = true;
			r = thread_fault(ctx, t, th->tid, st, 0);
			break;
		}
		if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
			if (ptrace(PTRACE_GETREGS, th->tid, NULL, &th->regs) < 0) {
				r = negerrno();
				break;
			}
			if (th->regs.rip < start || th->regs.rip >= end) {
				sig = queued_fault(t, th->tid);
				if (sig) {
					*fault = true;
					r = thread_fault(ctx, t, th->tid, 0, sig);
					break;
				}
				done[idx] = true;	/* out: left at this stop */
				left--;
				continue;
			}
		} else if (st >> 16 != PTRACE_EVENT_STOP) {
			sig = WSTOPSIG(st);	/* a stop signal: let it through */
			if (sig != SIGSTOP && sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU) {
				*fault = true;
				r = thread_fault(ctx, t, th->tid, 0, sig);
				break;
			}
		}
		if (ptrace(PTRACE_SYSCALL, th->tid, NULL, (void *)(long)sig) < 0)
			r = negerrno();
	}
	free(done);
	return r;
}

/* List tk's threads, seize each and hold it in a ptrace stop. */
static int seize_threads(struct task *tk)
{
	int r = list_threads(tk->pid, tk);

	for (unsigned i = 0; i < tk->nr_threads && r == 0; i++) {
		struct thread *th = &tk->threads[i];
		int st;

		if (ptrace(PTRACE_SEIZE, th->tid, NULL, (void *)PTRACE_O_TRACESYSGOOD) < 0)
			return negerrno();
		th->seized = true;
		if (ptrace(PTRACE_INTERRUPT, th->tid, NULL, NULL) < 0 ||
		    waitpid(th->tid, &st, __WALL) < 0)
			r = negerrno();
	}
	return r;
}

int rst_finish_stopped(struct rst_ctx *ctx, struct rst_task *t)
{
	struct task tk = { .pid = t->pe->pid, .pidfd = -1 };
	bool fault = false;
	uint64_t ip = 0;
	int r;

	r = seize_threads(&tk);
	if (r == 0)
		r = drive_out(ctx, t, &tk, &fault);
	if (r == 0)
		ip = find_syscall_insn(tk.pid, t->region_start, t->region_end);
	if (r == 0 && ip)
		r = inject_munmap(&tk.threads[0], ip, t->region_start,
				  t->region_end - t->region_start);
	for (unsigned i = 0; i < tk.nr_threads; i++)
		if (tk.threads[i].seized)
			ptrace(PTRACE_DETACH, tk.threads[i].tid, NULL, NULL);
	free(tk.threads);
	/* anything else leaves the task stopped, its region maybe mapped */
	return fault ? r : 0;
}

static bool sa_restart(struct rst_task *t, int sig)
{
	for (size_t i = 0; i < t->core->n_sigactions; i++)
		if ((int)t->core->sigactions[i]->sig == sig)
			return t->core->sigactions[i]->flags & SA_RESTART;
	return false;
}

/* th stands at the exit of its rt_sigreturn, about to restart the syscall
 * it slept in. Walk it into that syscall; a signal that arrived while the
 * restore ran shows up first, and then does what it would have done to the
 * sleeping call: -EINTR (unless the call restarts by itself), then the
 * handler. */
static void release_restarting(struct rst_task *t, struct thread *th)
{
	ThreadCoreEntry *img = thread_image(t, th->tid);
	struct user_regs_struct regs;
	long code = img ? (long)img->regs->rax : 0;
	int sig = 0;

	if (step_to_syscall_entry(th->tid, &sig) == -ECHILD)
		return;
	if (sig && ptrace(PTRACE_GETREGS, th->tid, NULL, &regs) == 0 &&
	    (code == -514 || code == -516 || (code == -512 && !sa_restart(t, sig)))) {
		regs.rax = (uint64_t)-EINTR;
		regs.rip += 2;
		ptrace(PTRACE_SETREGS, th->tid, NULL, &regs);
	}
	ptrace(PTRACE_DETACH, th->tid, NULL, (void *)(long)sig);
	th->seized = false;
}

/* A running task: seize its threads while they still wait in the blob,
 * let it go, run them out of the blob under ptrace, unmap the region and
 * walk each thread into the syscall it slept in. RST_NOT_SEIZED before
 * RESTORE_GO was sent (the caller then sends it the plain way); < 0 when
 * a thread did not make it out of the blob alive (reported, the task
 * killed). */
int rst_release_running(struct rst_ctx *ctx, struct rst_task *t)
{
	struct task tk = { .pid = t->pe->pid, .pidfd = -1 };
	bool fault = false;
	uint64_t ip;
	int r;

	r = seize_threads(&tk);
	if (r == 0)
		r = rst_blob_go(ctx, t);
	if (r < 0) {
		detach_all(&tk);
		free(tk.threads);
		return RST_NOT_SEIZED;
	}
	r = drive_out(ctx, t, &tk, &fault);
	if (fault) {
		for (unsigned i = 0; i < tk.nr_threads; i++)
			if (tk.threads[i].seized)
				ptrace(PTRACE_DETACH, tk.threads[i].tid, NULL, NULL);
		free(tk.threads);
		return r;
	}
	ip = r == 0 ? find_syscall_insn(tk.pid, t->region_start, t->region_end) : 0;
	if (ip)
		inject_munmap(&tk.threads[0], ip, t->region_start, t->region_end - t->region_start);
	for (unsigned i = 0; i < tk.nr_threads; i++) {
		struct thread *th = &tk.threads[i];
		long word;

		if (!th->seized)
			continue;
		errno = 0;
		word = ptrace(PTRACE_PEEKTEXT, th->tid, (void *)(uintptr_t)th->regs.rip, NULL);
		if (r == 0 && !errno && (word & 0xffff) == 0x050f)
			release_restarting(t, th);
		else
			release_thread(th);
	}
	free(tk.threads);
	return 0;
}
