/* One round of an incremental chain: see dump-incr.h. */
#include "daemon/dump-incr.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/proc.h"
#include "daemon/dump.h"
#include "daemon/dump-rounds.h"
#include "daemon/track/keeper.h"

static void read_boot_id(char *buf, size_t len)
{
	_cleanup_free_ char *text = NULL;

	buf[0] = '\0';
	if (read_file_at(AT_FDCWD, "/proc/sys/kernel/random/boot_id", &text, NULL) == 0) {
		snprintf(buf, len, "%s", text);
		buf[strcspn(buf, "\n")] = '\0';
	}
}

/* The parent chain against this process and the tracker asked for. */
static int check_parent(struct dump_ctx *ctx, struct dump_incr *in, const char *track)
{
	const struct dump_opts *o = ctx->opts;
	const char *prev = o->prev ? o->prev : "(the parent)";
	struct ckpt_err why = { 0 };
	const InventoryEntry *p;
	enum track_kind pk;
	int r;

	r = chain_load(o->parent_fds, o->nr_parents, false, &in->parents, &why);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "--prev %s: %s", prev, ckpt_err_msg(&why, r));
	p = in->parents.link[0].inv;
	if (p->root_pid != o->pid)
		return ckpt_fail(ctx->err, -EINVAL, "--prev %s is a set of pid %d, not of pid %d",
				 prev, p->root_pid, o->pid);
	if (!p->has_root_start_time || p->root_start_time != in->root_start_time)
		return ckpt_fail(ctx->err, -EINVAL,
				 "--prev %s saved another process with pid %d (start time %" PRIu64
				 ", this one's %" PRIu64 "): start a new chain without --prev",
				 prev, o->pid, p->root_start_time, in->root_start_time);
	if (!p->boot_id || strcmp(p->boot_id, in->boot_id))
		return ckpt_fail(ctx->err, -EINVAL,
				 "--prev %s was made before a reboot (boot id %s, now %s): start a "
				 "new chain without --prev", prev, p->boot_id ? p->boot_id : "none",
				 in->boot_id);
	if (!p->tracker || track_parse(p->tracker, NULL, &pk) < 0 || pk == TRACK_NONE)
		return ckpt_fail(ctx->err, -EINVAL,
				 "--prev %s was dumped without a dirty-page tracker: start a chain "
				 "with ckptctl pre-dump (or dump --track)", prev);
	if (track && strcmp(track, "auto")) {
		r = track_parse(track, ctx->kd, &in->kind);
		if (r < 0)
			return ckpt_fail(ctx->err, -EINVAL, "--track %s: no such tracker; use auto, "
					 "soft-dirty, uffd-wp or hash", track);
		if (in->kind != pk)
			return ckpt_fail(ctx->err, -EINVAL,
					 "--prev %s was tracked with %s, not %s: leave --track out "
					 "(auto takes the parent's) or start a new chain", prev,
					 track_name(pk), track_name(in->kind));
	}
	in->kind = pk;
	return 0;
}

int incr_prepare(struct dump_ctx *ctx, struct dump_incr *in)
{
	const struct dump_opts *o = ctx->opts;
	const char *why;
	int r;

	in->kind = TRACK_NONE;
	r = chain_new_set_id(in->set_id);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "cannot make a set id (getrandom)");
	read_boot_id(in->boot_id, sizeof(in->boot_id));
	r = proc_read_start_time(o->pid, &in->root_start_time);
	if (r < 0 && (o->nr_parents || o->pre || o->track))
		return ckpt_fail(ctx->err, r, "pid %d: cannot read /proc/%d/stat", o->pid, o->pid);

	if (o->nr_parents) {
		r = check_parent(ctx, in, o->track);
		if (r < 0)
			return r;
	} else if (o->pre || o->track) {
		r = track_parse(o->track ? o->track : "auto", ctx->kd, &in->kind);
		if (r < 0 || in->kind == TRACK_NONE)
			return ckpt_fail(ctx->err, -EINVAL, "--track %s: no such tracker; use auto, "
					 "soft-dirty, uffd-wp or hash", o->track);
	}
	if (in->kind != TRACK_NONE && !track_available(in->kind, ctx->kd, &why))
		return ckpt_fail(ctx->err, -EOPNOTSUPP,
				 "--track %s: this kernel does not offer it: %s; use --track hash "
				 "(works everywhere) or auto", track_name(in->kind), why);
	return 0;
}

void incr_warn(struct dump_incr *in, const char *fmt, ...)
{
	size_t n = strlen(in->warnings);
	va_list ap;

	if (n + 2 >= sizeof(in->warnings))
		return;
	if (n)
		in->warnings[n++] = '\n';
	va_start(ap, fmt);
	vsnprintf(in->warnings + n, sizeof(in->warnings) - n, fmt, ap);
	va_end(ap);
}

static int grow_tt(struct dump_incr *in, unsigned n)
{
	struct run_list **dirty;
	struct track_task **tt;
	uint64_t *starts;
	pid_t *pids;

	if (n <= in->nr_tt)
		return 0;
	tt = realloc(in->tt, n * sizeof(*tt));
	if (tt)
		in->tt = tt;
	pids = realloc(in->pids, n * sizeof(*pids));
	if (pids)
		in->pids = pids;
	starts = realloc(in->starts, n * sizeof(*starts));
	if (starts)
		in->starts = starts;
	dirty = realloc(in->dirty, n * sizeof(*dirty));
	if (dirty)
		in->dirty = dirty;
	if (!tt || !pids || !starts || !dirty)
		return -ENOMEM;
	memset(tt + in->nr_tt, 0, (n - in->nr_tt) * sizeof(*tt));
	memset(dirty + in->nr_tt, 0, (n - in->nr_tt) * sizeof(*dirty));
	in->nr_tt = n;
	return 0;
}

