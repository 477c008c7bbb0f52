/* timerfd: clock, settime flags, time left, interval and expirations not
 * read, from fdinfo; a restore makes a new one and sets it running again. */
#include "daemon/files/kinds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>

#include "common/util.h"
#include "daemon/restore-int.h"

#define TIMERFD_NAME	"anon_inode:[timerfd]"

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS	_IOW('T', 0, uint64_t)
#endif
#define NSEC_PER_SEC		1000000000ull

static bool timerfd_match(const struct fd_parms *p)
{
	return fd_is_anon(p, TIMERFD_NAME);
}

/* One line of a timerfd's fdinfo into e->timerfd (allocated first). */
static int parse_line(const struct fd_parms *p, FileDescEntry *e, const char *l)
{
	TimerfdEntry *t = e->timerfd;
	unsigned long long a, b;
	unsigned flags;
	int v;

	if (!t) {
		t = malloc(sizeof(*t));
		if (!t)
			return -ENOMEM;
		timerfd_entry__init(t);
		t->clockid = -1;
		e->timerfd = t;
	}
	if (sscanf(l, "clockid: %d", &v) == 1) {
		t->clockid = v;
	} else if (sscanf(l, "ticks: %llu", &a) == 1) {
		t->ticks = a;
	} else if (sscanf(l, "settime flags: %o", &flags) == 1) {
		t->settime_flags = flags;
	} else if (sscanf(l, "it_value: (%llu, %llu)", &a, &b) == 2) {
		t->value_sec = a;
		t->value_nsec = b;
	} else if (sscanf(l, "it_interval: (%llu, %llu)", &a, &b) == 2) {
		t->interval_sec = a;
		t->interval_nsec = b;
	}
	return 0;
}

static int timerfd_describe(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e)
{
	int r = fd_anon_describe(ctx, p, e);

	if (r == 0)
		r = fd_fdinfo_each(ctx, p, parse_line, e);
	if (r == 0 && (!e->timerfd || e->timerfd->clockid < 0))
		r = fd_fdinfo_lacks(ctx, p);
	return r;
}

static bool timerfd_restorable(const FileDescEntry *fe)
{
	return fe->timerfd;
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

static int timerfd_open(struct rst_ctx *ctx, FileDescEntry *fe, struct fd_open_state *st)
{
	int fd = open_timerfd(fe);

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

const struct fd_kind_ops fd_kind_timerfd = {
	.type = FD_TYPE__FD_ANON,
	.anon_name = TIMERFD_NAME,
	.name = FD_ANON_REFUSED,
	.match = timerfd_match,
	.describe = timerfd_describe,
	.restorable = timerfd_restorable,
	.open = timerfd_open,
};
