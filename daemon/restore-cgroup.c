/* Restore, where the restored tree lives. Two modes (ckptctl restore
 * --cgroup, restore_opts.cgroup):
 *
 * requester: a restore is a new start of a program by whoever asked for
 * it, so the tree goes where a program the requester runs would go, not
 * where ckptd runs (a restored service would otherwise share ckptd's
 * limits, accounting and fate on stop):
 *
 *  1. systemd is init and the requester is root: a transient scope unit
 *     ckpt-restore-ROOTPID.scope (StartTransientUnit, as systemd-run
 *     --scope does), in the requester's slice, waiting for its job;
 *  2. otherwise the requester's own cgroup, in the cgroup2 hierarchy and
 *     in every cgroup v1 hierarchy, each pid written to cgroup.procs as the
 *     requester would (restore-creds.c), so the kernel's delegation rules
 *     decide. A non-root requester who may not move a task there gets a
 *     warning, never a failed restore: the task stays where ckptd is.
 *
 * dumped (the default): the above first, then each task goes back to the
 * cgroup it was dumped from (task_core_entry.cgroups, cgroup.c) in each
 * hierarchy where that cgroup exists here, written as the requester too.
 * Where it does not (no such cgroup, the hierarchy is not mounted here,
 * the cgroup lies outside ckptd's cgroup namespace, or the kernel refuses
 * the write), the task stays where the first step put it, and the answer
 * says so, per task and hierarchy: never a failed restore, since each
 * write moves one task in one hierarchy whole. No cgroup is ever created
 * (CRIU's --manage-cgroups=full does; ckpt does not). With a scope, tasks
 * that leave it leave it empty, and systemd collects it.
 *
 * It runs in the intermediate process while every task waits for stage 1,
 * before any task runs code of its own: none can fork out of the move, and
 * the threads the blob makes later follow their process.
 * Cost: one write per task and hierarchy (ten hierarchies on a v1 hybrid),
 * and in the dumped mode one more where the dumped cgroup differs.
 *
 * The sd-bus part (scope_start) is small on purpose: the machines this is
 * developed and tested on have no systemd as init, so it has never run
 * there; the cgroup part is what the tests exercise. */
#include "daemon/restore-cgroup.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/util.h"
#include "daemon/cgroup.h"
#include "daemon/restore-creds.h"
#include "daemon/restore-int.h"

#define SCOPE_CALL_TIMEOUT_US	(5 * 1000000ull)
#define SCOPE_JOB_TIMEOUT_US	(10 * 1000000ull)
#define CG_PATH_MAX		1024

/* ---- parsing ------------------------------------------------------------- */

/* One line of /proc/PID/cgroup: "ID:CONTROLLERS:PATH". */
struct cg_line {
	const char *ctl, *path;
	size_t ctl_len, path_len;
};

/* Parse the line at l into *ret; returns the next line (NULL at the end).
 * A malformed line comes back with ret->path NULL. */
static const char *cg_next(const char *l, struct cg_line *ret)
{
	const char *eol = strchrnul(l, '\n'), *c, *p;

	*ret = (struct cg_line){ 0 };
	c = memchr(l, ':', eol - l);
	p = c ? memchr(c + 1, ':', eol - c - 1) : NULL;
	if (p) {
		ret->ctl = c + 1;
		ret->ctl_len = p - c - 1;
		ret->path = p + 1;
		ret->path_len = eol - p - 1;
	}
	return *eol ? eol + 1 : NULL;
}

int rst_cgroup_path(const char *proc_cgroup, const char *controllers, char *ret, size_t len)
{
	size_t want = strlen(controllers);
	struct cg_line cl;

	for (const char *l = proc_cgroup; l && *l;) {
		l = cg_next(l, &cl);
		if (!cl.path || cl.ctl_len != want || memcmp(cl.ctl, controllers, want) != 0)
			continue;
		if (cl.path_len == 0 || cl.path[0] != '/')
			return -EBADMSG;
		return str_copy_n(ret, len, cl.path, cl.path_len);
	}
	return -ENOENT;
}

