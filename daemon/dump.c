/* One dump, start to end.
 *
 * freeze -> pstree -> per task: core, mm (pages), files -> files.img ->
 * inventory -> commit the set -> release (resume, or kill: CRIU's default).
 * A round of an incremental chain (dump-incr.h) checks --prev and picks the
 * tracker before the freeze, and per task collects what was written since
 * the parent before its pages; a pre-dump saves the memory only (pstree,
 * mm, pagemap, pages, hashes) and always lets the tree run on.
 * Images go to a temporary directory inside the image directory and are
 * moved into place only when every one is complete; on any failure the
 * tree is released running and the temporary directory removed. */
#include "daemon/dump.h"

#include <errno.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "common/version.h"
#include "daemon/core.h"
#include "daemon/dump-incr.h"
#include "daemon/files/socket-tcp.h"
#include "daemon/files/tty-queue.h"
#include "daemon/freeze.h"
#include "daemon/mem-cow.h"
#include "daemon/mem.h"
#include "daemon/proc.h"
#include "daemon/restore.h"
#include "images/img.h"
#include "images/imgset.h"
#include "inventory.pb-c.h"

static int write_inventory(struct dump_ctx *ctx)
{
	InventoryEntry e = INVENTORY_ENTRY__INIT;
	char host[256] = "";
	struct img *img;
	int r;

	gethostname(host, sizeof(host) - 1);
	e.format_version = IMG_FORMAT_VERSION;
	e.kind = DUMP_KIND__DUMP_FULL;
	e.root_pid = ctx->opts->pid;
	e.kernel_release = (char *)ctx->kd->release;
	e.page_size = ctx->kd->page_size;
	e.xfeatures = ctx->xfeatures;
	e.xsave_size = ctx->xsave_size;
	e.nr_tasks = ctx->tree.nr_tasks;
	e.dump_time_ns = ctx->dump_time_ns;
	e.ckpt_version = CKPT_VERSION;
	e.has_pages_written = true;
	e.pages_written = ctx->stats.pages_written;
	e.has_freeze_us = true;
	e.freeze_us = ctx->stats.freeze_us;
	e.hostname = host;
	incr_inventory(ctx, ctx->incr, &e);

	r = img_create(ctx->dirfd, IMG_INVENTORY, 0, &img);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "cannot create inventory.img");
	r = img_write_msg(img, &e.base);
	if (r < 0) {
		ckpt_fail(ctx->err, r, "%s", img_errmsg(img));
		img_abort(img);
		return r;
	}
	return dump_img_close(ctx, img);
}

/* What restore would refuse, a dump that kills refuses while the tree still
 * runs: restore's own checks run on the finished set (all but the pids
 * being free, which they are not yet). A --leave-running dump keeps the
 * set and says why it cannot be restored. */
static int check_restorable(struct dump_ctx *ctx)
{
	const struct dump_opts *o = ctx->opts;
	struct restore_opts ro = {
		.requester = o->requester,
		.requester_uid = o->requester_uid,
		.requester_gid = o->requester_gid,
		.parent_fds = o->parent_fds,	/* an incremental set, with its chain */
		.nr_parents = o->nr_parents,
		.tcp_established = o->tcp_established,
		.ext_unix_sk = o->ext_unix_sk,
		.shell_job = o->shell_job,
		.tty_fd = -EBADF,
	};
	struct ckpt_err why = { 0 };
	int r;

	r = dump_progress(ctx, "check", 0, 0);
	if (r < 0)
		return r;
	r = restore_validate(&ro, ctx->kd, ctx->dirfd, &why);
	if (r >= 0)
		return 0;
	if (o->leave_running) {
		snprintf(ctx->stats.unrestorable, sizeof(ctx->stats.unrestorable), "%s",
			 ckpt_err_msg(&why, r));
		return 0;
	}
	return ckpt_fail(ctx->err, -ENOTRECOVERABLE,
			 "restore would refuse this tree, so the dump does and kills nothing: "
			 "%s. The tree runs on as it was (--leave-running dumps it anyway)",
			 ckpt_err_msg(&why, r));
}

