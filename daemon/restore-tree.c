/* Restore, the tree: the intermediate process (forked from ckptd) opens
 * every file, creates the root with clone3(set_tid), and each task creates
 * its children the same way, in pstree.img order. Once every task exists
 * (stage 1) tasks join their process groups, zombies exit with their saved
 * status and live tasks enter the blob. The intermediate process collects
 * one status report per live task, stops the stopped ones, lets all resume
 * and exits, so the root is reparented like a daemon. On any failure it
 * kills every task it created (a child subreaper, it reaps them all).
 *
 * Failures nobody reports: the intermediate process holds a pidfd on every
 * task from the moment it exists, so a task killed while the tree is built
 * (or dead for any reason before it was let go) fails the restore at once,
 * naming the pid and how it died; and it watches the handler that forked it
 * (getppid), whose death (SIGKILL, its deadline) also fails the restore:
 * nobody would tell the client what happened. The handler's fds, the
 * client's connection among them, stay open here until this process exits,
 * so a client that lost its handler sees the connection close only once
 * the tree is dead. */
#include "daemon/files/tty.h"
#include "daemon/restore-int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/proc.h"
#include "daemon/restore-cgroup.h"
#include "daemon/sched.h"
#include "restorer/restorer.h"

#define RST_FORK_TIMEOUT_MS	30000
#define RST_BLOB_TIMEOUT_MS	120000

