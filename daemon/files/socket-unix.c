/* Unix sockets of every type (stream, dgram, seqpacket): connected pairs
 * inside the tree with the data queued both ways, sockets bound to a path
 * or an abstract name, listeners with the connections not yet accepted,
 * a dgram socket connected to a bound one.
 *
 * Dump: socket.c gave what sock_diag knows (inode, peer's inode, name,
 * shutdown, a listener's pending clients). Here, on a duplicate of the
 * target's fd (pidfd_getfd; the tree is frozen), the options, and the
 * receive queue read without consuming it: SO_PEEK_OFF from 0, then
 * MSG_PEEK one message at a time (dgram, seqpacket: boundaries kept) or
 * chunk by chunk (stream). The peek offset is the socket's own, shared
 * with the target, so its old value is put back. A peek with a control
 * buffer receives the fds of an SCM_RIGHTS message (dup'd into ckptd):
 * we close them and count them, and restore refuses the socket.
 * SCM_CREDENTIALS are dropped: written back, the messages carry the
 * restoring process's credentials. Cost: one copy of every queued byte.
 *
 * Restore, in the intermediate process: both ends of a connected pair
 * from one socketpair() (a bound dgram end bound again),
 * each end's queue written back from the other, then the shutdowns; the
 * end not asked for yet waits in fd_open_state. A listener is bound (a
 * stale socket file removed first), listens, and its pending clients are
 * connected to it at once, in their order. A socket whose peer is outside
 * the tree is connected again to the peer's name (--ext-unix-sk,
 * socket-unix-ext.c). Looking a peer up by inode is a walk over the
 * descriptions: O(n) per socket. */
#include "daemon/files/socket-unix.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/dump.h"
#include "daemon/files/socket-inet.h"
#include "daemon/files/socket-unix-ext.h"
#include "daemon/restore-creds.h"
#include "daemon/restore-int.h"

#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif

#define UNIX_RCV_SHUTDOWN	1u
#define UNIX_SEND_SHUTDOWN	2u
#define UNIX_PEEK_FIRST		65536u
#define UNIX_MAX_MSGS		(1u << 20)

/* --- dump -------------------------------------------------------------------- */

/* Close the fds a peek received; how many there were. *ret_creds: it
 * came with SCM_CREDENTIALS (a message, not the end of the queue). */
static unsigned drop_fds(struct msghdr *m, bool *ret_creds)
{
	unsigned n = 0;

	*ret_creds = false;

	if (m->msg_flags & MSG_CTRUNC)
		n++;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		int *fds = (int *)CMSG_DATA(c);
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
			*ret_creds = true;
		if (c->cmsg_level != SOL_SOCKET ||
		    (c->cmsg_type != SCM_RIGHTS && c->cmsg_type != SCM_PIDFD))
			continue;
		for (size_t i = 0; i < k; i++)
			close(fds[i]);
		if (c->cmsg_type == SCM_RIGHTS)
			n += k;
	}
	return n;
}

/* Peek len bytes at the socket's peek offset into buf: the length of the
 * message (dgram: maybe more than len), -EAGAIN when nothing is left. */
static ssize_t peek_one(int fd, int type, void *buf, size_t len, SocketInfo *si,
			bool *ret_creds)
{
	char cbuf[CMSG_SPACE(253 * sizeof(int)) + 512];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	int flags = MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC;
	ssize_t n;

	if (type != SOCK_STREAM)
		flags |= MSG_TRUNC;
	n = recvmsg(fd, &m, flags);
	if (n < 0)
		return negerrno();
	si->scm_rights += drop_fds(&m, ret_creds);
	if (si->scm_rights)
		si->has_scm_rights = true;
	return n;
}

static int queue_add(SocketInfo *si, const void *data, size_t len)
{
	ProtobufCBinaryData *nq = realloc(si->rcv_queue, (si->n_rcv_queue + 1) * sizeof(*nq));

	if (!nq)
		return -ENOMEM;
	si->rcv_queue = nq;
	nq[si->n_rcv_queue].len = len;
	nq[si->n_rcv_queue].data = malloc(len ? len : 1);
	if (!nq[si->n_rcv_queue].data)
		return -ENOMEM;
	memcpy(nq[si->n_rcv_queue].data, data, len);
	si->n_rcv_queue++;
	return 0;
}

/* A stream: every byte SIOCINQ counts, in chunks as peeks give them. */
static int peek_stream(int fd, SocketInfo *si)
{
	_cleanup_free_ uint8_t *buf = NULL;
	int total = 0;
	size_t got = 0;
	ssize_t n;
	bool creds;

	if (ioctl(fd, SIOCINQ, &total) < 0)
		return negerrno();
	if (total <= 0)
		return 0;
	buf = malloc(total);
	if (!buf)
		return -ENOMEM;
	while (got < (size_t)total) {
		n = peek_one(fd, SOCK_STREAM, buf + got, total - got, si, &creds);
		if (n == -EAGAIN || n == 0)
			break;
		if (n < 0)
			return n;
		got += n;
	}
	return got ? queue_add(si, buf, got) : 0;
}

