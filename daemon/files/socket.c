/* Sockets: family, type, protocol, state, local and peer addresses, and
 * for unix sockets the inodes, name, shutdown and pending connections.
 * TCP and UDP sockets get the rest of what a restore needs from
 * socket-inet.c, which brings back a listener and a UDP socket; unix
 * sockets from socket-unix.c (queues, options), which brings them back;
 * every other socket is refused at restore, by name.
 *
 * The kernel's sock_diag (NETLINK_SOCK_DIAG, through libnl-3) lists every
 * unix, TCP and UDP socket of a network namespace with its inode; we ask once
 * per namespace, on the first socket fd, and look each fd's inode up in that
 * table. The netlink socket must be made inside the target's namespace, so we
 * enter it for that one call and come back. A socket sock_diag does not list
 * (netlink, packet...) is described by getsockopt on a duplicate of the
 * target's fd (pidfd_getfd), which reads and changes nothing. */
#include "daemon/files/kinds.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "common/util.h"
#include "daemon/dump.h"
#include "daemon/files/socket-inet.h"
#include "daemon/files/socket-unix.h"
#include "daemon/files/socket-unix-ext.h"
#include "daemon/restore-int.h"
#include "files.pb-c.h"

#define SOCK_BUCKETS 256u

struct sock_rec {
	uint64_t ino;
	uint32_t family, type, protocol, state;
	char *local, *peer;
	uint64_t peer_ino;
	uint32_t rqueue, wqueue;	/* idiag_rqueue, idiag_wqueue; unix: UNIX_DIAG_RQLEN */
	/* unix */
	uint8_t *name;			/* sun_path as bound */
	unsigned name_len;
	uint32_t shutdown;
	bool has_diag_peer;		/* connected, its peer perhaps gone (inode 0) */
	uint64_t *icons;
	unsigned nr_icons;
	struct sock_rec *next;
};

struct sock_table {
	struct sock_rec *buckets[SOCK_BUCKETS];
	int err;		/* first failure while parsing answers */
};

void sock_table_free(struct sock_table *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < SOCK_BUCKETS; i++) {
		struct sock_rec *s = t->buckets[i], *n;

		for (; s; s = n) {
			n = s->next;
			free(s->local);
			free(s->peer);
			free(s->name);
			free(s->icons);
			free(s);
		}
	}
	free(t);
}

static struct sock_rec *sock_add(struct sock_table *t, uint64_t ino)
{
	struct sock_rec *s = calloc(1, sizeof(*s));

	if (!s) {
		t->err = -ENOMEM;
		return NULL;
	}
	s->ino = ino;
	s->next = t->buckets[ino % SOCK_BUCKETS];
	t->buckets[ino % SOCK_BUCKETS] = s;
	return s;
}

static const struct sock_rec *sock_find(const struct sock_table *t, uint64_t ino)
{
	const struct sock_rec *s;

	for (s = t->buckets[ino % SOCK_BUCKETS]; s; s = s->next)
		if (s->ino == ino)
			return s;
	return NULL;
}

/* --- answers ------------------------------------------------------------------ */

/* A unix address as users see it: a path, or "@name" for the abstract
 * namespace (the leading NUL shown as '@'). */
static char *unix_name(const struct nlattr *a)
{
	const char *p = nla_data(a);
	int len = nla_len(a);
	char *s;

	if (len <= 0)
		return strdup("");
	s = malloc(len + 1);
	if (!s)
		return NULL;
	memcpy(s, p, len);
	s[len] = '\0';
	if (s[0] == '\0')
		s[0] = '@';
	return s;
}

/* The bound name as bytes, and a listener's pending connections. */
static int on_unix_raw(struct sock_table *t, struct sock_rec *s, struct nlattr **tb)
{
	if (tb[UNIX_DIAG_NAME] && nla_len(tb[UNIX_DIAG_NAME]) > 0) {
		s->name_len = nla_len(tb[UNIX_DIAG_NAME]);
		s->name = malloc(s->name_len);
		if (!s->name)
			return -ENOMEM;
		memcpy(s->name, nla_data(tb[UNIX_DIAG_NAME]), s->name_len);
	}
	if (tb[UNIX_DIAG_ICONS] && nla_len(tb[UNIX_DIAG_ICONS]) >= 4) {
		const uint32_t *v = nla_data(tb[UNIX_DIAG_ICONS]);

		s->nr_icons = nla_len(tb[UNIX_DIAG_ICONS]) / 4;
		s->icons = calloc(s->nr_icons, sizeof(*s->icons));
		if (!s->icons)
			return -ENOMEM;
		for (unsigned i = 0; i < s->nr_icons; i++)
			s->icons[i] = v[i];
	}
	return 0;
}