static void futex_wake_all(_Atomic int *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

static void futex_wait_ms(_Atomic int *w, int val, long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	syscall(SYS_futex, w, FUTEX_WAIT, val, &ts, NULL, 0);
}

static void task_give_up(struct rst_ctx *ctx, int code) __attribute__((noreturn));
static void task_give_up(struct rst_ctx *ctx, int code)
{
	atomic_store(&ctx->sh->failed, 1);
	futex_wake_all(&ctx->sh->stage);
	_exit(code);
}

/* Wait until every task exists; leave quietly when another one failed. */
static void wait_stage(struct rst_ctx *ctx, int want)
{
	uint64_t deadline = now_us() + 2 * RST_FORK_TIMEOUT_MS * 1000ull;
	int s;

	while ((s = atomic_load(&ctx->sh->stage)) < want) {
		/* the intermediate process gave up, or went away */
		if (atomic_load(&ctx->sh->failed) || now_us() > deadline)
			_exit(RESTORE_EXIT_ABORTED);
		futex_wait_ms(&ctx->sh->stage, s, 50);
	}
}

static pid_t clone_with_pid(pid_t pid, int exit_signal)
{
	struct clone_args ca = {
		.exit_signal = exit_signal,
		.set_tid = (uint64_t)(uintptr_t)&pid,
		.set_tid_size = 1,
	};

	return syscall(SYS_clone3, &ca, sizeof(ca));
}

static void task_main(struct rst_ctx *ctx, struct rst_task *t) __attribute__((noreturn));

static int fork_children(struct rst_ctx *ctx, struct rst_task *t)
{
	for (unsigned i = 0; i < t->nr_children; i++) {
		struct rst_task *c = t->children[i];
		int sig = SIGCHLD;
		pid_t p;

		if (atomic_load(&ctx->sh->failed))
			_exit(RESTORE_EXIT_ABORTED);
		if (c->core && c->core->has_exit_signal)
			sig = c->core->exit_signal;
		p = clone_with_pid(c->pe->pid, sig);
		if (p < 0) {
			if (errno == EEXIST)
				return ckpt_fail(ctx->err, -EBUSY,
						 "pid %d is in use (taken since the check, or held by "
						 "an unreaped zombie)", c->pe->pid);
			return ckpt_fail(ctx->err, negerrno(), "pid %d: clone3 with set_tid %d",
					 t->pe->pid, c->pe->pid);
		}
		if (p == 0)
			task_main(ctx, c);
		if (p != c->pe->pid) {
			kill(p, SIGKILL);
			return ckpt_fail(ctx->err, -EINVAL, "pid %d: clone3 gave pid %d", c->pe->pid,
					 p);
		}
	}
	return 0;
}

/* Sessions first (a session leader), then groups this task leads. */
static int own_session(struct rst_ctx *ctx, struct rst_task *t)
{
	PstreeEntry *pe = t->pe;

	if (pe->sid == pe->pid) {
		if (setsid() < 0)
			return ckpt_fail(ctx->err, negerrno(), "pid %d: setsid", pe->pid);
		return rst_tty_ctty(ctx, t);	/* before its children: they inherit it */
	} else if (pe->pgid == pe->pid) {
		if (setpgid(0, 0) < 0)
			return ckpt_fail(ctx->err, negerrno(), "pid %d: setpgid", pe->pid);
	}
	return 0;
}

/* Groups led by another task of the tree, once they all exist. */
static int join_group(struct rst_ctx *ctx, struct rst_task *t)
{
	PstreeEntry *pe = t->pe;

	if (pe->pgid == pe->pid || pe->sid == pe->pid || !rst_find(ctx, pe->pgid) ||
	    getpgid(0) == pe->pgid)
		return 0;
	if (setpgid(0, pe->pgid) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d: cannot join process group %d",
				 pe->pid, pe->pgid);
	return 0;
}

/* A zombie comes back by dying the same way. */
static void become_zombie(struct rst_ctx *ctx, struct rst_task *t) __attribute__((noreturn));
static void become_zombie(struct rst_ctx *ctx, struct rst_task *t)
{
	int st = t->pe->exit_code;
	struct rlimit no_core = { 0, 0 };
	sigset_t all;

	/* pstree.img keeps no name for a zombie: its parent's is the best guess
	 * (a fork that exited), better than the daemon's */
	if (t->parent && t->parent->core)
		prctl(PR_SET_NAME, t->parent->core->comm, 0, 0, 0);
	for (int fd = 0; fd < 3; fd++)
		close(fd);
	if (WIFEXITED(st))
		_exit(WEXITSTATUS(st));
	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	signal(WTERMSIG(st), SIG_DFL);
	sigfillset(&all);
	sigdelset(&all, WTERMSIG(st));
	sigprocmask(SIG_SETMASK, &all, NULL);
	kill(getpid(), WTERMSIG(st));
	/* a signal whose default is to be ignored can't kill: exit instead */
	_exit(128 + WTERMSIG(st));
}

static void task_main(struct rst_ctx *ctx, struct rst_task *t)
{
	int r;

	r = own_session(ctx, t);
	if (r == 0)
		r = rst_cow_premap(ctx, t);	/* before the children: they inherit it */
	if (r == 0)
		r = fork_children(ctx, t);
	if (r < 0)
		task_give_up(ctx, RESTORE_EXIT_FAILED);
	atomic_fetch_add(&ctx->sh->forked, 1);
	wait_stage(ctx, 1);
	r = join_group(ctx, t);
	if (r < 0)
		task_give_up(ctx, RESTORE_EXIT_FAILED);
	if (t->pe->state == TASK_STATE__TASK_ZOMBIE)
		become_zombie(ctx, t);
	r = rst_task_run(ctx, t);	/* returns only on failure */
	task_give_up(ctx, RESTORE_EXIT_FAILED);
}

/* Is pid a descendant of this process (so it is ours to kill)? */
static bool is_descendant(pid_t pid)
{
	pid_t me = getpid();

	for (int depth = 0; depth < 256 && pid > 1; depth++) {
		struct proc_stat st;

		if (proc_read_stat(pid, &st) < 0)
			return false;
		pid = st.ppid;
		if (pid == me)
			return true;
	}
	return false;
}

/* Kill every task of the tree that exists, and reap what comes to us. */
static void kill_tree(struct rst_ctx *ctx)
{
	uint64_t deadline = now_us() + 5000000;

	atomic_store(&ctx->sh->failed, 1);
	futex_wake_all(&ctx->sh->stage);
	rst_lazy_abort(ctx);
	for (;;) {
		bool any = false;
		pid_t w;

		for (unsigned i = 0; i < ctx->nr_tasks; i++) {
			pid_t pid = ctx->tasks[i].pe->pid;
			int pfd = syscall(SYS_pidfd_open, pid, 0);

			if (pfd < 0)
				continue;
			if (is_descendant(pid)) {
				syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
				any = true;
			}
			close(pfd);
		}
		while ((w = waitpid(-1, NULL, WNOHANG | __WALL)) > 0)
			;
		if (w < 0 && errno == ECHILD && !any)
			break;
		if (now_us() > deadline)
			break;
		usleep(2000);
	}
}

/* ---- deaths nobody reports ---------------------------------------------- */

const char *rst_death(int status, char *buf, size_t len)
{
	const char *abbrev;

	if (WIFSIGNALED(status)) {
		abbrev = sigabbrev_np(WTERMSIG(status));
		snprintf(buf, len, "was killed by signal %d%s%s%s%s", WTERMSIG(status),
			 abbrev ? " (SIG" : "", abbrev ? abbrev : "", abbrev ? ")" : "",
			 WCOREDUMP(status) ? ", core dumped" : "");
	} else if (WIFEXITED(status)) {
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	} else {
		snprintf(buf, len, "died (wait status 0x%x)", status);
	}
	return buf;
}

/* ckptd's handler, which forked this process and alone can answer the
 * client, is gone (killed, or past its deadline): nobody would say what
 * became of the restore, so it fails and nothing of it is left running. */
static int check_handler(struct rst_ctx *ctx)
{
	if (getppid() == ctx->handler)
		return rst_lazy_check(ctx);
	return ckpt_fail(ctx->err, -ECONNABORTED, "ckptd's connection handler %d died mid-restore",
			 ctx->handler);
}

/* A pidfd on every task that exists by now and has none yet. A pid that
 * exists but not below this process is not ours (fork_children finds it
 * taken). Costs a failed pidfd_open per task not yet born. */
static void watch_tasks(struct rst_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		struct rst_task *t = &ctx->tasks[i];
		int fd;

		if (t->pidfd >= 0)
			continue;
		fd = syscall(SYS_pidfd_open, t->pe->pid, 0);
		if (fd < 0)
			continue;
		if (is_descendant(t->pe->pid))
			t->pidfd = fd;
		else
			close(fd);
	}
}

