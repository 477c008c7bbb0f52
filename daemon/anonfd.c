/* Anonymous-inode files whose whole state /proc/PID/fdinfo shows, so a
 * restore can make them again: an eventfd (its counter, EFD_SEMAPHORE), a
 * signalfd (its mask), a timerfd (clock, flags, time left, interval,
 * expirations not read) and an epoll instance (each watch: fd number,
 * events, data).
 *
 * An epoll watch is keyed by the file and the fd number it was added
 * under in the process that added it. Restore adds it again under that
 * number in the first task of the tree holding the epoll file, so the fd
 * must still be open there on that very file: a watch whose fd was
 * closed (the file kept alive by a dup) or reused is marked, and a restore
 * refuses it. */
#include "daemon/files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/util.h"
#include "daemon/dump.h"
#include "files.pb-c.h"

#define EVENTFD_NAME	"anon_inode:[eventfd]"
#define EPOLL_NAME	"anon_inode:[eventpoll]"
#define SIGNALFD_NAME	"anon_inode:[signalfd]"
#define TIMERFD_NAME	"anon_inode:[timerfd]"

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

static int add_watch(FileDescEntry *e, int fd, unsigned events, unsigned long long data)
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

/* One line of an eventfd's or epoll's fdinfo. */
static int parse_line_ev(const struct fd_parms *p, FileDescEntry *e, const char *l)
{
	unsigned long long cnt, data;
	unsigned long ino;
	unsigned events, sdev;
	int v, tfd;

	if (!strcmp(p->link, EVENTFD_NAME)) {
		if (sscanf(l, "eventfd-count: %llx", &cnt) == 1) {
			e->has_eventfd_count = true;
			e->eventfd_count = cnt;
		} else if (sscanf(l, "eventfd-semaphore: %d", &v) == 1) {
			e->has_eventfd_semaphore = true;
			e->eventfd_semaphore = v;
		}
		return 0;
	}
	if (sscanf(l, "tfd: %d events: %x data: %llx pos:%*d ino:%lx sdev:%x",
		   &tfd, &events, &data, &ino, &sdev) != 5)
		return 0;
	if (!watch_fd_matches(p->pid, tfd, ino, sdev)) {
		/* recorded, so a restore can refuse it naming the fd */
		e->has_epoll_lost_fd = true;
		e->epoll_lost_fd = (uint32_t)tfd;
		return 0;
	}
	return add_watch(e, tfd, events, data);
}

/* One line of a timerfd's fdinfo into e->timerfd (allocated first). */
static int parse_timerfd(FileDescEntry *e, const char *l)
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

static int parse_line(const struct fd_parms *p, FileDescEntry *e, const char *l)
{
	unsigned long long mask;

	if (!strcmp(p->link, SIGNALFD_NAME)) {
		if (sscanf(l, "sigmask: %llx", &mask) == 1) {
			e->has_signalfd_mask = true;
			e->signalfd_mask = mask;
		}
		return 0;
	}
	if (!strcmp(p->link, TIMERFD_NAME))
		return parse_timerfd(e, l);
	return parse_line_ev(p, e, l);
}

int anonfd_describe(struct dump_ctx *ctx, const struct fd_parms *p, FileDescEntry *e)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	int r;

	if (strcmp(p->link, EVENTFD_NAME) && strcmp(p->link, EPOLL_NAME) &&
	    strcmp(p->link, SIGNALFD_NAME) && strcmp(p->link, TIMERFD_NAME))
		return 0;	/* recorded by name only: restore refuses it */
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", p->pid, p->fd);
	r = read_file_at(AT_FDCWD, path, &buf, NULL);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %d: cannot read %s", p->pid, p->fd, path);
	for (char *l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		r = parse_line(p, e, l);
		if (r < 0)
			return r;
	}
	if ((!strcmp(p->link, EVENTFD_NAME) && !e->has_eventfd_count) ||
	    (!strcmp(p->link, SIGNALFD_NAME) && !e->has_signalfd_mask) ||
	    (!strcmp(p->link, TIMERFD_NAME) && (!e->timerfd || e->timerfd->clockid < 0)))
		return ckpt_fail(ctx->err, -EBADMSG, "pid %d fd %d: %s lacks the state of %s",
				 p->pid, p->fd, path, p->link);
	return 0;
}

void anonfd_clear(FileDescEntry *e)
{
	for (size_t i = 0; i < e->n_epoll_tfds; i++)
		free(e->epoll_tfds[i]);
	free(e->epoll_tfds);
	free(e->timerfd);
	e->timerfd = NULL;
	e->epoll_tfds = NULL;
	e->n_epoll_tfds = 0;
}