static int on_unix(struct nl_msg *msg, void *arg)
{
	struct sock_table *t = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[UNIX_DIAG_MAX + 1];
	struct unix_diag_msg *m;
	struct sock_rec *s;

	if (nlmsg_parse(h, sizeof(*m), tb, UNIX_DIAG_MAX, NULL) < 0)
		return NL_SKIP;
	m = nlmsg_data(h);
	s = sock_add(t, m->udiag_ino);
	if (!s)
		return NL_STOP;
	s->family = AF_UNIX;
	s->type = m->udiag_type;
	s->state = m->udiag_state;
	if (tb[UNIX_DIAG_NAME] && !(s->local = unix_name(tb[UNIX_DIAG_NAME])))
		t->err = -ENOMEM;
	if (tb[UNIX_DIAG_PEER]) {
		s->has_diag_peer = true;
		s->peer_ino = nla_get_u32(tb[UNIX_DIAG_PEER]);
	}
	if (tb[UNIX_DIAG_SHUTDOWN])
		s->shutdown = nla_get_u8(tb[UNIX_DIAG_SHUTDOWN]);
	if (tb[UNIX_DIAG_RQLEN] &&
	    nla_len(tb[UNIX_DIAG_RQLEN]) >= (int)sizeof(struct unix_diag_rqlen)) {
		const struct unix_diag_rqlen *q = nla_data(tb[UNIX_DIAG_RQLEN]);

		s->rqueue = q->udiag_rqueue;
		s->wqueue = q->udiag_wqueue;
	}
	if (on_unix_raw(t, s, tb) < 0)
		t->err = -ENOMEM;
	return NL_OK;
}

static char *inet_addr_str(int family, const __be32 *addr, __be16 port)
{
	char ip[INET6_ADDRSTRLEN], *s;

	if (!inet_ntop(family, addr, ip, sizeof(ip)))
		return NULL;
	if (asprintf(&s, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, ntohs(port)) < 0)
		return NULL;
	return s;
}

static int on_inet(struct nl_msg *msg, void *arg)
{
	struct sock_table *t = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct inet_diag_msg *m;
	struct sock_rec *s;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return NL_SKIP;
	m = nlmsg_data(h);
	if (!m->idiag_inode)
		return NL_OK;	/* TIME_WAIT and such: no socket behind */
	s = sock_add(t, m->idiag_inode);
	if (!s)
		return NL_STOP;
	s->family = m->idiag_family;
	s->state = m->idiag_state;
	s->rqueue = m->idiag_rqueue;
	s->wqueue = m->idiag_wqueue;
	s->local = inet_addr_str(m->idiag_family, m->id.idiag_src, m->id.idiag_sport);
	s->peer = inet_addr_str(m->idiag_family, m->id.idiag_dst, m->id.idiag_dport);
	if (!s->local || !s->peer)
		t->err = -ENOMEM;
	return NL_OK;
}

/* --- asking ----------------------------------------------------------------- */

static int nl_to_errno(int nlerr)
{
	return nlerr == -NLE_NOMEM ? -ENOMEM : -EIO;
}

static int diag_dump(struct nl_sock *sk, struct sock_table *t, void *req, size_t len,
		     nl_recvmsg_msg_cb_t cb)
{
	int r;

	r = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, cb, t);
	if (r < 0)
		return nl_to_errno(r);
	r = nl_send_simple(sk, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, req, len);
	if (r < 0)
		return nl_to_errno(r);
	r = nl_recvmsgs_default(sk);
	if (r < 0)
		return nl_to_errno(r);
	return t->err;
}