/* mountinfo escapes space, tab, newline and backslash as \NNN (octal). */
static void unescape_octal(char *s)
{
	char *w = s;

	for (char *r = s; *r; w++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w = (char)((r[1] - '0') << 6 | (r[2] - '0') << 3 | (r[3] - '0'));
			r += 4;
		} else {
			*w = *r++;
		}
	}
	*w = '\0';
}

/* Is every controller of the comma list `controllers` among the mount's
 * super options (also a comma list)? */
static bool has_controllers(const char *superopts, const char *controllers)
{
	const char *c = controllers;

	while (*c) {
		size_t n = strcspn(c, ",");
		bool found = false;

		for (const char *o = superopts; *o;) {
			size_t m = strcspn(o, ",");

			if (m == n && memcmp(o, c, n) == 0)
				found = true;
			o += m + (o[m] == ',');
		}
		if (!found)
			return false;
		c += n + (c[n] == ',');
	}
	return true;
}

/* The fields of one mountinfo line this needs, or false. */
struct mi_line {
	char *root, *mnt, *fstype, *superopts;
};

static bool mi_split(char *line, struct mi_line *ret)
{
	char *f[5], *save = NULL, *dash = strstr(line, " - ");
	int n = 0;

	if (!dash)
		return false;
	*dash = '\0';
	for (char *t = strtok_r(line, " ", &save); t && n < 5; t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	if (n < 5)
		return false;
	ret->root = f[3];
	ret->mnt = f[4];
	save = NULL;
	ret->fstype = strtok_r(dash + 3, " ", &save);
	strtok_r(NULL, " ", &save);	/* the source */
	ret->superopts = strtok_r(NULL, " ", &save);
	if (!ret->fstype || !ret->superopts)
		return false;
	unescape_octal(ret->root);
	unescape_octal(ret->mnt);
	return true;
}

/* path relative to a mount whose root is root, or NULL if outside it. */
static const char *under_root(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (strcmp(root, "/") == 0)
		return path;
	if (strncmp(path, root, n) != 0 || (path[n] != '\0' && path[n] != '/'))
		return NULL;
	return path + n;
}

int rst_cgroup_dir(const char *mountinfo, const char *controllers, const char *path,
		   char *ret, size_t len)
{
	_cleanup_free_ char *copy = strdup(mountinfo);
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct mi_line m;
		const char *rest;
		int n;

		if (!mi_split(l, &m))
			continue;
		if (controllers[0] ? strcmp(m.fstype, "cgroup") != 0 ||
				     !has_controllers(m.superopts, controllers)
				   : strcmp(m.fstype, "cgroup2") != 0)
			continue;
		rest = under_root(path, m.root);
		if (!rest)
			continue;
		if (strcmp(rest, "/") == 0)
			rest = "";
		n = snprintf(ret, len, "%s%s", m.mnt, rest);
		return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
	}
	return -ENOENT;
}

int rst_cgroup_slice(const char *path, char *ret, size_t len)
{
	const char *best = NULL;
	size_t best_len = 0;

	for (const char *c = path; *c;) {
		size_t n;

		c += strspn(c, "/");
		n = strcspn(c, "/");
		if (n > 6 && memcmp(c + n - 6, ".slice", 6) == 0) {
			best = c;
			best_len = n;
		}
		c += n;
	}
	if (!best)
		return -ENOENT;
	return str_copy_n(ret, len, best, best_len);
}

/* ---- a transient scope (sd-bus; untested where systemd is not init) ------ */

struct scope_job {
	char *path;		/* the job's object path, once StartTransientUnit answered */
	char result[32];	/* JobRemoved's result: "done" or why not */
};

static int on_job_removed(sd_bus_message *m, void *data, sd_bus_error *unused)
{
	struct scope_job *job = data;
	const char *path, *unit, *result;
	uint32_t id;

	if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) >= 0 && job->path &&
	    strcmp(path, job->path) == 0)
		snprintf(job->result, sizeof(job->result), "%s", result);
	return 0;
}

