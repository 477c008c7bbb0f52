/* Terminals. A pty pair held by the tree (its master and its slaves)
 * comes back as a new pair: /dev/ptmx opened again, unlocked, the slaves
 * opened from the new master (TIOCGPTPEER), with the termios, window
 * size, packet mode, lock and exclusive mode it had. The new pair's index
 * is whatever devpts gives: /dev/pts/N may differ after a restore. A
 * session leader whose controlling tty is such a slave takes it again
 * (TIOCSCTTY, right after its setsid), and sets the foreground group once
 * the groups exist (TIOCSPGRP).
 *
 * The bytes queued in a pair (the master's unread output, the slave's
 * unread input, an unfinished line too) are read out by the dump, kept in
 * the master's tty_info and written back, byte for byte, into the new
 * pair before its termios are set: tty-queue.c.
 *
 * A slave whose master is outside the tree (the user's terminal, a job of
 * their shell) comes back only with --shell-job: on a new description of
 * the terminal ckptctl restore runs on (restore_opts.tty_fd), with the
 * termios it had. It is the job's controlling tty when the job is forked
 * in that terminal's session (root's ckptctl starts its own ckptd:
 * client/shell-job.c, restore-tree.c); else not, and ckptctl stays in the
 * foreground instead. Other terminals (/dev/tty, vts, serial lines) are recorded and
 * refused by a restore.
 *
 * A device is a terminal if it is a pty slave (majors 136..143, which have
 * no sysfs entry) or its sysfs class is "tty" (/dev/ptmx, /dev/tty, vts,
 * serial lines). A master's index comes from TIOCGPTN on a duplicate of the
 * target's own description (pidfd_getfd): opening /dev/ptmx again would
 * make a new pair. */
#include "daemon/files/kinds.h"

#include <asm/termbits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/dump.h"
#include "daemon/files/tty-queue.h"
#include "daemon/files/tty.h"
#include "daemon/restore-int.h"
#include "files.pb-c.h"

#define PTY_SLAVE_MAJOR_FIRST	136u
#define PTY_SLAVE_MAJOR_LAST	143u
#define TTYAUX_MAJOR		5u
#define PTMX_MINOR		2u

static bool is_pty_slave(dev_t rdev)
{
	return major(rdev) >= PTY_SLAVE_MAJOR_FIRST && major(rdev) <= PTY_SLAVE_MAJOR_LAST;
}

static bool is_ptmx(dev_t rdev)
{
	return major(rdev) == TTYAUX_MAJOR && minor(rdev) == PTMX_MINOR;
}

static bool tty_match(const struct fd_parms *p)
{
	char path[64], link[256];
	ssize_t n;
	const char *base;
	dev_t rdev = p->st.st_rdev;

	if (!S_ISCHR(p->st.st_mode))
		return false;
	if (is_pty_slave(rdev))
		return true;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/subsystem", major(rdev), minor(rdev));
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	base = strrchr(link, '/');
	return base && strcmp(base + 1, "tty") == 0;
}

