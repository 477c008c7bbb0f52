/* Restore, lazily (ckptctl restore --lazy): which VMAs the lazy server
 * serves instead of the blob, the server's process, and the intermediate
 * process's line to it.
 *
 * A VMA is lazy when it is of the kind images/lazy-vma.h says and holds
 * at least LAZY_MIN_PAGES pages of data: small ones cost less to read at
 * once than to fault in (a post-copy migration's final round: any data,
 * as its source held back the pages of every VMA of that kind).
 * Everything else is restored as always, before the tree runs.
 *
 * The server is forked by the intermediate process once every file is
 * open and before any task exists; it closes all it inherited but the
 * pages files it reads, and lives on after the restore (daemon/lazy.c).
 * Until the intermediate process says the restore committed, a server
 * that dies or fails fails the restore, its message passed on. */
#include "daemon/restore-int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/lazy.h"
#include "images/chain.h"
#include "images/lazy-vma.h"

#define LAZY_MIN_PAGES	256	/* 1 MiB of data */
#define RST_LAZY_SEIZE_TIMEOUT_MS	10000

/* Data pages of t inside [start, end), from entry *i on (ascending). */
static uint64_t data_pages(const struct rst_task *t, size_t *i, uint64_t start, uint64_t end)
{
	uint64_t n = 0;

	while (*i < t->nr_pages && t->pages[*i].vaddr < start)
		(*i)++;
	for (; *i < t->nr_pages && t->pages[*i].vaddr < end; (*i)++)
		if (t->pages[*i].flags & PE_PRESENT)
			n += t->pages[*i].nr_pages;
	return n;
}

static int choose_task(struct rst_ctx *ctx, struct rst_task *t)
{
	size_t pi = 0;

	for (unsigned i = 0; i < t->nr_vmas; i++) {
		VmaEntry *v = t->vmas[i];
		uint64_t n;

		/* shared with a parent or child task (PE_COW): filled before the
		 * fork, restore-cow.c; the server never sees such a page */
		if (!vma_lazy_kind(v) || rst_vma_cow(t, i)) {
			data_pages(t, &pi, v->start, v->end);
			continue;
		}
		n = data_pages(t, &pi, v->start, v->end);
		if (n < (ctx->opts->postcopy ? 1 : LAZY_MIN_PAGES))
			continue;
		if (!t->lazy) {
			t->lazy = calloc(t->nr_vmas, sizeof(*t->lazy));
			if (!t->lazy)
				return -ENOMEM;
		}
		t->lazy[t->nr_lazy++] = (struct restore_range){ v->start, v->end };
		ctx->lazy_pages += n;
	}
	return 0;
}

int rst_lazy_choose(struct rst_ctx *ctx)
{
	if (!ctx->opts->lazy)
		return 0;
	if (!ctx->kd->uffd)
		return ckpt_fail(ctx->err, -EOPNOTSUPP,
				 "restore --lazy: this kernel has no userfaultfd (or it is not "
				 "permitted here); restore without --lazy");
	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		struct rst_task *t = &ctx->tasks[i];
		int r;

		if (!t->mm || t->pe->state == TASK_STATE__TASK_ZOMBIE)
			continue;
		r = choose_task(ctx, t);
		if (r < 0)
			return ckpt_fail(ctx->err, r, "pid %d: cannot plan its lazy memory",
					 t->pe->pid);
	}
	return 0;
}

