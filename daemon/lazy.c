/* The lazy server (lazy.h says what it is for; lazy-int.h has the map of
 * its pieces): one event loop, in a process of its own, over the
 * restore's control pipe, the socket the blobs send their userfaultfds
 * on, a signalfd for its tracees' stops (lazy-trace.c) and one uffd per
 * served mm.
 *
 * Each turn it first reads what every uffd has (events change the map of
 * where image data may still go, lazy-extents.c; faults queue), serves
 * the queued faults, and only then pushes one block in the background,
 * so a fault waits for at most one block copy (<= 2 MiB: one pread into
 * the one reusable buffer, one XXH3 pass, one UFFDIO_COPY). A block is
 * read once per mm in the common case; an mm that forks costs a second
 * read of whatever its child still lacks. */
#include "daemon/lazy-int.h"

#include <fcntl.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/lazy-feed.h"
#include "common/util.h"
#include "daemon/lazy-registry.h"
#include "restorer/restorer.h"

#define BLOCK_MAX	(512 * PAGE)
#define PUBLISH_MS	100
#define CHANGING_MS	1	/* retry after an EAGAIN whose event is not yet read */
#define UFFD_MSG_BATCH	64

/* --- failure -------------------------------------------------------------- */

static void publish(struct lazy_srv *s, const char *state);

/* Kill what was served: before the commit the plan's tasks (held by the
 * intermediate process, so their pids are theirs), after it the tracees
 * (a tracee's pid stays its own until we reap it). */
static void kill_all(struct lazy_srv *s)
{
	if (!s->committed)
		for (unsigned i = 0; i < s->plan->nr_tasks; i++)
			kill(s->plan->tasks[i].pid, SIGKILL);
	for (size_t i = 0; i < s->nr_tracees; i++)
		kill(s->tracees[i], SIGKILL);
}

int lazy_fail(struct lazy_srv *s, int code, const char *fmt, ...)
{
	char *e = s->entry.error;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e, sizeof(s->entry.error), fmt, ap);
	va_end(ap);
	n = strlen(e);
	snprintf(e + n, sizeof(s->entry.error) - n, "; the tree was killed");
	kill_all(s);
	s->failed = true;
	publish(s, "failed");
	/* e says why in full already: no strerror appended */
	ckpt_fail(s->err, 0, "lazy restore of %s: %s", s->plan->dir, e);
	if (s->err && !s->err->code)
		s->err->code = code;
	return code;
}

static const char *mm_who(const struct lazy_mm *m, char *buf, size_t len)
{
	snprintf(buf, len, m->forked ? "a child of pid %d" : "pid %d", m->pid);
	return buf;
}

static int block_fail(struct lazy_srv *s, struct lazy_mm *m, const struct lazy_block *b,
		      int code, const char *what)
{
	char who[48];

	/* the block read: for a piece of a parent's block, the whole block */
	return lazy_fail(s, code, "%s: %s offset 0x%" PRIx64 " (0x%" PRIx64 ", %u pages): %s",
			 mm_who(m, who, sizeof(who)), s->plan->files[b->file].name, b->off,
			 (uint64_t)(b->vaddr - b->skip_pages * PAGE),
			 b->read_pages ? b->read_pages : b->nr_pages, what);
}

/* --- the registry --------------------------------------------------------- */

static void publish(struct lazy_srv *s, const char *state)
{
	s->entry.left = s->entry.pages - MIN(s->pages_in, s->entry.pages);
	snprintf(s->entry.state, sizeof(s->entry.state), "%s", state);
	s->published = now_us();
	s->entry.ms = (s->published - s->t0) / 1000;
	if (s->dirfd >= 0)
		lazy_registry_write(s->dirfd, &s->entry);	/* best effort: status only */
}

/* --- blocks --------------------------------------------------------------- */

static int ctl_read(struct lazy_srv *s);

static int feed_all_in(struct lazy_srv *s)
{
	for (unsigned i = 0; i < s->plan->nr_files; i++)
		s->plan->files[i].fed = false;
	return 0;
}