/* What the workers found of one task, recorded. */
static void record_core(struct dump_ctx *ctx, const struct core_result *c)
{
	ctx->xfeatures |= c->xfeatures;
	ctx->xsave_size = MAX(ctx->xsave_size, c->xsave_size);
}

static void record_mm(struct dump_ctx *ctx, const struct mm_result *m)
{
	uint64_t total = ctx->pages_total + m->pages_counted;

	ctx->stats.vmas += m->vmas;
	ctx->stats.pages_written += m->pages_written;
	ctx->stats.pages_in_parent += m->pages_in_parent;
	/* smaps counted the zero and COW pages, but they are not written */
	ctx->pages_total = total - MIN(m->pages_zero + m->pages_cow, total);
}

/* core first: the syscall site it finds is what mem asks brk(0) through.
 * The tracker is asked right before the pages. */
static int dump_task(struct dump_ctx *ctx, unsigned i, struct task *t,
		     const struct mm_cow_plan *cow)
{
	struct core_result core = { 0 };
	struct mm_incr incr;
	struct mm_result mm;
	int r;

	t->pages_id = ++ctx->next_pages_id;
	r = dump_task_core(ctx, t, &core);
	if (r < 0)
		return r;
	record_core(ctx, &core);
	r = incr_task(ctx, ctx->incr, i, t, &incr);
	if (r == 0)
		r = incr_collect(ctx, ctx->incr, i, &incr);
	if (r < 0)
		return r;
	incr.cow = cow->shared ? &cow->shared[i] : NULL;
	r = dump_task_mm(ctx, t, core.syscall_ip, &incr, &mm);
	if (r < 0)
		return r;
	record_mm(ctx, &mm);
	return dump_task_files(ctx, t);
}

/* One task of a pre-dump, the tree running again: its written runs (if
 * the tracker allows it now), its VMAs, its pages. */
static int predump_task_running(struct dump_ctx *ctx, unsigned i, struct task *t,
				const struct mm_incr *incr, bool collect)
{
	struct mm_dump *plan = NULL;
	struct mm_result mm;
	int r = 0;

	if (collect)
		r = incr_collect(ctx, ctx->incr, i, incr);
	if (r == 0)
		r = dump_task_mm_plan(ctx, t, incr, &plan);
	if (r == 0)
		r = dump_task_mm_copy(plan, &mm);
	if (r == 0)
		record_mm(ctx, &mm);
	dump_task_mm_free(plan);
	return r;
}

/* A task that exited once the tree ran again has nothing to save in this
 * pre-dump: what it wrote of the round goes, so the next round finds no
 * memory of it here (it is new then, or gone; the final dump, frozen,
 * decides). */
static void predump_forget_task(struct dump_ctx *ctx, const struct task *t)
{
	static const enum img_kind per_pid[] = { IMG_MM, IMG_PAGEMAP, IMG_HASHES };
	char name[64];

	for (size_t i = 0; i < ARRAY_SIZE(per_pid); i++)
		if (img_filename(per_pid[i], t->pid, name, sizeof(name)) == 0)
			unlinkat(ctx->dirfd, name, 0);
	if (img_filename(IMG_PAGES, t->pages_id, name, sizeof(name)) == 0)
		unlinkat(ctx->dirfd, name, 0);
	incr_warn(ctx->incr, "pid %d exited during the pre-dump: this round holds none of it",
		  t->pid);
}

/* A pre-dump freezes only as long as its tracker needs: every task's
 * tracking is opened with the tree frozen (uffd-wp's first round injects
 * userfaultfd() then), and collected and re-armed too where the tracker
 * cannot do it with the task running (soft-dirty: track_scans_running()).
 * Then the tree runs on while the rest is done: the written runs of a
 * uffd-wp round (a page-table walk that grows with the memory), the VMAs
 * (smaps walks the page tables too) and the pages (mem.h). A VMA that
 * changes meanwhile is saved whole by the next round (track.h), and the
 * final dump is frozen throughout, so what restore sees is exact.
 * freeze_us is the whole time the tree was frozen. */
