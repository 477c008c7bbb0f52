/* TCP and UDP sockets over IPv4 and IPv6: a listening TCP socket and a
 * UDP socket (bound or not, connected or not) come back; a TCP connection,
 * a listener with connections not yet accepted and a UDP socket with
 * datagrams queued do not yet, and are refused by name.
 *
 * Dump: socket.c found the socket in sock_diag's table (state, and in
 * rqueue/backlog the queue a restore would lose); here a duplicate of the
 * target's fd (pidfd_getfd, which reads and changes nothing) gives its
 * addresses (getsockname, getpeername) and the options a program sets.
 * Restore: socket(), the options, bind(), then listen() or connect(). The
 * kernel doubles SO_RCVBUF and SO_SNDBUF, so they are set back halved, and
 * only when they differ from a new socket's: setting one turns the
 * kernel's autotuning off. */
#include "daemon/files/socket-inet.h"
#include "daemon/files/socket-tcp.h"
#include "daemon/files/socket-udpq.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/dump.h"
#include "daemon/restore-int.h"

bool sock_inet_is(const SocketInfo *si)
{
	return si && (si->family == AF_INET || si->family == AF_INET6) &&
	       ((si->protocol == IPPROTO_TCP && si->type == SOCK_STREAM) ||
		(si->protocol == IPPROTO_UDP && si->type == SOCK_DGRAM));
}

static const char *proto_name(const SocketInfo *si)
{
	return si->protocol == IPPROTO_TCP ? "TCP" : "UDP";
}

/* --- dump -------------------------------------------------------------------- */

int sock_get_int(int fd, int level, int opt, int *ret)
{
	socklen_t len = sizeof(*ret);

	return getsockopt(fd, level, opt, ret, &len) < 0 ? negerrno() : 0;
}

/* getsockname or getpeername into b; a socket not connected has no peer. */
static int get_name(int fd, bool peer, ProtobufCBinaryData *b, protobuf_c_boolean *has)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int r;

	r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) :
		   getsockname(fd, (struct sockaddr *)&ss, &len);
	if (r < 0)
		return peer && errno == ENOTCONN ? 0 : negerrno();
	b->data = malloc(len);
	if (!b->data)
		return -ENOMEM;
	memcpy(b->data, &ss, len);
	b->len = len;
	*has = true;
	return 0;
}

#define GET_OPT(fd, level, opt, si, field)				\
	({								\
		int v_, r_ = sock_get_int(fd, level, opt, &v_);		\
		if (r_ == 0) {						\
			(si)->has_##field = true;			\
			(si)->field = v_;				\
		}							\
		r_;							\
	})

static int read_opts(int fd, SocketInfo *si)
{
	int r;

	r = GET_OPT(fd, SOL_SOCKET, SO_REUSEADDR, si, reuseaddr);
	if (r == 0)
		r = GET_OPT(fd, SOL_SOCKET, SO_REUSEPORT, si, reuseport);
	if (r == 0)
		r = GET_OPT(fd, SOL_SOCKET, SO_KEEPALIVE, si, keepalive);
	if (r == 0)
		r = GET_OPT(fd, SOL_SOCKET, SO_RCVBUF, si, rcvbuf);
	if (r == 0)
		r = GET_OPT(fd, SOL_SOCKET, SO_SNDBUF, si, sndbuf);
	if (r == 0 && si->family == AF_INET6)
		r = GET_OPT(fd, IPPROTO_IPV6, IPV6_V6ONLY, si, v6only);
	if (r == 0 && si->protocol == IPPROTO_TCP)
		r = GET_OPT(fd, IPPROTO_TCP, TCP_NODELAY, si, nodelay);
	if (r == 0 && si->protocol == IPPROTO_UDP)
		r = GET_OPT(fd, SOL_SOCKET, SO_BROADCAST, si, broadcast);
	return r;
}