/* Dgram, seqpacket: one message per peek, the offset moved past it. A
 * zero-length message is returned once (the kernel marks it peeked). On
 * a socket shut down for reading, 0 is also the end of the queue: there
 * SO_PASSCRED is on while we peek (peek_queue), and a message is what
 * comes with credentials. */
static int peek_msgs(int fd, int type, SocketInfo *si)
{
	size_t cap = UNIX_PEEK_FIRST, off = 0;
	_cleanup_free_ uint8_t *buf = malloc(cap);
	ssize_t n;
	bool creds;
	int r;

	if (!buf)
		return -ENOMEM;
	for (unsigned i = 0; i < UNIX_MAX_MSGS; i++) {
		n = peek_one(fd, type, buf, cap, si, &creds);
		if (n == -EAGAIN || (n == 0 && (si->shutdown & UNIX_RCV_SHUTDOWN) && !creds))
			return 0;
		if (n < 0)
			return n;
		if ((size_t)n > cap) {	/* too small: again, from its start */
			uint8_t *nb = realloc(buf, n);

			if (!nb)
				return -ENOMEM;
			buf = nb;
			cap = n;
			r = sock_set_int(fd, SOL_SOCKET, SO_PEEK_OFF, off);
			if (r < 0)
				return r;
			i--;
			continue;
		}
		r = queue_add(si, buf, n);
		if (r < 0)
			return r;
		off += n;
	}
	return -E2BIG;
}

/* The receive queue, the socket's peek offset (and SO_PASSCRED) put
 * back as they were. */
static int peek_queue(int fd, SocketInfo *si)
{
	bool creds = si->type != SOCK_STREAM && (si->shutdown & UNIX_RCV_SHUTDOWN) &&
		     !si->passcred;
	int old = -1, r, r2 = 0;

	r = sock_get_int(fd, SOL_SOCKET, SO_PEEK_OFF, &old);
	if (r < 0)
		return r;
	if (old >= 0) {
		si->has_peek_off = true;
		si->peek_off = old;
	}
	if (creds && (r = sock_set_int(fd, SOL_SOCKET, SO_PASSCRED, 1)) < 0)
		return r;
	r = sock_set_int(fd, SOL_SOCKET, SO_PEEK_OFF, 0);
	if (r == 0)
		r = si->type == SOCK_STREAM ? peek_stream(fd, si) : peek_msgs(fd, si->type, si);
	if (creds)
		r2 = sock_set_int(fd, SOL_SOCKET, SO_PASSCRED, 0);
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &old, sizeof(old)) < 0 && !r2)
		r2 = negerrno();
	return r < 0 ? r : r2;
}

static int read_opts(int fd, SocketInfo *si)
{
	int v[4], r;

	r = sock_get_int(fd, SOL_SOCKET, SO_PASSCRED, &v[0]);
	if (r == 0)
		r = sock_get_int(fd, SOL_SOCKET, SO_PASSSEC, &v[1]);
	if (r == 0)
		r = sock_get_int(fd, SOL_SOCKET, SO_RCVBUF, &v[2]);
	if (r == 0)
		r = sock_get_int(fd, SOL_SOCKET, SO_SNDBUF, &v[3]);
	if (r < 0)
		return r;
	si->has_passcred = si->has_passsec = si->has_rcvbuf = si->has_sndbuf = true;
	si->passcred = v[0];
	si->passsec = v[1];
	si->rcvbuf = v[2];
	si->sndbuf = v[3];
	return 0;
}

static const char *type_name(uint32_t type)
{
	return type == SOCK_STREAM ? "stream" : type == SOCK_DGRAM ? "datagram" :
	       type == SOCK_SEQPACKET ? "seqpacket" : "unknown";
}

int sock_unix_describe(struct dump_ctx *ctx, const struct fd_parms *p, SocketInfo *si)
{
	_cleanup_close_ int fd = -EBADF;
	int r;

	fd = fd_take_shared(ctx, p->pid, p->fd);
	if (fd < 0)
		return ckpt_fail(ctx->err, fd, "pid %d fd %d: cannot take its unix socket to "
				 "describe it", p->pid, p->fd);
	r = read_opts(fd, si);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %d: cannot read the options of its "
				 "unix %s socket", p->pid, p->fd, type_name(si->type));
	if (si->state == TCP_LISTEN)
		return 0;
	r = peek_queue(fd, si);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %d: cannot read the data queued to its "
				 "unix %s socket", p->pid, p->fd, type_name(si->type));
	return 0;
}