/* One message from receive. A receive that closed its end with a request
 * of ours unread leaves ECONNRESET pending, which the kernel reports before
 * the messages still queued (its last, "all in", among them): read again. */
static bool feed_recv(int fd, struct lazy_feed_msg *a, int flags)
{
	ssize_t n;

	do
		n = recv(fd, a, sizeof(*a), flags);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno != EAGAIN)
		n = recv(fd, a, sizeof(*a), MSG_DONTWAIT);
	return n == sizeof(*a) && a->magic == LAZY_FEED_MAGIC;
}

static bool feed_all(const struct lazy_feed_msg *a)
{
	return a->status == LAZY_FEED_ALL;
}

/* A block of a file still arriving (a post-copy migration): ask receive
 * for its bytes and wait until they are in. Every served process waits
 * meanwhile; a fault waits for its block anyway. */
static int feed_wait(struct lazy_srv *s, struct lazy_mm *m, const struct lazy_block *b,
		     size_t len)
{
	const char *base = strrchr(s->plan->files[b->file].name, '/');
	struct lazy_feed_msg q = { .magic = LAZY_FEED_MAGIC, .off = b->off, .len = len }, a;
	char what[96];

	snprintf(q.name, sizeof(q.name), "%s", base ? base + 1 : s->plan->files[b->file].name);
	/* everything in already? receive says so once, then may be gone */
	if (feed_recv(s->plan->feed, &a, MSG_DONTWAIT) && feed_all(&a))
		return feed_all_in(s);
	if (send(s->plan->feed, &q, sizeof(q), MSG_NOSIGNAL) != sizeof(q)) {
		/* receive may have said "all in" and gone since the look above */
		if (feed_recv(s->plan->feed, &a, MSG_DONTWAIT) && feed_all(&a))
			return feed_all_in(s);
		return block_fail(s, m, b, -EPIPE, "its bytes can't be asked for: the migration's "
				  "receiver is gone");
	}
	/* the bytes come once the restore has returned: its commit, and the
	 * stops of the tasks held since, are taken meanwhile */
	for (;;) {
		struct pollfd p[3] = { { .fd = s->plan->feed, .events = POLLIN },
				       { .fd = s->committed ? -1 : s->plan->ctl, .events = POLLIN },
				       { .fd = s->sfd, .events = POLLIN } };
		int r;

		if (poll(p, 3, -1) < 0 && errno != EINTR)
			return lazy_fail(s, negerrno(), "poll: %s", strerror(errno));
		r = p[1].revents ? ctl_read(s) : 0;
		if (r == 0 && p[2].revents)
			r = lazy_tracees_reap(s);
		if (r < 0)
			return r;
		if (p[0].revents)
			break;
	}
	if (!feed_recv(s->plan->feed, &a, 0))
		return block_fail(s, m, b, -EPIPE, "its bytes never came: the migration's "
				  "receiver is gone");
	if (feed_all(&a))
		return feed_all_in(s);
	if (a.off != q.off || a.len != q.len)
		return block_fail(s, m, b, -EPROTO, "the migration's receiver answered "
				  "another request");
	if (a.status < 0) {
		snprintf(what, sizeof(what), "its bytes never came: %s", strerror(-a.status));
		return block_fail(s, m, b, a.status, what);
	}
	return 0;
}

/* Read block b into the buffer and check it; not again while the buffer
 * holds it (a retry after EAGAIN, a fork's child right after its parent,
 * the next piece of one parent's block). Its pages are then at
 * block_data(). */
