/* One restore, start to end (see restore-int.h for the phases):
 * read and check every image, check that every pid is free, then fork the
 * intermediate process that builds the tree and exits once every task runs
 * (so the tree ends up detached from ckptd). The daemon waits for it and
 * reports the first failure any process of the restore described. */
#include "daemon/restore.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/files/tty.h"
#include "daemon/netlock.h"
#include "daemon/restore-int.h"
#include "daemon/sched.h"

/* Raising a hard rlimit needs CAP_SYS_RESOURCE; the restored tasks are
 * forked from this process and have its effective set. */
static bool may_raise_rlimits(void)
{
	cap_value_t res = CAP_SYS_RESOURCE;
	cap_flag_value_t v = CAP_CLEAR;
	cap_t c = cap_get_proc();

	if (!c)
		return false;
	cap_get_flag(c, res, CAP_EFFECTIVE, &v);
	cap_free(c);
	return v == CAP_SET;
}

static struct rst_ctx new_ctx(const struct restore_opts *opts, const struct kerndat *kd,
			      int dirfd, struct ckpt_err *err)
{
	return (struct rst_ctx){
		.opts = opts,
		.kd = kd,
		.err = err,
		.dirfd = dirfd,
		.page_size = kd->page_size > 0 ? kd->page_size : sysconf(_SC_PAGESIZE),
		.max_fd = 2,
	};
}

/* Everything restore checks before it creates anything, but that the pids
 * are free: a dump that will kill its tree runs this on the finished set
 * first, so what restore would refuse, the dump refuses while the tree
 * still runs. */
static int validate(struct rst_ctx *ctx)
{
	int r;

	ctx->can_raise_rlimits = may_raise_rlimits();
	r = rst_load(ctx);
	if (r == 0)
		r = rst_check_creds(ctx);
	if (r == 0)
		r = rst_check_files(ctx);
	if (r == 0)
		r = rst_check_pipes(ctx);
	if (r == 0)
		r = rst_check_ttys(ctx);
	for (unsigned i = 0; i < ctx->nr_tasks && r == 0; i++)
		if (ctx->tasks[i].core) {
			r = rst_check_rlimits(ctx, &ctx->tasks[i]);
			if (r == 0)
				r = rst_check_sched(ctx, &ctx->tasks[i]);
		}
	if (r == 0)
		r = rst_lazy_choose(ctx);
	if (r == 0)	/* the pieces the blobs fill, now they are known */
		r = rst_hash_pieces(ctx);
	if (r == 0 && !ctx->kd->clone3_set_tid)
		r = ckpt_fail(ctx->err, -EOPNOTSUPP,
			      "this kernel can't create a process with a chosen pid (clone3 set_tid)");
	return r;
}

int restore_validate(const struct restore_opts *opts, const struct kerndat *kd, int dirfd,
		     struct ckpt_err *err)
{
	struct rst_ctx ctx = new_ctx(opts, kd, dirfd, err);
	int r = validate(&ctx);

	rst_free(&ctx);
	return r;
}

/* -ECANCELED when the client gave up or the request was cancelled. */
static int progress(progress_fn fn, void *opaque, const char *stage, uint64_t done,
		    uint64_t total)
{
	return fn ? fn(opaque, stage, done, total) : 0;
}

#define PAGES_POLL_MS	100

/* Wait for the intermediate process p, telling the pages the blobs have
 * read so far (ctx->sh->pages_read) every PAGES_POLL_MS: a restore of
 * gigabytes spends most of its time there. The tree is being built: a
 * client that gives up meanwhile cancels nothing, so the progress
 * callback's answer is not looked at. */