/* --- restore: checks ---------------------------------------------------------- */

static bool has_name(const SocketInfo *si)
{
	return si->has_name && si->name.len > 0;
}

static bool name_is_path(const SocketInfo *si)
{
	return has_name(si) && si->name.data[0] != '\0';
}

/* "/run/x.sock", "@name" (abstract), or "" (unbound): into buf. */
static const char *name_str(const SocketInfo *si, char *buf, size_t len)
{
	size_t n;

	if (!has_name(si))
		return "";
	n = MIN(si->name.len, len - 1);
	memcpy(buf, si->name.data, n);
	buf[n] = '\0';
	if (buf[0] == '\0') {
		buf[0] = '@';
		for (size_t i = 1; i < n; i++)	/* an abstract name may hold NULs */
			if (!buf[i])
				buf[i] = '@';
	}
	return buf;
}

/* "stream socket bound to /run/x.sock", "datagram socket (inode 1234)". */
static void sock_str(const SocketInfo *si, char *buf, size_t len)
{
	char name[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];

	if (has_name(si))
		snprintf(buf, len, "unix %s socket %s%s", type_name(si->type),
			 si->state == TCP_LISTEN ? "listening on " : "bound to ",
			 name_str(si, name, sizeof(name)));
	else
		snprintf(buf, len, "unix %s socket (inode %llu)", type_name(si->type),
			 (unsigned long long)si->ino);
}

/* The description of the socket of inode ino, or NULL. */
static FileDescEntry *desc_of_ino(struct rst_ctx *ctx, uint64_t ino)
{
	for (unsigned i = 0; i < ctx->nr_descs; i++) {
		FileDescEntry *fe = ctx->descs[i].fe;

		if (fe->type == FD_TYPE__FD_SOCKET && fe->socket && fe->socket->family == AF_UNIX &&
		    fe->socket->has_ino && fe->socket->ino == ino)
			return fe;
	}
	return NULL;
}

/* The listener of the tree whose pending connections include ino. */
static FileDescEntry *listener_of(struct rst_ctx *ctx, uint64_t ino)
{
	for (unsigned i = 0; i < ctx->nr_descs; i++) {
		FileDescEntry *fe = ctx->descs[i].fe;

		if (fe->type != FD_TYPE__FD_SOCKET || !fe->socket || fe->socket->family != AF_UNIX)
			continue;
		for (size_t j = 0; j < fe->socket->n_icons; j++)
			if (fe->socket->icons[j] == ino)
				return fe;
	}
	return NULL;
}

size_t sock_unix_queued_bytes(const SocketInfo *si)
{
	size_t n = 0;

	for (size_t i = 0; i < si->n_rcv_queue; i++)
		n += si->rcv_queue[i].len;
	return n;
}

/* A connected socket: its peer must be in the tree. */
static int check_peer(struct rst_ctx *ctx, pid_t pid, unsigned fd, const SocketInfo *si,
		      const char *what)
{
	FileDescEntry *peer = desc_of_ino(ctx, si->peer_ino);

	if (!peer)	/* --ext-unix-sk, or refused */
		return sock_unix_ext_check(ctx, pid, fd, si, what);
	if (peer->socket->type != si->type)
		return ckpt_fail(ctx->err, -EBADMSG, "files.img: pid %d fd %u: %s is connected "
				 "to a socket of another type (inode %llu)", pid, fd, what,
				 (unsigned long long)si->peer_ino);
	if (peer->socket->peer_ino == si->ino)
		return 0;
	/* connected one way: a dgram socket to a bound one, by its name */
	if (si->type != SOCK_DGRAM || !has_name(peer->socket))
		return ckpt_fail(ctx->err, -EBADMSG, "files.img: pid %d fd %u: %s is connected "
				 "to inode %llu, which is not connected back", pid, fd, what,
				 (unsigned long long)si->peer_ino);
	return 0;
}

/* A stream or seqpacket socket connected to a connection its listener has
 * not accepted yet: the listener must be in the tree, and nothing sent. */
static int check_pending(struct rst_ctx *ctx, pid_t pid, unsigned fd, const SocketInfo *si,
			 const char *what)
{
	if (!listener_of(ctx, si->ino))
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: %s is connected to a "
				 "listener outside the tree that has not accepted the connection "
				 "yet: a restore can't connect it again. Dump the listening "
				 "process with this one, or let it accept first", pid, fd, what);
	if (si->wqueue)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: %s sent %u bytes on a "
				 "connection its listener has not accepted yet: ckpt can't read "
				 "them back. Let the listener accept it, then dump again", pid, fd,
				 what, si->wqueue);
	return 0;
}