/* The pty index behind a master fd of the target. */
static int ptmx_index(struct dump_ctx *ctx, const struct fd_parms *p, uint32_t *ret)
{
	_cleanup_close_ int fd = -EBADF;
	unsigned idx;

	fd = fd_take_shared(ctx, p->pid, p->fd);
	if (fd < 0)
		return ckpt_fail(ctx->err, fd, "pid %d fd %d: cannot take the pty "
				 "master to read its index", p->pid, p->fd);
	if (ioctl(fd, TIOCGPTN, &idx) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %d: TIOCGPTN", p->pid, p->fd);
	*ret = idx;
	return 0;
}

/* termios, window size, modes and queue of a pty side, read through a
 * duplicate of the target's description. */
static int tty_state(struct dump_ctx *ctx, const struct fd_parms *p, TtyInfo *ti)
{
	_cleanup_close_ int fd = -EBADF;
	struct termios2 tio;
	struct winsize ws;
	int v;

	fd = fd_take_shared(ctx, p->pid, p->fd);
	if (fd < 0)
		return ckpt_fail(ctx->err, fd, "pid %d fd %d: cannot take the terminal %s to "
				 "read its state", p->pid, p->fd, p->link);
	if (ioctl(fd, TCGETS2, &tio) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %d: %s: TCGETS2", p->pid, p->fd,
				 p->link);
	ti->cc.data = malloc(sizeof(tio.c_cc));
	if (!ti->cc.data)
		return -ENOMEM;
	memcpy(ti->cc.data, tio.c_cc, sizeof(tio.c_cc));
	ti->cc.len = sizeof(tio.c_cc);
	ti->has_cc = ti->has_iflag = ti->has_oflag = ti->has_cflag = ti->has_lflag = true;
	ti->has_line = ti->has_ispeed = ti->has_ospeed = true;
	ti->iflag = tio.c_iflag;
	ti->oflag = tio.c_oflag;
	ti->cflag = tio.c_cflag;
	ti->lflag = tio.c_lflag;
	ti->line = tio.c_line;
	ti->ispeed = tio.c_ispeed;
	ti->ospeed = tio.c_ospeed;
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0) {
		ti->has_ws_row = ti->has_ws_col = ti->has_ws_xpixel = ti->has_ws_ypixel = true;
		ti->ws_row = ws.ws_row;
		ti->ws_col = ws.ws_col;
		ti->ws_xpixel = ws.ws_xpixel;
		ti->ws_ypixel = ws.ws_ypixel;
	}
	if (ioctl(fd, TIOCGEXCL, &v) == 0) {
		ti->has_exclusive = true;
		ti->exclusive = v;
	}
	if (ioctl(fd, FIONREAD, &v) == 0) {
		ti->has_inq = true;
		ti->inq = v;
	}
	if (!is_ptmx(p->st.st_rdev))
		return 0;
	if (ioctl(fd, TIOCGPKT, &v) == 0) {
		ti->has_packet = true;
		ti->packet = v;
	}
	if (ioctl(fd, TIOCGPTLCK, &v) == 0) {
		ti->has_locked = true;
		ti->locked = v;
	}
	return 0;
}

static int tty_describe(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e)
{
	dev_t rdev = p->st.st_rdev;
	TtyInfo *ti;
	int r;

	e->has_rdev = true;
	e->rdev = rdev;
	ti = malloc(sizeof(*ti));
	if (!ti)
		return -ENOMEM;
	tty_info__init(ti);
	e->tty = ti;
	ti->name = strdup(p->link);
	if (!ti->name)
		return -ENOMEM;
	ti->has_master = true;
	ti->has_index = true;
	if (is_ptmx(rdev)) {
		ti->master = true;
		r = ptmx_index(ctx, p, &ti->index);
		if (r < 0)
			return r;
	} else {
		/* pty slaves: one major with 20-bit minors, the minor is the index */
		ti->index = minor(rdev);
	}
	/* a pty comes back as a new pair, not by its path: no identity */
	if (is_pty_slave(rdev))
		return tty_state(ctx, p, ti);
	if (is_ptmx(rdev)) {
		r = tty_state(ctx, p, ti);
		return r < 0 ? r : ptyq_dump(ctx, p, ti);
	}
	return fd_set_identity(e, &p->st, p->link);
}

/* --- the controlling tty --------------------------------------------------- */

/* Fields 7 (tty_nr) and 8 (tpgid) of /proc/PID/stat, after the comm. */
int tty_dump_ctty(struct ckpt_err *err, pid_t pid, TaskCoreEntry *c)
{
	_cleanup_close_ int dfd = -EBADF;
	_cleanup_free_ char *buf = NULL;
	char path[32];
	const char *s;
	size_t len;
	unsigned long long nr;
	int pgrp, r;

	snprintf(path, sizeof(path), "/proc/%d", pid);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return ckpt_fail(err, negerrno(), "pid %d: cannot open %s", pid, path);
	r = read_file_at(dfd, "stat", &buf, &len);
	if (r < 0)
		return ckpt_fail(err, r, "pid %d: cannot read /proc/%d/stat", pid, pid);
	s = strrchr(buf, ')');
	if (!s || sscanf(s + 1, " %*c %*d %*d %*d %llu %d", &nr, &pgrp) != 2)
		return ckpt_fail(err, -EBADMSG, "pid %d: cannot parse /proc/%d/stat", pid, pid);
	c->has_tty_rdev = true;
	c->tty_rdev = nr;
	if (nr && pgrp > 0) {
		c->has_tty_pgrp = true;
		c->tty_pgrp = pgrp;
	}
	return 0;
}

