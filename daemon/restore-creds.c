/* Restore, the requester's identity. ckptd is root; a restore asked for by
 * anyone else must give that user nothing they could not have had without
 * ckptd. Two rules follow:
 *
 *  - credentials: every field of a task's creds must be one the requester
 *    could set itself (rst_check_creds, before anything is forked);
 *  - paths: every path of an image (root, cwd, executable, mapped and open
 *    files, where a deleted file is recreated) is resolved and opened with
 *    the requester's fsuid, fsgid and groups and an empty effective
 *    capability set, and never through a /proc magic link (another
 *    process's root, cwd or fds). chroot itself needs CAP_SYS_CHROOT, which
 *    the requester lacks: a non-root restore keeps "/" or the requester's
 *    own root, nothing else.
 *
 * Switching identity costs two capset and four setfs* calls per path. */
#include "daemon/restore-creds.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/proc.h"
#include "daemon/restore-int.h"

/* ---- credentials --------------------------------------------------------- */

/* The requester's capabilities, groups and no_new_privs, through the one
 * /proc/PID/status parser (daemon/proc.c). */
int rst_requester_parse(const char *status, struct rst_requester *ret)
{
	struct proc_status st;
	int r;

	r = proc_parse_status(status, &st);
	if (r < 0)
		return r;
	ret->cap_inh = st.cap_inh;
	ret->cap_prm = st.cap_prm;
	ret->cap_eff = st.cap_eff;
	ret->cap_bnd = st.cap_bnd;
	ret->cap_amb = st.cap_amb;
	ret->no_new_privs = st.no_new_privs;
	ret->groups = st.groups;	/* uint32_t, as gid_t */
	ret->nr_groups = st.nr_groups;
	return 0;
}

void rst_requester_free(struct rst_requester *rq)
{
	free(rq->groups);
	rq->groups = NULL;
	rq->nr_groups = 0;
}

static bool in_groups(const struct rst_requester *rq, gid_t g)
{
	if (g == rq->gid)
		return true;
	for (size_t i = 0; i < rq->nr_groups; i++)
		if (rq->groups[i] == g)
			return true;
	return false;
}

/* Securebits an unprivileged process may hold: those that only take
 * privilege away. SECBIT_NO_SETUID_FIXUP (a setuid-root program that
 * drops to the user keeps its capabilities) needs CAP_SETPCAP, as does
 * any bit this ckptd does not know. */
#define RST_SECBITS_UNPRIVILEGED					\
	(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |	\
	 SECBIT_KEEP_CAPS | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | \
	 SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)

const char *rst_creds_refusal(const CredsEntry *cr, const struct rst_requester *rq)
{
	uint64_t inh_from = rq->cap_eff & (1ull << CAP_SETPCAP) ? ~0ull : rq->cap_prm;

	if (cr->uid != rq->uid || cr->euid != rq->uid || cr->suid != rq->uid ||
	    cr->fsuid != rq->uid)
		return "uids";
	if (cr->gid != rq->gid || cr->egid != rq->gid || cr->sgid != rq->gid ||
	    cr->fsgid != rq->gid)
		return "gids";
	for (size_t i = 0; i < cr->n_groups; i++)
		if (!in_groups(rq, cr->groups[i]))
			return "groups";
	/* a restored task of a user holds no capability, as a process of
	 * theirs that execs anything without file capabilities */
	if (cr->cap_prm || cr->cap_eff || cr->cap_amb)
		return "capabilities";
	/* capset(2): the new inheritable set within the old one and the
	 * permitted set (any with CAP_SETPCAP), and within the bounding set */
	if (cr->cap_inh & ~(rq->cap_inh | (inh_from & rq->cap_bnd)))
		return "inheritable capabilities";
	if (cr->cap_bnd & ~rq->cap_bnd)
		return "bounding set";
	if (cr->has_securebits && (cr->securebits & ~(uint32_t)RST_SECBITS_UNPRIVILEGED))
		return "securebits";
	/* no_new_privs is one-way: the requester's children all have it */
	if (rq->no_new_privs && !(cr->has_no_new_privs && cr->no_new_privs))
		return "no_new_privs";
	return NULL;
}

static int read_requester(struct rst_ctx *ctx, struct rst_requester *ret)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	int r;

	ret->uid = ctx->opts->requester_uid;
	ret->gid = ctx->opts->requester_gid;
	snprintf(path, sizeof(path), "/proc/%d/status", ctx->opts->requester);
	r = ctx->opts->requester > 0 ? read_file_at(AT_FDCWD, path, &buf, NULL) : -ESRCH;
	if (r == 0)
		r = rst_requester_parse(buf, ret);
	if (r < 0)
		return ckpt_fail(ctx->err, -EPERM,
				 "cannot read the credentials of the requesting process %d (%s): "
				 "uid %u may restore only what it could set itself",
				 ctx->opts->requester, strerror(-r), ret->uid);
	return 0;
}

