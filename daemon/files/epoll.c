/* epoll: each watch (fd number, events, data) from fdinfo; a restore
 * makes a new epoll file and adds the watches back.
 *
 * A watch is keyed by the watched file and the fd number it was added
 * under in the process that added it. The dump reads the watches in the
 * first task of the tree holding the epoll file and checks that each fd
 * still names the watched file there. A watch whose fd was closed or
 * reused since while a dup kept the file open (the kernel keeps the
 * watch) is kept with an fd of that task naming the file, found by
 * kcmp(KCMP_EPOLL_TFD); one with no such fd in that task is marked, and a
 * restore refuses it. That task adds them again, under the same numbers,
 * once its fds are in place and before anything of the tree runs: a lost
 * watch through a moment's dup of its file to its old number. */
#include "daemon/files/kinds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/restore-int.h"

#define EPOLL_NAME	"anon_inode:[eventpoll]"
#define EPOLL_MAX_FD	(1u << 20)	/* as restore-fds.c bounds fd numbers */

/* The bits of a watch epoll keeps when a one-shot fires (EP_PRIVATE_BITS). */
#define EP_PRIVATE	(EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define EP_ANY		(EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDNORM | EPOLLRDBAND | \
			 EPOLLWRNORM | EPOLLWRBAND | EPOLLMSG | EPOLLRDHUP)

static bool epoll_match(const struct fd_parms *p)
{
	return fd_is_anon(p, EPOLL_NAME);
}

/* --- dump ------------------------------------------------------------------ */

/* The kernel prints a superblock's dev_t in its own encoding. */
static bool same_dev(unsigned kdev, dev_t dev)
{
	return (kdev >> 20) == major(dev) && (kdev & 0xfffff) == minor(dev);
}

/* Is fd of pid still the file the epoll line names (inode, device)? */
static bool watch_fd_matches(pid_t pid, int fd, unsigned long ino, unsigned sdev)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	return stat(path, &st) == 0 && st.st_ino == ino && same_dev(sdev, st.st_dev);
}

static int dump_watch(FileDescEntry *e, int fd, unsigned events, unsigned long long data)
{
	EpollTfdEntry **n = realloc(e->epoll_tfds, (e->n_epoll_tfds + 1) * sizeof(*n));
	EpollTfdEntry *w;

	if (!n)
		return -ENOMEM;
	e->epoll_tfds = n;
	w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	epoll_tfd_entry__init(w);
	w->fd = (uint32_t)fd;
	w->events = events;
	w->data = data;
	e->epoll_tfds[e->n_epoll_tfds++] = w;
	return 0;
}

/* An fd of pid naming the file epfd's watch of tfd watches (kcmp
 * KCMP_EPOLL_TFD), or -1. */
static int find_watched(pid_t pid, int epfd, int tfd)
{
	struct kcmp_epoll_slot slot = { .efd = (uint32_t)epfd, .tfd = (uint32_t)tfd };
	struct dirent *de;
	char path[64];
	int found = -1;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while (found < 0 && (de = readdir(d))) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] == '.' || fd == epfd)
			continue;
		if (syscall(SYS_kcmp, pid, pid, KCMP_EPOLL_TFD, fd, &slot) == 0)
			found = fd;
	}
	closedir(d);
	return found;
}

static int dump_lost(FileDescEntry *e, int tfd, int via, unsigned events,
		     unsigned long long data)
{
	EpollLostEntry **n = realloc(e->epoll_lost, (e->n_epoll_lost + 1) * sizeof(*n));
	EpollLostEntry *w;

	if (!n)
		return -ENOMEM;
	e->epoll_lost = n;
	w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	epoll_lost_entry__init(w);
	w->fd = (uint32_t)tfd;
	w->via_fd = (uint32_t)via;
	w->events = events;
	w->data = data;
	e->epoll_lost[e->n_epoll_lost++] = w;
	return 0;
}

static int parse_line(const struct fd_parms *p, FileDescEntry *e, const char *l)
{
	unsigned long long data;
	unsigned long ino;
	unsigned events, sdev;
	int tfd;

	if (sscanf(l, "tfd: %d events: %x data: %llx pos:%*d ino:%lx sdev:%x",
		   &tfd, &events, &data, &ino, &sdev) != 5)
		return 0;
	if (!watch_fd_matches(p->pid, tfd, ino, sdev)) {
		int via = find_watched(p->pid, p->fd, tfd);

		if (via >= 0)
			return dump_lost(e, tfd, via, events, data);
		/* recorded, so a restore can refuse it naming the fd */
		e->has_epoll_lost_fd = true;
		e->epoll_lost_fd = (uint32_t)tfd;
		return 0;
	}
	return dump_watch(e, tfd, events, data);
}