/* What sock_diag would have said, for a socket it did not list (its
 * module not loaded): TCP_INFO gives a listener's backlog and pending
 * connections, SIOCINQ whether a UDP socket has a datagram queued. */
static int read_queues(int fd, SocketInfo *si)
{
	if (si->protocol == IPPROTO_TCP && !si->has_state) {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);

		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
			return negerrno();
		si->has_state = true;
		si->state = ti.tcpi_state;
		if (ti.tcpi_state == TCP_LISTEN) {
			si->has_backlog = true;
			si->backlog = ti.tcpi_sacked;
			si->has_rqueue = true;
			si->rqueue = ti.tcpi_unacked;
		}
	} else if (si->protocol == IPPROTO_UDP && !si->has_rqueue) {
		int n = 0;

		if (ioctl(fd, SIOCINQ, &n) < 0)
			return negerrno();
		si->has_rqueue = true;
		si->rqueue = n;
	}
	return 0;
}

int sock_inet_describe(struct dump_ctx *ctx, const struct fd_parms *p, SocketInfo *si)
{
	_cleanup_close_ int fd = -EBADF;
	int r;

	fd = fd_take_shared(ctx, p->pid, p->fd);
	if (fd < 0)
		return ckpt_fail(ctx->err, fd, "pid %d fd %d: cannot take the %s socket to "
				 "describe it", p->pid, p->fd, proto_name(si));
	r = get_name(fd, false, &si->sockname, &si->has_sockname);
	if (r == 0)
		r = get_name(fd, true, &si->peername, &si->has_peername);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %d: cannot read the addresses of its "
				 "%s socket", p->pid, p->fd, proto_name(si));
	r = read_opts(fd, si);
	if (r == 0)
		r = read_queues(fd, si);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %d: cannot read the options of its "
				 "%s socket", p->pid, p->fd, proto_name(si));
	if (si->protocol == IPPROTO_TCP && si->state == TCP_ESTABLISHED && ctx->opts &&
	    ctx->opts->tcp_established)
		return sock_tcp_dump(ctx, p, fd, si);
	if (si->protocol != IPPROTO_UDP || !si->rqueue)
		return 0;
	r = sock_udpq_peek(fd, si);
	if (r == -E2BIG)
		return ckpt_fail(ctx->err, r, "pid %d fd %d: its UDP socket %s has more than "
				 "a million datagrams queued; let it read them, then dump "
				 "again", p->pid, p->fd, si->local ? si->local : "");
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %d: cannot read the datagrams queued "
				 "on its UDP socket %s", p->pid, p->fd, si->local ? si->local : "");
	if (!si->n_rcv_queue)	/* the memory sock_diag counted held no datagram */
		si->rqueue = 0;
	return 0;
}

/* --- restore ----------------------------------------------------------------- */

/* An address of files.img as a sockaddr of si's family, or false. */
static bool addr_of(const SocketInfo *si, const ProtobufCBinaryData *b,
		    struct sockaddr_storage *ss, socklen_t *len)
{
	socklen_t want = si->family == AF_INET ? sizeof(struct sockaddr_in) :
						 sizeof(struct sockaddr_in6);

	if (b->len != want || !b->data)
		return false;
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, b->data, want);
	*len = want;
	return ss->ss_family == si->family;
}

/* "127.0.0.1:8080", "[::1]:8080". */
static void addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const struct sockaddr_in *in = (const void *)ss;
	const struct sockaddr_in6 *in6 = (const void *)ss;
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(in->sin_port));
	} else {
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(in6->sin6_port));
	}
}

