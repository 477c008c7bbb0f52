/* Post-copy migration: which bytes of the final round are held back, how
 * the source sends them after the restore and how the destination takes
 * them in and feeds its lazy server (client/postcopy.h). */
#include "client/postcopy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/xport.h"
#include "common/lazy-feed.h"
#include "common/util.h"
#include "images/img.h"
#include "images/lazy-vma.h"
#include "images/pages.h"
#include "mm.pb-c.h"

void pc_free(struct pc_set *s)
{
	for (size_t i = 0; i < s->nr_files; i++) {
		free(s->files[i].pairs);
		if (s->got)
			free(s->got[i]);
	}
	free(s->files);
	free(s->got);
	*s = (struct pc_set){ 0 };
}

/* A new file entry of s, its ranges to come. */
static struct mig_held *add_held(struct pc_set *s, const char *name)
{
	struct mig_held *f;
	uint64_t **g;

	f = realloc(s->files, (s->nr_files + 1) * sizeof(*f));
	if (!f)
		return NULL;
	s->files = f;
	g = realloc(s->got, (s->nr_files + 1) * sizeof(*g));
	if (!g)
		return NULL;
	s->got = g;
	s->got[s->nr_files] = NULL;
	f = &s->files[s->nr_files++];
	*f = (struct mig_held){ 0 };
	snprintf(f->name, sizeof(f->name), "%s", name);
	return f;
}

static int add_pair(struct mig_held *f, uint64_t off, uint64_t len)
{
	uint64_t *p = realloc(f->pairs, (f->n + 1) * 2 * sizeof(*p));

	if (!p)
		return -ENOMEM;
	f->pairs = p;
	p[2 * f->n] = off;
	p[2 * f->n + 1] = len;
	f->n++;
	return 0;
}

static int finish_set(struct pc_set *s)
{
	for (size_t i = 0; i < s->nr_files; i++) {
		s->got[i] = calloc(s->files[i].n ? s->files[i].n : 1, sizeof(**s->got));
		if (!s->got[i])
			return -ENOMEM;
		s->ranges += s->files[i].n;
		for (size_t k = 0; k < s->files[i].n; k++)
			s->bytes += s->files[i].pairs[2 * k + 1];
	}
	return 0;
}

/* --- the source ------------------------------------------------------------- */

/* The lazy VMAs of pid in dirfd, as [start, end) pairs. */
static int lazy_vmas(int dirfd, unsigned pid, uint64_t **ret, size_t *nr, struct ckpt_err *err)
{
	struct img *img = NULL;
	ProtobufCMessage *m;
	uint64_t *v = NULL;
	size_t n = 0;
	bool head = true;
	int r;

	r = img_open(dirfd, IMG_MM, pid, &img);
	if (r < 0) {
		ckpt_fail(err, r, "%s", img_errmsg(img));
		img_abort(img);
		return r;
	}
	while ((r = img_read_next(img, &m)) == 0 && m) {
		if (!head && vma_lazy_kind((const VmaEntry *)m)) {
			uint64_t *nv = realloc(v, (n + 1) * 2 * sizeof(*nv));

			if (!nv) {
				protobuf_c_message_free_unpacked(m, NULL);
				r = -ENOMEM;
				break;
			}
			v = nv;
			v[2 * n] = ((const VmaEntry *)m)->start;
			v[2 * n + 1] = ((const VmaEntry *)m)->end;
			n++;
		}
		head = false;
		protobuf_c_message_free_unpacked(m, NULL);
	}
	if (r < 0) {
		ckpt_fail(err, r, "%s", r == -ENOMEM ? "out of memory" : img_errmsg(img));
		free(v);
		img_abort(img);
		return r;
	}
	img_close(img);
	*ret = v;
	*nr = n;
	return 0;
}