static int check_listener(struct rst_ctx *ctx, pid_t pid, unsigned fd, const SocketInfo *si,
			  const char *what)
{
	if (!has_name(si))
		return ckpt_fail(ctx->err, -EBADMSG, "files.img: pid %d fd %u: %s listens "
				 "without a name", pid, fd, what);
	if (!si->has_backlog)
		return ckpt_fail(ctx->err, -EBADMSG, "files.img: pid %d fd %u: %s has no "
				 "backlog", pid, fd, what);
	for (size_t i = 0; i < si->n_icons; i++)
		if (!desc_of_ino(ctx, si->icons[i]))
			return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: %s has a connection "
					 "not accepted yet from a client outside the tree (inode "
					 "%llu): a restore can't bring it back. Let the program "
					 "accept it, or dump the client with it", pid, fd, what,
					 (unsigned long long)si->icons[i]);
	return 0;
}

int sock_unix_check_task(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
			 const FileDescEntry *fe)
{
	const SocketInfo *si = fe->socket;
	pid_t pid = t->pe->pid;
	char what[200];

	sock_str(si, what, sizeof(what));
	if (!si->has_ino || !si->has_shutdown)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: %s can't be restored: it "
				 "was recorded without what sock_diag says of it (by an older "
				 "ckpt, or without the unix_diag module); load unix_diag and dump "
				 "it again", pid, f->fd, what);
	if (si->scm_rights)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: %s has %u file descriptors "
				 "in flight (SCM_RIGHTS messages queued to it, not received yet): "
				 "ckpt can't restore them. Let the program receive them, then dump "
				 "again", pid, f->fd, what, si->scm_rights);
	if (name_is_path(si) && si->name.data[0] != '/')
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: %s can't be restored: its "
				 "path is relative, and the directory it was bound in is unknown. "
				 "Bind it to an absolute path", pid, f->fd, what);
	if (has_name(si) && si->name.len > sizeof(((struct sockaddr_un *)0)->sun_path))
		return ckpt_fail(ctx->err, -EBADMSG, "files.img: pid %d fd %u: socket.name is "
				 "%zu bytes long", pid, f->fd, si->name.len);
	if (si->state == TCP_LISTEN)
		return check_listener(ctx, pid, f->fd, si, what);
	if (si->peer_ino)
		return check_peer(ctx, pid, f->fd, si, what);
	if (si->type != SOCK_DGRAM && si->state == TCP_ESTABLISHED && !si->peer_gone)
		return check_pending(ctx, pid, f->fd, si, what);
	if (si->type == SOCK_DGRAM && sock_unix_queued_bytes(si) + si->n_rcv_queue && !has_name(si) &&
	    !si->peer_gone)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: %s has datagrams queued "
				 "but no name and no peer: a restore can't send them to it again",
				 pid, f->fd, what);
	return 0;
}

/* --- restore: making them ----------------------------------------------------- */

struct unix_slot {
	uint64_t ino;
	int fd;
};

#define UNIX_MAX_DEPTH 16	/* dgram sockets connected one way, in a chain */

static int unix_make(struct rst_ctx *ctx, const FileDescEntry *fe, struct fd_open_state *st,
		     unsigned depth, int *ret);

/* "pid P fd N: unix stream socket ...: <what went wrong>", reported. */
static int unix_fail(struct rst_ctx *ctx, const FileDescEntry *fe, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int unix_fail(struct rst_ctx *ctx, const FileDescEntry *fe, int r, const char *fmt, ...)
{
	char msg[512], what[200];
	unsigned nr;
	pid_t pid;
	va_list ap;

	sock_holder_of(ctx, fe->id, &pid, &nr);
	sock_str(fe->socket, what, sizeof(what));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ckpt_fail(ctx->err, r, "pid %d fd %u: %s: %s", pid, nr, what, msg);
}

/* Keep fd (taken) for the description of socket ino. */
static int stash(struct fd_open_state *st, uint64_t ino, int fd)
{
	struct unix_slot *ns = realloc(st->unix_socks, (st->nr_unix_socks + 1) * sizeof(*ns));

	if (!ns) {
		close(fd);
		return -ENOMEM;
	}
	st->unix_socks = ns;
	ns[st->nr_unix_socks++] = (struct unix_slot){ .ino = ino, .fd = fd };
	return 0;
}

/* The socket kept for ino, taken out of st; -1: none. */
static int unstash(struct fd_open_state *st, uint64_t ino)
{
	for (unsigned i = 0; i < st->nr_unix_socks; i++) {
		int fd = st->unix_socks[i].fd;

		if (st->unix_socks[i].ino != ino)
			continue;
		st->unix_socks[i] = st->unix_socks[--st->nr_unix_socks];
		return fd;
	}
	return -1;
}

void sock_unix_release(struct fd_open_state *st)
{
	for (unsigned i = 0; i < st->nr_unix_socks; i++)
		close(st->unix_socks[i].fd);
	free(st->unix_socks);
	st->unix_socks = NULL;
	st->nr_unix_socks = 0;
}

/* The socket of fe made already (borrowed): opened, or kept in st; -1. */
static int made_fd(struct rst_ctx *ctx, struct fd_open_state *st, const FileDescEntry *fe)
{
	struct rst_desc *d = rst_desc_find(ctx, fe->id);

	if (d && d->fd >= 0)
		return d->fd;
	for (unsigned i = 0; i < st->nr_unix_socks; i++)
		if (st->unix_socks[i].ino == fe->socket->ino)
			return st->unix_socks[i].fd;
	return -1;
}

static socklen_t addr_of(const SocketInfo *si, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, si->name.data, si->name.len);	/* length checked */
	return offsetof(struct sockaddr_un, sun_path) + si->name.len;
}