/* --- restore --------------------------------------------------------------- */

static bool desc_is_pty(const FileDescEntry *fe)
{
	return fe->has_rdev && fe->tty && fe->tty->has_index &&
	       (is_ptmx(fe->rdev) || is_pty_slave(fe->rdev));
}

/* The description of the master of pty index, or of one of its slaves. */
static struct rst_desc *pty_desc(struct rst_ctx *ctx, uint32_t index, bool master)
{
	for (unsigned i = 0; i < ctx->nr_descs; i++) {
		FileDescEntry *fe = ctx->descs[i].fe;

		if (fe->type == FD_TYPE__FD_TTY && desc_is_pty(fe) && fe->tty->index == index &&
		    is_ptmx(fe->rdev) == master)
			return &ctx->descs[i];
	}
	return NULL;
}

/* The first fd of the tree on description id, for a message. */
static void tty_holder(struct rst_ctx *ctx, uint32_t id, int *ret_pid, int *ret_fd)
{
	*ret_pid = *ret_fd = -1;
	for (unsigned i = 0; i < ctx->nr_tasks; i++)
		for (unsigned j = 0; j < ctx->tasks[i].nr_fds; j++)
			if (ctx->tasks[i].fds[j]->desc_id == id) {
				*ret_pid = ctx->tasks[i].pe->pid;
				*ret_fd = ctx->tasks[i].fds[j]->fd;
				return;
			}
}

static bool tty_restorable(const FileDescEntry *fe)
{
	return desc_is_pty(fe);
}

/* A slave whose master is outside the tree: the terminal a shell job runs
 * in, which --shell-job replaces with the caller's. */
static bool outside(struct rst_ctx *ctx, const FileDescEntry *fe)
{
	return !is_ptmx(fe->rdev) && !pty_desc(ctx, fe->tty->index, true);
}

/* A slave comes back with its master, or on the caller's terminal. */
static int tty_check(struct rst_ctx *ctx, const FileDescEntry *fe)
{
	int pid, fd;

	if (!outside(ctx, fe) || ctx->opts->shell_job)
		return 0;
	tty_holder(ctx, fe->id, &pid, &fd);
	return ckpt_fail(ctx->err, -EOPNOTSUPP,
			 "pid %d fd %d: the terminal %s is a pty whose master is held outside "
			 "the dumped tree (a terminal the tree runs in); it can't be restored "
			 "as it is. A job of the user's shell: dump and restore it with "
			 "--shell-job (restored on the terminal of 'ckptctl restore'); else "
			 "dump the tree together with its terminal (the terminal emulator, "
			 "tmux or screen server holding the master)", pid, fd,
			 fe->tty->name ? fe->tty->name : "?");
}

int rst_check_ttys(struct rst_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		struct rst_task *t = &ctx->tasks[i];
		TaskCoreEntry *c = t->core;

		if (!c || !c->has_tty_rdev || !c->tty_rdev)
			continue;
		if (is_pty_slave(c->tty_rdev) && pty_desc(ctx, minor(c->tty_rdev), true))
			continue;
		if (ctx->opts->shell_job && t->pe->sid != t->pe->pid)
			continue;	/* a shell job: the caller's terminal */
		return ckpt_fail(ctx->err, -EOPNOTSUPP,
				 "pid %d: its controlling terminal (device %u:%u) is not a pty "
				 "whose master the dumped tree holds; it can't be restored%s. Dump "
				 "the tree together with its terminal (the terminal emulator, tmux "
				 "or screen server holding the master)%s", t->pe->pid,
				 major(c->tty_rdev), minor(c->tty_rdev),
				 t->pe->sid == t->pe->pid ? " (it leads the terminal's session)" : "",
				 t->pe->sid == t->pe->pid ? "" : ", or dump and restore it with "
				 "--shell-job (a job of the user's shell)");
	}
	return 0;
}

struct pty_slot {
	uint32_t index;
	int master;
};

void fd_pty_release(struct fd_open_state *st)
{
	for (unsigned i = 0; i < st->nr_ptys; i++)
		if (st->ptys[i].master >= 0)
			close(st->ptys[i].master);
	free(st->ptys);
	st->ptys = NULL;
	st->nr_ptys = 0;
}

/* Termios and window size, set through either side (a master's are its
 * slave's). */