static int refuse_creds(struct rst_ctx *ctx, struct rst_task *t, const struct rst_requester *rq,
			const char *field)
{
	CredsEntry *cr = t->core->creds;

	if (strcmp(field, "uids") == 0 || strcmp(field, "gids") == 0) {
		/* name the id that is not the requester's, not just the euid */
		bool uids = field[0] == 'u';
		uint32_t ids[4] = { cr->uid, cr->euid, cr->suid, cr->fsuid };
		uint32_t gids[4] = { cr->gid, cr->egid, cr->sgid, cr->fsgid };
		static const char *const which[4] = { "real", "effective", "saved", "fs" };
		uint32_t own = uids ? rq->uid : rq->gid;
		int i = 0;

		if (!uids)
			memcpy(ids, gids, sizeof(ids));
		while (i < 3 && ids[i] == own)
			i++;
		return ckpt_fail(ctx->err, -EPERM,
				 "pid %d ran with %s %s %u; uid %u may restore only its own "
				 "processes", t->pe->pid, which[i], uids ? "uid" : "gid", ids[i],
				 rq->uid);
	}
	if (strcmp(field, "capabilities") == 0)
		return ckpt_fail(ctx->err, -EPERM,
				 "pid %d held capabilities; only root may restore it", t->pe->pid);
	if (strcmp(field, "groups") == 0) {
		for (size_t j = 0; j < cr->n_groups; j++)
			if (!in_groups(rq, cr->groups[j]))
				return ckpt_fail(ctx->err, -EPERM,
						 "pid %d belonged to group %u; uid %u may not restore "
						 "that", t->pe->pid, cr->groups[j], rq->uid);
	}
	if (strcmp(field, "inheritable capabilities") == 0)
		return ckpt_fail(ctx->err, -EPERM,
				 "pid %d: inheritable capabilities 0x%llx are more than uid %u "
				 "could set (its own: 0x%llx); only root may restore it", t->pe->pid,
				 (unsigned long long)cr->cap_inh, rq->uid,
				 (unsigned long long)rq->cap_inh);
	if (strcmp(field, "bounding set") == 0)
		return ckpt_fail(ctx->err, -EPERM,
				 "pid %d: bounding set 0x%llx is larger than uid %u's (0x%llx); only "
				 "root may restore it", t->pe->pid, (unsigned long long)cr->cap_bnd,
				 rq->uid, (unsigned long long)rq->cap_bnd);
	if (strcmp(field, "securebits") == 0)
		return ckpt_fail(ctx->err, -EPERM,
				 "pid %d: securebits 0x%x need CAP_SETPCAP (uid %u may have only "
				 "0x%x); only root may restore it", t->pe->pid, cr->securebits,
				 rq->uid, (unsigned)RST_SECBITS_UNPRIVILEGED);
	return ckpt_fail(ctx->err, -EPERM,
			 "pid %d ran without no_new_privs, which the requesting process has "
			 "(a bit no process can clear); only root may restore it", t->pe->pid);
}

/* Anyone but root restores only images of their own identity, with no
 * more than its own process could give itself. */
int rst_check_creds(struct rst_ctx *ctx)
{
	struct rst_requester rq = { 0 };
	int r = 0;

	if (ctx->opts->requester_uid == 0)
		return 0;
	r = read_requester(ctx, &rq);
	for (unsigned i = 0; i < ctx->nr_tasks && r == 0; i++) {
		struct rst_task *t = &ctx->tasks[i];
		const char *field;

		if (!t->core)
			continue;
		field = rst_creds_refusal(t->core->creds, &rq);
		if (field)
			r = refuse_creds(ctx, t, &rq, field);
		/* a thread with credentials of its own: the same rules */
		for (unsigned j = 0; j < t->nr_threads && r == 0; j++) {
			if (!t->threads[j]->creds)
				continue;
			field = rst_creds_refusal(t->threads[j]->creds, &rq);
			if (field)
				r = ckpt_fail(ctx->err, -EPERM, "pid %d: thread %d ran with %s of "
					      "its own that uid %u may not restore; only root may "
					      "restore it", t->pe->pid, t->threads[j]->tid, field,
					      rq.uid);
		}
	}
	rst_requester_free(&rq);
	return r;
}

/* ---- paths, as the requester ----------------------------------------------- */

/* Root, or a caller with no requester (unit tests): ckptd's own powers. */
static bool by_root(const struct rst_ctx *ctx)
{
	return !ctx->opts || ctx->opts->requester_uid == 0;
}

struct as_state {
	cap_t saved;
	int fsuid, fsgid;
};

static void back_to_self(struct as_state *s)
{
	/* capabilities first: setfsuid back needs CAP_SETUID */
	cap_set_proc(s->saved);
	setfsuid(s->fsuid);
	setfsgid(s->fsgid);
	cap_free(s->saved);
}

/* fsuid and fsgid of the requester (its groups were taken by the rpc
 * handler, and every restore process inherits them), no effective
 * capability: the kernel judges every access as the requester's own. */
