/* Seize and stop every thread of the tree rooted at opts->pid.
 *
 * Why ptrace and not the cgroup freezer: the dump needs every thread in a
 * ptrace stop anyway (registers, injected syscalls), and PTRACE_SEIZE +
 * PTRACE_INTERRUPT stops a thread without queueing a signal, so nothing the
 * target can observe changes and a detach resumes it exactly as it was.
 *
 * The tree is walked parents first: a task's children are listed only once
 * every one of its threads is stopped, so a fork can't slip past; a task's
 * threads are listed again after each batch stops until no new one shows.
 * A group-stopped task (state T) stays group-stopped: the seize reports its
 * stop, and a detach puts it back in its job-control stop. */
#include "daemon/freeze.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/dump.h"
#include "daemon/lazy.h"
#include "daemon/proc.h"
#include "daemon/ptrace.h"

#define MAX_SIGNAL_STOPS 64	/* signals let through while waiting for a stop */
#define USER64_CS 0x33		/* __USER_CS: a thread in 64-bit mode */
#define STOP_TIMEOUT_MS 5000	/* for a seized thread to stop */
#define D_STATE_WAIT_MS 1000	/* for a thread to leave uninterruptible sleep */

/* Wait for the ptrace stop of a freshly seized thread. A signal-delivery
 * stop on the way is let through (the handler runs, then the pending
 * interrupt traps). *ret_stop gets the group-stop signal, or 0.
 * -ESRCH: the thread exited. */
static int wait_seized(pid_t tid, int *ret_stop)
{
	for (int i = 0; i < MAX_SIGNAL_STOPS; i++) {
		int status, sig;

		int r = ptrace_wait_timeout(tid, &status, STOP_TIMEOUT_MS);

		if (r < 0)
			return r;
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return -ESRCH;
		if (!WIFSTOPPED(status))
			return -EIO;
		sig = WSTOPSIG(status);
		if (status >> 16 == PTRACE_EVENT_STOP) {
			*ret_stop = ptrace_stop_signal(sig) ? sig : 0;
			return 0;
		}
		/* a signal-delivery stop: deliver it and wait again */
		if (ptrace(PTRACE_CONT, tid, NULL, (void *)(long)sig) < 0)
			return negerrno();
	}
	return -EAGAIN;
}

/* Is pid one the dump must never touch? 0, or a described failure. */
static int check_forbidden(struct dump_ctx *ctx, pid_t pid)
{
	if (pid == getpid())
		return ckpt_fail(ctx->err, -EPERM,
				 "pid %d is ckptd itself: the daemon can't dump itself", pid);
	if (pid == getppid())
		return ckpt_fail(ctx->err, -EPERM,
				 "pid %d is the parent of ckptd: the daemon can't dump it", pid);
	if (ctx->opts->requester > 0 && pid == ctx->opts->requester)
		return ckpt_fail(ctx->err, -EPERM,
				 "pid %d is the requesting client (ckptctl) itself", pid);
	return 0;
}

static bool lazy_server(pid_t pid)
{
	struct proc_stat st;

	return proc_read_stat(pid, &st) == 0 && strcmp(st.comm, LAZY_COMM) == 0;
}

/* Traced by someone else, or under seccomp: refused. */
static int check_traced(struct dump_ctx *ctx, pid_t pid, pid_t tid)
{
	struct proc_status st;
	pid_t tracer;
	int r;

	r = proc_read_status(tid, &st);
	if (r < 0)
		return r;
	tracer = st.tracer_pid;
	proc_status_free(&st);
	if (tracer && lazy_server(tracer))
		return ckpt_fail(ctx->err, -EBUSY, "pid %d is still being restored lazily: its "
				 "pages come from %s pid %d; dump it once 'ckptctl status' no "
				 "longer lists it", pid, LAZY_COMM, tracer);
	if (tracer)
		return ckpt_fail(ctx->err, -EBUSY, "pid %d is already traced by pid %d",
				 tid == pid ? pid : tid, tracer);
	/* filters are saved (seccomp.c); strict mode can't be restored */
	if (st.seccomp == 1)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d runs in seccomp strict mode, "
				 "which ckpt cannot restore (only filters can)", tid);
	return 0;
}