/* Whether t's death now fails the restore: any task's while the tree is
 * built; after that a zombie dies as it should, and a task let go runs its
 * own code (restore-unmap.c judged its way out of the blob). */
static bool must_live(const struct rst_task *t, bool building)
{
	if (t->pidfd < 0 || t->released)
		return false;
	return building || t->pe->state != TASK_STATE__TASK_ZOMBIE;
}

/* How t died, from its zombie's /proc/PID/stat: nobody reaps a task of
 * the tree until it is let go (a released parent may, hence "died"). */
static int task_died(struct rst_ctx *ctx, struct rst_task *t, bool building)
{
	struct proc_stat ps;
	char how[96] = "died";

	if (proc_read_stat(t->pe->pid, &ps) == 0 && (ps.state == 'Z' || ps.state == 'X'))
		rst_death(ps.exit_code, how, sizeof(how));
	return ckpt_fail(ctx->err, -EIO, "pid %d %s %s; every task of this restore was killed",
			 t->pe->pid, how,
			 building ? "while the tree was being built" :
			 t->reported ? "while it waited to resume" : "before its restorer reported");
}

/* The first task that died when it must not have (one poll for all). */
static int check_deaths(struct rst_ctx *ctx, bool building)
{
	_cleanup_free_ struct pollfd *p = calloc(ctx->nr_tasks, sizeof(*p));

	if (!p)
		return ckpt_fail(ctx->err, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < ctx->nr_tasks; i++)
		p[i] = (struct pollfd){
			.fd = must_live(&ctx->tasks[i], building) ? ctx->tasks[i].pidfd : -1,
			.events = POLLIN,
		};
	if (poll(p, ctx->nr_tasks, 0) <= 0)
		return 0;
	for (unsigned i = 0; i < ctx->nr_tasks; i++)
		if (p[i].revents & POLLIN)
			return task_died(ctx, &ctx->tasks[i], building);
	return 0;
}