static int epoll_describe(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e)
{
	int r = fd_anon_describe(ctx, p, e);

	return r < 0 ? r : fd_fdinfo_each(ctx, p, parse_line, e);
}

/* --- restore --------------------------------------------------------------- */

/* The first task (pstree order) holding description id: the one that
 * adds an epoll's watches. */
static struct rst_task *desc_owner(struct rst_ctx *ctx, uint32_t id)
{
	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		struct rst_task *t = &ctx->tasks[i];

		for (unsigned j = 0; j < t->nr_fds; j++)
			if (t->fds[j]->desc_id == id)
				return t;
	}
	return NULL;
}

static FdEntry *task_fd(struct rst_task *t, uint32_t fd)
{
	for (unsigned i = 0; i < t->nr_fds; i++)
		if (t->fds[i]->fd == fd)
			return t->fds[i];
	return NULL;
}

/* Images check (every earlier task's fds are loaded): the watches of an
 * epoll file t adds name fds t has. */
static int epoll_check_task(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
			    const FileDescEntry *fe)
{
	if (desc_owner(ctx, fe->id) != t)
		return 0;
	if (fe->has_epoll_lost_fd)
		return ckpt_fail(ctx->err, -EOPNOTSUPP,
				 "pid %d fd %u: epoll watches a file under fd %u, which "
				 "was closed or reused before the dump, and no fd of this "
				 "process names that file: such a watch can't be restored. "
				 "Keep an fd on the watched file in this process, or remove "
				 "the watch (EPOLL_CTL_DEL) before closing its fd",
				 t->pe->pid, f->fd, fe->epoll_lost_fd);
	for (size_t j = 0; j < fe->n_epoll_lost; j++) {
		const EpollLostEntry *w = fe->epoll_lost[j];

		if (!task_fd(t, w->via_fd) || task_fd(t, w->via_fd)->desc_id == fe->id)
			return ckpt_fail(ctx->err, -EBADMSG,
					 "pid %d fd %u: epoll watch of fd %u is kept by fd %u, "
					 "which fs-%d.img lacks", t->pe->pid, f->fd, w->fd,
					 w->via_fd, t->pe->pid);
		if (w->fd >= EPOLL_MAX_FD)
			return ckpt_fail(ctx->err, -EBADMSG, "pid %d fd %u: epoll watch of "
					 "fd %u is out of bounds", t->pe->pid, f->fd, w->fd);
		/* its number is used for a moment: keep the high fds above it */
		if ((int)w->fd > ctx->max_fd)
			ctx->max_fd = (int)w->fd;
	}
	for (size_t j = 0; j < fe->n_epoll_tfds; j++) {
		uint32_t fd = fe->epoll_tfds[j]->fd;

		if (!task_fd(t, fd))
			return ckpt_fail(ctx->err, -EBADMSG,
					 "pid %d fd %u: epoll watches fd %u, which fs-%d.img "
					 "lacks", t->pe->pid, f->fd, fd, t->pe->pid);
		if (task_fd(t, fd)->desc_id == fe->id)
			return ckpt_fail(ctx->err, -EBADMSG,
					 "pid %d fd %u: epoll watches itself", t->pe->pid, fd);
	}
	return 0;
}

/* A new epoll file; its watches come later, per task. */
static int epoll_open(struct rst_ctx *ctx, FileDescEntry *fe, struct fd_open_state *st)
{
	_cleanup_close_ int fd = epoll_create1(EPOLL_CLOEXEC);

	if (fd < 0 || ((fe->flags & O_NONBLOCK) && fcntl(fd, F_SETFL, O_NONBLOCK) < 0))
		return ckpt_fail(ctx->err, negerrno(), "file description %u: cannot create %s",
				 fe->id, fe->anon_name);
	return TAKE_FD(fd);
}

/* A one-shot watch that fired before the dump waits for EPOLL_CTL_MOD with
 * no events armed. EPOLL_CTL_ADD always arms EPOLLERR|EPOLLHUP, so add it
 * armed for every event and let it fire once (epoll_wait with nothing else
 * in this epoll yet): that disarms it as the kernel did. A file ready for
 * nothing at all keeps EPOLLERR|EPOLLHUP armed. */