static unsigned port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port :
						((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* An address any bind would pick itself: the wildcard with port 0. */
static bool addr_unbound(const struct sockaddr_storage *ss)
{
	if (port_of(ss))
		return false;
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* The network namespace a restore makes its sockets in: ours. */
static uint64_t netns_here(void)
{
	struct stat st;

	return stat("/proc/thread-self/ns/net", &st) < 0 ? 0 : st.st_ino;
}

static int unprivileged_port_start(void)
{
	_cleanup_free_ char *text = NULL;

	if (read_file_at(AT_FDCWD, "/proc/sys/net/ipv4/ip_unprivileged_port_start", &text,
			 NULL) < 0)
		return 1024;
	return atoi(text);
}

static const char *tcp_state_name(uint32_t st)
{
	static const char *const names[] = {
		[TCP_ESTABLISHED] = "established", [TCP_SYN_SENT] = "syn-sent",
		[TCP_SYN_RECV] = "syn-recv", [TCP_FIN_WAIT1] = "fin-wait-1",
		[TCP_FIN_WAIT2] = "fin-wait-2", [TCP_TIME_WAIT] = "time-wait",
		[TCP_CLOSE] = "close", [TCP_CLOSE_WAIT] = "close-wait",
		[TCP_LAST_ACK] = "last-ack", [TCP_LISTEN] = "listen", [TCP_CLOSING] = "closing",
	};

	return st < ARRAY_SIZE(names) && names[st] ? names[st] : "unknown state";
}

/* A TCP socket: only a listener with nothing waiting to be accepted. */
static int check_tcp(struct rst_ctx *ctx, pid_t pid, unsigned fd, const SocketInfo *si,
		     const char *addr)
{
	if (!si->has_state || si->state == TCP_CLOSE)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: TCP socket %s can't be "
				 "restored yet: it neither listens nor is connected (only "
				 "listening TCP sockets come back)", pid, fd, addr);
	if (si->state == TCP_ESTABLISHED && si->tcp && ctx->opts && ctx->opts->tcp_established)
		return 0;
	if (si->state == TCP_ESTABLISHED)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: TCP connection %s -> %s "
				 "(established) can't be restored: %s it with --tcp-established",
				 pid, fd, addr, si->peer ? si->peer : "?",
				 si->tcp ? "restore" : "dump and restore");
	if (si->state != TCP_LISTEN)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: TCP connection %s -> %s "
				 "(%s) can't be restored: only established connections and "
				 "listeners come back", pid, fd, addr,
				 si->peer ? si->peer : "?", tcp_state_name(si->state));
	if (si->rqueue)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: TCP listener %s can't be "
				 "restored yet: %u connections wait to be accepted; restore them "
				 "with --tcp-established (not yet supported)", pid, fd, addr,
				 si->rqueue);
	if (!si->has_backlog)
		return ckpt_fail(ctx->err, -EBADMSG, "files.img: pid %d fd %u: TCP listener %s "
				 "has no backlog", pid, fd, addr);
	return 0;
}

int sock_inet_check_task(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
			 const FileDescEntry *fe)
{
	const SocketInfo *si = fe->socket;
	pid_t pid = t->pe->pid;
	struct sockaddr_storage ss, peer;
	socklen_t len;
	char addr[INET6_ADDRSTRLEN + 16];
	int r;

	if (!si->has_sockname)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: %s socket %s can't be "
				 "restored: it was recorded without its address and options (by "
				 "an older ckpt); dump it again", pid, f->fd, proto_name(si),
				 si->local ? si->local : "");
	if (!addr_of(si, &si->sockname, &ss, &len) ||
	    (si->has_peername && !addr_of(si, &si->peername, &peer, &len)))
		return ckpt_fail(ctx->err, -EBADMSG, "files.img: file description %u: "
				 "socket.sockname or peername is no address of family %u",
				 fe->id, si->family);
	addr_str(&ss, addr, sizeof(addr));
	if (!si->has_netns || si->netns != netns_here())
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: %s socket %s can't be "
				 "restored: it was in another network namespace (net:[%llu]), "
				 "and network namespaces are not restored yet", pid, f->fd,
				 proto_name(si), addr, (unsigned long long)si->netns);
	if (si->protocol == IPPROTO_TCP) {
		r = check_tcp(ctx, pid, f->fd, si, addr);
		if (r < 0)
			return r;
	} else if (si->rqueue && !si->n_rcv_queue) {
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: UDP socket %s can't be "
				 "restored: datagrams waited to be received (%u bytes of its "
				 "receive buffer), and an older ckpt recorded it without them; "
				 "dump it again", pid, f->fd, addr, si->rqueue);
	}
	/* the daemon may bind any port; a user only what the kernel lets them */
	if ((!ctx->opts || ctx->opts->requester_uid != 0) && port_of(&ss) &&
	    (int)port_of(&ss) < unprivileged_port_start())
		return ckpt_fail(ctx->err, -EACCES, "pid %d fd %u: %s socket %s has a privileged "
				 "port (below net.ipv4.ip_unprivileged_port_start): only root may "
				 "restore it", pid, f->fd, proto_name(si), addr);
	return 0;
}