/* The held ranges of pid's pages file: its data blocks inside lazy VMAs. */
static int plan_task(int dirfd, unsigned pid, struct pc_set *s, struct ckpt_err *err)
{
	_cleanup_free_ uint64_t *vmas = NULL;
	struct page_reader *pr = NULL;
	struct mig_held *f = NULL;
	struct page_entry e;
	char name[64];
	size_t nv = 0, v = 0;
	uint64_t ps;
	int r;

	r = lazy_vmas(dirfd, pid, &vmas, &nv, err);
	if (r < 0)
		return r;
	r = pager_open(dirfd, pid, &pr);
	if (r < 0) {
		r = ckpt_fail(err, r, "pid %u: %s", pid, pr ? pager_errmsg(pr) : "no pagemap");
		goto out;
	}
	ps = pager_page_size(pr);
	snprintf(name, sizeof(name), "pages-%u.img", pager_pages_id(pr));
	while ((r = pager_next(pr, &e)) > 0) {
		uint64_t end = e.vaddr + (uint64_t)e.nr_pages * ps;

		if (e.flags != PE_PRESENT)
			continue;
		while (v < nv && vmas[2 * v + 1] <= e.vaddr)
			v++;
		if (v == nv || e.vaddr < vmas[2 * v] || end > vmas[2 * v + 1])
			continue;
		if (!f && !(f = add_held(s, name))) {
			r = -ENOMEM;
			break;
		}
		r = add_pair(f, e.data_off, (uint64_t)e.nr_pages * ps);
		if (r < 0)
			break;
	}
	if (r < 0)
		r = ckpt_fail(err, r, "pid %u: %s", pid, r == -ENOMEM ? "out of memory" :
			      pager_errmsg(pr));
out:
	if (pr)
		pager_close(pr);
	return r < 0 ? r : 0;
}

int pc_plan(int dirfd, struct pc_set *ret, struct ckpt_err *err)
{
	DIR *d = fd_opendir(dirfd);
	struct dirent *e;
	int r = 0;

	*ret = (struct pc_set){ 0 };
	if (!d)
		return ckpt_fail(err, -errno, "cannot list the final round's image set");
	while (r == 0 && (e = readdir(d))) {
		enum img_kind kind;
		unsigned id;

		if (img_parse_name(e->d_name, &kind, &id) == 0 && kind == IMG_PAGEMAP)
			r = plan_task(dirfd, id, ret, err);
	}
	closedir(d);
	if (r == 0 && finish_set(ret) < 0)
		r = ckpt_fail(err, -ENOMEM, "out of memory");
	if (r < 0)
		pc_free(ret);
	return r;
}