/* Seize one thread and ask it to stop. */
static int seize_thread(struct dump_ctx *ctx, struct task *t, pid_t tid)
{
	int r;

	if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)(long)PTRACE_O_TRACESYSGOOD) < 0) {
		r = negerrno();
		if (r == -EPERM && proc_dying(tid))
			return -ESRCH;	/* the kernel refuses to attach to a zombie */
		if (r == -EPERM) {
			int c = check_traced(ctx, t->pid, tid);

			if (c < 0 && c != -ESRCH)
				return c;
			return ckpt_fail(ctx->err, r, "pid %d: cannot seize thread %d", t->pid, tid);
		}
		return r;
	}
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0) {
		r = negerrno();
		/* seized but not stoppable: it is exiting */
		return r == -ESRCH ? -ESRCH : ckpt_fail(ctx->err, r,
				"pid %d: cannot interrupt thread %d", t->pid, tid);
	}
	return 0;
}

static bool has_thread(const struct task *t, pid_t tid)
{
	for (unsigned i = 0; i < t->nr_threads; i++)
		if (t->threads[i].tid == tid)
			return true;
	return false;
}

static void drop_thread(struct task *t, unsigned i)
{
	memmove(&t->threads[i], &t->threads[i + 1], (t->nr_threads - i - 1) * sizeof(t->threads[0]));
	t->nr_threads--;
}

/* One round: seize every thread not seized yet, then wait for each stop.
 * *ret_new = how many were new. Everything seized is stopped on return,
 * also on failure (so a release can detach it). */
static int seize_round(struct dump_ctx *ctx, struct task *t, unsigned *ret_new)
{
	_cleanup_free_ pid_t *tids = NULL;
	unsigned nr, first = t->nr_threads;
	struct thread *n;
	int r = 0;

	r = proc_read_tids(t->pid, &tids, &nr);
	if (r < 0)
		return r;
	n = realloc(t->threads, (t->nr_threads + nr) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	t->threads = n;
	for (unsigned i = 0; i < nr && r == 0; i++) {
		if (has_thread(t, tids[i]))
			continue;
		r = seize_thread(ctx, t, tids[i]);
		if (r == -ESRCH && tids[i] != t->pid) {
			r = 0;		/* a thread that exited meanwhile */
			continue;
		}
		if (r == 0)
			t->threads[t->nr_threads++] = (struct thread){ .tid = tids[i], .seized = true };
	}
	for (unsigned i = first; i < t->nr_threads; i++) {
		int stop = 0, w = wait_seized(t->threads[i].tid, &stop);

		if (w == -ESRCH && t->threads[i].tid != t->pid) {
			drop_thread(t, i--);
			continue;
		}
		if (w == -ETIMEDOUT)
			w = ckpt_fail(ctx->err, w, "pid %d: thread %d did not stop within %u ms",
				      t->pid, t->threads[i].tid, STOP_TIMEOUT_MS);
		if (w < 0) {
			if (w == -ESRCH)
				t->threads[i].seized = false;
			r = r ?: w;
			continue;
		}
		if (stop) {
			t->state = TS_STOPPED;
			t->stop_signal = stop;
		}
	}
	*ret_new = t->nr_threads - first;
	return r;
}

/* The child of pid that shares its memory (kcmp KCMP_VM): the vfork
 * child a vfork parent waits for; 0 when none. */
static pid_t vfork_child(pid_t pid)
{
	_cleanup_free_ pid_t *kids = NULL;
	unsigned nr;

	if (proc_read_children(pid, &kids, &nr) < 0)
		return 0;
	for (unsigned i = 0; i < nr; i++)
		if (syscall(SYS_kcmp, pid, kids[i], KCMP_VM, 0, 0) == 0)
			return kids[i];
	return 0;
}

/* A thread in uninterruptible sleep (a vfork parent until its child
 * execs, I/O on a dead server) can't take a ptrace stop, and a seized
 * thread that never stops can't be detached either: refuse before seizing
 * when one stays in D state. */
static int check_stoppable(struct dump_ctx *ctx, struct task *t)
{
	_cleanup_free_ pid_t *tids = NULL;
	unsigned nr;
	pid_t child;
	int r;

	r = proc_read_tids(t->pid, &tids, &nr);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < nr; i++) {
		struct proc_stat st;

		for (unsigned ms = 0;; ms += 10) {
			if (proc_read_stat(tids[i], &st) < 0 || st.state != 'D')
				break;
			if (ms >= D_STATE_WAIT_MS && (child = vfork_child(t->pid)))
				return ckpt_fail(ctx->err, -EBUSY, "pid %d: thread %d is in "
						 "uninterruptible sleep: it is a vfork parent "
						 "waiting for its child pid %d, which shares its "
						 "memory until it calls exec or exits; dump once "
						 "it has", t->pid, tids[i], child);
			if (ms >= D_STATE_WAIT_MS)
				return ckpt_fail(ctx->err, -EBUSY, "pid %d: thread %d is in "
						 "uninterruptible sleep (a vfork parent, or "
						 "stuck I/O) and can't be stopped", t->pid, tids[i]);
			usleep(10000);
		}
	}
	return 0;
}