/* TCP and UDP sockets of one family, their type set from the protocol. */
static int diag_inet(struct nl_sock *sk, struct sock_table *t, int family, int proto)
{
	struct inet_diag_req_v2 req = {
		.sdiag_family = family,
		.sdiag_protocol = proto,
		.idiag_states = ~0u,
	};
	int r;

	r = diag_dump(sk, t, &req, sizeof(req), on_inet);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < SOCK_BUCKETS; i++)
		for (struct sock_rec *s = t->buckets[i]; s; s = s->next)
			if (s->family == (uint32_t)family && !s->type) {
				s->protocol = proto;
				s->type = proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
			}
	return 0;
}

static int diag_all(struct nl_sock *sk, struct sock_table *t)
{
	struct unix_diag_req ureq = {
		.sdiag_family = AF_UNIX,
		.udiag_states = ~0u,
		.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS |
			      UDIAG_SHOW_RQLEN,
	};
	static const int inet[][2] = {
		{ AF_INET, IPPROTO_TCP }, { AF_INET, IPPROTO_UDP },
		{ AF_INET6, IPPROTO_TCP }, { AF_INET6, IPPROTO_UDP },
	};
	int r;

	/* A kind this kernel cannot list (no unix_diag, udp_diag...) is left
	 * to getsockopt; only running out of memory stops us. */
	r = diag_dump(sk, t, &ureq, sizeof(ureq), on_unix);
	for (unsigned i = 0; r != -ENOMEM && i < ARRAY_SIZE(inet); i++)
		r = diag_inet(sk, t, inet[i][0], inet[i][1]);
	return r == -ENOMEM ? r : 0;
}

/* A sock_diag netlink socket inside the network namespace of pid. */
static int diag_connect(struct dump_ctx *ctx, pid_t pid, bool other_ns, struct nl_sock **ret)
{
	_cleanup_close_ int self = -EBADF, target = -EBADF;
	struct nl_sock *sk;
	char path[64];
	int r;

	if (other_ns) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		target = open(path, O_RDONLY | O_CLOEXEC);
		self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (target < 0 || self < 0 || setns(target, CLONE_NEWNET) < 0)
			return ckpt_fail(ctx->err, negerrno(), "pid %d: cannot enter its network "
					 "namespace to list its sockets", pid);
	}
	sk = nl_socket_alloc();
	r = sk ? nl_connect(sk, NETLINK_SOCK_DIAG) : -NLE_NOMEM;
	if (other_ns && setns(self, CLONE_NEWNET) < 0)
		abort();	/* a thread left in a target's namespace must not go on */
	if (r < 0) {
		nl_socket_free(sk);
		return ckpt_fail(ctx->err, nl_to_errno(r), "pid %d: cannot open a sock_diag "
				 "netlink socket: %s", pid, nl_geterror(r));
	}
	nl_socket_enable_msg_peek(sk);
	*ret = sk;
	return 0;
}

static int netns_ino(pid_t pid, uint64_t *ret)
{
	char path[64];
	struct stat st;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	else
		snprintf(path, sizeof(path), "/proc/thread-self/ns/net");
	if (stat(path, &st) < 0)
		return negerrno();
	*ret = st.st_ino;
	return 0;
}

/* The sock_diag table of pid's network namespace, asked for once. */
static int sock_table_get(struct dump_ctx *ctx, const struct fd_parms *p,
			  struct sock_table **ret)
{
	pid_t pid = p->pid;
	struct files_ctx *f = ctx->files;
	uint64_t ns, self;
	struct nl_sock *sk = NULL;
	struct sock_table *t;
	int r;

	if (netns_ino(pid, &ns) < 0 || netns_ino(0, &self) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %d: cannot read the task's "
				 "network namespace", pid, p->fd);
	if (f->socks && f->socks_netns == ns) {
		*ret = f->socks;
		return 0;
	}
	r = diag_connect(ctx, pid, ns != self, &sk);
	if (r < 0)
		return r;
	t = calloc(1, sizeof(*t));
	r = t ? diag_all(sk, t) : -ENOMEM;
	nl_socket_free(sk);
	if (r < 0) {
		sock_table_free(t);
		return ckpt_fail(ctx->err, r, "pid %d fd %d: cannot list sockets with sock_diag",
				 pid, p->fd);
	}
	sock_table_free(f->socks);
	f->socks = t;
	f->socks_netns = ns;
	*ret = t;
	return 0;
}

