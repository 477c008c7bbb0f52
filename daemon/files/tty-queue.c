/* Bytes queued in a pty pair: the master's unread output (what the slave
 * side wrote) and the slave's unread input (what was written on the
 * master), kept by a dump and written back, byte for byte, by a restore.
 *
 * A tty can't be peeked: the dump reads the bytes out, through the target's
 * own master description (pidfd_getfd: a master can't be opened again) and
 * a non-blocking slave of ours (TIOCGPTPEER), and so must put them back
 * whenever the tree runs on (ptyq_dump_end, on each path of dump.c that
 * lets the tree go on). A poll() or a non-blocking read() that finds
 * nothing waits for the kernel worker that moves written bytes into the
 * line discipline, and the frozen tree writes nothing meanwhile.
 *
 * The slave's input went through its line discipline already (echoed, \r
 * mapped, erased, cut into lines). In canonical mode each read() returns
 * one complete line; the unfinished line, which read() won't return,
 * comes out with ICANON cleared for a moment. Written back on the master
 * as they are, the bytes would be processed again; so they go through a
 * termios of ours that maps nothing, sends no signal and edits nothing,
 * each byte it would take as special quoted with VLNEXT, each line ended
 * by what ended it (its '\n', VEOL or VEOL2 byte, or VEOF). The line
 * discipline takes what is written on the master later, in that worker,
 * so the saved termios may be set again only once it took every byte: in
 * canonical mode the write-back echoes (one byte a byte, ECHOCTL off) and
 * ends with VREPRINT, whose echo repeats the unfinished line; when that
 * much echo was read back from the master, every byte was taken. In
 * non-canonical mode FIONREAD counts them. A line discipline holds 4095
 * bytes at most: more input is refused by the dump (and put back as it is).
 *
 * The master's queue went through the slave's output processing already:
 * it is written back on the slave with OPOST cleared for the while. It may
 * hold more than 4 KiB (the flip buffers behind the master's line
 * discipline hold 8 KiB more).
 *
 * Refused by the dump before anything is read: a control status pending on
 * a master in packet mode (reading consumes it), bytes queued under a line
 * discipline other than N_TTY, and bytes whose write-back a master in
 * packet mode would see as a termios change (EXTPROC set; or IXON, in
 * non-canonical mode). */
#include "daemon/files/tty-queue.h"

#include <asm/termbits.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/dump-incr.h"
#include "daemon/dump.h"
#include "daemon/files.h"
#include "daemon/restore-int.h"

#define N_TTY_LDISC	0
#define LDISC_MAX	4095u	/* bytes an N_TTY line discipline holds */
#define WRITEBACK_MS	2000u
#define MAX_LINES	70000u	/* reads of one slave's lines, a bound */

/* One pair a dump read out. */
struct ptyq {
	int master;		/* the target's master description */
	int slave;		/* a slave of ours, non-blocking */
	bool packet;		/* the master's reads begin with a status byte */
	pid_t pid;		/* the master's first holder, for messages */
	int fd;
	uint32_t index;
	struct termios2 tio;	/* the pair's termios */
	ProtobufCBinaryData out;	/* the master's queue */
	ProtobufCBinaryData *in;	/* the slave's, as queued_in */
	size_t n_in;
};

struct pty_queues {
	struct ptyq *q;
	unsigned nr;
};

/* The bytes of one write-back. */
struct ptyq_bytes {
	const ProtobufCBinaryData *out;
	const ProtobufCBinaryData *in;
	size_t n_in;
};

static bool canonical(const struct termios2 *t)
{
	return (t->c_lflag & ICANON) && !(t->c_lflag & EXTPROC);
}

static int set_tio(int m, const struct termios2 *t)
{
	return ioctl(m, TCSETS2, t) < 0 ? negerrno() : 0;
}

static int ms_left(uint64_t deadline)
{
	uint64_t now = now_us();

	return now >= deadline ? 0 : (int)((deadline - now + 999) / 1000);
}

static int append(ProtobufCBinaryData *b, const uint8_t *p, size_t n)
{
	uint8_t *nb;

	if (!n)
		return 0;
	nb = realloc(b->data, b->len + n);
	if (!nb)
		return -ENOMEM;
	memcpy(nb + b->len, p, n);
	b->data = nb;
	b->len += n;
	return 0;
}

/* A slave of ours on master m, non-blocking; a locked pty is unlocked for
 * the open. */