/* t's blob report, or how t died without one: its status socket reads
 * end-of-file once every copy is closed, so it is dead or dying. */
static int take_report(struct rst_ctx *ctx, struct rst_task *t)
{
	struct pollfd p = { .fd = t->pidfd, .events = POLLIN };
	char c;

	if (recv(t->engine_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0 && t->pidfd >= 0 &&
	    poll(&p, 1, 1000) > 0)
		return task_died(ctx, t, false);
	return rst_blob_status(ctx, t);
}

static int open_status_pairs(struct rst_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		struct rst_task *t = &ctx->tasks[i];
		int sv[2];

		t->status_fd = t->engine_fd = -1;
		if (t->pe->state == TASK_STATE__TASK_ZOMBIE)
			continue;
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
			return ckpt_fail(ctx->err, negerrno(), "cannot create a status socket");
		t->engine_fd = rst_move_high(ctx, sv[0]);
		t->status_fd = rst_move_high(ctx, sv[1]);
		if (t->engine_fd < 0 || t->status_fd < 0)
			return ckpt_fail(ctx->err, -EMFILE, "cannot place a status socket");
	}
	return 0;
}

/* Everything opened once, before any task exists. */
static int prepare(struct rst_ctx *ctx)
{
	struct rlimit nofile;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t all;
	int r;

	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	/* every signal stays pending until the blob restores the saved mask:
	 * one sent to a task while the engine builds it must not kill it */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	ctx->pages_fd_base = MAX(ctx->max_fd + 1, 3);
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
	    (rlim_t)ctx->pages_fd_base + 64 + 4 * ctx->nr_tasks + ctx->nr_descs > nofile.rlim_cur)
		return ckpt_fail(ctx->err, -EMFILE,
				 "fd %d of the image is too close to this restorer's RLIMIT_NOFILE "
				 "(%llu)", ctx->max_fd, (unsigned long long)nofile.rlim_cur);
	ctx->dirfd = rst_move_high(ctx, ctx->dirfd);
	if (ctx->dirfd < 0)
		return ckpt_fail(ctx->err, ctx->dirfd, "cannot move the image directory fd");
	r = rst_chain_move_high(ctx);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "cannot move the parent sets' directory fds");
	if (ctx->opts->requester_uid != 0) {
		setfsgid(ctx->opts->requester_gid);
		setfsuid(ctx->opts->requester_uid);
	}
	r = rst_open_descs(ctx);
	if (r == 0)
		r = rst_open_vmfiles(ctx);
	if (r == 0)
		r = rst_open_shmems(ctx);
	if (r == 0)
		r = open_status_pairs(ctx);
	if (ctx->opts->requester_uid != 0) {
		setfsuid(0);
		setfsgid(0);
	}
	if (r == 0)
		r = rst_lazy_start(ctx);
	return r;
}

/* Phase A: every task exists (each counts itself once its children
 * exist), and every one is watched. */