static int scope_message(struct rst_ctx *ctx, sd_bus_message *m, const char *unit,
			 const char *desc, const char *slice)
{
	int r;

	r = sd_bus_message_append(m, "ss", unit, "fail");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sv)");
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)(sv)", "Description", "s", desc,
					  "CollectMode", "s", "inactive-or-failed");
	if (r >= 0 && slice[0])
		r = sd_bus_message_append(m, "(sv)", "Slice", "s", slice);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'r', "sv");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", "PIDs");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', "au");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "u");
	for (unsigned i = 0; i < ctx->nr_tasks && r >= 0; i++)
		r = sd_bus_message_append(m, "u", (uint32_t)ctx->tasks[i].pe->pid);
	for (int i = 0; i < 4 && r >= 0; i++)	/* a, v, r and the a(sv) */
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_append(m, "a(sa(sv))", 0);
	return r < 0 ? r : 0;
}

/* Wait (bounded) for the JobRemoved of job->path, as systemd-run does. */
static int scope_wait(sd_bus *bus, struct scope_job *job)
{
	uint64_t deadline = now_us() + SCOPE_JOB_TIMEOUT_US;
	int r;

	while (!job->result[0]) {
		r = sd_bus_process(bus, NULL);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if (now_us() >= deadline)
			return -ETIMEDOUT;
		r = sd_bus_wait(bus, deadline - now_us());
		if (r < 0)
			return r;
	}
	return strcmp(job->result, "done") == 0 ? 0 : -ECANCELED;
}

/* StartTransientUnit of `unit` holding every task; 0 once its job is done,
 * or -errno with why (for the report) in why. */
static int scope_start(struct rst_ctx *ctx, const char *unit, const char *desc,
		       const char *slice, char *why, size_t why_len)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	struct scope_job job = { 0 };
	const char *path;
	int r;

	r = sd_bus_open_system(&bus);
	if (r < 0) {
		snprintf(why, why_len, "the system bus does not answer: %s", strerror(-r));
		return r;
	}
	r = sd_bus_match_signal(bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
				"org.freedesktop.systemd1.Manager", "JobRemoved",
				on_job_removed, &job);
	if (r >= 0)
		r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1",
						   "/org/freedesktop/systemd1",
						   "org.freedesktop.systemd1.Manager",
						   "StartTransientUnit");
	if (r >= 0)
		r = scope_message(ctx, m, unit, desc, slice);
	if (r >= 0)
		r = sd_bus_call(bus, m, SCOPE_CALL_TIMEOUT_US, &e, &reply);
	if (r >= 0)
		r = sd_bus_message_read(reply, "o", &path);
	if (r >= 0)
		r = (job.path = strdup(path)) ? 0 : -ENOMEM;
	if (r >= 0)
		r = scope_wait(bus, &job);
	if (r < 0)
		snprintf(why, why_len, "StartTransientUnit %s: %s", unit,
			 job.result[0] ? job.result : e.message ? e.message : strerror(-r));
	free(job.path);
	return r < 0 ? r : 0;
}