static bool disarmed(const EpollTfdEntry *w)
{
	return (w->events & EPOLLONESHOT) && !(w->events & ~(uint32_t)EP_PRIVATE);
}

static int add_watch(struct rst_ctx *ctx, struct rst_task *t, uint32_t epfd,
		     const EpollTfdEntry *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = w->data };

	/* a task holding one epoll file under two fds adds once */
	if (epoll_ctl((int)epfd, EPOLL_CTL_ADD, (int)w->fd, &ev) < 0 && errno != EEXIST)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %u: cannot watch fd %u "
				 "(events %#x) again", t->pe->pid, epfd, w->fd, w->events);
	return 0;
}

/* A watch whose fd was closed since: a dup of its file (via_fd) under its
 * old number for a moment, the number's own file (if it was reused) put
 * back after, with its close-on-exec flag. */
static int add_lost(struct rst_ctx *ctx, struct rst_task *t, uint32_t epfd,
		    const EpollLostEntry *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = w->data };
	const FdEntry *now = task_fd(t, w->fd);
	_cleanup_close_ int saved = -EBADF;
	int r = 0;

	if (now && (saved = fcntl((int)w->fd, F_DUPFD_CLOEXEC, ctx->pages_fd_base)) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %u: cannot move fd %u aside",
				 t->pe->pid, epfd, w->fd);
	if (dup3((int)w->via_fd, (int)w->fd, O_CLOEXEC) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %u: cannot dup fd %u to %u",
				 t->pe->pid, epfd, w->via_fd, w->fd);
	if (epoll_ctl((int)epfd, EPOLL_CTL_ADD, (int)w->fd, &ev) < 0 && errno != EEXIST)
		r = ckpt_fail(ctx->err, negerrno(), "pid %d fd %u: cannot watch the file of "
			      "fd %u under its closed fd %u (events %#x) again", t->pe->pid, epfd,
			      w->via_fd, w->fd, w->events);
	if (now) {
		if (dup3(saved, (int)w->fd, now->cloexec ? O_CLOEXEC : 0) < 0 && r == 0)
			r = ckpt_fail(ctx->err, negerrno(), "pid %d fd %u: cannot put back",
				      t->pe->pid, w->fd);
	} else {
		close((int)w->fd);
	}
	return r;
}

static bool lost_disarmed(const EpollLostEntry *w)
{
	return (w->events & EPOLLONESHOT) && !(w->events & ~(uint32_t)EP_PRIVATE);
}

/* In task t, its fds in place: add the watches of an epoll file it is the
 * first of the tree to hold. */
static int epoll_post_open(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
			   const FileDescEntry *fe)
{
	struct epoll_event evs[64];
	int r, n;

	if (desc_owner(ctx, fe->id) != t)
		return 0;
	for (size_t j = 0; j < fe->n_epoll_tfds; j++) {
		const EpollTfdEntry *w = fe->epoll_tfds[j];

		if (disarmed(w) && (r = add_watch(ctx, t, f->fd, w, w->events | EP_ANY)) < 0)
			return r;
	}
	for (size_t j = 0; j < fe->n_epoll_lost; j++) {
		const EpollLostEntry *w = fe->epoll_lost[j];

		if (lost_disarmed(w) && (r = add_lost(ctx, t, f->fd, w, w->events | EP_ANY)) < 0)
			return r;
	}
	do
		n = epoll_wait((int)f->fd, evs, 64, 0);
	while (n == 64 || (n < 0 && errno == EINTR));
	for (size_t j = 0; j < fe->n_epoll_tfds; j++) {
		const EpollTfdEntry *w = fe->epoll_tfds[j];

		if (!disarmed(w) && (r = add_watch(ctx, t, f->fd, w, w->events)) < 0)
			return r;
	}
	for (size_t j = 0; j < fe->n_epoll_lost; j++) {
		const EpollLostEntry *w = fe->epoll_lost[j];

		if (!lost_disarmed(w) && (r = add_lost(ctx, t, f->fd, w, w->events)) < 0)
			return r;
	}
	return 0;
}

const struct fd_kind_ops fd_kind_epoll = {
	.type = FD_TYPE__FD_ANON,
	.anon_name = EPOLL_NAME,
	.name = FD_ANON_REFUSED,
	.match = epoll_match,
	.describe = epoll_describe,
	.check_task = epoll_check_task,
	.open = epoll_open,
	.post_open = epoll_post_open,
};