bool rst_vma_lazy(const struct rst_task *t, const VmaEntry *v)
{
	unsigned lo = 0, hi = t->nr_lazy;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (t->lazy[mid].start == v->start)
			return true;
		if (t->lazy[mid].start < v->start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool rst_addr_lazy(const struct rst_task *t, uint64_t addr)
{
	unsigned lo = 0, hi = t->nr_lazy;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (addr < t->lazy[mid].start)
			hi = mid;
		else if (addr >= t->lazy[mid].end)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* ---- the server's process ------------------------------------------------ */

/* "DIR/name" for messages, DIR read back from the directory fd. */
static char *file_name(int dirfd, const char *name)
{
	char dir[4096];
	char *s;

	if (fd_path(dirfd, dir, sizeof(dir)) < 0)
		return strdup(name);
	return asprintf(&s, "%s/%s", dir, name) < 0 ? NULL : s;
}

static int add_task(struct rst_ctx *ctx, struct rst_task *t, struct lazy_plan *p,
		    struct lazy_task *lt)
{
	unsigned n = ctx->chain ? ctx->chain->nr : 1;
	int fds[CHAIN_MAX];
	unsigned base = p->nr_files, nr;
	size_t nb = 0;
	int r;

	r = rst_open_pages_fds(ctx, t, fds, &nr);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < n; i++) {
		unsigned id = i ? (t->link_pages_id ? t->link_pages_id[i] : 0) : t->pages_id;
		char name[64];

		snprintf(name, sizeof(name), "pages-%u.img", id);
		p->files[p->nr_files].fd = fds[i];
		p->files[p->nr_files].name = fds[i] < 0 ? NULL :
			file_name(i ? ctx->chain->link[i].dirfd : ctx->dirfd, name);
		p->files[p->nr_files].fed = i == 0 && ctx->opts->postcopy;
		p->nr_files++;
	}
	lt->pid = t->pe->pid;
	lt->ranges = t->lazy;
	lt->nr_ranges = t->nr_lazy;
	lt->blocks = calloc(t->nr_pages ? t->nr_pages : 1, sizeof(*lt->blocks));
	if (!lt->blocks)
		return ckpt_fail(ctx->err, -ENOMEM, "pid %d: no memory for its lazy plan",
				 t->pe->pid);
	for (size_t i = 0, ri = 0; i < t->nr_pages; i++) {
		const struct page_entry *e = &t->pages[i];

		while (ri < t->nr_lazy && t->lazy[ri].end <= e->vaddr)
			ri++;
		if (ri == t->nr_lazy)
			break;
		if (e->vaddr < t->lazy[ri].start || !(e->flags & PE_PRESENT))
			continue;
		lt->blocks[nb] = (struct lazy_block){
			.vaddr = e->vaddr, .nr_pages = e->nr_pages,
			.file = base + t->page_link[i], .off = e->data_off, .xxh3 = e->xxh3,
		};
		if (e->flags & PE_RST_PIECE) {	/* of a parent's block: read it whole */
			const struct rst_src *src = &t->srcs[e->xxh3];

			lt->blocks[nb].off = src->off;
			lt->blocks[nb].xxh3 = src->xxh3;
			lt->blocks[nb].read_pages = src->nr_pages;
			lt->blocks[nb].skip_pages = (e->data_off - src->off) / ctx->page_size;
		}
		nb++;
	}
	lt->nr_blocks = nb;
	return 0;
}

static int build_plan(struct rst_ctx *ctx, struct lazy_plan *p)
{
	unsigned links = ctx->chain ? ctx->chain->nr : 1;

	p->tasks = calloc(ctx->nr_tasks, sizeof(*p->tasks));
	p->files = calloc((size_t)ctx->nr_tasks * links, sizeof(*p->files));
	if (!p->tasks || !p->files)
		return ckpt_fail(ctx->err, -ENOMEM, "no memory for the lazy plan");
	p->root = ctx->tasks[0].pe->pid;
	p->uid = ctx->opts->requester_uid;
	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		struct rst_task *t = &ctx->tasks[i];
		int r;

		if (!t->nr_lazy)
			continue;
		r = add_task(ctx, t, p, &p->tasks[p->nr_tasks]);
		if (r < 0)
			return r;
		p->nr_tasks++;
	}
	return 0;
}

/* stdin and stdout go to /dev/null; so does stderr when it is a pipe: a
 * caller reading ckptctl's output to its end must not wait for us. */
static void quiet_std(void)
{
	struct stat st;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0)
		return;
	dup2(null, 0);
	dup2(null, 1);
	if (fstat(2, &st) < 0 || S_ISFIFO(st.st_mode))
		dup2(null, 2);
	if (null > 2)
		close(null);
}