/* 1: systemd is init and the requester is root. */
static int place_in_scope(struct rst_ctx *ctx, const char *rq_cgroup, char *why, size_t why_len)
{
	char unit[64], slice[256] = "", cg[CG_PATH_MAX], dir[PATH_MAX];
	char comm[64], desc[PATH_MAX + 128];
	const TaskCoreEntry *core = ctx->tasks[0].core;
	pid_t root = ctx->tasks[0].pe->pid;
	int r;

	if (sd_booted() <= 0 || ctx->opts->requester_uid != 0)
		return -EOPNOTSUPP;
	if (rst_cgroup_path(rq_cgroup, "", cg, sizeof(cg)) == 0)
		rst_cgroup_slice(cg, slice, sizeof(slice));
	if (fd_path(ctx->dirfd, dir, sizeof(dir)) < 0)
		snprintf(dir, sizeof(dir), "?");
	ckpt_escape(comm, sizeof(comm), core && core->comm ? core->comm : "?");
	snprintf(desc, sizeof(desc), "ckpt restore of %s (pid %d) from %s", comm, root, dir);
	ckpt_escape_inplace(desc, sizeof(desc));
	snprintf(unit, sizeof(unit), "ckpt-restore-%d.scope", root);
	r = scope_start(ctx, unit, desc, slice, why, why_len);
	if (r == 0)
		snprintf(ctx->sh->cgroup, sizeof(ctx->sh->cgroup), "scope %s%s%s", unit,
			 slice[0] ? " in " : "", slice);
	return r;
}

/* ---- the requester's cgroup ------------------------------------------------ */

struct cg_move {
	struct rst_ctx *ctx;
	const char *file;	/* DIR/cgroup.procs */
	pid_t failed;		/* the pid whose write failed */
};