/* The group stop is what the seize reports (stat's 'T' may be stale). */
static int seize_task(struct dump_ctx *ctx, struct task *t)
{
	unsigned fresh;
	int r;

	r = check_traced(ctx, t->pid, t->pid);
	if (r < 0)
		return r;
	r = check_stoppable(ctx, t);
	if (r < 0)
		return r;
	t->pidfd = pidfd_open(t->pid, 0);
	if (t->pidfd < 0)
		return negerrno();
	t->state = TS_ALIVE;
	do {
		r = seize_round(ctx, t, &fresh);
		if (r < 0)
			return r;
	} while (fresh);
	for (unsigned i = 0; i < t->nr_threads; i++) {
		struct thread *th = &t->threads[i];

		if (ptrace(PTRACE_GETREGS, th->tid, NULL, &th->regs) < 0)
			return negerrno();
		if (th->regs.cs != USER64_CS)
			return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d: thread %d runs 32-bit "
					 "code (cs %#llx), which ckpt cannot dump", t->pid, th->tid,
					 th->regs.cs);
	}
	ctx->stats.threads += t->nr_threads;
	return 0;
}

static int add_task(struct dump_ctx *ctx, pid_t pid, struct task *parent, struct task **ret)
{
	struct task **v, *t;

	v = realloc(ctx->tree.tasks, (ctx->tree.nr_tasks + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	ctx->tree.tasks = v;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->pid = pid;
	t->parent = parent;
	t->pidfd = -1;
	v[ctx->tree.nr_tasks++] = t;
	*ret = t;
	return 0;
}

/* Forget task i, which holds nothing (no thread seized, no pidfd). */
static void drop_task(struct dump_ctx *ctx, unsigned i)
{
	struct pstree *tree = &ctx->tree;

	free(tree->tasks[i]->threads);
	free(tree->tasks[i]);
	memmove(&tree->tasks[i], &tree->tasks[i + 1], (tree->nr_tasks - i - 1) * sizeof(tree->tasks[0]));
	tree->nr_tasks--;
}

/* A zombie: nothing to seize, pstree.img says all there is. A main thread
 * that exited while other threads run also shows as a zombie: refused, as
 * its threads can be neither left running nor restored without it. */
static int add_zombie(struct dump_ctx *ctx, struct task *t, const struct proc_stat *st)
{
	_cleanup_free_ pid_t *tids = NULL;
	unsigned nr;

	if (proc_read_tids(t->pid, &tids, &nr) == 0 && nr > 1)
		return ckpt_fail(ctx->err, -EBUSY, "pid %d: its main thread has exited while "
				 "%u other threads run; such a process cannot be dumped (ckpt does "
				 "not restore a process without its main thread)", t->pid, nr - 1);
	t->state = TS_ZOMBIE;
	t->exit_code = st->exit_code;
	t->threads = calloc(1, sizeof(*t->threads));
	if (!t->threads)
		return -ENOMEM;
	t->threads[0].tid = t->pid;
	t->nr_threads = 1;
	return 0;
}

/* A child that exited while being seized: its frozen parent can't reap
 * it, so it is a zombie now and is saved as one. */
static int zombie_after_all(struct dump_ctx *ctx, struct task *t, const struct proc_stat *st)
{
	for (unsigned j = t->nr_threads; j-- > 0;)
		if (t->threads[j].seized)
			ptrace_release(t->threads[j].tid);
	free(t->threads);
	t->threads = NULL;
	t->nr_threads = 0;
	close(t->pidfd);
	t->pidfd = -1;
	return add_zombie(ctx, t, st);
}

static int gone(struct dump_ctx *ctx, struct task *t)
{
	if (!t->parent && !t->nr_threads)
		return ckpt_fail(ctx->err, -ESRCH, "no process with pid %d", t->pid);
	return ckpt_fail(ctx->err, -ESRCH, "pid %d exited during the dump", t->pid);
}

/* Check, then seize (or record as a zombie) one task of the tree. */
static int freeze_task(struct dump_ctx *ctx, struct task *t)
{
	struct proc_stat st;
	int r;

	r = proc_read_stat(t->pid, &st);
	if (r == -ESRCH && t->parent)
		return -ESRCH;	/* reaped already: the caller drops it */
	if (r == -ESRCH)
		return gone(ctx, t);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "cannot read /proc/%d/stat", t->pid);
	if (st.flags & PROC_PF_KTHREAD)
		return ckpt_fail(ctx->err, -EPERM, "pid %d is a kernel thread", t->pid);
	r = check_forbidden(ctx, t->pid);
	if (r < 0)
		return r;
	t->ppid = st.ppid;
	t->pgid = st.pgid;
	t->sid = st.sid;
	if (st.state == 'Z')
		return add_zombie(ctx, t, &st);
	if (st.state == 'X')
		return gone(ctx, t);
	r = seize_task(ctx, t);
	if (r == -ESRCH && t->parent && proc_read_stat(t->pid, &st) == 0 && st.state == 'Z')
		return zombie_after_all(ctx, t, &st);
	if (r == -ESRCH)
		return gone(ctx, t);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d: cannot seize it", t->pid);
	/* the stat above may predate the stop: read the ids again, now stable */
	r = proc_read_stat(t->pid, &st);
	if (r < 0)
		return r == -ESRCH ? gone(ctx, t) : r;
	t->ppid = st.ppid;
	t->pgid = st.pgid;
	t->sid = st.sid;
	return 0;
}

static int add_children(struct dump_ctx *ctx, struct task *t)
{
	_cleanup_free_ pid_t *kids = NULL;
	unsigned nr;
	int r;

	if (t->state == TS_ZOMBIE)
		return 0;
	r = proc_read_children(t->pid, &kids, &nr);
	if (r == -ESRCH)
		return gone(ctx, t);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "cannot read the children of pid %d", t->pid);
	for (unsigned i = 0; i < nr; i++) {
		struct task *k;

		if (pstree_find(&ctx->tree, kids[i]))
			continue;
		r = add_task(ctx, kids[i], t, &k);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Refuse a tree holding ckptd, its parent or the client before touching
 * anything: a cheap walk over /proc with nothing seized. */
static int precheck(struct dump_ctx *ctx, pid_t pid, unsigned depth)
{
	_cleanup_free_ pid_t *kids = NULL;
	unsigned nr;
	int r;

	r = check_forbidden(ctx, pid);
	if (r < 0)
		return r;
	if (depth > 4096 || proc_read_children(pid, &kids, &nr) < 0)
		return 0;	/* the seizing walk decides */
	for (unsigned i = 0; i < nr; i++) {
		r = precheck(ctx, kids[i], depth + 1);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- the frozen tree, authorized again ----
 *
 * rpc.c checks a non-root requester's ownership of the tree before the
 * freeze, but until every task is stopped a descendant can fork, or exec a
 * setuid or file-capability program: the tree seized may not be the tree
 * checked. Once nothing in it can run, every thread of every task is
 * checked again with the same rules, and one that fails refuses the dump. */

static bool same_user_ns(pid_t pid)
{
	char path[64];
	struct stat self, st;

	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	if (stat("/proc/self/ns/user", &self) < 0 || stat(path, &st) < 0)
		return true;	/* unknown: judge by the capabilities shown */
	return self.st_ino == st.st_ino && self.st_dev == st.st_dev;
}

/* Every uid and gid (real, effective, saved, fs) is the requester's, and,
 * in ckptd's user namespace, the thread holds no capability (the kernel's
 * ptrace rule for an unprivileged tracer: a setuid or file-capability exec
 * gains them and must not be read as its user). */
static int recheck_thread(struct dump_ctx *ctx, const struct task *t, pid_t tid, bool own_ns)
{
	const struct dump_opts *o = ctx->opts;
	_cleanup_free_ char *buf = NULL;
	struct proc_status st;
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", t->pid, tid);
	r = read_file_at(AT_FDCWD, path, &buf, NULL);
	if (r == 0)
		r = proc_parse_status(buf, &st);
	if (r < 0)
		return ckpt_fail(ctx->err, -EPERM, "pid %d: cannot read the credentials of "
				 "thread %d on the frozen tree", t->pid, tid);
	proc_status_free(&st);
	for (int i = 0; i < 4; i++) {
		if (st.uid[i] != o->requester_uid)
			return ckpt_fail(ctx->err, -EPERM, "pid %d (thread %d) now runs with uid "
					 "%u; uid %u may only dump its own processes", t->pid, tid,
					 st.uid[i], o->requester_uid);
		if (st.gid[i] != o->requester_gid)
			return ckpt_fail(ctx->err, -EPERM, "pid %d (thread %d) now runs with gid "
					 "%u; uid %u may only dump processes of its own gid %u",
					 t->pid, tid, st.gid[i], o->requester_uid, o->requester_gid);
	}
	if (own_ns && (st.cap_prm || st.cap_eff || st.cap_amb))
		return ckpt_fail(ctx->err, -EPERM, "pid %d (thread %d) holds capabilities "
				 "(permitted %#llx); uid %u may only dump unprivileged processes",
				 t->pid, tid, (unsigned long long)st.cap_prm, o->requester_uid);
	return 0;
}

/* The files in /proc/PID belong to root once the task is not dumpable: it
 * changed credentials or asked not to be. (/proc/PID itself keeps the
 * task's euid on current kernels, so it tells nothing.) */
static int recheck_dumpable(struct dump_ctx *ctx, const struct task *t)
{
	char path[48];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/status", t->pid);
	if (stat(path, &st) < 0)
		return ckpt_fail(ctx->err, -ESRCH, "pid %d exited during the dump", t->pid);
	if (st.st_uid != ctx->opts->requester_uid)
		return ckpt_fail(ctx->err, -EPERM, "pid %d is not dumpable any more (it changed "
				 "credentials or called prctl(PR_SET_DUMPABLE, 0))", t->pid);
	return 0;
}

/* Every thread, frozen (it cannot install a filter any more): a seccomp
 * filter is per thread unless synchronised, and seize_task looked at the
 * main thread only. Strict mode is refused; a thread under a filter gets
 * PTRACE_O_SUSPEND_SECCOMP, so that the syscalls the dump injects pass
 * (its filters are saved by seccomp.c and installed again at restore). */
static int recheck_seccomp(struct dump_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->tree.nr_tasks; i++) {
		const struct task *t = ctx->tree.tasks[i];

		for (unsigned j = 0; j < t->nr_threads; j++) {
			pid_t tid = t->threads[j].tid;
			struct proc_status st;

			if (proc_read_status(tid, &st) < 0)
				continue;	/* gone */
			proc_status_free(&st);
			if (st.seccomp == 1)
				return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d (thread %d) runs "
						 "in seccomp strict mode, which ckpt cannot restore "
						 "(only filters can)", t->pid, tid);
			if (st.seccomp && ptrace(PTRACE_SETOPTIONS, tid, NULL,
						 (void *)(long)(PTRACE_O_TRACESYSGOOD |
								PTRACE_O_SUSPEND_SECCOMP)) < 0)
				return ckpt_fail(ctx->err, negerrno(), "pid %d (thread %d) runs "
						 "under seccomp and ckptd cannot suspend its filter "
						 "(PTRACE_O_SUSPEND_SECCOMP needs CAP_SYS_ADMIN)",
						 t->pid, tid);
		}
	}
	return 0;
}

static int recheck_owner(struct dump_ctx *ctx)
{
	if (ctx->opts->requester_uid == 0)
		return 0;
	for (unsigned i = 0; i < ctx->tree.nr_tasks; i++) {
		struct task *t = ctx->tree.tasks[i];
		bool own_ns = same_user_ns(t->pid);
		int r;

		for (unsigned j = 0; j < t->nr_threads; j++) {
			r = recheck_thread(ctx, t, t->threads[j].tid, own_ns);
			if (r < 0)
				return r;
		}
		r = recheck_dumpable(ctx, t);
		if (r < 0)
			return r;
	}
	return 0;
}

int freeze_tree(struct dump_ctx *ctx)
{
	struct task *root;
	int r;

	if (ctx->opts->pid <= 0)
		return ckpt_fail(ctx->err, -ESRCH, "no process with pid %d", ctx->opts->pid);
	r = add_task(ctx, ctx->opts->pid, NULL, &root);
	if (r < 0)
		return r;
	r = precheck(ctx, root->pid, 0);
	if (r < 0)
		goto out_release;
	for (unsigned i = 0; i < ctx->tree.nr_tasks; i++) {
		struct task *t = ctx->tree.tasks[i];

		r = freeze_task(ctx, t);
		if (r == -ESRCH && !t->nr_threads && t->parent && !ctx->err->msg[0]) {
			/* a child gone (autoreaped, SIGCHLD ignored) before
			 * anything of it was seized: it exited before the freeze */
			drop_task(ctx, i--);
			continue;
		}
		if (r < 0)
			goto out_release;
		r = add_children(ctx, t);
		if (r < 0)
			goto out_release;
	}
	r = recheck_owner(ctx);
	if (r == 0)
		r = recheck_seccomp(ctx);
	if (r < 0)
		goto out_release;
	return 0;

out_release:
	release_tree(ctx, false);
	return r;
}

static void detach_thread(struct thread *th)
{
	if (!th->seized)
		return;
	ptrace_release(th->tid);
	th->seized = false;
}

/* Wait until a killed thread is gone, so that its real parent is told. */
static void wait_killed(struct thread *th)
{
	int status;

	if (!th->seized)
		return;
	/* blocking is safe here: the group's other threads are reaped first */
	for (;;) {
		if (waitpid(th->tid, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
	}
	th->seized = false;
}

void release_tree(struct dump_ctx *ctx, bool kill_tree)
{
	struct pstree *tree = &ctx->tree;

	for (unsigned i = 0; i < tree->nr_tasks; i++) {
		struct task *t = tree->tasks[i];

		if (t->state == TS_ZOMBIE || !t->nr_threads)
			continue;
		if (!kill_tree) {
			/* the main thread last: see ptrace_wait() */
			for (unsigned j = t->nr_threads; j-- > 0;)
				detach_thread(&t->threads[j]);
			continue;
		}
		if (t->pidfd < 0 || pidfd_send_signal(t->pidfd, SIGKILL, NULL, 0) < 0)
			kill(t->pid, SIGKILL);
	}
	if (!kill_tree)
		return;
	/* the threads first: a leader's exit is reported after its group's */
	for (unsigned i = 0; i < tree->nr_tasks; i++) {
		struct task *t = tree->tasks[i];

		for (unsigned j = t->nr_threads; j-- > 0;)
			if (t->state != TS_ZOMBIE)
				wait_killed(&t->threads[j]);
	}
}