static int server_main(struct rst_ctx *ctx, int sock, int ctl)
{
	struct ckpt_err err = { 0 };
	struct lazy_plan plan = { 0 };
	char dir[4096];
	sigset_t none;
	int *keep;
	unsigned nk = 0;
	int r;

	ctx->err = &err;
	setsid();
	prctl(PR_SET_NAME, LAZY_COMM, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	fd_path(ctx->dirfd, dir, sizeof(dir));
	plan.dir = dir;
	r = build_plan(ctx, &plan);
	plan.feed = ctx->opts->postcopy ? ctx->opts->feed_fd : -1;
	keep = calloc(plan.nr_files + 4, sizeof(*keep));
	if (r == 0 && !keep)
		r = ckpt_fail(&err, -ENOMEM, "no memory");
	if (r < 0) {
		send(ctl, err.msg, strlen(err.msg) + 1, MSG_NOSIGNAL);
		return 1;
	}
	for (unsigned i = 0; i < plan.nr_files; i++)
		keep[nk++] = plan.files[i].fd;
	keep[nk++] = sock;
	keep[nk++] = ctl;
	keep[nk++] = 2;
	if (plan.feed >= 0)
		keep[nk++] = plan.feed;
	rst_close_fds_but(keep, nk);	/* at worst an fd stays open */
	quiet_std();
	sigemptyset(&none);
	sigaddset(&none, SIGCHLD);	/* lazy_serve may read it from a signalfd */
	sigprocmask(SIG_SETMASK, &none, NULL);
	plan.uffd_sock = sock;
	plan.ctl = ctl;
	r = lazy_serve(&plan, &err);
	if (r < 0 && r != -ECANCELED) {
		send(ctl, err.msg, strlen(err.msg) + 1, MSG_NOSIGNAL);
		fprintf(stderr, "ckptd: %s\n", err.msg);
	}
	return r < 0 ? 1 : 0;
}

/* ---- the intermediate process's side -------------------------------------- */

int rst_lazy_start(struct rst_ctx *ctx)
{
	int sv[2], cv[2];
	pid_t pid;

	ctx->lazy_fd = ctx->lazy_ctl = -1;
	if (!ctx->lazy_pages)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return ckpt_fail(ctx->err, negerrno(), "cannot create the lazy server's socket");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, cv) < 0) {
		close(sv[0]);
		close(sv[1]);
		return ckpt_fail(ctx->err, negerrno(), "cannot create the lazy server's socket");
	}
	pid = fork();
	if (pid < 0)
		return ckpt_fail(ctx->err, negerrno(), "cannot fork the lazy server");
	if (pid == 0) {
		close(sv[1]);
		close(cv[0]);
		_exit(server_main(ctx, sv[0], cv[1]));
	}
	close(sv[0]);
	close(cv[1]);
	ctx->sh->lazy_server = pid;
	ctx->lazy_fd = rst_move_high(ctx, sv[1]);
	ctx->lazy_ctl = rst_move_high(ctx, cv[0]);
	if (ctx->lazy_fd < 0 || ctx->lazy_ctl < 0)
		return ckpt_fail(ctx->err, -EMFILE, "cannot place the lazy server's sockets");
	return 0;
}

/* The server's own message, whole (it says why, strerror included). */
static int relay(struct rst_ctx *ctx, const char *msg)
{
	ckpt_fail(ctx->err, 0, "the lazy server failed: %s", msg);
	if (!ctx->err->code)
		ctx->err->code = -EIO;
	return -EIO;
}

int rst_lazy_check(struct rst_ctx *ctx)
{
	struct pollfd p = { .fd = ctx->lazy_ctl, .events = POLLIN };
	char msg[sizeof(ctx->err->msg)];
	ssize_t n;

	if (ctx->lazy_ctl < 0 || poll(&p, 1, 0) <= 0)
		return 0;
	n = recv(ctx->lazy_ctl, msg, sizeof(msg) - 1, MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n > 0) {
		msg[n] = 0;
		return relay(ctx, msg);
	}
	return ckpt_fail(ctx->err, -ECONNABORTED, "the lazy server (pid %d) died mid-restore",
			 ctx->sh->lazy_server);
}

/* Tell the server the restore committed, and wait until it holds every
 * task (PTRACE_O_EXITKILL): from then on its death kills the tree; until
 * then this process does, failing the restore. */
int rst_lazy_commit(struct rst_ctx *ctx)
{
	struct pollfd p = { .fd = ctx->lazy_ctl, .events = POLLIN };
	char c = LAZY_CTL_COMMIT, msg[sizeof(ctx->err->msg)];
	ssize_t n;
	int r;

	if (ctx->lazy_ctl < 0)
		return 0;
	r = rst_lazy_check(ctx);
	if (r < 0)
		return r;
	if (send(ctx->lazy_ctl, &c, 1, MSG_NOSIGNAL) != 1)
		return ckpt_fail(ctx->err, negerrno(), "cannot reach the lazy server (pid %d)",
				 ctx->sh->lazy_server);
	do
		r = poll(&p, 1, RST_LAZY_SEIZE_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return ckpt_fail(ctx->err, -ETIMEDOUT, "the lazy server (pid %d) did not take "
				 "the tree in %d s", ctx->sh->lazy_server,
				 RST_LAZY_SEIZE_TIMEOUT_MS / 1000);
	n = recv(ctx->lazy_ctl, msg, sizeof(msg) - 1, 0);
	if (n == 1 && msg[0] == LAZY_CTL_SEIZED)
		return 0;
	if (n > 1) {
		msg[n] = 0;
		return relay(ctx, msg);
	}
	return ckpt_fail(ctx->err, -ECONNABORTED, "the lazy server (pid %d) died as the "
			 "restore committed", ctx->sh->lazy_server);
}

/* The restore failed: the server sees its line close and leaves. */
void rst_lazy_abort(struct rst_ctx *ctx)
{
	if (ctx->lazy_ctl >= 0)
		close(ctx->lazy_ctl);
	ctx->lazy_ctl = -1;
}