static int send_range(struct xport *x, int dirfd, struct pc_set *s, size_t i, size_t k,
		      uint8_t *buf, uint64_t *bytes, struct ckpt_err *err)
{
	const struct mig_held *f = &s->files[i];
	uint64_t off = f->pairs[2 * k], len = f->pairs[2 * k + 1];
	_cleanup_close_ int fd = openat(dirfd, f->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	MigPages p = MIG_PAGES__INIT;

	if (fd < 0)
		return ckpt_fail(err, negerrno(), "cannot open %s of the final round", f->name);
	p.name = (char *)f->name;
	for (uint64_t done = 0; done < len;) {
		size_t n = MIN(len - done, (uint64_t)MIG_PAGES_MAX);
		int r = pread_full(fd, buf, n, off + done);

		if (r < 0)
			return ckpt_fail(err, r, "cannot read %s of the final round at %llu",
					 f->name, (unsigned long long)(off + done));
		p.off = off + done;
		p.data.data = buf;
		p.data.len = n;
		r = mig_send_msg(x, MIG_PAGES, &p.base, err);
		if (r < 0)
			return r;
		done += n;
		*bytes += n;
	}
	s->got[i][k] = len;
	s->ranges_done++;
	s->bytes_done += len;
	return 0;
}

static int take_answer(struct xport *x, const uint8_t *in, size_t len, struct pc_runs *runs,
		       struct ckpt_err *err)
{
	MigAnswer *a = mig_answer__unpack(NULL, len, in);
	int r = 0;

	if (!a)
		return ckpt_fail(err, -EBADMSG, "a malformed answer from %s", xport_peer(x));
	if (!a->ok)
		r = ckpt_fail(err, -ECONNREFUSED, "the destination refused: %s",
			      a->error ? a->error : "(no reason given)");
	else if (!runs->got)
		*runs = (struct pc_runs){ .got = true, .t = now_us(), .pid = a->has_pid ? a->pid : 0,
					  .restore_ms = a->has_restore_ms ? a->restore_ms : 0 };
	mig_answer__free_unpacked(a, NULL);
	return r;
}

/* A frame from the destination while we stream: a want, its answer, or
 * its abort. */
static int take_want(struct xport *x, int dirfd, struct pc_set *s, uint8_t *buf,
		     uint64_t *bytes, struct pc_runs *runs, struct ckpt_err *err)
{
	_cleanup_free_ uint8_t *in = NULL;
	enum mig_frame t;
	MigWant *w;
	size_t len, i, k;
	int r;

	r = mig_recv(x, 10000, &t, &in, &len, err);
	if (r < 0)
		return r;
	if (t == MIG_ABORT)
		return mig_aborted(x, in, len, err);
	if (t == MIG_ANSWER)
		return take_answer(x, in, len, runs, err);
	if (t != MIG_WANT)
		return ckpt_fail(err, -EBADMSG, "a %s frame from %s while the held pages go",
				 mig_frame_name(t), xport_peer(x));
	w = mig_want__unpack(NULL, len, in);
	if (!w)
		return ckpt_fail(err, -EBADMSG, "a malformed want from %s", xport_peer(x));
	r = 0;
	if (pc_find(s, w->name, w->off, &i, &k) && s->got[i][k] == 0)
		r = send_range(x, dirfd, s, i, k, buf, bytes, err);
	mig_want__free_unpacked(w, NULL);
	return r;
}

static bool want_waits(struct xport *x)
{
	struct pollfd p = { .fd = xport_fd(x), .events = POLLIN };

	return xport_pending(x) || poll(&p, 1, 0) > 0;
}

int pc_stream(struct xport *x, int dirfd, struct pc_set *s, uint64_t *bytes,
	      struct pc_runs *runs, struct ckpt_err *err)
{
	_cleanup_free_ uint8_t *buf = malloc(MIG_PAGES_MAX);
	MigPagesEnd end = MIG_PAGES_END__INIT;
	size_t i = 0, k = 0;
	int r;

	if (!buf)
		return ckpt_fail(err, -ENOMEM, "out of memory");
	for (;;) {
		while (want_waits(x)) {
			r = take_want(x, dirfd, s, buf, bytes, runs, err);
			if (r < 0)
				return r;
		}
		while (i < s->nr_files && (k >= s->files[i].n || s->got[i][k])) {
			if (k >= s->files[i].n) {
				i++;
				k = 0;
			} else {
				k++;
			}
		}
		if (i == s->nr_files)
			break;
		r = send_range(x, dirfd, s, i, k, buf, bytes, err);
		if (r < 0)
			return r;
	}
	end.ranges = s->ranges;
	end.bytes = s->bytes;
	return mig_send_msg(x, MIG_PAGES_END, &end.base, err);
}

int pc_answer(struct xport *x, struct pc_runs *runs, struct ckpt_err *err)
{
	for (;;) {
		_cleanup_free_ uint8_t *in = NULL;
		enum mig_frame t;
		size_t len;
		int r;

		r = mig_recv(x, 120000, &t, &in, &len, err);
		if (r < 0)
			return r;
		if (t == MIG_ANSWER)
			return take_answer(x, in, len, runs, err);
		if (t == MIG_ABORT)
			return mig_aborted(x, in, len, err);
		if (t != MIG_WANT)
			return ckpt_fail(err, -EBADMSG, "a %s frame from %s where its answer was "
					 "due", mig_frame_name(t), xport_peer(x));
	}
}

/* --- the destination -------------------------------------------------------- */

int pc_add_file(struct pc_set *s, const char *name, uint64_t size, const uint64_t *pairs,
		size_t n, struct ckpt_err *err)
{
	struct mig_held *f;
	uint64_t prev = 0;

	for (size_t k = 0; k < n; k++) {
		uint64_t off = pairs[2 * k], len = pairs[2 * k + 1];

		if (off < prev || !len || len > MIG_FRAME_MAX * 4ull || off + len > size ||
		    off + len < off)
			return ckpt_fail(err, -EBADMSG, "%s: held range %zu (%llu, %llu) is not "
					 "inside the file, ascending", name, k,
					 (unsigned long long)off, (unsigned long long)len);
		prev = off + len;
	}
	if (strlen(name) >= sizeof(f->name))
		return ckpt_fail(err, -EBADMSG, "%s: a name too long for held ranges", name);
	f = add_held(s, name);
	if (!f || !(f->pairs = malloc(n * 2 * sizeof(*f->pairs))) ||
	    !(s->got[s->nr_files - 1] = calloc(n, sizeof(**s->got))))
		return ckpt_fail(err, -ENOMEM, "out of memory");
	memcpy(f->pairs, pairs, n * 2 * sizeof(*pairs));
	f->n = n;
	s->ranges += n;
	for (size_t k = 0; k < n; k++)
		s->bytes += pairs[2 * k + 1];
	return 0;
}

bool pc_find(const struct pc_set *s, const char *name, uint64_t pos, size_t *file,
	     size_t *range)
{
	for (size_t i = 0; i < s->nr_files; i++) {
		const struct mig_held *f = &s->files[i];
		size_t lo = 0, hi = f->n;

		if (strcmp(f->name, name))
			continue;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (pos < f->pairs[2 * mid])
				hi = mid;
			else if (pos >= f->pairs[2 * mid] + f->pairs[2 * mid + 1])
				lo = mid + 1;
			else {
				*file = i;
				*range = mid;
				return true;
			}
		}
		return false;
	}
	return false;
}