static int wait_forked(struct rst_ctx *ctx)
{
	uint64_t deadline = now_us() + RST_FORK_TIMEOUT_MS * 1000ull;

	for (;;) {
		bool all = atomic_load(&ctx->sh->forked) >= ctx->nr_tasks;
		int r;

		watch_tasks(ctx);
		if (atomic_load(&ctx->sh->failed))
			return ckpt_fail(ctx->err, -EIO, "a task failed while the tree was created");
		r = check_handler(ctx);
		if (r == 0)
			r = check_deaths(ctx, true);
		if (r < 0 || all)
			return r;
		if (now_us() > deadline)
			return ckpt_fail(ctx->err, -ETIMEDOUT,
					 "the tree was not created in time (%u of %u tasks)",
					 atomic_load(&ctx->sh->forked), ctx->nr_tasks);
		usleep(500);
	}
}

/* Phase B: one status report per live task; any death or the handler's
 * wakes it at once. */
static int wait_reports(struct rst_ctx *ctx)
{
	uint64_t deadline = now_us() + RST_BLOB_TIMEOUT_MS * 1000ull;
	unsigned left = ctx->nr_alive;
	struct pollfd *pfd = calloc(2 * ctx->nr_tasks, sizeof(*pfd));
	int r = 0;

	if (!pfd)
		return -ENOMEM;
	while (left && r == 0) {
		unsigned n = 0;

		for (unsigned i = 0; i < ctx->nr_tasks; i++) {
			struct rst_task *t = &ctx->tasks[i];

			if (t->engine_fd >= 0 && !t->reported)
				pfd[n++] = (struct pollfd){ .fd = t->engine_fd, .events = POLLIN };
			if (must_live(t, false))
				pfd[n++] = (struct pollfd){ .fd = t->pidfd, .events = POLLIN };
		}
		if (atomic_load(&ctx->sh->failed)) {
			r = ckpt_fail(ctx->err, -EIO, "a task failed before its restorer ran");
			break;
		}
		r = check_handler(ctx);
		if (r < 0)
			break;
		if (now_us() > deadline) {
			r = ckpt_fail(ctx->err, -ETIMEDOUT, "%u tasks did not finish restoring in time",
				      left);
			break;
		}
		if (poll(pfd, n, 50) <= 0)
			continue;
		for (unsigned i = 0; i < ctx->nr_tasks && r == 0; i++) {
			struct rst_task *t = &ctx->tasks[i];
			short ev = 0;

			if (t->engine_fd < 0 || t->reported)
				continue;
			for (unsigned j = 0; j < n; j++)
				if (pfd[j].fd == t->engine_fd)
					ev = pfd[j].revents;
			if (!ev)
				continue;
			r = take_report(ctx, t);
			t->reported = true;
			left--;
		}
		if (r == 0)
			r = check_deaths(ctx, false);
	}
	free(pfd);
	return r;
}

/* Phase C: stopped tasks stop while still waiting in the blob (SIGSTOP
 * can't be blocked; the stop holds them before they run a single
 * instruction of their own), everyone resumes, and the blob's region goes
 * once a task left it (a stopped task keeps it until continued). A task
 * that dies on its way out of the blob, or one still waiting, or the
 * handler, fails the restore: the caller kills all of it, those let go
 * already included (they are still below this process).
 *
 * The commit point is the last check_handler() here: once it passed, this
 * process exits and the handler sends its answer. A handler killed in
 * between (a few system calls: its waitpid, then the send) leaves a tree
 * that runs while the client sees the connection close; that window can't
 * be closed from here, only made short. */
static int release(struct rst_ctx *ctx)
{
	int r;

	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		struct rst_task *t = &ctx->tasks[i];

		if (t->pe->state == TASK_STATE__TASK_STOPPED &&
		    kill(t->pe->pid, t->pe->stop_signal) < 0)
			return ckpt_fail(ctx->err, negerrno(), "pid %d: cannot stop it with signal %d",
					 t->pe->pid, t->pe->stop_signal);
	}
	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		struct rst_task *t = &ctx->tasks[i];

		if (t->engine_fd < 0)
			continue;
		r = check_handler(ctx);
		if (r == 0)
			r = check_deaths(ctx, false);
		if (r < 0)
			return r;
		if (t->pe->state != TASK_STATE__TASK_STOPPED) {
			r = rst_release_running(ctx, t);
			t->released = r <= 0;
			if (r < 0)
				return r;
			if (r == 0)
				continue;	/* else RST_NOT_SEIZED: the plain way */
		}
		r = rst_blob_go(ctx, t);
		if (r < 0)
			return r;
		t->released = true;
		if (t->pe->state == TASK_STATE__TASK_STOPPED)
			r = rst_finish_stopped(ctx, t);
		else
			rst_unmap_region(ctx, t);
		if (r < 0)
			return r;
	}
	return check_handler(ctx);
}