static int open_slave(int m)
{
	int fl = O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, locked = 0, zero = 0, fd, r;

	fd = ioctl(m, TIOCGPTPEER, fl);
	if (fd >= 0)
		return fd;
	r = negerrno();
	if (r != -EIO || ioctl(m, TIOCGPTLCK, &locked) < 0 || !locked)
		return r;
	if (ioctl(m, TIOCSPTLCK, &zero) < 0)
		return negerrno();
	fd = ioctl(m, TIOCGPTPEER, fl);
	r = fd < 0 ? negerrno() : fd;
	(void)ioctl(m, TIOCSPTLCK, &locked);
	return r;
}

/* --- reading out ---------------------------------------------------------- */

/* Everything the master fd can read now (it may block: poll first). */
static int read_master(int fd, bool packet, ProtobufCBinaryData *ret)
{
	uint8_t chunk[4096];

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		size_t skip = packet ? 1 : 0;
		ssize_t n;
		int r;

		if (poll(&pfd, 1, 0) < 0)
			return negerrno();
		if (!(pfd.revents & POLLIN))
			return 0;
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && (errno == EAGAIN || errno == EIO))
			return 0;	/* EIO: no slave open, nothing left */
		if (n < 0)
			return negerrno();
		if (n == 0)
			return 0;
		if (packet && chunk[0] != TIOCPKT_DATA)
			return -EPROTO;	/* a status came: not ours to take */
		r = append(ret, chunk + MIN(skip, (size_t)n), n - MIN(skip, (size_t)n));
		if (r < 0)
			return r;
	}
}

/* Everything the non-blocking slave s reads now, in one piece. */
static int read_slave_raw(int s, ProtobufCBinaryData *ret)
{
	uint8_t chunk[4096];

	for (;;) {
		ssize_t n = read(s, chunk, sizeof(chunk));
		int r;

		if (n < 0 && (errno == EAGAIN || errno == EIO))
			return 0;
		if (n < 0)
			return negerrno();
		if (n == 0)
			return 0;
		r = append(ret, chunk, n);
		if (r < 0)
			return r;
	}
}

static int add_line(struct ptyq *q, const uint8_t *p, size_t n)
{
	ProtobufCBinaryData *ni = realloc(q->in, (q->n_in + 1) * sizeof(*ni));

	if (!ni)
		return -ENOMEM;
	q->in = ni;
	ni[q->n_in] = (ProtobufCBinaryData){ 0 };
	q->n_in++;
	return append(&ni[q->n_in - 1], p, n);
}

/* The slave's input: its complete lines, one a read(), then what is left
 * (the unfinished line, or all of it in non-canonical mode) as one more. */
static int read_slave(struct ptyq *q)
{
	struct termios2 t = q->tio;
	ProtobufCBinaryData rest = { 0 };
	uint8_t line[4096];
	int r = 0, r2;

	for (unsigned i = 0; canonical(&q->tio) && i < MAX_LINES; i++) {
		ssize_t n = read(q->slave, line, sizeof(line));

		if (n < 0 && (errno == EAGAIN || errno == EIO))
			break;
		if (n < 0)
			return negerrno();
		r = add_line(q, line, n);	/* 0 bytes: a line VEOF ended, empty */
		if (r < 0)
			return r;
	}
	if (canonical(&q->tio)) {
		t.c_lflag &= ~ICANON;
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		r = set_tio(q->master, &t);
		if (r < 0)
			return r;
	}
	r = read_slave_raw(q->slave, &rest);
	r2 = canonical(&q->tio) ? set_tio(q->master, &q->tio) : 0;
	if (r == 0)
		r = r2;
	if (r == 0 && (rest.len || q->n_in))
		r = add_line(q, rest.data, rest.len);
	free(rest.data);
	return r;
}

static bool line_end(const struct termios2 *s, uint8_t c);

/* What the line discipline holds of lines in (termios s): their bytes
 * and one for each VEOF. */
static size_t ldisc_bytes(const struct termios2 *s, const ProtobufCBinaryData *in, size_t n)
{
	size_t total = 0;

	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = in[i].data;
		bool eof = canonical(s) && i + 1 < n && (!in[i].len || !line_end(s, p[in[i].len - 1]));

		total += in[i].len + eof;
	}
	return total;
}

/* Refuse, reading nothing, what can't be written back as it was: < 0.
 * 1: nothing to read, and reading would change the pair's state. */