static int pty_set_state(struct rst_ctx *ctx, int fd, const FileDescEntry *fe)
{
	const TtyInfo *ti = fe->tty;
	struct termios2 tio;

	if (ti->has_iflag && ti->has_cc) {
		if (ioctl(fd, TCGETS2, &tio) < 0)
			return ckpt_fail(ctx->err, negerrno(), "pty %u: TCGETS2", ti->index);
		tio.c_iflag = ti->iflag;
		tio.c_oflag = ti->oflag;
		tio.c_cflag = ti->cflag;
		tio.c_lflag = ti->lflag;
		tio.c_line = ti->line;
		tio.c_ispeed = ti->ispeed;
		tio.c_ospeed = ti->ospeed;
		memcpy(tio.c_cc, ti->cc.data, MIN(ti->cc.len, sizeof(tio.c_cc)));
		if (ioctl(fd, TCSETS2, &tio) < 0)
			return ckpt_fail(ctx->err, negerrno(), "pty %u: cannot set its termios "
					 "(TCSETS2)", ti->index);
	}
	if (ti->has_ws_row) {
		struct winsize ws = { .ws_row = ti->ws_row, .ws_col = ti->ws_col,
				      .ws_xpixel = ti->ws_xpixel, .ws_ypixel = ti->ws_ypixel };

		if (ioctl(fd, TIOCSWINSZ, &ws) < 0)
			return ckpt_fail(ctx->err, negerrno(), "pty %u: cannot set its window "
					 "size", ti->index);
	}
	return 0;
}

/* The new pair standing for pty index fe->tty->index, made on first use. */
static int pty_slot_get(struct rst_ctx *ctx, const FileDescEntry *fe, struct fd_open_state *st,
			struct pty_slot **ret)
{
	struct pty_slot *ns;
	struct rst_desc *md = pty_desc(ctx, fe->tty->index, true);
	_cleanup_close_ int m = -EBADF;
	int unlock = 0, r;

	for (unsigned i = 0; i < st->nr_ptys; i++)
		if (st->ptys[i].index == fe->tty->index) {
			*ret = &st->ptys[i];
			return 0;
		}
	m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return ckpt_fail(ctx->err, negerrno(), "pty %u: cannot open /dev/ptmx",
				 fe->tty->index);
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pty %u: cannot unlock the new pty",
				 fe->tty->index);
	r = pty_set_state(ctx, m, fe);
	if (r == 0 && md)	/* its queued bytes, under its termios */
		r = ptyq_restore(ctx, m, md->fe->tty);
	if (r < 0)
		return r;
	ns = realloc(st->ptys, (st->nr_ptys + 1) * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	st->ptys = ns;
	ns[st->nr_ptys].index = fe->tty->index;
	ns[st->nr_ptys].master = TAKE_FD(m);
	*ret = &ns[st->nr_ptys++];
	return 0;
}

/* --shell-job: a new description of the caller's terminal, with the
 * termios the job had. */
static int shell_job_open(struct rst_ctx *ctx, FileDescEntry *fe)
{
	_cleanup_close_ int fd = -EBADF;
	int r;

	if (ctx->opts->tty_fd < 0)
		return ckpt_fail(ctx->err, -EBADF, "%s: --shell-job without the caller's "
				 "terminal", fe->tty->name ? fe->tty->name : "terminal");
	fd = fd_reopen_self(ctx->opts->tty_fd, (fe->flags & FD_REOPEN_MASK) | O_NOCTTY);
	if (fd < 0)
		return ckpt_fail(ctx->err, fd, "--shell-job: cannot open the caller's terminal");
	r = pty_set_state(ctx, fd, fe);
	if (r == 0)
		r = fd_restore_fl(fd, fe->flags);
	if (r < 0)
		return r;
	return TAKE_FD(fd);
}