static int block_read(struct lazy_srv *s, struct lazy_mm *m, const struct lazy_block *b)
{
	uint32_t pages = b->read_pages ? b->read_pages : b->nr_pages;
	size_t len = pages * PAGE;
	char what[64];
	int r;

	if (s->buf_ok && s->buf_file == b->file && s->buf_off == b->off)
		return 0;
	s->buf_ok = false;
	if (b->file >= s->plan->nr_files || b->nr_pages == 0 || len > BLOCK_MAX ||
	    (uint64_t)b->skip_pages + b->nr_pages > pages)
		return block_fail(s, m, b, -EINVAL, "not a block of the plan");
	if (s->plan->files[b->file].fed) {
		r = feed_wait(s, m, b, len);
		if (r < 0)
			return r;
	}
	r = pread_full(s->plan->files[b->file].fd, s->buf, len, b->off);
	if (r < 0) {
		snprintf(what, sizeof(what), "%s", r == -EIO ? "short read" : strerror(-r));
		return block_fail(s, m, b, r, what);
	}
	if (XXH3_64bits(s->buf, len) != b->xxh3)
		return block_fail(s, m, b, -EBADMSG, "checksum mismatch");
	s->buf_ok = true;
	s->buf_file = b->file;
	s->buf_off = b->off;
	return 0;
}

static const char *block_data(const struct lazy_srv *s, const struct lazy_block *b)
{
	return (const char *)s->buf + (uint64_t)b->skip_pages * PAGE;
}

/* UFFDIO_COPY [dst, dst + len) from src, past pages already there; sets
 * *woke if the page at fault was among those copied (and so woken).
 *
 * The kernel copies only within one VMA (-ENOENT otherwise), and the
 * process may have split a range since (mprotect): on ENOENT the next
 * try is half as long, down to one page, growing again once one copies,
 * so a split costs a few calls, not one per page. */
static int uffd_copy(struct lazy_mm *m, uint64_t dst, const char *src, uint64_t len,
		     uint64_t fault, bool *woke)
{
	uint64_t step = len;

	while (len) {
		struct uffdio_copy c = { .dst = dst, .src = (uintptr_t)src, .len = MIN(len, step) };
		uint64_t n;
		int e;

		e = ioctl(m->uffd, UFFDIO_COPY, &c) < 0 ? errno : 0;
		n = c.copy > 0 ? (uint64_t)c.copy : 0;
		if (woke && fault >= dst && fault < dst + n)
			*woke = true;
		if (e == 0) {
			n = c.len;
			step = step < len / 2 ? step * 2 : len;
		} else if (n == 0) {	/* nothing copied: the errno is about dst */
			if (e == ENOENT && c.len > PAGE) {
				step = (c.len / 2) & ~(PAGE - 1);
				continue;
			}
			if (e != EEXIST && e != ENOENT)
				return -e;	/* EAGAIN, ESRCH: the caller's */
			/* EEXIST: the page is there already (the process's own
			 * since); ENOENT: nothing registered here any more */
			n = PAGE;
		}
		dst += n;
		src += n;
		len -= n;
	}
	return 0;
}

static void block_done(struct lazy_srv *s, struct lazy_mm *m, size_t i)
{
	m->done[i] = 1;
	m->blocks_left--;
	m->pages_left -= m->task->blocks[i].nr_pages;
	s->pages_in += m->task->blocks[i].nr_pages;
}

/* Copy block i everywhere its image range still maps in m: first the
 * piece in extent first (the faulting one, if any: that wakes the fault
 * soonest). 0, -EAGAIN (retry after the events), -ESRCH (mm gone), or a
 * failure already reported. */
static int block_push(struct lazy_srv *s, struct lazy_mm *m, size_t i, struct lazy_ext *first,
		      uint64_t fault, bool *woke)
{
	const struct lazy_block *b = &m->task->blocks[i];
	uint64_t dst, img, len;
	size_t k, last;
	int r;

	if (!lazy_block_wanted(m, b)) {	/* all of it dropped or unmapped */
		block_done(s, m, i);
		return 0;
	}
	r = block_read(s, m, b);
	if (r < 0)
		return r;
	if (first && lazy_piece(b, first, &dst, &img, &len)) {
		r = uffd_copy(m, dst, block_data(s, b) + (img - b->vaddr), len, fault, woke);
		if (r < 0)
			goto out;
	}
	lazy_ext_span(m, b->vaddr, lazy_block_end(b), &k, &last);
	for (; k < last; k++) {
		if (&m->ext[k] == first || !lazy_piece(b, &m->ext[k], &dst, &img, &len))
			continue;
		r = uffd_copy(m, dst, block_data(s, b) + (img - b->vaddr), len, fault, woke);
		if (r < 0)
			goto out;
	}
	block_done(s, m, i);
	return 0;
out:
	if (r != -EAGAIN && r != -ESRCH) {
		char what[64];

		snprintf(what, sizeof(what), "UFFDIO_COPY: %s", strerror(-r));
		r = block_fail(s, m, b, r, what);
	}
	return r;
}