static int check_pair(struct dump_ctx *ctx, const struct ptyq *q)
{
	struct pollfd pfd = { .fd = q->master, .events = POLLPRI };
	int inq_m = 0, inq_s = 0;
	const char *why = NULL;

	(void)poll(&pfd, 1, 0);
	if (q->packet && (pfd.revents & POLLPRI))
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %d: pty %u: its master is in "
				 "packet mode with a control status not read yet, which can't be "
				 "kept; dump again once the program read it", q->pid, q->fd,
				 q->index);
	pfd = (struct pollfd){ .fd = q->slave, .events = POLLIN };
	(void)poll(&pfd, 1, 0);
	(void)ioctl(q->master, FIONREAD, &inq_m);
	(void)ioctl(q->slave, FIONREAD, &inq_s);	/* all but a canonical unfinished line */
	if (q->tio.c_line != N_TTY_LDISC)
		why = "its line discipline is not N_TTY";
	else if (q->packet && (q->tio.c_lflag & EXTPROC))
		why = "its master is in packet mode and EXTPROC is set: writing them back "
		      "would show the master a termios change";
	else if (q->packet && !canonical(&q->tio) && (q->tio.c_iflag & IXON) && inq_s > 0)
		why = "its master is in packet mode and IXON is set in non-canonical mode: "
		      "writing them back would show the master a flow control change";
	if (why && inq_m <= 0 && inq_s <= 0)
		return 1;
	if (!why)
		return 0;
	return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %d: pty %u holds bytes not read "
			 "yet (%d to read on the master, %d on the slave) that can't be kept: %s. "
			 "Dump again once the program read them", q->pid, q->fd, q->index,
			 inq_m, inq_s, why);
}

static void ptyq_free(struct ptyq *q)
{
	if (q->master >= 0)
		close(q->master);
	if (q->slave >= 0)
		close(q->slave);
	free(q->out.data);
	for (size_t i = 0; i < q->n_in; i++)
		free(q->in[i].data);
	free(q->in);
}

/* The image's copy of the bytes. */
static int copy_to_info(const struct ptyq *q, TtyInfo *ti)
{
	if (q->out.len) {
		ti->queued_out.data = malloc(q->out.len);
		if (!ti->queued_out.data)
			return -ENOMEM;
		memcpy(ti->queued_out.data, q->out.data, q->out.len);
		ti->queued_out.len = q->out.len;
		ti->has_queued_out = true;
	}
	if (!q->n_in)
		return 0;
	ti->queued_in = calloc(q->n_in, sizeof(*ti->queued_in));
	if (!ti->queued_in)
		return -ENOMEM;
	ti->n_queued_in = q->n_in;
	for (size_t i = 0; i < q->n_in; i++)
		if (append(&ti->queued_in[i], q->in[i].data, q->in[i].len) < 0)
			return -ENOMEM;
	return 0;
}

/* A new entry for q in ctx's list, before anything is read, so that
 * whatever is read goes back. */
static struct ptyq *ptyq_add(struct dump_ctx *ctx, const struct ptyq *q)
{
	struct pty_queues *pq = ctx->ptyq;
	struct ptyq *nq;

	if (!pq) {
		pq = calloc(1, sizeof(*pq));
		if (!pq)
			return NULL;
		ctx->ptyq = pq;
	}
	nq = realloc(pq->q, (pq->nr + 1) * sizeof(*nq));
	if (!nq)
		return NULL;
	pq->q = nq;
	nq[pq->nr] = *q;
	return &nq[pq->nr++];
}