/* family, type and protocol from the socket itself. */
static int socket_getsockopt(struct dump_ctx *ctx, const struct fd_parms *p, SocketInfo *si)
{
	_cleanup_close_ int fd = -EBADF;
	int v[3], opts[3] = { SO_DOMAIN, SO_TYPE, SO_PROTOCOL };

	fd = fd_take_shared(ctx, p->pid, p->fd);
	if (fd < 0)
		return ckpt_fail(ctx->err, fd, "pid %d fd %d: cannot take the socket "
				 "to describe it", p->pid, p->fd);
	for (int i = 0; i < 3; i++) {
		socklen_t len = sizeof(v[i]);

		if (getsockopt(fd, SOL_SOCKET, opts[i], &v[i], &len) < 0)
			return ckpt_fail(ctx->err, negerrno(), "pid %d fd %d: getsockopt",
					 p->pid, p->fd);
	}
	si->family = v[0];
	si->type = v[1];
	si->protocol = v[2];
	return 0;
}

/* Whether a listener has the connection of client ino waiting to be
 * accepted (its peer, not accepted yet, has no inode). O(sockets). */
static bool sock_pending(const struct sock_table *t, uint64_t ino)
{
	for (unsigned i = 0; i < SOCK_BUCKETS; i++)
		for (const struct sock_rec *s = t->buckets[i]; s; s = s->next)
			for (unsigned j = 0; j < s->nr_icons; j++)
				if (s->icons[j] == ino)
					return true;
	return false;
}

/* Whether a unix listener of this type is bound to name. O(sockets). */
static bool sock_listens_at(const struct sock_table *t, uint32_t type, const uint8_t *name,
			    unsigned len)
{
	for (unsigned i = 0; i < SOCK_BUCKETS; i++)
		for (const struct sock_rec *s = t->buckets[i]; s; s = s->next)
			if (s->family == AF_UNIX && s->type == type && s->state == TCP_LISTEN &&
			    s->name_len == len && !memcmp(s->name, name, len))
				return true;
	return false;
}

/* What sock_diag says of a unix socket beyond the common fields (the
 * peer's name, for messages; with --ext-unix-sk, whether a restore could
 * connect to it again: socket-unix-ext.c), then its queue and options
 * (socket-unix.c). */
static int socket_fill_unix(struct dump_ctx *ctx, const struct fd_parms *p,
			    const struct sock_table *t, const struct sock_rec *s, SocketInfo *si)
{
	const struct sock_rec *peer = s->peer_ino ? sock_find(t, s->peer_ino) : NULL;

	si->has_ino = true;
	si->ino = s->ino;
	si->has_shutdown = true;
	si->shutdown = s->shutdown;
	si->has_wqueue = true;
	si->wqueue = s->wqueue;
	si->has_rqueue = true;
	si->rqueue = s->rqueue;
	si->has_peer_gone = true;
	si->peer_gone = s->has_diag_peer && !s->peer_ino && !sock_pending(t, s->ino);
	if (s->name) {
		si->name.data = malloc(s->name_len);
		if (!si->name.data)
			return -ENOMEM;
		memcpy(si->name.data, s->name, s->name_len);
		si->name.len = s->name_len;
		si->has_name = true;
	}
	if (s->state == TCP_LISTEN) {
		si->has_backlog = true;
		si->backlog = s->wqueue;
		si->has_wqueue = false;
		if (s->nr_icons) {
			si->icons = calloc(s->nr_icons, sizeof(*si->icons));
			if (!si->icons)
				return -ENOMEM;
			memcpy(si->icons, s->icons, s->nr_icons * sizeof(*si->icons));
			si->n_icons = s->nr_icons;
		}
	}
	if (peer && peer->local && !si->peer && !(si->peer = strdup(peer->local)))
		return -ENOMEM;
	if (s->peer_ino && ctx->opts && ctx->opts->ext_unix_sk) {
		bool reachable = peer && peer->name && (s->type == SOCK_DGRAM ||
			sock_listens_at(t, s->type, peer->name, peer->name_len));
		int r = sock_unix_ext_describe(si, peer ? peer->name : NULL,
					       peer ? peer->name_len : 0, reachable);

		if (r < 0)
			return r;
	}
	return sock_unix_describe(ctx, p, si);
}

