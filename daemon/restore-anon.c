/* Restore of the anonymous-inode files a dump records whole: an eventfd
 * (counter, EFD_SEMAPHORE, O_NONBLOCK) and an epoll instance with its
 * watches. Other anon-inode files (signalfd, timerfd, userfaultfd...)
 * are refused when the images are checked.
 *
 * An epoll watch is keyed by the watched file and the fd number it was
 * added under. The dump read the watches in the first task of the tree
 * holding the epoll file and checked each fd still named the watched file
 * there; that task adds them again, under the same numbers, once its fds
 * are in place and before anything of the tree runs. */
#include "daemon/restore-int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/util.h"

#define EVENTFD_NAME	"anon_inode:[eventfd]"
#define EPOLL_NAME	"anon_inode:[eventpoll]"

static bool is_eventfd(const FileDescEntry *fe)
{
	return fe->type == FD_TYPE__FD_ANON && fe->anon_name && !strcmp(fe->anon_name, EVENTFD_NAME);
}

static bool is_epoll(const FileDescEntry *fe)
{
	return fe->type == FD_TYPE__FD_ANON && fe->anon_name && !strcmp(fe->anon_name, EPOLL_NAME);
}

bool rst_anon_supported(const FileDescEntry *fe)
{
	return (is_eventfd(fe) && fe->has_eventfd_count) || is_epoll(fe);
}

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

/* Images check: the watches of each epoll file t adds name fds t has. */
int rst_anon_check(struct rst_ctx *ctx, struct rst_task *t)
{
	for (unsigned i = 0; i < t->nr_fds; i++) {
		struct rst_desc *d = rst_desc_find(ctx, t->fds[i]->desc_id);

		if (!d || !is_epoll(d->fe) || desc_owner(ctx, d->fe->id) != t)
			continue;
		if (d->fe->has_epoll_lost_fd)
			return ckpt_fail(ctx->err, -EOPNOTSUPP,
					 "pid %d fd %u: epoll watched a file under fd %u, which "
					 "was closed or reused before the dump: such a watch can't "
					 "be restored", t->pe->pid, t->fds[i]->fd,
					 d->fe->epoll_lost_fd);
		for (size_t j = 0; j < d->fe->n_epoll_tfds; j++) {
			uint32_t fd = d->fe->epoll_tfds[j]->fd;

			if (!task_fd(t, fd))
				return ckpt_fail(ctx->err, -EBADMSG,
						 "pid %d fd %u: epoll watches fd %u, which fs-%d.img "
						 "lacks", t->pe->pid, t->fds[i]->fd, fd, t->pe->pid);
			if (task_fd(t, fd)->desc_id == d->fe->id)
				return ckpt_fail(ctx->err, -EBADMSG,
						 "pid %d fd %u: epoll watches itself", t->pe->pid, fd);
		}
	}
	return 0;
}

static int open_eventfd(const FileDescEntry *fe)
{
	int flags = EFD_CLOEXEC | (fe->flags & O_NONBLOCK ? EFD_NONBLOCK : 0) |
		    (fe->eventfd_semaphore ? EFD_SEMAPHORE : 0);
	uint64_t cnt = fe->eventfd_count;
	_cleanup_close_ int fd = eventfd(0, flags);

	if (fd < 0)
		return negerrno();
	/* the counter may exceed eventfd()'s unsigned int: add it */
	if (cnt && write(fd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return negerrno();
	return TAKE_FD(fd);
}

static int open_epoll(const FileDescEntry *fe)
{
	_cleanup_close_ int fd = epoll_create1(EPOLL_CLOEXEC);

	if (fd < 0)
		return negerrno();
	if ((fe->flags & O_NONBLOCK) && fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		return negerrno();
	return TAKE_FD(fd);
}

/* A new eventfd or epoll file (its watches come later, per task). */
int rst_anon_open(struct rst_ctx *ctx, const FileDescEntry *fe)
{
	int fd = is_eventfd(fe) ? open_eventfd(fe) : open_epoll(fe);

	if (fd < 0)
		return ckpt_fail(ctx->err, fd, "file description %u: cannot create %s", fe->id,
				 fe->anon_name);
	return fd;
}

/* The bits of a watch epoll keeps when a one-shot fires (EP_PRIVATE_BITS). */
#define EP_PRIVATE	(EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define EP_ANY		(EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDNORM | EPOLLRDBAND | \
			 EPOLLWRNORM | EPOLLWRBAND | EPOLLMSG | EPOLLRDHUP)

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

static int add_watches(struct rst_ctx *ctx, struct rst_task *t, uint32_t epfd,
		       const FileDescEntry *fe)
{
	struct epoll_event evs[64];
	int r, n;

	for (size_t j = 0; j < fe->n_epoll_tfds; j++) {
		const EpollTfdEntry *w = fe->epoll_tfds[j];

		if (disarmed(w) && (r = add_watch(ctx, t, epfd, w, w->events | EP_ANY)) < 0)
			return r;
	}
	do
		n = epoll_wait((int)epfd, evs, 64, 0);
	while (n == 64 || (n < 0 && errno == EINTR));
	for (size_t j = 0; j < fe->n_epoll_tfds; j++) {
		const EpollTfdEntry *w = fe->epoll_tfds[j];

		if (!disarmed(w) && (r = add_watch(ctx, t, epfd, w, w->events)) < 0)
			return r;
	}
	return 0;
}

/* In task t, its fds in place: add the watches of every epoll file it is
 * the first of the tree to hold. */
int rst_epoll_watches(struct rst_ctx *ctx, struct rst_task *t)
{
	for (unsigned i = 0; i < t->nr_fds; i++) {
		FdEntry *f = t->fds[i];
		struct rst_desc *d = rst_desc_find(ctx, f->desc_id);
		int r;

		if (!d || !is_epoll(d->fe) || desc_owner(ctx, d->fe->id) != t)
			continue;
		r = add_watches(ctx, t, f->fd, d->fe);
		if (r < 0)
			return r;
	}
	return 0;
}