int ptyq_dump(struct dump_ctx *ctx, const struct fd_parms *p, TtyInfo *ti)
{
	struct ptyq q = { .master = -1, .slave = -1, .pid = p->pid, .fd = p->fd,
			  .index = ti->index }, *qp;
	int v = 0, r;

	q.master = fd_take_shared(ctx, p->pid, p->fd);
	if (q.master < 0)
		return ckpt_fail(ctx->err, q.master, "pid %d fd %d: cannot take the pty master "
				 "to read what is queued in it", p->pid, p->fd);
	if (ioctl(q.master, TCGETS2, &q.tio) < 0) {
		r = negerrno();
		close(q.master);
		return ckpt_fail(ctx->err, r, "pid %d fd %d: pty %u: TCGETS2", p->pid, p->fd,
				 q.index);
	}
	q.packet = ioctl(q.master, TIOCGPKT, &v) == 0 && v;
	q.slave = open_slave(q.master);
	if (q.slave < 0) {
		r = q.slave;
		close(q.master);
		return ckpt_fail(ctx->err, r, "pid %d fd %d: pty %u: cannot open its slave to "
				 "read the input queued in it", p->pid, p->fd, q.index);
	}
	r = check_pair(ctx, &q);
	if (r != 0) {
		ptyq_free(&q);
		return MIN(r, 0);
	}
	qp = ptyq_add(ctx, &q);
	if (!qp) {
		ptyq_free(&q);
		return ckpt_fail(ctx->err, -ENOMEM, "pid %d fd %d: out of memory", p->pid, p->fd);
	}
	r = read_master(qp->master, qp->packet, &qp->out);
	if (r == 0)
		r = read_slave(qp);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %d: pty %u: cannot read the bytes "
				 "queued in it", p->pid, p->fd, q.index);
	if (ldisc_bytes(&qp->tio, qp->in, qp->n_in) > LDISC_MAX)
		return ckpt_fail(ctx->err, -EOVERFLOW, "pid %d fd %d: pty %u holds %zu bytes of "
				 "input not read yet, more than a pty's line discipline takes back "
				 "(%u); it can't be kept. Dump again once the program read it",
				 p->pid, p->fd, q.index, ldisc_bytes(&qp->tio, qp->in, qp->n_in),
				 LDISC_MAX);
	r = copy_to_info(qp, ti);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %d: out of memory", p->pid, p->fd);
	return 0;
}

/* --- writing back --------------------------------------------------------- */

static int write_all(int fd, const uint8_t *p, size_t n, uint64_t deadline)
{
	while (n) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		ssize_t w = write(fd, p, n);

		if (w > 0) {
			p += w;
			n -= w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return negerrno();
		if (!ms_left(deadline))
			return -ETIMEDOUT;	/* output stopped (^S), or no room */
		if (poll(&pfd, 1, ms_left(deadline)) < 0 && errno != EINTR)
			return negerrno();
	}
	return 0;
}

/* Read n bytes of echo from master m into buf, in time. */
static int read_echo(int m, bool packet, uint8_t *buf, size_t n, uint64_t deadline)
{
	uint8_t chunk[4096];
	size_t got = 0;

	while (got < n) {
		struct pollfd pfd = { .fd = m, .events = POLLIN };
		size_t skip = packet ? 1 : 0;
		ssize_t r;

		if (poll(&pfd, 1, ms_left(deadline)) < 0 && errno != EINTR)
			return negerrno();
		if (!(pfd.revents & POLLIN)) {
			if (!ms_left(deadline))
				return -ETIMEDOUT;
			continue;
		}
		r = read(m, chunk, sizeof(chunk));
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0)
			return r < 0 ? negerrno() : -EPIPE;
		if ((size_t)r < skip || got + (r - skip) > n)
			return -EPROTO;	/* more than our echo */
		memcpy(buf + got, chunk + skip, r - skip);
		got += r - skip;
	}
	return 0;
}

/* A byte for a special character of our termios w, none of the pair's. */
static uint8_t pick_char(const struct termios2 *w, bool ixon, int avoid1, int avoid2)
{
	static const uint8_t cand[] = { 0x16, 0x12, 0x15, 0x01, 0x02, 0x05, 0x06, 0x07, 0x0e,
					0x0f, 0x10, 0x14, 0x18, 0x19, 0x1a, 0x1c, 0x1d };

	for (size_t i = 0; i < ARRAY_SIZE(cand); i++) {
		uint8_t c = cand[i];

		if (c == avoid1 || c == avoid2 || c == w->c_cc[VEOF] || c == w->c_cc[VEOL] ||
		    c == w->c_cc[VEOL2] || (ixon && (c == w->c_cc[VSTART] || c == w->c_cc[VSTOP])))
			continue;
		return c;
	}
	return 0x1f;
}

static bool special(const struct termios2 *w, bool ixon, uint8_t c)
{
	return c == '\n' || c == w->c_cc[VEOF] || c == w->c_cc[VEOL] || c == w->c_cc[VEOL2] ||
	       c == w->c_cc[VLNEXT] || c == w->c_cc[VREPRINT] || c == w->c_cc[VERASE] ||
	       (ixon && (c == w->c_cc[VSTART] || c == w->c_cc[VSTOP]));
}