static int socket_fill(struct dump_ctx *ctx, const struct fd_parms *p, SocketInfo *si)
{
	const struct sock_rec *s;
	struct sock_table *t = NULL;
	int r;

	r = sock_table_get(ctx, p, &t);
	if (r < 0)
		return r;
	si->has_netns = true;
	si->netns = ctx->files->socks_netns;
	s = sock_find(t, p->st.st_ino);
	if (!s) {
		r = socket_getsockopt(ctx, p, si);
		if (r == 0 && sock_inet_is(si))
			r = sock_inet_describe(ctx, p, si);
		return r;
	}
	si->family = s->family;
	si->type = s->type;
	si->protocol = s->protocol;
	si->has_state = true;
	si->state = s->state;
	if (s->local && !(si->local = strdup(s->local)))
		return -ENOMEM;
	if (s->peer && !(si->peer = strdup(s->peer)))
		return -ENOMEM;
	if (s->peer_ino) {
		si->has_peer_ino = true;
		si->peer_ino = s->peer_ino;
	}
	if (si->family == AF_UNIX)
		return socket_fill_unix(ctx, p, t, s, si);
	if (!sock_inet_is(si))
		return 0;
	/* a listener's: connections not yet accepted, and the backlog;
	 * others': bytes queued to receive */
	si->has_rqueue = true;
	si->rqueue = s->rqueue;
	if (s->protocol == IPPROTO_TCP && s->state == TCP_LISTEN) {
		si->has_backlog = true;
		si->backlog = s->wqueue;
	}
	return sock_inet_describe(ctx, p, si);
}

static bool socket_match(const struct fd_parms *p)
{
	return S_ISSOCK(p->st.st_mode);
}

static int socket_describe(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e)
{
	e->socket = malloc(sizeof(*e->socket));
	if (!e->socket)
		return -ENOMEM;
	socket_info__init(e->socket);
	return socket_fill(ctx, p, e->socket);
}

/* --- restore ------------------------------------------------------------------ */

static bool socket_restorable(const FileDescEntry *fe)
{
	return fe->socket;
}

static const char *family_name(uint32_t family)
{
	switch (family) {
	case AF_UNIX:
		return "unix";
	case AF_INET:
		return "IPv4";
	case AF_INET6:
		return "IPv6";
	case AF_NETLINK:
		return "netlink";
	case AF_PACKET:
		return "packet";
	default:
		return NULL;
	}
}

/* TCP and UDP as socket-inet.c says, unix as socket-unix.c says; every
 * other socket is refused here. */
static int socket_check_task(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
			     const FileDescEntry *fe)
{
	const SocketInfo *si = fe->socket;
	const char *fam = family_name(si->family);

	if (sock_inet_is(si))
		return sock_inet_check_task(ctx, t, f, fe);
	if (si->family == AF_UNIX)
		return sock_unix_check_task(ctx, t, f, fe);
	if (fam)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: %s sockets of type %u, "
				 "protocol %u can't be restored yet (only TCP listeners, UDP "
				 "sockets and unix sockets come back)", t->pe->pid, f->fd, fam,
				 si->type, si->protocol);
	return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: sockets of family %u can't be "
			 "restored yet", t->pe->pid, f->fd, si->family);
}

static int socket_open(struct rst_ctx *ctx, FileDescEntry *fe, struct fd_open_state *st)
{
	if (fe->socket->family == AF_UNIX)
		return sock_unix_open(ctx, fe, st);
	if (!sock_inet_is(fe->socket))	/* refused by check_task, if any fd holds it */
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "file description %u: sockets of "
				 "family %u can't be restored yet", fe->id, fe->socket->family);
	return sock_inet_open(ctx, fe);
}

const struct fd_kind_ops fd_kind_socket = {
	.type = FD_TYPE__FD_SOCKET,
	.name = "sockets",
	.match = socket_match,
	.describe = socket_describe,
	.restorable = socket_restorable,
	.check_task = socket_check_task,
	.open = socket_open,
};