/* The task and fd that hold description id (for messages). */
void sock_holder_of(struct rst_ctx *ctx, uint32_t id, pid_t *pid, unsigned *fd)
{
	*pid = 0;
	*fd = 0;
	for (unsigned i = 0; i < ctx->nr_tasks; i++)
		for (unsigned j = 0; j < ctx->tasks[i].nr_fds; j++)
			if (ctx->tasks[i].fds[j]->desc_id == id) {
				*pid = ctx->tasks[i].pe->pid;
				*fd = ctx->tasks[i].fds[j]->fd;
				return;
			}
}

int sock_set_int(int fd, int level, int opt, int v)
{
	return setsockopt(fd, level, opt, &v, sizeof(v)) < 0 ? negerrno() : 0;
}

/* SO_RCVBUF/SO_SNDBUF: set (halved) only when the new socket's differs. */
int sock_set_buf(int fd, int opt, bool has, uint32_t want)
{
	int cur;

	if (!has || sock_get_int(fd, SOL_SOCKET, opt, &cur) < 0 || (uint32_t)cur == want)
		return 0;
	return sock_set_int(fd, SOL_SOCKET, opt, want / 2);
}

static int set_opts(int fd, const SocketInfo *si)
{
	int r = 0;

	if (si->reuseaddr)
		r = sock_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (r == 0 && si->reuseport)
		r = sock_set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
	if (r == 0 && si->keepalive)
		r = sock_set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	if (r == 0 && si->broadcast)
		r = sock_set_int(fd, SOL_SOCKET, SO_BROADCAST, 1);
	if (r == 0 && si->nodelay)
		r = sock_set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	if (r == 0 && si->family == AF_INET6 && si->has_v6only)
		r = sock_set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, si->v6only);
	if (r == 0)
		r = sock_set_buf(fd, SO_RCVBUF, si->has_rcvbuf, si->rcvbuf);
	if (r == 0)
		r = sock_set_buf(fd, SO_SNDBUF, si->has_sndbuf, si->sndbuf);
	return r;
}

/* The saved datagrams queued again, before connect (which would drop
 * those not from the peer). */
static int refill_udp(struct rst_ctx *ctx, int fd, const SocketInfo *si,
		      const struct sockaddr_storage *own, pid_t pid, unsigned nr, const char *addr)
{
	struct sock_udpq_res res;
	int r;

	if (addr_unbound(own))
		return ckpt_fail(ctx->err, -EBADMSG, "files.img: pid %d fd %u: UDP socket has "
				 "datagrams queued but no address", pid, nr);
	r = sock_udpq_fill(fd, si, own, &res);
	if (r == -ENOBUFS)
		return ckpt_fail(ctx->err, r, "pid %d fd %u: of the %zu datagrams queued on its "
				 "UDP socket %s, only %zu are queued again (a firewall rule "
				 "dropping loopback UDP to %s, or net.core.rmem_max lower than "
				 "where it was dumped?)", pid, nr, si->n_rcv_queue, addr,
				 res.queued, addr);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %u: cannot queue datagram %zu of %zu "
				 "again on its UDP socket %s", pid, nr, res.failed_at + 1,
				 si->n_rcv_queue, addr);
	/* res.other_source: sent from a loopback address (sockets.md) */
	return 0;
}

