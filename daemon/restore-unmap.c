/* Restore, the engine's last duty (Documentation/restorer.md): the blob
 * can't unmap the region it runs from, so once a task resumed, the
 * intermediate process seizes it, checks that no thread's rip still lies
 * inside the region, injects munmap() and detaches. Waiting for that also
 * means that when restore_run returns, every thread has left the blob.
 *
 * Only the restore's own sequence lives here: follow each thread out of
 * the blob to the exit of its rt_sigreturn (judging how it got there),
 * unmap the region, walk threads back into the syscall they slept in,
 * detach. Waiting, stepping and injecting go through ptrace.c and
 * inject.c, the dump's layer: every wait names its thread, since this
 * process is the tree's subreaper and the deaths of other tasks are for
 * restore-tree.c to see. */
#include "daemon/restore-int.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/inject.h"
#include "daemon/pstree.h"
#include "daemon/ptrace.h"
#include "daemon/restore-seccomp.h"

#define UNMAP_TRIES 500
#define DRIVE_OUT_MS 5000	/* for every thread to leave the blob */

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
	if (ptrace_to_syscall(th->tid, 0, &sig) == -ESRCH)
		return;		/* gone */
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

/* The ptrace options for t's threads: a task restored with seccomp
 * filters has them suspended while traced, so that what the engine
 * injects passes (restorer/seccomp.c); they bind again at the detach. */
static long seize_opts(const struct rst_task *t)
{
	return PTRACE_O_TRACESYSGOOD | (rst_has_seccomp(t) ? PTRACE_O_SUSPEND_SECCOMP : 0);
}

/* Seize th and hold it in a ptrace stop: 0 with its wait status in
 * *ret_st, or -errno. */
static int seize_thread(struct thread *th, long opts, int *ret_st)
{
	if (ptrace(PTRACE_SEIZE, th->tid, NULL, (void *)opts) < 0)
		return negerrno();
	th->seized = true;
	if (ptrace(PTRACE_INTERRUPT, th->tid, NULL, NULL) < 0)
		return negerrno();
	return ptrace_wait(th->tid, ret_st);
}

/* List tk's threads, seize each and hold it in a ptrace stop. */
static int seize_threads(struct task *tk, long opts)
{
	int r = list_threads(tk->pid, tk);

	for (unsigned i = 0; i < tk->nr_threads && r == 0; i++) {
		int st;

		r = seize_thread(&tk->threads[i], opts, &st);
	}
	return r;
}

/* Seize and stop every thread; 1 if one still runs inside [start, end). */
static int seize_all(struct task *tk, uint64_t start, uint64_t end, long opts)
{
	int inside = 0;

	for (unsigned i = 0; i < tk->nr_threads; i++) {
		struct thread *th = &tk->threads[i];
		int st, r = seize_thread(th, opts, &st);

		if (r < 0)
			return r;
		if (!WIFSTOPPED(st))
			return -ESRCH;
		if (ptrace(PTRACE_GETREGS, th->tid, NULL, &th->regs) < 0)
			return negerrno();
		if (th->regs.rip >= start && th->regs.rip < end)
			inside = 1;
	}
	return inside;
}

static void detach_held(struct task *tk)
{
	for (unsigned i = 0; i < tk->nr_threads; i++)
		if (tk->threads[i].seized)
			ptrace(PTRACE_DETACH, tk->threads[i].tid, NULL, NULL);
}

/* munmap() the blob's region through tk's first thread (seized, stopped,
 * its registers in regs), at a `syscall` instruction outside the region.
 * Its registers go back in restarted form, as release_thread() makes them
 * anyway. 0, or -errno when the region stays mapped. */
static int unmap_blob(struct rst_task *t, struct task *tk)
{
	unsigned long args[6] = { t->region_start, t->region_end - t->region_start };
	struct thread held;
	long ret;
	int r;

	if (!tk->nr_threads)
		return -ESRCH;
	if (!tk->syscall_ip) {
		r = inject_find_syscall(tk->pid, t->region_start, t->region_end, &tk->syscall_ip);
		if (r < 0)
			return r;
	}
	held = tk->threads[0];
	inject_restart_fixup(&held.regs);
	r = inject_syscall(tk, &held, __NR_munmap, args, &ret);
	if (r == 0 && ret < 0)
		r = (int)ret;
	return r;
}

/* 0, or -errno when the region stays mapped (not an error of the restore:
 * the task runs either way, a region left mapped costs only memory). */