static int tty_open(struct rst_ctx *ctx, FileDescEntry *fe, struct fd_open_state *st)
{
	const TtyInfo *ti = fe->tty;
	struct pty_slot *s = NULL;
	_cleanup_close_ int fd = -EBADF;
	int r, v;

	if (outside(ctx, fe))
		return shell_job_open(ctx, fe);
	r = pty_slot_get(ctx, fe, st, &s);
	if (r < 0)
		return r;
	if (ti->master) {
		fd = fcntl(s->master, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return ckpt_fail(ctx->err, negerrno(), "pty %u: cannot open its master",
					 ti->index);
		v = ti->packet;
		if (ti->has_packet && ioctl(fd, TIOCPKT, &v) < 0)
			return ckpt_fail(ctx->err, negerrno(), "pty %u: cannot set packet mode",
					 ti->index);
	} else {
		fd = ioctl(s->master, TIOCGPTPEER,
			   (fe->flags & FD_REOPEN_MASK) | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return ckpt_fail(ctx->err, negerrno(), "pty %u: cannot open its slave",
					 ti->index);
	}
	r = fd_restore_fl(fd, fe->flags);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pty %u: cannot set its flags", ti->index);
	return TAKE_FD(fd);
}

/* In the tasks, every slave opened: lock and exclusive mode, which would
 * have stopped those opens. */
static int tty_post_open(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
			 const FileDescEntry *fe)
{
	const TtyInfo *ti = fe->tty;
	int one = 1;

	if (ti->has_locked && ti->locked && ioctl(f->fd, TIOCSPTLCK, &one) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %u: cannot lock pty %u",
				 t->pe->pid, f->fd, ti->index);
	if (ti->has_exclusive && ti->exclusive && ioctl(f->fd, TIOCEXCL) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %u: cannot set pty %u exclusive",
				 t->pe->pid, f->fd, ti->index);
	return 0;
}

/* An fd (of the restore, not to close) on the new pty standing for the
 * session's controlling tty: a slave's description, else the master's. */
static int ctty_fd(struct rst_ctx *ctx, struct rst_task *t, bool *master)
{
	struct rst_desc *d;
	uint32_t index = minor(t->core->tty_rdev);

	d = pty_desc(ctx, index, false);
	*master = !d;
	if (!d)
		d = pty_desc(ctx, index, true);
	if (!d || d->fd < 0)
		return ckpt_fail(ctx->err, -ENOENT, "pid %d: its controlling terminal, pty %u, "
				 "was not opened", t->pe->pid, index);
	return d->fd;
}

/* A session leader whose controlling tty is a pty of the tree. */
static bool has_ctty(struct rst_ctx *ctx, const struct rst_task *t)
{
	return t->core && t->core->has_tty_rdev && t->core->tty_rdev &&
	       t->pe->sid == t->pe->pid && pty_desc(ctx, minor(t->core->tty_rdev), true);
}

int rst_tty_ctty(struct rst_ctx *ctx, struct rst_task *t)
{
	_cleanup_close_ int peer = -EBADF;
	bool master;
	int fd;

	if (!has_ctty(ctx, t))
		return 0;
	fd = ctty_fd(ctx, t, &master);
	if (fd < 0)
		return fd;
	if (master) {
		peer = ioctl(fd, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (peer < 0)
			return ckpt_fail(ctx->err, negerrno(), "pid %d: cannot open the slave of "
					 "its controlling terminal", t->pe->pid);
		fd = peer;
	}
	if (ioctl(fd, TIOCSCTTY, 0) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d: cannot take its controlling "
				 "terminal (TIOCSCTTY)", t->pe->pid);
	return 0;
}

int rst_tty_fg(struct rst_ctx *ctx, struct rst_task *t)
{
	struct rst_task *g;
	pid_t pgrp;
	bool master;
	int fd;

	if (!has_ctty(ctx, t) || !t->core->has_tty_pgrp)
		return 0;
	pgrp = t->core->tty_pgrp;
	g = rst_find(ctx, pgrp);
	if (!g || g->pe->pgid != pgrp || g->pe->sid != t->pe->sid)
		return 0;	/* a group whose leader is gone: left to the session leader's */
	fd = ctty_fd(ctx, t, &master);
	if (fd < 0)
		return fd;
	if (ioctl(fd, TIOCSPGRP, &pgrp) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d: cannot make process group %d "
				 "the foreground of its terminal (TIOCSPGRP)", t->pe->pid, pgrp);
	return 0;
}

const struct fd_kind_ops fd_kind_tty = {
	.type = FD_TYPE__FD_TTY,
	.name = "terminals",
	.match = tty_match,
	.describe = tty_describe,
	.restorable = tty_restorable,
	.check = tty_check,
	.open = tty_open,
	.post_open = tty_post_open,
};