static int wait_intermediate(struct rst_ctx *ctx, pid_t p, progress_fn fn, void *opaque,
			     int *ret_status)
{
	uint64_t total = ctx->pages - MIN(ctx->lazy_pages, ctx->pages), told = 0;
	/* its pidfd wakes the wait the moment it exits: a nap of
	 * PAGES_POLL_MS would add up to that much to every restore */
	struct pollfd pfd = { .fd = (int)syscall(SYS_pidfd_open, p, 0), .events = POLLIN };
	int r = 0;

	for (;;) {
		pid_t w = waitpid(p, ret_status, fn && total ? WNOHANG : 0);
		uint64_t done;

		if (w == p)
			break;
		if (w < 0 && errno != EINTR) {
			r = negerrno();
			break;
		}
		if (w == 0)
			poll(pfd.fd >= 0 ? &pfd : NULL, pfd.fd >= 0, PAGES_POLL_MS);
		done = MIN(atomic_load(&ctx->sh->pages_read), total);
		if (fn && total && done != told) {
			fn(opaque, "pages", done, total);
			told = done;
		}
	}
	if (pfd.fd >= 0)
		close(pfd.fd);
	return r;
}

/* Fork the intermediate process and wait until it is done. It watches
 * this process (ctx->handler): killed before the restore is committed, the
 * restore fails and nothing of it runs on. It also keeps this process's
 * fds, the client's connection among them, until it exits: a client that
 * lost us sees the connection close only once the tree is dead. */
static int run_intermediate(struct rst_ctx *ctx, progress_fn fn, void *opaque)
{
	pid_t p;
	int st, r;

	ctx->handler = getpid();
	p = fork();
	if (p < 0)
		return ckpt_fail(ctx->err, negerrno(), "cannot fork the restore process");
	if (p == 0)
		_exit(rst_intermediate(ctx));
	r = wait_intermediate(ctx, p, fn, opaque, &st);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "cannot wait for the restore process");
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && !ctx->sh->err.msg[0])
		return 0;
	if (ctx->sh->err.code < 0)
		return ctx->sh->err.code;
	return ckpt_fail(ctx->err, -EIO, "the restore process failed (status 0x%x)", st);
}

int restore_run(const struct restore_opts *opts, const struct kerndat *kd, int dirfd,
		progress_fn progress_cb, void *opaque, struct restore_stats *stats,
		struct ckpt_err *err)
{
	struct rst_ctx ctx = new_ctx(opts, kd, dirfd, err);
	uint64_t t0 = now_us();
	struct rst_shared *sh;
	int r;

	/* a restore can be cancelled until it forks the tree, never after:
	 * from then on it completes, or fails and removes what it built */
	r = progress(progress_cb, opaque, "read images", 0, 0);
	if (r == 0)
		r = validate(&ctx);
	if (r == 0)
		r = rst_check_pids(&ctx);
	if (r == 0)
		r = progress(progress_cb, opaque, "restore tree", 0, ctx.nr_tasks);
	if (r == -ECANCELED)
		ckpt_fail(err, r, "cancelled before the tree was built: nothing was restored");
	if (r < 0)
		goto out;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		r = ckpt_fail(err, negerrno(), "cannot map the restore's shared area");
		goto out;
	}
	ctx.sh = sh;
	ctx.err = &sh->err;
	r = run_intermediate(&ctx, progress_cb, opaque);
	ctx.err = err;
	if (r < 0 && sh->err.msg[0] && !err->msg[0])
		*err = sh->err;
	snprintf(stats->cgroup, sizeof(stats->cgroup), "%s", sh->cgroup);
	stats->lazy_server = sh->lazy_server;
	munmap(sh, sizeof(*sh));
	if (r < 0)
		goto out;
	/* committed: the tree runs; its connections may flow again */
	if (opts->tcp_established) {
		char name[32], why[256];

		netlock_name(ctx.tasks[0].pe->pid, name, sizeof(name));
		(void)netlock_remove(name, why, sizeof(why));
	}
	/* No "restore tree" 100% progress message:
	 * the answer, sent next, says it, and every step before it widens the
	 * window in which a handler killed leaves the client told otherwise */
	stats->root_pid = ctx.tasks[0].pe->pid;
	stats->tasks = ctx.nr_tasks;
	stats->pages = ctx.pages;
	stats->lazy_pages = ctx.lazy_pages;
	stats->ms = (now_us() - t0) / 1000;
out:
	rst_free(&ctx);
	return r;
}