static int predump_tasks(struct dump_ctx *ctx)
{
	unsigned n = ctx->tree.nr_tasks;
	bool collect_frozen = !track_scans_running(ctx->incr->kind);
	_cleanup_free_ struct mm_incr *incr = calloc(n, sizeof(*incr));
	int r = 0;

	if (!incr)
		return ckpt_fail(ctx->err, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < n && r == 0; i++) {
		struct task *t = ctx->tree.tasks[i];

		if (t->state == TS_ZOMBIE)
			continue;
		t->pages_id = ++ctx->next_pages_id;
		r = dump_progress(ctx, "tasks", i, n);
		if (r == 0)
			r = incr_task(ctx, ctx->incr, i, t, &incr[i]);
		if (r == 0 && collect_frozen)
			r = incr_collect(ctx, ctx->incr, i, &incr[i]);
	}
	if (r < 0)
		return r;
	release_tree(ctx, false);
	ctx->stats.freeze_us = now_us() - ctx->t0_us;
	for (unsigned i = 0; i < n && r == 0; i++) {
		struct task *t = ctx->tree.tasks[i];
		struct ckpt_err before = *ctx->err;

		if (t->state == TS_ZOMBIE)
			continue;
		r = predump_task_running(ctx, i, t, &incr[i], !collect_frozen);
		if (r < 0 && proc_dying(t->pid)) {	/* exited since the tree ran again */
			*ctx->err = before;	/* its failure says only that it went */
			predump_forget_task(ctx, t);
			r = 0;
		}
	}
	return r < 0 ? r : write_inventory(ctx);
}

/* The pages each task shares with its parent task, before any is read
 * (mem-cow.h): in a set without a parent set only. */
static int plan_cow(struct dump_ctx *ctx, struct mm_cow_plan *ret)
{
	const struct kerndat *kd = ctx->kd;
	bool known = kd && kd->page_size > 0;

	if (ctx->opts->prev && ctx->opts->prev[0])
		return 0;
	return mm_cow_plan(&ctx->tree, known ? kd->page_size : sysconf(_SC_PAGESIZE),
			   !known || kd->pagemap_scan, ret, ctx->err);
}

static int dump_tasks(struct dump_ctx *ctx)
{
	struct mm_cow_plan cow = { 0 };
	int r;

	r = dump_pstree(ctx);
	if (r < 0)
		return r;
	if (ctx->opts->pre)
		return predump_tasks(ctx);
	r = plan_cow(ctx, &cow);
	for (unsigned i = 0; r == 0 && i < ctx->tree.nr_tasks; i++) {
		struct task *t = ctx->tree.tasks[i];

		if (t->state == TS_ZOMBIE)
			continue;	/* pstree.img says all there is */
		r = dump_progress(ctx, "tasks", i, ctx->tree.nr_tasks);
		if (r == 0)
			r = dump_task(ctx, i, t, &cow);
	}
	mm_cow_plan_free(&cow);
	if (r < 0)
		return r;
	r = sock_tcp_dump_finish(ctx);
	if (r == 0)
		r = dump_files_finish(ctx);
	if (r < 0)
		return r;
	return write_inventory(ctx);
}

/* Refuse to replace a set without --force, then make the temporary
 * directory the images go to. */
static int begin_set(struct dump_ctx *ctx, int dirfd, char *tmp, size_t len)
{
	int r = imgset_probe(dirfd);

	if (r < 0)
		return ckpt_fail(ctx->err, r, "cannot read the image directory");
	if (r > 0 && !ctx->opts->force)
		return ckpt_fail(ctx->err, -EEXIST,
				 "the image directory already holds an image set; "
				 "use --force to replace it");
	r = imgset_begin(dirfd, tmp, len, &ctx->dirfd);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "cannot write to the image directory");
	return 0;
}

static void dump_ctx_free(struct dump_ctx *ctx)
{
	if (ctx->dirfd >= 0)
		close(ctx->dirfd);
	ctx->dirfd = -1;
	ptyq_dump_end(ctx, false);	/* put back already, on every path */
	files_ctx_free(ctx->files);
	sock_tcp_dump_end(ctx, false);
	pstree_free(&ctx->tree);
}

/* The set stands: tracking goes on for the next round only while the tree
 * does; the tree runs on or goes; the figures for the answer. */
