/* Restore of the anonymous-inode files a dump records whole: an eventfd
 * (counter, EFD_SEMAPHORE, O_NONBLOCK), a signalfd (mask), a timerfd
 * (clock, time left, interval, expirations not read) and an epoll
 * instance with its watches. Other anon-inode files (userfaultfd,
 * inotify, pidfd...) are refused when the images are checked.
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
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

#define EVENTFD_NAME	"anon_inode:[eventfd]"
#define EPOLL_NAME	"anon_inode:[eventpoll]"
#define SIGNALFD_NAME	"anon_inode:[signalfd]"
#define TIMERFD_NAME	"anon_inode:[timerfd]"

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS	_IOW('T', 0, uint64_t)
#endif
#define NSEC_PER_SEC		1000000000ull

static bool anon_is(const FileDescEntry *fe, const char *name)
{
	return fe->type == FD_TYPE__FD_ANON && fe->anon_name && !strcmp(fe->anon_name, name);
}

static bool is_eventfd(const FileDescEntry *fe)
{
	return anon_is(fe, EVENTFD_NAME);
}

static bool is_epoll(const FileDescEntry *fe)
{
	return anon_is(fe, EPOLL_NAME);
}

bool rst_anon_supported(const FileDescEntry *fe)
{
	return (is_eventfd(fe) && fe->has_eventfd_count) || is_epoll(fe) ||
	       (anon_is(fe, SIGNALFD_NAME) && fe->has_signalfd_mask) ||
	       (anon_is(fe, TIMERFD_NAME) && fe->timerfd);
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

static int open_signalfd(const FileDescEntry *fe)
{
	uint64_t mask = fe->signalfd_mask;
	int flags = O_CLOEXEC | (fe->flags & O_NONBLOCK ? O_NONBLOCK : 0);
	int fd = (int)syscall(SYS_signalfd4, -1, &mask, sizeof(mask), flags);

	return fd < 0 ? negerrno() : fd;
}

static void ts_set(struct timespec *ts, uint64_t sec, uint64_t nsec)
{
	ts->tv_sec = (time_t)(sec + nsec / NSEC_PER_SEC);
	ts->tv_nsec = (long)(nsec % NSEC_PER_SEC);
}

/* The time left runs from now. A periodic timer whose expiry was not
 * read yet shows no time left (the kernel re-arms it at the read): it
 * gets one interval. An absolute timer is set absolute again (so
 * TFD_TIMER_CANCEL_ON_SET keeps working) at now + time left. */
static int open_timerfd(const FileDescEntry *fe)
{
	const TimerfdEntry *t = fe->timerfd;
	struct itimerspec its = { 0 };
	int flags = TFD_CLOEXEC | (fe->flags & O_NONBLOCK ? TFD_NONBLOCK : 0), sflags = 0;
	uint64_t ticks = t->ticks;
	_cleanup_close_ int fd = timerfd_create(t->clockid, flags);

	if (fd < 0)
		return negerrno();
	ts_set(&its.it_interval, t->interval_sec, t->interval_nsec);
	ts_set(&its.it_value, t->value_sec, t->value_nsec);
	if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value = its.it_interval;
	if ((its.it_value.tv_sec || its.it_value.tv_nsec) && (t->settime_flags & TFD_TIMER_ABSTIME)) {
		struct timespec now;

		if (clock_gettime(t->clockid, &now) < 0)
			return negerrno();
		ts_set(&its.it_value, (uint64_t)now.tv_sec + (uint64_t)its.it_value.tv_sec,
		       (uint64_t)now.tv_nsec + (uint64_t)its.it_value.tv_nsec);
		sflags = (int)t->settime_flags;
	}
	if ((its.it_value.tv_sec || its.it_value.tv_nsec) && timerfd_settime(fd, sflags, &its, NULL) < 0)
		return negerrno();
	if (ticks && ioctl(fd, TFD_IOC_SET_TICKS, &ticks) < 0)
		return errno == ENOTTY ? -EOPNOTSUPP : negerrno();
	return TAKE_FD(fd);
}

/* A new anon-inode file (an epoll's watches come later, per task). */
int rst_anon_open(struct rst_ctx *ctx, const FileDescEntry *fe)
{
	int fd;

	if (is_eventfd(fe))
		fd = open_eventfd(fe);
	else if (is_epoll(fe))
		fd = open_epoll(fe);
	else if (anon_is(fe, SIGNALFD_NAME))
		fd = open_signalfd(fe);
	else
		fd = open_timerfd(fe);
	if (fd == -EOPNOTSUPP)
		return ckpt_fail(ctx->err, fd, "file description %u: timerfd with %llu expirations "
				 "not read: this kernel lacks TFD_IOC_SET_TICKS "
				 "(CONFIG_CHECKPOINT_RESTORE)", fe->id,
				 (unsigned long long)fe->timerfd->ticks);

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