static int become_requester(struct rst_ctx *ctx, struct as_state *s)
{
	uid_t u = ctx->opts->requester_uid;
	gid_t g = ctx->opts->requester_gid;
	cap_t none;
	int r = 0;

	s->saved = cap_get_proc();
	if (!s->saved)
		return negerrno();
	s->fsgid = setfsgid(g);
	s->fsuid = setfsuid(u);
	none = cap_dup(s->saved);
	if ((gid_t)setfsgid(-1) != g || (uid_t)setfsuid(-1) != u)
		r = -EPERM;
	else if (!none || cap_clear_flag(none, CAP_EFFECTIVE) < 0 || cap_set_proc(none) < 0)
		r = negerrno();
	if (none)
		cap_free(none);
	if (r < 0)
		back_to_self(s);
	return r;
}

int rst_as_requester(struct rst_ctx *ctx, int (*fn)(void *arg), void *arg)
{
	struct as_state s;
	int r;

	if (by_root(ctx))
		return fn(arg);
	r = become_requester(ctx, &s);
	if (r < 0)
		return r;
	r = fn(arg);
	back_to_self(&s);
	return r;
}

struct open_args {
	const char *path;
	struct open_how how;
	int fd;
};

static int open_resolved(void *arg)
{
	struct open_args *a = arg;

	a->fd = syscall(SYS_openat2, AT_FDCWD, a->path, &a->how, sizeof(a->how));
	return a->fd < 0 ? negerrno() : 0;
}

int rst_open_path(struct rst_ctx *ctx, const char *path, int flags, mode_t mode)
{
	bool creates = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
	struct open_args a = {
		.path = path,
		.how = { .flags = flags | O_CLOEXEC, .mode = creates ? mode : 0,
			 .resolve = RESOLVE_NO_MAGICLINKS },
		.fd = -1,
	};
	int r, fd;

	if (path[0] != '/')
		return -EINVAL;
	if (by_root(ctx)) {
		fd = open(path, flags | O_CLOEXEC, mode);
		return fd < 0 ? negerrno() : fd;
	}
	r = rst_as_requester(ctx, open_resolved, &a);
	return r < 0 ? r : a.fd;
}

static int fchdir_cb(void *arg)
{
	/* fchdir checks search permission with the caller's (the
	 * requester's) identity, as chdir does */
	return fchdir(*(int *)arg) < 0 ? negerrno() : 0;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Is the directory fd the requester's own root, with the requester in
 * ckptd's user namespace? A process in a user namespace of its own may
 * have chrooted itself into a tree it built; restored into ckptd's
 * namespace there, a setuid program would run as the real root. */
static bool requester_root(struct rst_ctx *ctx, int fd)
{
	struct stat st, rs, ns, mine;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/user", ctx->opts->requester);
	if (ctx->opts->requester <= 0 || stat(path, &ns) < 0 ||
	    stat("/proc/self/ns/user", &mine) < 0 || !same_file(&ns, &mine))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/root", ctx->opts->requester);
	return fstat(fd, &st) == 0 && stat(path, &rs) == 0 && same_file(&st, &rs);
}

static int cwd_failed(struct rst_ctx *ctx, pid_t pid, uid_t u, const char *cwd, int r)
{
	if (u == 0)
		return ckpt_fail(ctx->err, r, "pid %d: cannot change directory to %s", pid, cwd);
	return ckpt_fail(ctx->err, r, "pid %d: uid %u cannot change directory to %s", pid, u, cwd);
}

/* cwd is a path from ckptd's root, as the dump read it: inside a chroot
 * it names the directory from outside, and a task may even have its cwd
 * outside its root. So it is opened before the chroot and entered after,
 * by fd. */
int rst_enter_fs(struct rst_ctx *ctx, pid_t pid, const char *root, const char *cwd)
{
	uid_t u = by_root(ctx) ? 0 : ctx->opts->requester_uid;
	_cleanup_close_ int rfd = -EBADF, cfd = -EBADF;
	int r;

	cfd = rst_open_path(ctx, cwd, O_PATH | O_DIRECTORY, 0);
	if (cfd < 0)
		return cwd_failed(ctx, pid, u, cwd, cfd);
	if (strcmp(root, "/") != 0) {
		rfd = rst_open_path(ctx, root, O_PATH | O_DIRECTORY, 0);
		if (rfd < 0)
			return ckpt_fail(ctx->err, rfd, "pid %d: uid %u cannot open the root %s",
					 pid, u, root);
		if (u != 0 && !requester_root(ctx, rfd))
			return ckpt_fail(ctx->err, -EPERM,
					 "pid %d: its root %s is neither / nor the root of the "
					 "requesting process; only root may restore a process into "
					 "another root", pid, root);
		/* the very directory checked, not the path again */
		if (fchdir(rfd) < 0 || chroot(".") < 0)
			return ckpt_fail(ctx->err, negerrno(), "pid %d: cannot change root to %s",
					 pid, root);
	}
	r = u == 0 ? (fchdir(cfd) < 0 ? negerrno() : 0) : rst_as_requester(ctx, fchdir_cb, &cfd);
	return r < 0 ? cwd_failed(ctx, pid, u, cwd, r) : 0;
}