/* --- faults and events ---------------------------------------------------- */

static int uffd_page(struct lazy_mm *m, unsigned long req, uint64_t addr)
{
	struct uffdio_zeropage z = { .range = { addr, PAGE } };
	struct uffdio_range w = { addr, PAGE };

	if (ioctl(m->uffd, req, req == UFFDIO_ZEROPAGE ? (void *)&z : (void *)&w) == 0)
		return 1;	/* placed and woken */
	if (errno == EAGAIN || errno == ESRCH)
		return -errno;
	return 0;	/* EEXIST, ENOENT: nothing to place here */
}

/* Serve one fault at addr: its block if the image has data there and it
 * is not in yet; else a zero page (the image had nothing there, or the
 * process dropped it; a page there already is left alone); and the
 * faulting thread woken. */
static int fault_serve(struct lazy_srv *s, struct lazy_mm *m, uint64_t addr)
{
	struct lazy_ext *x = lazy_ext_find(m, addr);
	ssize_t b = x ? lazy_block_find(m->task, x->img + (addr - x->start)) : -1;
	bool woke = false;
	int r;

	if (b >= 0 && !m->done[b]) {
		m->cursor = (size_t)b + 1 < m->task->nr_blocks ? (size_t)b + 1 : 0;
		r = block_push(s, m, b, x, addr, &woke);
		if (r < 0)
			return r;
	} else {
		r = uffd_page(m, UFFDIO_ZEROPAGE, addr);
		if (r < 0)
			return r;
		woke = r > 0;
	}
	if (!woke) {
		r = uffd_page(m, UFFDIO_WAKE, addr);
		if (r < 0)
			return r;
	}
	s->entry.faults++;
	return 0;
}