int rst_unmap_region(struct rst_ctx *ctx, struct rst_task *t)
{
	struct task tk = { .pid = t->pe->pid, .pidfd = -1 };
	int r;

	if (!t->region_start || t->region_end <= t->region_start)
		return 0;
	r = inject_find_syscall(tk.pid, t->region_start, t->region_end, &tk.syscall_ip);
	if (r < 0)
		return r;
	for (int i = 0; i < UNMAP_TRIES; i++) {
		free(tk.threads);
		tk.threads = NULL;
		tk.nr_threads = 0;
		r = list_threads(tk.pid, &tk);
		if (r < 0)
			break;
		r = seize_all(&tk, t->region_start, t->region_end, seize_opts(t));
		if (r == 0)
			r = unmap_blob(t, &tk);
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

/* One event (wait status st) of th on its way out of the blob: 1 when th
 * is out, at the exit of its rt_sigreturn (left at that stop); 0 to resume
 * it, delivering *ret_sig; < 0 when ptrace failed, or th failed (*fault
 * set, reported by thread_fault()). */
static int drive_event(struct rst_ctx *ctx, struct rst_task *t, struct thread *th, int st,
		       int *ret_sig, bool *fault)
{
	int sig;

	*ret_sig = 0;
	if (!WIFSTOPPED(st)) {
		th->seized = false;
		*fault = true;
		return thread_fault(ctx, t, th->tid, st, 0);
	}
	if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
		if (ptrace(PTRACE_GETREGS, th->tid, NULL, &th->regs) < 0)
			return negerrno();
		if (th->regs.rip >= t->region_start && th->regs.rip < t->region_end)
			return 0;
		sig = queued_fault(t, th->tid);
		if (!sig)
			return 1;
		*fault = true;
		return thread_fault(ctx, t, th->tid, 0, sig);
	}
	if (st >> 16 == PTRACE_EVENT_STOP)
		return 0;
	sig = WSTOPSIG(st);
	if (!ptrace_stop_signal(sig)) {
		*fault = true;
		return thread_fault(ctx, t, th->tid, 0, sig);
	}
	*ret_sig = sig;		/* a stop signal: let it through */
	return 0;
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
 * reported success; and a thread that dies later, of its own code.
 *
 * The threads run together (the blob's main thread releases the others),
 * so each is waited for by its tid in turn, never by waitpid(-1). */
static int drive_out(struct rst_ctx *ctx, struct rst_task *t, struct task *tk, bool *fault)
{
	uint64_t deadline = now_us() + DRIVE_OUT_MS * 1000ull;
	_cleanup_free_ pid_t *tids = calloc(tk->nr_threads, sizeof(*tids));
	unsigned left = tk->nr_threads;
	int r = 0;

	if (!tids)
		return -ENOMEM;
	for (unsigned i = 0; i < tk->nr_threads; i++) {
		tids[i] = tk->threads[i].tid;
		if (ptrace(PTRACE_SYSCALL, tids[i], NULL, NULL) < 0)
			r = negerrno();
	}
	while (left && r == 0) {
		uint64_t now = now_us();
		unsigned idx;
		int st, sig;

		if (now > deadline)
			return -ETIMEDOUT;
		r = ptrace_wait_any(tids, tk->nr_threads, (deadline - now) / 1000 + 1, &idx, &st);
		if (r == 0)
			r = drive_event(ctx, t, &tk->threads[idx], st, &sig, fault);
		if (r == 1) {
			left--;
			r = 0;
		} else if (r == 0 && ptrace(PTRACE_SYSCALL, tids[idx], NULL, (void *)(long)sig) < 0) {
			r = negerrno();
		}
	}
	return r;
}

int rst_finish_stopped(struct rst_ctx *ctx, struct rst_task *t)
{
	struct task tk = { .pid = t->pe->pid, .pidfd = -1 };
	bool fault = false;
	int r;

	r = seize_threads(&tk, seize_opts(t));
	if (r == 0)
		r = drive_out(ctx, t, &tk, &fault);
	if (r == 0)
		unmap_blob(t, &tk);
	detach_held(&tk);
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

	if (ptrace_to_syscall(th->tid, 0, &sig) == -ESRCH)
		return;		/* gone */
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
	int r;

	r = seize_threads(&tk, seize_opts(t));
	if (r == 0)
		r = rst_blob_go(ctx, t);
	if (r < 0) {
		detach_all(&tk);
		free(tk.threads);
		return RST_NOT_SEIZED;
	}
	r = drive_out(ctx, t, &tk, &fault);
	if (fault) {
		detach_held(&tk);
		free(tk.threads);
		return r;
	}
	if (r == 0)
		unmap_blob(t, &tk);
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