static void dump_done(struct dump_ctx *ctx, bool keep_running, uint64_t t0,
		      struct dump_stats *stats)
{
	incr_finish(ctx->incr, keep_running);
	if (keep_running)	/* repair mode left before the tree runs */
		sock_tcp_dump_end(ctx, false);
	ptyq_dump_end(ctx, !keep_running);	/* the bytes read out of ptys back */
	release_tree(ctx, !keep_running);
	sock_tcp_dump_end(ctx, true);	/* killed: closed in repair mode, still locked */
	ctx->stats.total_us = now_us() - t0;
	ctx->stats.tasks = ctx->tree.nr_tasks;
	snprintf(ctx->stats.warnings, sizeof(ctx->stats.warnings), "%s", ctx->incr->warnings);
	*stats = ctx->stats;
	dump_ctx_free(ctx);
}

int dump_run(const struct dump_opts *opts, const struct kerndat *kd, int dirfd,
	     progress_fn progress, void *opaque, struct dump_stats *stats,
	     struct ckpt_err *err)
{
	struct dump_ctx ctx = {
		.opts = opts,
		.kd = kd,
		.err = err,
		.dirfd = -1,
		.progress = progress,
		.progress_opaque = opaque,
	};
	struct dump_incr incr = { 0 };
	bool keep_running = opts->leave_running || opts->pre;
	struct timespec now;
	char tmp[64];
	uint64_t t0 = now_us();
	int r;

	ctx.incr = &incr;
	if (opts->nr_parents && !opts->prev)
		return ckpt_fail(err, -EINVAL, "a parent set came without its path (--prev)");
	if (opts->hold && keep_running)
		return ckpt_fail(err, -EINVAL, "a held dump (migrate's last round) either kills "
				 "the tree or lets it run on, as its verdict says: it cannot be %s",
				 opts->pre ? "a pre-dump" : "--leave-running");
	r = incr_prepare(&ctx, &incr);
	if (r == 0)
		r = begin_set(&ctx, dirfd, tmp, sizeof(tmp));
	if (r < 0) {
		incr_finish(&incr, false);
		return r;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	ctx.dump_time_ns = (uint64_t)now.tv_sec * 1000000000ull + now.tv_nsec;
	r = dump_progress(&ctx, "freeze", 0, 0);
	ctx.t0_us = now_us();
	if (r == 0)
		r = freeze_tree(&ctx);
	if (r < 0)
		goto out_discard;
	ctx.stats.freeze_us = now_us() - ctx.t0_us;

	r = dump_tasks(&ctx);
	/* a pre-dump is never restored by itself; a held dump (migrate) is
	 * checked by the real restore at the destination before the tree
	 * goes, and its parents' page data may be gone from the source */
	if (r == 0 && !opts->pre && !opts->hold)
		r = check_restorable(&ctx);
	/* the last moment to cancel: after this the set stands and the tree goes */
	if (r == 0)
		r = dump_progress(&ctx, "commit", 0, 0);
	if (r == 0) {
		r = imgset_commit(dirfd, tmp, opts->force);
		if (r < 0)
			ckpt_fail(err, r, "cannot move the finished image set into place");
	}
	if (r < 0) {
		incr_finish(&incr, false);	/* before the tree runs again */
		sock_tcp_dump_end(&ctx, false);
		ptyq_dump_end(&ctx, false);
		release_tree(&ctx, false);
		goto out_discard;
	}
	/* migrate's last round: the set stands and the tree stays frozen
	 * until the verdict; it goes on a go only, else runs on (and the set
	 * stays, for the client to remove) */
	if (opts->hold) {
		char why[256] = "no verdict";

		r = opts->hold(opts->hold_opaque, why, sizeof(why));
		if (r != 1) {
			incr_finish(&incr, false);
			sock_tcp_dump_end(&ctx, false);
			ptyq_dump_end(&ctx, false);
			release_tree(&ctx, false);
			dump_ctx_free(&ctx);
			return ckpt_fail(err, -ECANCELED, "the migration was not confirmed (%s): "
					 "the tree runs on", why);
		}
	}
	dump_done(&ctx, keep_running, t0, stats);
	return 0;

out_discard:
	incr_finish(&incr, false);
	if (ctx.dirfd >= 0)
		close(ctx.dirfd);
	ctx.dirfd = -1;
	imgset_discard(dirfd, tmp);
	dump_ctx_free(&ctx);
	return r;
}