/* The buffer sizes, before anything is written (SO_PASSCRED waits for
 * finish: a socket sending or connecting with it set gets a name). */
static int set_opts(int fd, const SocketInfo *si)
{
	int r;

	r = sock_set_buf(fd, SO_RCVBUF, si->has_rcvbuf, si->rcvbuf);
	if (r == 0)
		r = sock_set_buf(fd, SO_SNDBUF, si->has_sndbuf, si->sndbuf);
	return r;
}

static int new_socket(struct rst_ctx *ctx, const FileDescEntry *fe)
{
	int fd = socket(AF_UNIX, fe->socket->type | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return unix_fail(ctx, fe, negerrno(), "cannot create it");
	r = set_opts(fd, fe->socket);
	if (r < 0) {
		close(fd);
		return unix_fail(ctx, fe, r, "cannot set its options");
	}
	return fd;
}

/* What the file-system side of a path name does, as the requester (a
 * restore must not give them a socket file, or a connection to one, they
 * could not have made themselves: restore-creds.c). */
struct path_op {
	int fd;				/* our socket */
	struct sockaddr_un sa;
	socklen_t len;
	const char *path;
	const char *failed;		/* the step, for the message */
};

/* A socket file left at the path by the dumped (now gone) process is
 * removed; a live socket (one a process is bound to) or another file
 * stays, and the restore fails naming it. A dgram probe: connecting it to
 * a stream listener fails (EPROTOTYPE) without making a connection. */
static int bind_path(void *arg)
{
	struct path_op *o = arg;
	_cleanup_close_ int probe = -EBADF;
	struct stat st;

	if (lstat(o->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			o->failed = "not a socket";
			return -EEXIST;
		}
		probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (probe < 0 || connect(probe, (struct sockaddr *)&o->sa, o->len) == 0 ||
		    errno != ECONNREFUSED) {
			o->failed = probe < 0 ? "probe" : "live";
			return probe < 0 ? negerrno() : -EADDRINUSE;
		}
		if (unlink(o->path) < 0 && errno != ENOENT) {
			o->failed = "unlink";
			return negerrno();
		}
	} else if (errno != ENOENT) {
		o->failed = "lstat";
		return negerrno();
	}
	o->failed = "bind";
	return bind(o->fd, (struct sockaddr *)&o->sa, o->len) < 0 ? negerrno() : 0;
}

static int connect_path(void *arg)
{
	struct path_op *o = arg;

	return connect(o->fd, (struct sockaddr *)&o->sa, o->len) < 0 ? negerrno() : 0;
}

/* Its directory must be reachable without a /proc magic link (checked by
 * opening it as restore opens every path). */
static int check_dir(struct rst_ctx *ctx, const FileDescEntry *fe, const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	_cleanup_close_ int dfd = -EBADF;
	char *slash;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	slash[slash == dir] = '\0';
	dfd = rst_open_path(ctx, dir, O_PATH | O_DIRECTORY, 0);
	if (dfd < 0)
		return unix_fail(ctx, fe, dfd, "cannot open the directory %s", dir);
	return 0;
}

static int bind_name(struct rst_ctx *ctx, const FileDescEntry *fe, int fd)
{
	char name[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	struct path_op o = { .fd = fd, .path = name_str(fe->socket, name, sizeof(name)) };
	int r;

	if (!has_name(fe->socket))
		return 0;
	o.len = addr_of(fe->socket, &o.sa);
	if (!name_is_path(fe->socket))
		r = bind(fd, (struct sockaddr *)&o.sa, o.len) < 0 ? negerrno() : 0;
	else if ((r = check_dir(ctx, fe, name)) == 0)
		r = rst_as_requester(ctx, bind_path, &o);
	if (r == 0)
		return 0;
	if (o.failed && !strcmp(o.failed, "not a socket"))
		return unix_fail(ctx, fe, r, "%s is a file but no socket here: move it away, "
				 "then restore again", name);
	if (o.failed && !strcmp(o.failed, "live"))
		return unix_fail(ctx, fe, r, "%s is a live socket here (a process is bound to "
				 "it): stop it, then restore again", name);
	if (o.failed && !strcmp(o.failed, "unlink"))
		return unix_fail(ctx, fe, r, "cannot remove the stale socket file %s", name);
	if (r == -EADDRINUSE)
		return unix_fail(ctx, fe, r, "its name is in use here (stop what holds it, then "
				 "restore again)");
	if (o.failed && strcmp(o.failed, "bind"))
		return unix_fail(ctx, fe, r, "cannot bind it (%s of %s failed)", o.failed, name);
	return unix_fail(ctx, fe, r, "cannot bind it");
}

static int connect_to(struct rst_ctx *ctx, const FileDescEntry *fe, int fd,
		      const FileDescEntry *to)
{
	struct path_op o = { .fd = fd };
	int r;

	o.len = addr_of(to->socket, &o.sa);
	r = name_is_path(to->socket) ? rst_as_requester(ctx, connect_path, &o) : connect_path(&o);
	if (r < 0)
		return unix_fail(ctx, fe, r, "cannot connect it again to socket inode %llu",
				 (unsigned long long)to->socket->ino);
	return 0;
}

struct fill_args {
	struct rst_ctx *ctx;
	const FileDescEntry *fe;
	int sender;
	const FileDescEntry *to;
};

static int fill_send(void *arg)
{
	const struct fill_args *a = arg;
	const SocketInfo *si = a->fe->socket;
	struct sockaddr_un sa;
	socklen_t len = a->to ? addr_of(a->to->socket, &sa) : 0;

	for (size_t i = 0; i < si->n_rcv_queue; i++) {
		const uint8_t *p = si->rcv_queue[i].data;
		size_t left = si->rcv_queue[i].len;

		do {
			ssize_t n = sendto(a->sender, p, left, MSG_DONTWAIT | MSG_NOSIGNAL,
					   a->to ? (struct sockaddr *)&sa : NULL, len);

			if (n < 0 || (si->type != SOCK_STREAM && (size_t)n != left))
				return unix_fail(a->ctx, a->fe, n < 0 ? negerrno() : -EMSGSIZE,
						 "cannot put back message %zu of the %zu queued "
						 "to it (%zu bytes; net.unix.max_dgram_qlen or "
						 "the buffer sizes are smaller here?)", i + 1,
						 si->n_rcv_queue, si->rcv_queue[i].len);
			p += n;
			left -= n;
		} while (left);
	}
	return 0;
}

/* Write fe's queue back into it, sent from sender (to its name when to;
 * a path as the requester, as connect_to). */
static int fill_queue(struct rst_ctx *ctx, const FileDescEntry *fe, int sender,
		      const FileDescEntry *to)
{
	struct fill_args a = { .ctx = ctx, .fe = fe, .sender = sender, .to = to };
	int r;

	if (!fe->socket->n_rcv_queue)
		return 0;
	if (!to || !name_is_path(to->socket))
		return fill_send(&a);
	r = rst_as_requester(ctx, fill_send, &a);
	return r < 0 ? unix_fail(ctx, fe, r, "cannot put back what was queued to it") : 0;
}

/* Once the queues are in: the shutdowns, the peek offset, SO_PASSCRED
 * and SO_PASSSEC. */
static int finish(struct rst_ctx *ctx, const FileDescEntry *fe, int fd)
{
	const SocketInfo *si = fe->socket;
	unsigned how = si->shutdown & (UNIX_RCV_SHUTDOWN | UNIX_SEND_SHUTDOWN);

	if ((si->passcred && sock_set_int(fd, SOL_SOCKET, SO_PASSCRED, 1) < 0) ||
	    (si->passsec && sock_set_int(fd, SOL_SOCKET, SO_PASSSEC, 1) < 0))
		return unix_fail(ctx, fe, negerrno(), "cannot set its options");

	if (how && shutdown(fd, how - 1) < 0 && errno != ENOTCONN)
		return unix_fail(ctx, fe, negerrno(), "cannot shut it down again");
	if (si->has_peek_off &&
	    setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &si->peek_off, sizeof(si->peek_off)) < 0)
		return unix_fail(ctx, fe, negerrno(), "cannot set its peek offset");
	return 0;
}

/* Both ends of a connection inside the tree, from one socketpair(): a's
 * fd returned, b's kept. */
static int make_pair(struct rst_ctx *ctx, const FileDescEntry *a, const FileDescEntry *b,
		     struct fd_open_state *st, int *ret)
{
	_cleanup_close_ int fa = -EBADF, fb = -EBADF;
	int fds[2], r;

	if (socketpair(AF_UNIX, a->socket->type | SOCK_CLOEXEC, 0, fds) < 0)
		return unix_fail(ctx, a, negerrno(), "cannot create a socket pair");
	fa = fds[0];
	fb = fds[1];
	r = set_opts(fa, a->socket);
	if (r == 0)
		r = set_opts(fb, b->socket);
	if (r < 0)
		return unix_fail(ctx, a, r, "cannot set the options of its pair");
	/* a dgram end bound by name (or autobound): bound again */
	if (a->socket->type == SOCK_DGRAM) {
		r = bind_name(ctx, a, fa);
		if (r == 0)
			r = bind_name(ctx, b, fb);
		if (r < 0)
			return r;
	}
	r = fill_queue(ctx, a, fb, NULL);
	if (r == 0)
		r = fill_queue(ctx, b, fa, NULL);
	if (r == 0)
		r = finish(ctx, a, fa);
	if (r == 0)
		r = finish(ctx, b, fb);
	if (r == 0)
		r = stash(st, b->socket->ino, TAKE_FD(fb));
	if (r < 0)
		return r;
	*ret = TAKE_FD(fa);
	return 0;
}

/* Connected, its peer closed since: a pair whose other end is closed once
 * the queue is in (a stream reads the data, then end-of-file). */
static int make_orphan(struct rst_ctx *ctx, const FileDescEntry *fe, int *ret)
{
	_cleanup_close_ int fa = -EBADF;
	int fds[2], r;

	if (socketpair(AF_UNIX, fe->socket->type | SOCK_CLOEXEC, 0, fds) < 0)
		return unix_fail(ctx, fe, negerrno(), "cannot create a socket pair");
	fa = fds[0];
	r = set_opts(fa, fe->socket);
	if (r < 0)
		r = unix_fail(ctx, fe, r, "cannot set its options");
	if (r == 0)
		r = fill_queue(ctx, fe, fds[1], NULL);
	close(fds[1]);
	if (r == 0)
		r = finish(ctx, fe, fa);
	if (r < 0)
		return r;
	*ret = TAKE_FD(fa);
	return 0;
}

/* Not connected, bound or not; datagrams queued come from a socket of
 * ours, sent to its name (their senders' addresses are not kept). */
static int make_single(struct rst_ctx *ctx, const FileDescEntry *fe, int *ret)
{
	_cleanup_close_ int fd = -EBADF, tmp = -EBADF;
	int r;

	fd = new_socket(ctx, fe);
	if (fd < 0)
		return fd;
	r = bind_name(ctx, fe, fd);
	if (r == 0 && fe->socket->n_rcv_queue && fe->socket->type == SOCK_DGRAM) {
		tmp = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		r = tmp < 0 ? unix_fail(ctx, fe, negerrno(), "cannot create a socket") :
			      fill_queue(ctx, fe, tmp, fe);
	}
	if (r == 0)
		r = finish(ctx, fe, fd);
	if (r < 0)
		return r;
	*ret = TAKE_FD(fd);
	return 0;
}

/* A dgram socket connected to a bound one that is not connected back: the
 * peer made first (kept for its description), then ours connected to it;
 * what is queued to ours comes from the peer, sent to our name. */
static int make_one_way(struct rst_ctx *ctx, const FileDescEntry *fe, const FileDescEntry *peer,
			struct fd_open_state *st, unsigned depth, int *ret)
{
	_cleanup_close_ int fd = -EBADF;
	int pfd = made_fd(ctx, st, peer), r;

	if (pfd < 0) {
		r = unix_make(ctx, peer, st, depth + 1, &pfd);
		if (r == 0)
			r = stash(st, peer->socket->ino, pfd);
		if (r < 0)
			return r;
	}
	fd = new_socket(ctx, fe);
	if (fd < 0)
		return fd;
	r = bind_name(ctx, fe, fd);
	if (r == 0)
		r = connect_to(ctx, fe, fd, peer);
	if (r == 0 && fe->socket->n_rcv_queue)
		r = fill_queue(ctx, fe, pfd, fe);
	if (r == 0)
		r = finish(ctx, fe, fd);
	if (r < 0)
		return r;
	*ret = TAKE_FD(fd);
	return 0;
}

/* Its peer outside the tree (--ext-unix-sk): connected again to the
 * peer's name, a new connection for a stream or seqpacket socket. */
static int make_external(struct rst_ctx *ctx, const FileDescEntry *fe, int *ret)
{
	char peer[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	_cleanup_close_ int fd = -EBADF;
	int r;

	fd = new_socket(ctx, fe);
	if (fd < 0)
		return fd;
	r = bind_name(ctx, fe, fd);
	if (r < 0)
		return r;
	r = sock_unix_ext_connect(ctx, fd, fe->socket);
	sock_unix_ext_peer_str(fe->socket, peer, sizeof(peer));
	if (r == -ECONNREFUSED || r == -ENOENT)
		return unix_fail(ctx, fe, r, "cannot connect it again to %s, outside the tree: "
				 "%s. Start the program that serves %s, then restore again", peer,
				 r == -ENOENT ? "there is no socket there" :
				 "nobody listens there", peer);
	if (r < 0)
		return unix_fail(ctx, fe, r, "cannot connect it again to %s, outside the tree",
				 peer);
	r = finish(ctx, fe, fd);
	if (r < 0)
		return r;
	*ret = TAKE_FD(fd);
	return 0;
}

/* A listener, then its clients not accepted yet connected to it in their
 * order (each kept for its description). */
static int make_listener(struct rst_ctx *ctx, const FileDescEntry *fe, struct fd_open_state *st,
			 int *ret)
{
	_cleanup_close_ int fd = -EBADF;
	int r;

	fd = new_socket(ctx, fe);
	if (fd < 0)
		return fd;
	r = bind_name(ctx, fe, fd);
	if (r < 0)
		return r;
	if (listen(fd, fe->socket->backlog) < 0)
		return unix_fail(ctx, fe, negerrno(), "cannot listen again");
	for (size_t i = 0; i < fe->socket->n_icons; i++) {
		const FileDescEntry *c = desc_of_ino(ctx, fe->socket->icons[i]);
		_cleanup_close_ int cfd = -EBADF;

		if (!c)		/* refused by the checks */
			return unix_fail(ctx, fe, -EINVAL, "a pending client is gone");
		cfd = new_socket(ctx, c);
		if (cfd < 0)
			return cfd;
		if (fcntl(cfd, F_SETFL, O_NONBLOCK) < 0)
			return unix_fail(ctx, c, negerrno(), "cannot set its flags");
		r = bind_name(ctx, c, cfd);
		if (r == 0)
			r = connect_to(ctx, c, cfd, fe);
		if (r == 0)
			r = finish(ctx, c, cfd);
		if (r == 0)
			r = stash(st, c->socket->ino, TAKE_FD(cfd));
		if (r < 0)
			return r;
	}
	*ret = TAKE_FD(fd);
	return 0;
}

/* A client its listener has not accepted yet: made with the listener. */
static int make_pending(struct rst_ctx *ctx, const FileDescEntry *fe, const FileDescEntry *l,
			struct fd_open_state *st, int *ret)
{
	int lfd, r;

	r = make_listener(ctx, l, st, &lfd);
	if (r == 0)
		r = stash(st, l->socket->ino, lfd);
	if (r < 0)
		return r;
	*ret = unstash(st, fe->socket->ino);
	return *ret < 0 ? unix_fail(ctx, fe, -EINVAL, "its listener did not list it") : 0;
}

static int unix_make(struct rst_ctx *ctx, const FileDescEntry *fe, struct fd_open_state *st,
		     unsigned depth, int *ret)
{
	const SocketInfo *si = fe->socket;
	const FileDescEntry *peer = si->peer_ino ? desc_of_ino(ctx, si->peer_ino) : NULL, *l;

	if (depth > UNIX_MAX_DEPTH)
		return unix_fail(ctx, fe, -ELOOP, "it is connected through a chain of more than "
				 "%u datagram sockets (or a cycle)", UNIX_MAX_DEPTH);
	if (si->state == TCP_LISTEN)
		return make_listener(ctx, fe, st, ret);
	if (peer && peer->socket->peer_ino == si->ino)
		return make_pair(ctx, fe, peer, st, ret);
	if (peer)
		return make_one_way(ctx, fe, peer, st, depth, ret);
	if (si->peer_ino)
		return make_external(ctx, fe, ret);
	if (si->peer_gone)
		return make_orphan(ctx, fe, ret);
	if (si->type != SOCK_DGRAM && si->state == TCP_ESTABLISHED &&
	    (l = listener_of(ctx, si->ino)))
		return make_pending(ctx, fe, l, st, ret);
	return make_single(ctx, fe, ret);
}

int sock_unix_open(struct rst_ctx *ctx, FileDescEntry *fe, struct fd_open_state *st)
{
	int fd = unstash(st, fe->socket->ino), r;

	if (fd < 0) {
		r = unix_make(ctx, fe, st, 0, &fd);
		if (r < 0)
			return r;
	}
	r = fd_restore_fl(fd, fe->flags);
	if (r < 0) {
		close(fd);
		return unix_fail(ctx, fe, r, "cannot set its flags");
	}
	return fd;
}