static int mm_add(struct lazy_srv *s, struct lazy_mm *m)
{
	if (s->nr_mms == s->cap_mms) {
		size_t c = s->cap_mms ? s->cap_mms * 2 : 16;
		struct lazy_mm **v = realloc(s->mms, c * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->mms = v;
		s->cap_mms = c;
	}
	s->mms[s->nr_mms++] = m;
	return 0;
}

static void mm_free(struct lazy_mm *m)
{
	if (!m)
		return;
	if (m->uffd >= 0)
		close(m->uffd);
	free(m->ext);
	free(m->done);
	free(m->faults);
	free(m);
}

static void uffd_setfl(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* A plan task's mm, its uffd just arrived: everything still to push. */
static int mm_new(struct lazy_srv *s, const struct lazy_task *t, int uffd)
{
	struct lazy_mm *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->uffd = uffd;
	m->pid = t->pid;
	m->task = t;
	m->ext = calloc(t->nr_ranges + 1, sizeof(*m->ext));
	m->done = calloc(t->nr_blocks + 1, 1);
	if (!m->ext || !m->done) {
		m->uffd = -EBADF;	/* the caller's still */
		mm_free(m);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < t->nr_ranges; i++)
		m->ext[i] = (struct lazy_ext){ t->ranges[i].start, t->ranges[i].end,
					       t->ranges[i].start };
	m->nr_ext = t->nr_ranges;
	m->blocks_left = t->nr_blocks;
	for (size_t i = 0; i < t->nr_blocks; i++)
		m->pages_left += t->blocks[i].nr_pages;
	uffd_setfl(uffd);
	r = mm_add(s, m);
	if (r < 0) {
		m->uffd = -EBADF;
		mm_free(m);
	}
	return r;
}

/* UFFD_EVENT_FORK: the child's mm, as the parent's is now (the pages in
 * the parent are the child's too). */
static int mm_fork(struct lazy_srv *s, struct lazy_mm *p, int uffd)
{
	struct lazy_mm *m = calloc(1, sizeof(*m));

	if (!m) {
		close(uffd);
		return -ENOMEM;
	}
	*m = *p;
	m->uffd = uffd;
	m->forked = true;
	m->changing = false;
	m->faults = NULL;
	m->nr_faults = m->cap_faults = 0;
	m->ext = malloc((p->nr_ext + 1) * sizeof(*m->ext));
	m->done = malloc(p->task->nr_blocks + 1);
	if (!m->ext || !m->done) {
		mm_free(m);
		return -ENOMEM;
	}
	memcpy(m->ext, p->ext, p->nr_ext * sizeof(*m->ext));
	memcpy(m->done, p->done, p->task->nr_blocks);
	s->entry.pages += m->pages_left;	/* more to push than the plan had */
	uffd_setfl(uffd);
	if (mm_add(s, m) < 0) {
		mm_free(m);
		return -ENOMEM;
	}
	return 0;
}

static int fault_queue(struct lazy_mm *m, uint64_t addr)
{
	if (m->nr_faults == m->cap_faults) {
		size_t c = m->cap_faults ? m->cap_faults * 2 : 16;
		uint64_t *v = realloc(m->faults, c * sizeof(*v));

		if (!v)
			return -ENOMEM;
		m->faults = v;
		m->cap_faults = c;
	}
	m->faults[m->nr_faults++] = addr & ~(PAGE - 1);
	return 0;
}

static int event(struct lazy_srv *s, struct lazy_mm *m, const struct uffd_msg *msg)
{
	switch (msg->event) {
	case UFFD_EVENT_PAGEFAULT:
		return fault_queue(m, msg->arg.pagefault.address);
	case UFFD_EVENT_FORK:
		return mm_fork(s, m, msg->arg.fork.ufd);
	case UFFD_EVENT_REMAP:
		return lazy_ext_remap(m, msg->arg.remap.from, msg->arg.remap.to, msg->arg.remap.len);
	case UFFD_EVENT_REMOVE:
	case UFFD_EVENT_UNMAP:
		/* never image data here again: the process's own zeros */
		return lazy_ext_cut(m, msg->arg.remove.start, msg->arg.remove.end);
	}
	return 0;
}

/* Everything m's uffd has now. */
static int mm_read(struct lazy_srv *s, struct lazy_mm *m)
{
	struct uffd_msg msg[UFFD_MSG_BATCH];
	char who[48];

	for (;;) {
		ssize_t n = read(m->uffd, msg, sizeof(msg));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0 || n % sizeof(*msg))
			return lazy_fail(s, n < 0 ? negerrno() : -EIO,
					 "%s: reading its userfaultfd: %s", mm_who(m, who, sizeof(who)),
					 n < 0 ? strerror(errno) : "a partial message");
		m->changing = false;
		for (size_t i = 0; i < n / sizeof(*msg); i++) {
			int r = event(s, m, &msg[i]);

			if (r < 0)
				return lazy_fail(s, r, "%s: userfaultfd event %u: %s",
						 mm_who(m, who, sizeof(who)), msg[i].event,
						 strerror(-r));
		}
		if ((size_t)n < sizeof(msg))
			return 0;
	}
}

static void mm_gone(struct lazy_mm *m)
{
	m->gone = true;
}

/* The queued faults of m, in order, until one has to wait for an event. */
static int mm_faults(struct lazy_srv *s, struct lazy_mm *m)
{
	size_t i;
	int r = 0;

	for (i = 0; i < m->nr_faults && !m->gone; i++) {
		r = fault_serve(s, m, m->faults[i]);
		if (s->failed)
			return r;
		if (r == -EAGAIN) {
			m->changing = true;
			break;
		}
		if (r == -ESRCH) {
			mm_gone(m);
			r = 0;
			break;
		}
		if (r < 0)
			return r;
	}
	memmove(m->faults, m->faults + i, (m->nr_faults - i) * sizeof(*m->faults));
	m->nr_faults -= i;
	return 0;
}

/* --- the background push -------------------------------------------------- */

static bool mm_pushable(const struct lazy_mm *m)
{
	return !m->gone && !m->changing && m->blocks_left > 0;
}

/* One block of the next mm in turn, from its cursor up (wrapping). */
static int push_step(struct lazy_srv *s)
{
	for (size_t k = 0; k < s->nr_mms; k++) {
		size_t idx = (s->rr + k) % s->nr_mms;
		struct lazy_mm *m = s->mms[idx];
		size_t n = m->task->nr_blocks, i;
		int r;

		if (!mm_pushable(m))
			continue;
		i = m->cursor < n ? m->cursor : 0;
		while (m->done[i])
			i = i + 1 < n ? i + 1 : 0;
		s->rr = idx + 1;
		r = block_push(s, m, i, NULL, 0, NULL);
		if (s->failed)
			return r;
		if (r == -EAGAIN) {
			m->changing = true;
			return 0;
		}
		if (r == -ESRCH) {
			mm_gone(m);
			return 0;
		}
		if (r < 0)
			return r;
		m->cursor = i + 1 < n ? i + 1 : 0;
		return 0;
	}
	return 0;
}

/* Drop the mms gone or done: closing a done mm's uffd makes its missing
 * pages ordinary zero-fill ones, which is what the image had there. */
static void mms_sweep(struct lazy_srv *s)
{
	size_t k = 0;

	for (size_t i = 0; i < s->nr_mms; i++) {
		struct lazy_mm *m = s->mms[i];

		if (m->gone || (m->blocks_left == 0 && m->nr_faults == 0)) {
			s->pages_in += m->pages_left;	/* exited: not to come */
			mm_free(m);
			continue;
		}
		s->mms[k++] = m;
	}
	s->nr_mms = k;
}

/* --- hellos ----------------------------------------------------------------- */

static int task_index(const struct lazy_plan *p, pid_t pid)
{
	for (unsigned i = 0; i < p->nr_tasks; i++)
		if (p->tasks[i].pid == pid)
			return i;
	return -1;
}

static int hello_take(struct lazy_srv *s, const struct restore_lazy_hello *h, ssize_t n, int fd)
{
	int i = n == sizeof(*h) ? task_index(s->plan, h->pid) : -1;
	const char *why = NULL;

	if (n != sizeof(*h) || h->magic != RESTORE_LAZY_MAGIC)
		why = "not a lazy restore hello";
	else if (i < 0)
		why = "not a task of this restore";
	else if (s->hello[i])
		why = "a second hello";
	else if (fd < 0)
		why = "no userfaultfd attached";
	else if (h->nr_lazy != s->plan->tasks[i].nr_ranges)
		why = "registered another number of ranges than planned";
	if (why) {
		if (fd >= 0)
			close(fd);
		return lazy_fail(s, -EPROTO, "pid %d: bad hello from the restorer (%zd bytes): %s",
				 n >= (ssize_t)sizeof(*h) ? h->pid : 0, n, why);
	}
	s->hello[i] = true;
	return mm_new(s, &s->plan->tasks[i], fd);
}

/* Every hello waiting on the socket. */
static int hellos_read(struct lazy_srv *s)
{
	while (s->sock_open) {
		char cbuf[CMSG_SPACE(sizeof(int) * 4)];
		struct restore_lazy_hello h = { 0 };
		char data[sizeof(h) + 1];	/* one more: a longer message shows */
		struct iovec iov = { data, sizeof(data) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c;
		ssize_t n;
		int fd = -EBADF, r;

		n = recvmsg(s->plan->uffd_sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return lazy_fail(s, negerrno(), "receiving the restorers' userfaultfds: %s",
					 strerror(errno));
		if (n == 0) {
			s->sock_open = false;	/* every blob is done with it */
			return 0;
		}
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int fds[4];

			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			memcpy(fds, CMSG_DATA(c), MIN(nfd, ARRAY_SIZE(fds)) * sizeof(int));
			for (size_t j = 0; j < nfd && j < ARRAY_SIZE(fds); j++) {
				if (fd < 0)
					fd = fds[j];
				else
					close(fds[j]);
			}
		}
		memcpy(&h, data, MIN((size_t)n, sizeof(h)));
		if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
			n = sizeof(data);
		r = hello_take(s, &h, n, fd);
		if (r < 0)
			return r;
	}
	return 0;
}

/* --- the restore's control pipe ------------------------------------------- */

/* The restore committed: every blob has sent its hello by now; hold every
 * task with PTRACE_O_EXITKILL. */
static int commit(struct lazy_srv *s)
{
	int r;

	r = hellos_read(s);
	if (r < 0)
		return r;
	r = lazy_tracees_seize(s);
	if (r < 0)
		return r;
	s->committed = true;
	/* the intermediate process waits for this before it leaves: until
	 * then it kills the tree if this process dies */
	if (send(s->plan->ctl, &(char){ LAZY_CTL_SEIZED }, 1, MSG_NOSIGNAL) != 1)
		return lazy_fail(s, negerrno(), "cannot tell the restore that the tree is held: %s",
				 strerror(errno));
	return 0;
}

/* The byte on ctl: the commit, or EOF (the restore failed: -ECANCELED). */
static int ctl_read(struct lazy_srv *s)
{
	char c = 0;
	ssize_t k = read(s->plan->ctl, &c, 1);

	if (k < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;	/* polled again next turn */
	if (k != 1 || c != LAZY_CTL_COMMIT)
		return -ECANCELED;
	return commit(s);
}

/* --- the loop --------------------------------------------------------------- */

static bool work_now(struct lazy_srv *s)
{
	for (size_t i = 0; i < s->nr_mms; i++) {
		struct lazy_mm *m = s->mms[i];

		if (!m->changing && (m->nr_faults || m->blocks_left))
			return true;
	}
	return false;
}

static int poll_timeout(struct lazy_srv *s)
{
	uint64_t next = s->published + PUBLISH_MS * 1000ull, now = now_us();

	if (work_now(s))
		return 0;
	for (size_t i = 0; i < s->nr_mms; i++)
		if (s->mms[i]->changing)
			return CHANGING_MS;
	return next > now ? (int)((next - now + 999) / 1000) : 0;
}

/* Wait for the next thing to do: the control pipe (until the commit),
 * the hello socket (until every blob closed it), the tracees' stops and
 * every mm's uffd, in s->pfd in that order; *ret_nr_mms: how many mms
 * were polled. */
static int turn_poll(struct lazy_srv *s, size_t *ret_nr_mms)
{
	size_t n = 3 + s->nr_mms;

	if (n > s->cap_pfd) {
		struct pollfd *v = realloc(s->pfd, n * 2 * sizeof(*v));

		if (!v)
			return lazy_fail(s, -ENOMEM, "out of memory");
		s->pfd = v;
		s->cap_pfd = n * 2;
	}
	s->pfd[0] = (struct pollfd){ .fd = s->committed ? -1 : s->plan->ctl, .events = POLLIN };
	s->pfd[1] = (struct pollfd){ .fd = s->sock_open ? s->plan->uffd_sock : -1, .events = POLLIN };
	s->pfd[2] = (struct pollfd){ .fd = s->sfd, .events = POLLIN };
	for (size_t i = 0; i < s->nr_mms; i++)
		s->pfd[3 + i] = (struct pollfd){ .fd = s->mms[i]->uffd, .events = POLLIN };
	if (poll(s->pfd, n, poll_timeout(s)) < 0 && errno != EINTR)
		return lazy_fail(s, negerrno(), "poll: %s", strerror(errno));
	for (size_t i = 0; i < s->nr_mms; i++)
		s->mms[i]->changing = false;	/* worth another try now */
	*ret_nr_mms = s->nr_mms;
	return 0;
}

/* Faults first: every polled uffd read (not the mms forked meanwhile,
 * whose uffds were not polled), then every queued fault served; then one
 * block pushed, the mms gone or done dropped, the progress published. */
static int turn_serve(struct lazy_srv *s, size_t nr_polled)
{
	int r;

	for (size_t i = 0; i < nr_polled; i++) {
		if (s->pfd[3 + i].revents && !s->mms[i]->gone) {
			r = mm_read(s, s->mms[i]);
			if (r < 0)
				return r;
		}
	}
	for (size_t i = 0; i < s->nr_mms; i++) {
		r = mm_faults(s, s->mms[i]);
		if (r < 0)
			return r;
	}
	r = push_step(s);
	if (r < 0)
		return r;
	mms_sweep(s);
	if (now_us() >= s->published + PUBLISH_MS * 1000ull)
		publish(s, "serving");
	return 0;
}

static int turn(struct lazy_srv *s)
{
	size_t nr_polled = 0;
	int r;

	r = turn_poll(s, &nr_polled);
	if (r == 0 && s->pfd[0].revents)
		r = ctl_read(s);
	if (r == 0 && s->pfd[1].revents)
		r = hellos_read(s);
	if (r == 0 && s->pfd[2].revents)
		r = lazy_tracees_reap(s);
	if (r == 0)
		r = turn_serve(s, nr_polled);
	return r;
}

static void srv_free(struct lazy_srv *s)
{
	lazy_holder_stop(s);
	for (size_t i = 0; i < s->nr_mms; i++)
		mm_free(s->mms[i]);
	free(s->mms);
	free(s->hello);
	free(s->tracees);
	free(s->pfd);
	free(s->buf);
	if (s->sfd >= 0)
		close(s->sfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	sigprocmask(SIG_SETMASK, &s->oldmask, NULL);
}

static int srv_init(struct lazy_srv *s, struct lazy_plan *plan, struct ckpt_err *err)
{
	sigset_t chld;
	int r;

	*s = (struct lazy_srv){ .plan = plan, .err = err, .sock_open = true, .sfd = -EBADF,
				.dirfd = -EBADF };
	s->t0 = s->published = now_us();
	s->entry = (struct lazy_entry){ .root = plan->root, .server = getpid(), .uid = plan->uid };
	snprintf(s->entry.dir, sizeof(s->entry.dir), "%s", plan->dir ? plan->dir : "");
	for (unsigned i = 0; i < plan->nr_tasks; i++)
		for (size_t j = 0; j < plan->tasks[i].nr_blocks; j++)
			s->entry.pages += plan->tasks[i].blocks[j].nr_pages;
	sigprocmask(SIG_SETMASK, NULL, &s->oldmask);
	s->hello = calloc(plan->nr_tasks + 1, sizeof(*s->hello));
	s->buf = malloc(BLOCK_MAX);
	if (!s->hello || !s->buf)
		return lazy_fail(s, -ENOMEM, "out of memory");
	/* ptrace stops arrive as SIGCHLD: read from a signalfd, not handled */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0)
		return lazy_fail(s, negerrno(), "blocking SIGCHLD: %s", strerror(errno));
	s->sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->sfd < 0)
		return lazy_fail(s, negerrno(), "signalfd: %s", strerror(errno));
	r = rundir_open(LAZY_DIR, true, &s->dirfd);
	if (r < 0)
		return lazy_fail(s, r, "the registry %s: %s", LAZY_DIR, strerror(-r));
	r = lazy_holder_start(s);
	if (r < 0)
		return lazy_fail(s, r, "starting the uffd holder: %s", strerror(-r));
	prctl(PR_SET_NAME, LAZY_COMM, 0, 0, 0);
	publish(s, "serving");	/* replaces a failed entry of an earlier restore */
	return 0;
}

int lazy_serve(struct lazy_plan *plan, struct ckpt_err *err)
{
	struct lazy_srv s;
	int r;

	r = srv_init(&s, plan, err);
	while (r == 0 && !(s.committed && s.nr_mms == 0))
		r = turn(&s);
	if (r == 0) {
		lazy_detach_all(&s);
		lazy_registry_remove(s.dirfd, plan->root);
	} else if (r == -ECANCELED) {
		/* the restore failed and said so itself; nothing to keep */
		if (s.dirfd >= 0)
			lazy_registry_remove(s.dirfd, plan->root);
		ckpt_fail(err, r, "lazy restore of %s: the restore did not commit", plan->dir);
	}
	srv_free(&s);
	return r;
}