/* --shell-job restored by a ckptd in the terminal's session (the one-shot
 * ckptd that ckptctl restore starts to wait for the job, client/shell-job.c):
 * the tree, whose session leader (the user's old shell) is outside it, has
 * inherited this session, whose controlling tty the terminal is. The root's
 * process group becomes its foreground before any task runs, so that the
 * job reads and sets the terminal without being stopped (SIGTTIN, SIGTTOU)
 * and the terminal's ^C reaches it. A ckptd elsewhere (the service, or -d)
 * leaves the terminal alone. SIGTTOU is blocked here (prepare). */
static int shell_job_foreground(struct rst_ctx *ctx)
{
	int tty = ctx->opts->tty_fd;
	pid_t pgrp = ctx->tasks[0].pe->pgid;

	if (!ctx->opts->shell_job || tty < 0 || tcgetsid(tty) != getsid(0))
		return 0;
	if (!rst_find(ctx, pgrp) || getpgid(ctx->tasks[0].pe->pid) != pgrp)
		return 0;	/* a group outside the tree: the job stays in the background */
	if (tcsetpgrp(tty, pgrp) < 0)
		return ckpt_fail(ctx->err, negerrno(), "--shell-job: cannot make process group %d "
				 "the foreground of the caller's terminal", pgrp);
	return 0;
}

int rst_intermediate(struct rst_ctx *ctx)
{
	struct rst_task *root = &ctx->tasks[0];
	pid_t p;
	int r;

	for (unsigned i = 0; i < ctx->nr_tasks; i++)
		ctx->tasks[i].pidfd = -1;
	ctx->lazy_fd = ctx->lazy_ctl = -1;
	r = prepare(ctx);
	if (r < 0)
		return 1;
	p = clone_with_pid(root->pe->pid, SIGCHLD);
	if (p < 0) {
		int e = errno;

		ckpt_fail(ctx->err, e == EEXIST ? -EBUSY : -e, "pid %d: cannot create the root%s",
			  root->pe->pid, e == EEXIST ? " (pid in use, maybe by an unreaped zombie)" : "");
		return 1;
	}
	if (p == 0)
		task_main(ctx, root);
	for (unsigned i = 0; i < ctx->nr_tasks; i++)
		if (ctx->tasks[i].status_fd >= 0) {
			close(ctx->tasks[i].status_fd);
			ctx->tasks[i].status_fd = -1;
		}
	if (ctx->lazy_fd >= 0)
		close(ctx->lazy_fd);	/* every task inherited it */
	ctx->lazy_fd = -1;
	r = wait_forked(ctx);
	if (r == 0)
		r = rst_cgroup_place(ctx);	/* every task waits for stage 1 */
	if (r == 0) {
		atomic_store(&ctx->sh->stage, 1);
		futex_wake_all(&ctx->sh->stage);
		r = wait_reports(ctx);
	}
	if (r == 0)
		r = rst_apply_sched(ctx);	/* every thread exists, none runs */
	if (r == 0)
		r = shell_job_foreground(ctx);
	if (r == 0)
		r = release(ctx);
	if (r == 0)
		r = rst_lazy_commit(ctx);
	if (r < 0) {
		kill_tree(ctx);
		return 1;
	}
	return 0;
}