/* Whether the live tracking of pid counts from the parent set: the round
 * that armed it last recorded its set id (dump-rounds.h). If not, why. */
static bool from_parent(const struct dump_incr *in, pid_t pid, uint64_t start, char *why,
			size_t len)
{
	const char *want = in->parents.link[0].inv->set_id;
	char have[64];

	if (rounds_get(pid, start, have, sizeof(have)) < 0) {
		snprintf(why, len, "no record of the round its tracking counts from (%s)",
			 ROUNDS_DIR);
		return false;
	}
	if (!want || strcmp(have, want)) {
		snprintf(why, len, "its tracking counts from set %s, a later round than --prev "
			 "(set %s)", have, want ? want : "without id");
		return false;
	}
	return true;
}

int incr_task(struct dump_ctx *ctx, struct dump_incr *in, unsigned i, struct task *t,
	      struct mm_incr *ret)
{
	int parent = in->parents.nr ? in->parents.link[0].dirfd : -1;
	bool first = parent < 0 || !mm_in_set(parent, t->pid);
	struct track_task *tt = NULL;
	char lost[512] = "";
	int r;

	*ret = (struct mm_incr){ .kind = in->kind, .parent_dirfd = parent, .whole = first };
	if (in->kind == TRACK_NONE)
		return 0;
	if (parent >= 0 && first)
		incr_warn(in, "pid %d saved whole: it is new since --prev (forked since)", t->pid);
	if (in->kind == TRACK_HASH)
		return 0;	/* the hash tracker lives in the image set */
	r = grow_tt(in, i + 1);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d: out of memory", t->pid);
	in->pids[i] = t->pid;
	r = proc_read_start_time(t->pid, &in->starts[i]);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d: cannot read its start time", t->pid);
	if (!first && !from_parent(in, t->pid, in->starts[i], lost, sizeof(lost))) {
		incr_warn(in, "pid %d saved whole: %s", t->pid, lost);
		first = true;
		ret->whole = true;
	}
	r = track_task_open(in->kind, ctx->kd, t->pid, first, &tt, lost, sizeof(lost), ctx->err);
	if (r < 0)
		return r;
	if (!tt) {
		/* tracking lost: this task is saved whole, and armed anew */
		incr_warn(in, "pid %d saved whole: %s", t->pid, lost);
		first = true;
		ret->whole = true;
		r = track_task_open(in->kind, ctx->kd, t->pid, true, &tt, lost, sizeof(lost),
				    ctx->err);
		if (r < 0)
			return r;
		if (!tt)
			return ckpt_fail(ctx->err, -EIO, "pid %d: cannot arm %s tracking: %s",
					 t->pid, track_name(in->kind), lost);
	}
	in->tt[i] = tt;
	if (first)
		return 0;
	in->dirty[i] = calloc(1, sizeof(*in->dirty[i]));
	if (!in->dirty[i])
		return ckpt_fail(ctx->err, -ENOMEM, "pid %d: out of memory", t->pid);
	ret->dirty = in->dirty[i];
	return 0;
}

int incr_collect(struct dump_ctx *ctx, struct dump_incr *in, unsigned i,
		 const struct mm_incr *incr)
{
	struct track_task *tt = i < in->nr_tt ? in->tt[i] : NULL;

	if (!tt)
		return 0;	/* no live tracker: none, or hash */
	if (incr->whole)
		return track_task_arm(tt, ctx->err);
	return track_task_collect(tt, in->dirty[i], ctx->err);
}

void incr_inventory(const struct dump_ctx *ctx, const struct dump_incr *in, InventoryEntry *e)
{
	const struct dump_opts *o = ctx->opts;
	const InventoryEntry *p = in->parents.nr ? in->parents.link[0].inv : NULL;

	e->kind = o->pre ? DUMP_KIND__DUMP_PRE :
		  p ? DUMP_KIND__DUMP_INCREMENTAL : DUMP_KIND__DUMP_FULL;
	e->set_id = (char *)in->set_id;
	if (in->boot_id[0])
		e->boot_id = (char *)in->boot_id;
	e->has_root_start_time = in->root_start_time != 0;
	e->root_start_time = in->root_start_time;
	if (in->kind != TRACK_NONE)
		e->tracker = (char *)track_name(in->kind);
	e->has_chain_depth = true;
	e->chain_depth = p ? (p->has_chain_depth ? p->chain_depth : 0) + 1 : 0;
	if (p) {
		e->parent = (char *)o->prev;
		e->parent_set_id = p->set_id;
	}
}

void incr_finish(struct dump_incr *in, bool keep)
{
	for (unsigned i = 0; i < in->nr_tt; i++) {
		if (!in->tt[i])
			continue;
		/* a record that fails to be written makes the next round save
		 * the task whole: never a wrong image */
		if (!keep || rounds_set(in->pids[i], in->starts[i], in->set_id) < 0)
			rounds_forget(in->pids[i], in->starts[i]);
		track_task_close(in->tt[i], keep);
	}
	for (unsigned i = 0; i < in->nr_tt; i++) {
		if (in->dirty[i])
			run_list_free(in->dirty[i]);
		free(in->dirty[i]);
	}
	free(in->dirty);
	in->dirty = NULL;
	free(in->tt);
	free(in->pids);
	free(in->starts);
	in->tt = NULL;
	in->pids = NULL;
	in->starts = NULL;
	in->nr_tt = 0;
	chain_free(&in->parents);
}