/* As the requester (rst_as_requester): one write per task. */
static int write_pids(void *arg)
{
	struct cg_move *mv = arg;
	_cleanup_close_ int fd = open(mv->file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	char buf[16];

	if (fd < 0)
		return negerrno();
	for (unsigned i = 0; i < mv->ctx->nr_tasks; i++) {
		pid_t pid = mv->ctx->tasks[i].pe->pid;
		int n = snprintf(buf, sizeof(buf), "%d", pid);

		if (write(fd, buf, n) != n) {
			mv->failed = pid;
			return negerrno();
		}
	}
	return 0;
}

/* A line of the report: cut short when too long (it is only a report). */
static void say(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* What happened in each hierarchy, for the report. */
struct cg_report {
	char main[CG_PATH_MAX + 32];	/* "0::/a": the cgroup2 one, where mounted */
	bool main_refused;
	char v1[CG_PATH_MAX + 32];	/* the first cgroup v1 one moved to */
	unsigned v1_moved;
	char warn[512];			/* the first refusal */
};

/* Move every task into hierarchy ctl's cgroup `path` (name: "ctl:path").
 * -ENOENT: not mounted here; a refusal for a non-root requester is a
 * warning in rep and *ret_refused; for root, a reported -errno. */
static int move_tasks(struct rst_ctx *ctx, const char *mountinfo, const char *ctl,
		      const char *path, const char *name, struct cg_report *rep,
		      bool *ret_refused)
{
	char dir[PATH_MAX], file[PATH_MAX + 16];
	struct cg_move mv = { .ctx = ctx, .file = file };
	int r;

	if (strncmp(path, "/..", 3) == 0) {
		if (!rep->warn[0])
			say(rep->warn, sizeof(rep->warn), "%s is outside ckptd's cgroup "
				 "namespace", name);
		*ret_refused = true;
		return 0;
	}
	r = rst_cgroup_dir(mountinfo, ctl, path, dir, sizeof(dir));
	if (r == -ENOENT)
		return r;
	say(file, sizeof(file), "%s/cgroup.procs", r == 0 ? dir : path);
	if (r == 0)
		r = rst_as_requester(ctx, write_pids, &mv);
	if (r < 0 && ctx->opts->requester_uid == 0)
		return ckpt_fail(ctx->err, r, "pid %d: cannot move it into the requester's cgroup "
				 "%s (writing %s); move ckptctl to a cgroup that takes processes",
				 mv.failed ? mv.failed : ctx->tasks[0].pe->pid, name, file);
	if (r < 0 && !rep->warn[0])
		say(rep->warn, sizeof(rep->warn), "writing pid %d to %s: %s",
			 mv.failed ? mv.failed : ctx->tasks[0].pe->pid, file, strerror(-r));
	*ret_refused = r < 0;
	return 0;
}

/* One hierarchy of the requester's; 0 or a root requester's failure. */
static int place_one(struct rst_ctx *ctx, const char *self, const char *mountinfo,
		     const char *ctl, const char *path, struct cg_report *rep)
{
	char now[CG_PATH_MAX], name[CG_PATH_MAX + 32];
	bool v2 = !ctl[0], no = false;
	int r;

	say(name, sizeof(name), "%s:%s", v2 ? "0:" : ctl, path);
	/* the tasks are where the intermediate process is: moved already? */
	if (rst_cgroup_path(self, ctl, now, sizeof(now)) < 0 || strcmp(now, path) != 0) {
		r = move_tasks(ctx, mountinfo, ctl, path, name, rep, &no);
		if (r == -ENOENT)
			return 0;	/* a hierarchy not mounted here: nothing to move */
		if (r < 0)
			return r;
		if (!no && !v2 && rep->v1_moved++ == 0)
			say(rep->v1, sizeof(rep->v1), "%s", name);
	}
	if (v2) {
		say(rep->main, sizeof(rep->main), "%s", name);
		rep->main_refused = no;
	}
	return 0;
}

static void report(struct rst_ctx *ctx, const struct cg_report *rep)
{
	char *out = ctx->sh->cgroup, also[64] = "";
	size_t len = sizeof(ctx->sh->cgroup);
	const char *shown = rep->main[0] ? rep->main : rep->v1;

	if (rep->main[0] && rep->v1_moved)
		say(also, sizeof(also), ", and in %u cgroup v1 hierarch%s", rep->v1_moved,
			 rep->v1_moved > 1 ? "ies" : "y");
	if (!shown[0] && !rep->warn[0])
		say(out, len, "ckptd's cgroup (the requester's is the same)");
	else if (!shown[0] || rep->main_refused)
		say(out, len, "ckptd's cgroup (warning: not moved to the requester's: %s)",
			 rep->warn);
	else if (rep->warn[0])
		say(out, len, "cgroup %s (the requester's%s; warning: left in ckptd's where "
			 "refused: %s)", shown, also, rep->warn);
	else
		say(out, len, "cgroup %s (the requester's%s)", shown, also);
	ckpt_escape_inplace(out, len);
}

/* 2: the requester's cgroup, in every hierarchy mounted here. */
static int place_in_cgroup(struct rst_ctx *ctx, const char *rq_cgroup)
{
	_cleanup_free_ char *self = NULL, *mountinfo = NULL;
	struct cg_report rep = { 0 };
	char ctl[256], path[CG_PATH_MAX];
	struct cg_line cl;
	size_t len;
	int r;

	r = read_file_at(AT_FDCWD, "/proc/self/cgroup", &self, &len);
	if (r == 0)
		r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", &mountinfo, &len);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "cannot read the restore process's cgroups");
	for (const char *l = rq_cgroup; l && *l && r == 0;) {
		l = cg_next(l, &cl);
		if (!cl.path || str_copy_n(ctl, sizeof(ctl), cl.ctl, cl.ctl_len) < 0 ||
		    str_copy_n(path, sizeof(path), cl.path, cl.path_len) < 0 || path[0] != '/')
			continue;
		r = place_one(ctx, self, mountinfo, ctl, path, &rep);
	}
	if (r == 0)
		report(ctx, &rep);
	return r;
}

/* requester: 1 or 2 above. */
static int place_as_requester(struct rst_ctx *ctx)
{
	_cleanup_free_ char *rq = NULL;
	char procfile[64], why[512] = "";
	size_t len;
	int r;

	if (ctx->opts->requester <= 0) {
		say(ctx->sh->cgroup, sizeof(ctx->sh->cgroup),
			 "ckptd's cgroup (the requester's pid is not visible to ckptd)");
		return 0;
	}
	snprintf(procfile, sizeof(procfile), "/proc/%d/cgroup", ctx->opts->requester);
	r = read_file_at(AT_FDCWD, procfile, &rq, &len);
	if (r < 0) {
		say(ctx->sh->cgroup, sizeof(ctx->sh->cgroup),
			 "ckptd's cgroup (cannot read the requester's %s: %s)", procfile,
			 strerror(-r));
		return 0;
	}
	if (place_in_scope(ctx, rq, why, sizeof(why)) == 0)
		return 0;
	r = place_in_cgroup(ctx, rq);
	if (r == 0 && why[0]) {
		size_t n = strlen(ctx->sh->cgroup);

		say(ctx->sh->cgroup + n, sizeof(ctx->sh->cgroup) - n, "; no scope: %s", why);
		ckpt_escape_inplace(ctx->sh->cgroup, sizeof(ctx->sh->cgroup));
	}
	return r;
}

/* ---- the dumped cgroups ---------------------------------------------------- */

int restore_cgroup_mode_parse(const char *name, enum restore_cgroup_mode *ret)
{
	if (strcmp(name, "dumped") == 0)
		*ret = RESTORE_CG_DUMPED;
	else if (strcmp(name, "requester") == 0)
		*ret = RESTORE_CG_REQUESTER;
	else
		return -EINVAL;
	return 0;
}

int rst_cgroup_check(struct rst_ctx *ctx, const struct rst_task *t)
{
	const TaskCoreEntry *c = t->core;
	struct cgroup_line cl;

	if (c->n_cgroups > CGROUP_MAX_LINES)
		return ckpt_fail(ctx->err, -EBADMSG, "core-%d.img: %zu cgroups, more than the %d "
				 "hierarchies a dump records", t->pe->pid, c->n_cgroups,
				 CGROUP_MAX_LINES);
	for (size_t i = 0; i < c->n_cgroups; i++)
		if (cgroup_line_parse(c->cgroups[i], &cl) < 0)
			return ckpt_fail(ctx->err, -EBADMSG, "core-%d.img: cgroups[%zu] \"%s\" is "
					 "not a /proc/PID/cgroup line with a plain absolute path",
					 t->pe->pid, i, c->cgroups[i]);
	return 0;
}

/* What did not go as dumped: "pid N HIER:PATH: why; ...", cut short. */
struct cg_notes {
	char text[1280];
	size_t len;
	unsigned nr, lost;
};

static void note(struct cg_notes *n, pid_t pid, const struct cgroup_line *cl, const char *why)
{
	size_t room = sizeof(n->text) - n->len;
	int k;

	if (n->lost) {
		n->lost++;
		return;
	}
	k = snprintf(n->text + n->len, room, "%spid %d %s:%s: %s", n->nr ? "; " : "", pid,
		     cl->ctl[0] ? cl->ctl : "0:", cl->path, why);
	if (k < 0 || (size_t)k >= room - 32) {	/* room for the count of the rest */
		n->text[n->len] = '\0';
		n->lost++;
		return;
	}
	n->len += k;
	n->nr++;
}

struct cg_one {
	const char *file;	/* DIR/cgroup.procs */
	pid_t pid;
};

/* As the requester (rst_as_requester). */
static int write_one(void *arg)
{
	struct cg_one *one = arg;
	_cleanup_close_ int fd = open(one->file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d", one->pid);

	if (fd < 0)
		return negerrno();
	return write(fd, buf, n) == n ? 0 : negerrno();
}

/* Task pid into its dumped cgroup of one hierarchy (cl): NULL once
 * there, else why not (in why, or a constant). */
static const char *back_one(struct rst_ctx *ctx, const char *mountinfo, pid_t pid,
			    const struct cgroup_line *cl, char *why, size_t why_len)
{
	char dir[PATH_MAX], file[PATH_MAX + 16];
	struct cg_one one = { .file = file, .pid = pid };
	int r;

	if (cl->outside)
		return "outside ckptd's cgroup namespace";
	r = rst_cgroup_dir(mountinfo, cl->ctl, cl->path, dir, sizeof(dir));
	if (r == -ENOENT)
		return "hierarchy not mounted here";
	if (r < 0)
		return strerror(-r);
	say(file, sizeof(file), "%s/cgroup.procs", dir);
	r = rst_as_requester(ctx, write_one, &one);
	if (r == -ENOENT)
		return "no such cgroup here";
	if (r < 0) {
		say(why, why_len, "writing %s: %s", file, strerror(-r));
		return why;
	}
	return NULL;
}

/* Where pid is in cgroup2 (else its first hierarchy): "0::/a". */
static void where_is(pid_t pid, char *ret, size_t len)
{
	_cleanup_free_ char *text = NULL;
	char file[64];
	const char *l;

	snprintf(file, sizeof(file), "/proc/%d/cgroup", pid);
	if (read_file_at(AT_FDCWD, file, &text, NULL) < 0) {
		say(ret, len, "?");
		return;
	}
	l = strncmp(text, "0::", 3) == 0 ? text : strstr(text, "\n0::");
	l = l ? l + (*l == '\n') : text;
	say(ret, len, "%.*s", (int)strcspn(l, "\n"), l);
}

static void report_dumped(struct rst_ctx *ctx, const struct cg_notes *n, unsigned nr_lines)
{
	char *out = ctx->sh->cgroup, root[CG_PATH_MAX + 32], lost[48] = "";
	_cleanup_free_ char *first = strdup(out);	/* the requester step's */
	size_t len = sizeof(ctx->sh->cgroup);

	if (nr_lines == 0) {	/* an image of an older ckpt, or zombies only */
		size_t k = strlen(out);

		say(out + k, len - k, "; the image records no dumped cgroups");
		return;
	}
	where_is(ctx->tasks[0].pe->pid, root, sizeof(root));
	if (n->lost)
		say(lost, sizeof(lost), "; and %u more", n->lost);
	if (!n->nr)
		say(out, len, "cgroup %s (each task as dumped, in every hierarchy)", root);
	else
		say(out, len, "cgroup %s (as dumped but for: %s%s; those stay as in --cgroup="
		    "requester: %s)", root, n->text, lost, first ? first : "?");
	ckpt_escape_inplace(out, len);
}

/* dumped: each task with recorded cgroups back into them, where it can. */
static int place_as_dumped(struct rst_ctx *ctx)
{
	_cleanup_free_ char *mountinfo = NULL;
	struct cg_notes n = { 0 };
	unsigned nr_lines = 0;
	int r;

	r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", &mountinfo, NULL);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "cannot read /proc/self/mountinfo to find the "
				 "cgroup hierarchies");
	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		const struct rst_task *t = &ctx->tasks[i];
		_cleanup_free_ char *now = NULL;
		char file[64];

		if (!t->core || !t->core->n_cgroups)
			continue;
		snprintf(file, sizeof(file), "/proc/%d/cgroup", t->pe->pid);
		if (read_file_at(AT_FDCWD, file, &now, NULL) < 0)
			now = NULL;	/* then every hierarchy is written */
		for (size_t k = 0; k < t->core->n_cgroups; k++, nr_lines++) {
			char buf[PATH_MAX + 64];
			struct cgroup_line cl;
			const char *why;

			if (cgroup_line_parse(t->core->cgroups[k], &cl) < 0)
				continue;	/* rst_cgroup_check refused the set */
			if (now && rst_cgroup_path(now, cl.ctl, buf, sizeof(buf)) == 0 &&
			    strcmp(buf, cl.path) == 0)
				continue;	/* there already */
			why = back_one(ctx, mountinfo, t->pe->pid, &cl, buf, sizeof(buf));
			if (why)
				note(&n, t->pe->pid, &cl, why);
		}
	}
	report_dumped(ctx, &n, nr_lines);
	return 0;
}

int rst_cgroup_place(struct rst_ctx *ctx)
{
	int r = place_as_requester(ctx);

	if (r == 0 && ctx->opts->cgroup == RESTORE_CG_DUMPED)
		r = place_as_dumped(ctx);
	return r;
}