/* Whether [off, off + len) of name is all in; else the first range
 * missing in *file, *range. */
static bool all_in(const struct pc_set *s, const char *name, uint64_t off, uint64_t len,
		   size_t *file, size_t *range)
{
	for (uint64_t pos = off; pos < off + len;) {
		size_t i, k;

		if (!pc_find(s, name, pos, &i, &k)) {
			pos += 4096;	/* not held: sent before the restore */
			continue;
		}
		if (s->got[i][k] < s->files[i].pairs[2 * k + 1]) {
			*file = i;
			*range = k;
			return false;
		}
		pos = s->files[i].pairs[2 * k] + s->files[i].pairs[2 * k + 1];
	}
	return true;
}

static int take_pages(struct pc_set *s, int dirfd, const uint8_t *buf, size_t len,
		      struct ckpt_err *err)
{
	MigPages *p = mig_pages__unpack(NULL, len, buf);
	_cleanup_close_ int fd = -EBADF;
	size_t i, k;
	int r = 0;

	if (!p)
		return ckpt_fail(err, -EBADMSG, "a malformed pages frame");
	if (!pc_find(s, p->name, p->off, &i, &k) ||
	    p->off != s->files[i].pairs[2 * k] + s->got[i][k] ||
	    s->got[i][k] + p->data.len > s->files[i].pairs[2 * k + 1])
		r = ckpt_fail(err, -EBADMSG, "%s: %zu bytes at %llu that were not held back, or "
			      "out of order", p->name, p->data.len, (unsigned long long)p->off);
	if (r == 0) {
		fd = openat(dirfd, p->name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		r = fd < 0 ? negerrno() : pwrite_full(fd, p->data.data, p->data.len, p->off);
		if (r < 0)
			r = ckpt_fail(err, r, "cannot write %s of the final round", p->name);
	}
	if (r == 0) {
		s->got[i][k] += p->data.len;
		s->bytes_done += p->data.len;
		if (s->got[i][k] == s->files[i].pairs[2 * k + 1])
			s->ranges_done++;
	}
	mig_pages__free_unpacked(p, NULL);
	return r;
}

static int take_end(const struct pc_set *s, const uint8_t *buf, size_t len,
		    struct ckpt_err *err)
{
	MigPagesEnd *e = mig_pages_end__unpack(NULL, len, buf);
	bool whole = e && e->ranges == s->ranges && e->bytes == s->bytes &&
		     s->ranges_done == s->ranges && s->bytes_done == s->bytes;
	int r = 0;

	if (!whole)
		r = ckpt_fail(err, -EBADMSG, "the held pages arrived incomplete: %llu of %llu "
			      "bytes", (unsigned long long)s->bytes_done,
			      (unsigned long long)s->bytes);
	if (e)
		mig_pages_end__free_unpacked(e, NULL);
	return r;
}

static void feed_answer(int *feed, const struct lazy_feed_msg *q, int status)
{
	struct lazy_feed_msg a = *q;

	a.status = status;
	if (*feed >= 0 && send(*feed, &a, sizeof(a), MSG_NOSIGNAL) != sizeof(a)) {
		close(*feed);	/* the server is gone: nothing to feed */
		*feed = -1;
	}
}

/* A request of the lazy server: answered now, or it waits (*q kept). */
static int take_ask(struct xport *x, struct pc_set *s, int *feed, struct lazy_feed_msg *q,
		    bool *waiting, struct ckpt_err *err)
{
	MigWant w = MIG_WANT__INIT;
	size_t i, k;
	ssize_t n;

	n = recv(*feed, q, sizeof(*q), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n != sizeof(*q) || q->magic != LAZY_FEED_MAGIC) {
		close(*feed);	/* done (or gone): the tree needs nothing more */
		*feed = -1;
		return 0;
	}
	q->name[sizeof(q->name) - 1] = '\0';
	if (all_in(s, q->name, q->off, q->len, &i, &k)) {
		feed_answer(feed, q, 0);
		return 0;
	}
	*waiting = true;
	w.name = s->files[i].name;
	w.off = s->files[i].pairs[2 * k];
	return mig_send_msg(x, MIG_WANT, &w.base, err);
}

/* One frame of the source's while the held bytes come. */
static int take_frame(struct xport *x, int dirfd, struct pc_set *s, int timeout_ms, bool *ended,
		      struct ckpt_err *err)
{
	_cleanup_free_ uint8_t *buf = NULL;
	enum mig_frame t;
	size_t len;
	int r;