int sock_inet_open(struct rst_ctx *ctx, const FileDescEntry *fe)
{
	const SocketInfo *si = fe->socket;
	_cleanup_close_ int fd = -EBADF;
	struct sockaddr_storage ss, peer;
	socklen_t len, plen = 0;
	char addr[INET6_ADDRSTRLEN + 16];
	unsigned nr;
	pid_t pid;
	int r;

	sock_holder_of(ctx, fe->id, &pid, &nr);
	if (!addr_of(si, &si->sockname, &ss, &len) ||
	    (si->has_peername && !addr_of(si, &si->peername, &peer, &plen)))
		return ckpt_fail(ctx->err, -EBADMSG, "files.img: file description %u: "
				 "socket.sockname or peername is no address of family %u",
				 fe->id, si->family);
	addr_str(&ss, addr, sizeof(addr));
	fd = socket(si->family, si->type | SOCK_CLOEXEC, si->protocol);
	if (fd < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %u: cannot create its %s "
				 "socket", pid, nr, proto_name(si));
	r = set_opts(fd, si);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %u: cannot set the options of its %s "
				 "socket %s", pid, nr, proto_name(si), addr);
	/* after SO_REUSEADDR, which would undo the forced reuse of repair mode
	 * (a connection's port may be its listener's) */
	if (si->tcp && (r = sock_set_int(fd, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_ON)) < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %u: the kernel refuses TCP_REPAIR for its "
				 "connection %s (ckptd needs CAP_NET_ADMIN)", pid, nr, addr);
	if (si->tcp) {
		const char *step = "";

		if (!plen)
			return ckpt_fail(ctx->err, -EBADMSG, "files.img: pid %d fd %u: TCP "
					 "connection %s has no peer address", pid, nr, addr);
		r = sock_tcp_repair(fd, si, (struct sockaddr *)&ss, len,
				    (struct sockaddr *)&peer, plen, &step);
		if (r == -EADDRINUSE)
			return ckpt_fail(ctx->err, r, "pid %d fd %u: cannot bind its TCP "
					 "connection %s -> %s: the connection is in use here (its "
					 "program still runs?)", pid, nr, addr,
					 si->peer ? si->peer : "?");
		if (r < 0)
			return ckpt_fail(ctx->err, r, "pid %d fd %u: TCP connection %s -> %s: "
					 "cannot %s", pid, nr, addr, si->peer ? si->peer : "?",
					 step);
		r = fd_restore_fl(fd, fe->flags);
		if (r < 0)
			return ckpt_fail(ctx->err, r, "pid %d fd %u: cannot set its flags", pid,
					 nr);
		return TAKE_FD(fd);
	}
	if (!addr_unbound(&ss) && bind(fd, (struct sockaddr *)&ss, len) < 0) {
		r = negerrno();
		if (r == -EADDRINUSE)
			return ckpt_fail(ctx->err, r, "pid %d fd %u: cannot bind its %s socket: "
					 "%s is in use here (stop what holds it, then restore "
					 "again)", pid, nr, proto_name(si), addr);
		return ckpt_fail(ctx->err, r, "pid %d fd %u: cannot bind its %s socket to %s",
				 pid, nr, proto_name(si), addr);
	}
	if (si->protocol == IPPROTO_TCP && listen(fd, si->backlog) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %u: cannot listen on %s", pid,
				 nr, addr);
	if (si->protocol == IPPROTO_UDP && si->n_rcv_queue) {
		r = refill_udp(ctx, fd, si, &ss, pid, nr, addr);
		if (r < 0)
			return r;
	}
	if (plen && connect(fd, (struct sockaddr *)&peer, plen) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %u: cannot connect its UDP "
				 "socket %s again", pid, nr, addr);
	r = fd_restore_fl(fd, fe->flags);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %u: cannot set its flags", pid, nr);
	return TAKE_FD(fd);
}