/* Whether a canonical line ended with its last byte c (not with VEOF). */
static bool line_end(const struct termios2 *s, uint8_t c)
{
	bool eol2 = s->c_lflag & IEXTEN;

	return c == '\n' || (c == s->c_cc[VEOL] && c != s->c_cc[VEOF]) ||
	       (eol2 && c == s->c_cc[VEOL2] && c != s->c_cc[VEOF]);
}

/* Our termios for a canonical write-back, from the pair's s. */
static void canon_tio(const struct termios2 *s, struct termios2 *w)
{
	bool ixon = s->c_iflag & IXON;
	uint8_t lnext, reprint;

	*w = *s;
	w->c_iflag = s->c_iflag & (IXON | IXANY | IXOFF);
	w->c_oflag = 0;
	w->c_lflag = ICANON | IEXTEN | ECHO;
	if (!(s->c_lflag & IEXTEN))
		w->c_cc[VEOL2] = w->c_cc[VEOL];
	lnext = pick_char(w, ixon, -1, -1);
	reprint = pick_char(w, ixon, lnext, -1);
	w->c_cc[VLNEXT] = lnext;
	w->c_cc[VREPRINT] = reprint;
	w->c_cc[VERASE] = w->c_cc[VKILL] = w->c_cc[VWERASE] = pick_char(w, ixon, lnext, reprint);
}

/* The canonical input lines in[0..n) as written on the master: quoted,
 * each ended as it was, then VREPRINT. *ret_echo: the echo it makes. */
static int canon_stream(const struct termios2 *s, const struct termios2 *w,
			const ProtobufCBinaryData *in, size_t n, ProtobufCBinaryData *ret,
			size_t *ret_echo)
{
	bool ixon = w->c_iflag & IXON;
	size_t echo = 0;
	uint8_t *o;

	o = malloc(ldisc_bytes(s, in, n) * 2 + n + 1);
	if (!o)
		return -ENOMEM;
	ret->data = o;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = in[i].data;
		size_t len = in[i].len;
		bool last = i + 1 == n, term = !last && len && line_end(s, p[len - 1]);

		echo += len;
		for (size_t j = 0; j < len - term; j++) {
			if (special(w, ixon, p[j]))
				*o++ = w->c_cc[VLNEXT];
			*o++ = p[j];
		}
		if (term)
			*o++ = p[len - 1];
		else if (!last)
			*o++ = w->c_cc[VEOF];
	}
	*o++ = w->c_cc[VREPRINT];
	ret->len = o - ret->data;
	*ret_echo = echo + 2 + (n ? in[n - 1].len : 0);
	return 0;
}

/* Canonical mode: write, then read the echo back to its VREPRINT. */
static int put_canon(int m, bool packet, const struct termios2 *s,
		     const ProtobufCBinaryData *in, size_t n, uint64_t deadline)
{
	ProtobufCBinaryData st = { 0 };
	_cleanup_free_ uint8_t *echo = NULL;
	const ProtobufCBinaryData *part = &in[n - 1];
	struct termios2 w;
	size_t ne, tail;
	int r;

	canon_tio(s, &w);
	r = canon_stream(s, &w, in, n, &st, &ne);
	if (r < 0)
		return r;
	echo = malloc(ne);
	r = echo ? set_tio(m, &w) : -ENOMEM;
	if (r == 0)
		r = write_all(m, st.data, st.len, deadline);
	free(st.data);
	if (r == 0)
		r = read_echo(m, packet, echo, ne, deadline);
	tail = ne - 2 - part->len;
	if (r == 0 && (echo[tail] != w.c_cc[VREPRINT] || echo[tail + 1] != '\n' ||
		       memcmp(echo + tail + 2, part->data, part->len) != 0))
		r = -EPROTO;	/* the line discipline holds other bytes */
	return r;
}