	r = mig_recv(x, timeout_ms, &t, &buf, &len, err);
	if (r < 0)
		return r;
	switch (t) {
	case MIG_PAGES:
		return take_pages(s, dirfd, buf, len, err);
	case MIG_PAGES_END:
		r = take_end(s, buf, len, err);
		*ended = r == 0;
		return r;
	case MIG_ABORT:
		return mig_aborted(x, buf, len, err);
	default:
		return ckpt_fail(err, -EBADMSG, "a %s frame from %s among the held pages",
				 mig_frame_name(t), xport_peer(x));
	}
}

/* Wait for p[] (the connection, the feed, done_fd); a record TLS holds
 * already counts as the connection being readable. */
static int serve_wait(struct xport *x, struct pollfd p[3], int timeout_ms, struct ckpt_err *err)
{
	int n;

	if (p[0].fd >= 0 && xport_pending(x)) {
		p[0].revents = POLLIN;
		p[1].revents = p[2].revents = 0;
		return 0;
	}
	n = poll(p, 3, timeout_ms);
	if (n == 0)
		return ckpt_fail(err, -ETIMEDOUT, "%s sent none of the held pages for %d s",
				 xport_peer(x), timeout_ms / 1000);
	if (n < 0 && errno == EINTR)
		return ckpt_fail(err, -EINTR, "interrupted by a signal while the held pages came");
	if (n < 0)
		return ckpt_fail(err, negerrno(), "poll");
	return 0;
}

int pc_serve(struct xport *x, int dirfd, struct pc_set *s, int feed, int done_fd,
	     int (*on_done)(void *opaque), void *opaque, int timeout_ms, bool *done,
	     struct ckpt_err *err)
{
	struct lazy_feed_msg q = { 0 }, all = { .magic = LAZY_FEED_MAGIC, .status = LAZY_FEED_ALL };
	bool waiting = false, ended = false;
	int r = 0;

	*done = false;
	while (r == 0 && (!ended || !*done)) {
		struct pollfd p[3] = { { .fd = ended ? -1 : xport_fd(x), .events = POLLIN },
				       { .fd = waiting ? -1 : feed, .events = POLLIN },
				       { .fd = *done ? -1 : done_fd, .events = POLLIN } };
		size_t i, k;

		if (waiting && all_in(s, q.name, q.off, q.len, &i, &k)) {
			feed_answer(&feed, &q, 0);
			waiting = false;
		}
		r = serve_wait(x, p, timeout_ms, err);
		if (r == 0 && p[2].revents) {
			*done = true;
			r = on_done(opaque);
		}
		if (r == 0 && p[0].revents)
			r = take_frame(x, dirfd, s, timeout_ms, &ended, err);
		if (r == 0 && feed >= 0 && !waiting && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
			r = take_ask(x, s, &feed, &q, &waiting, err);
	}
	if (feed >= 0 && r == 0) {
		if (waiting)
			feed_answer(&feed, &q, 0);
		/* requests sent meanwhile: answered, not left unread (closing
		 * over them would make the server's next read fail) */
		while (feed >= 0 && recv(feed, &q, sizeof(q), MSG_DONTWAIT) == sizeof(q))
			feed_answer(&feed, &q, 0);
		if (feed >= 0)	/* ask no more: every byte is in */
			send(feed, &all, sizeof(all), MSG_NOSIGNAL);
	} else if (feed >= 0 && waiting) {
		feed_answer(&feed, &q, r < 0 ? r : -ECANCELED);
	}
	if (feed >= 0)
		close(feed);
	return r;
}