/* Non-canonical mode: write raw, until FIONREAD counts every byte. */
static int put_raw(int m, int slave, const struct termios2 *s, const ProtobufCBinaryData *in,
		   size_t n, uint64_t deadline)
{
	struct termios2 w = *s;
	size_t total = 0;
	int r, inq = -1;

	w.c_iflag = 0;
	w.c_oflag = 0;
	w.c_lflag = s->c_lflag & (ICANON | EXTPROC);
	r = set_tio(m, &w);
	for (size_t i = 0; i < n && r == 0; i++) {
		r = write_all(m, in[i].data, in[i].len, deadline);
		total += in[i].len;
	}
	while (r == 0) {
		if (ioctl(slave, FIONREAD, &inq) < 0)
			return negerrno();
		if ((size_t)inq >= total)
			return (size_t)inq == total ? 0 : -EPROTO;
		if (!ms_left(deadline))
			return -ETIMEDOUT;
		usleep(1000);
	}
	return r;
}

/* On the slave, OPOST cleared: the master reads them as they are. */
static int put_output(int m, int slave, const struct termios2 *s,
		      const ProtobufCBinaryData *out, uint64_t deadline)
{
	struct termios2 w = *s;
	int r;

	w.c_oflag &= ~OPOST;
	r = set_tio(m, &w);
	if (r == 0)
		r = write_all(slave, out->data, out->len, deadline);
	return r;
}

/* Both queues back into the pair of master m (our slave on it: slave),
 * whose termios s is set again at the end, whatever happened. The input
 * first: its echo is read back from the master, which must hold nothing else. */
static int ptyq_write(int m, int slave, bool packet, const struct termios2 *s,
		      const struct ptyq_bytes *b)
{
	uint64_t deadline = now_us() + WRITEBACK_MS * 1000ull;
	bool any_in = b->n_in && (b->n_in > 1 || b->in[0].len);
	int r = 0, r2;

	if (any_in && canonical(s))
		r = put_canon(m, packet, s, b->in, b->n_in, deadline);
	else if (any_in)
		r = put_raw(m, slave, s, b->in, b->n_in, deadline);
	if (r == 0 && b->out && b->out->len)
		r = put_output(m, slave, s, b->out, deadline);
	r2 = set_tio(m, s);
	return r < 0 ? r : r2;
}

void ptyq_dump_end(struct dump_ctx *ctx, bool killed)
{
	struct pty_queues *pq = ctx->ptyq;

	if (!pq)
		return;
	for (unsigned i = 0; i < pq->nr; i++) {
		struct ptyq *q = &pq->q[i];
		struct ptyq_bytes b = { .out = &q->out, .in = q->in, .n_in = q->n_in };
		int r;

		if (!killed && (q->out.len || q->n_in)) {
			r = ptyq_write(q->master, q->slave, q->packet, &q->tio, &b);
			if (r < 0)
				incr_warn(ctx->incr, "pid %d fd %d: pty %u: the bytes queued in it "
					  "(%zu to read on the master, %zu on the slave) could not "
					  "all be put back: %s", q->pid, q->fd, q->index, q->out.len,
					  ldisc_bytes(&q->tio, q->in, q->n_in), strerror(-r));
		}
		ptyq_free(q);
	}
	free(pq->q);
	free(pq);
	ctx->ptyq = NULL;
}

/* --- restore -------------------------------------------------------------- */

int ptyq_restore(struct rst_ctx *ctx, int m, const TtyInfo *ti)
{
	struct ptyq_bytes b = { .out = ti->has_queued_out ? &ti->queued_out : NULL,
				.in = ti->queued_in, .n_in = ti->n_queued_in };
	_cleanup_close_ int slave = -EBADF;
	struct termios2 s;
	int r;

	if (!(b.out && b.out->len) && !b.n_in)
		return 0;
	if (ioctl(m, TCGETS2, &s) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pty %u: TCGETS2", ti->index);
	if (ldisc_bytes(&s, b.in, b.n_in) > LDISC_MAX)
		return ckpt_fail(ctx->err, -EBADMSG, "pty %u: its image holds %zu bytes of input "
				 "queued, more than a line discipline takes (%u): a damaged image",
				 ti->index, ldisc_bytes(&s, b.in, b.n_in), LDISC_MAX);
	slave = open_slave(m);
	if (slave < 0)
		return ckpt_fail(ctx->err, slave, "pty %u: cannot open its slave to write back "
				 "the bytes queued in it", ti->index);
	r = ptyq_write(m, slave, false, &s, &b);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pty %u: cannot write back the bytes queued in it "
				 "(%zu to read on the master, %zu on the slave)%s", ti->index,
				 b.out ? b.out->len : 0, ldisc_bytes(&s, b.in, b.n_in),
				 r == -ETIMEDOUT ? ": its line discipline did not take them in time" : "");
	return 0;
}
