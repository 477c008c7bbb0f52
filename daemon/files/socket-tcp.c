/* Established TCP connections, with --tcp-established: TCP_REPAIR as
 * CRIU's libsoccr (soccr/soccr.c) uses it.
 *
 * Dump, the tree frozen, on a duplicate of the target's fd (the same
 * socket): each connection is only noted while the fds are described;
 * once every fd is, one nft run locks them all (netlock.c: nothing of
 * them goes in or out from now; one run a connection cost ~15 ms each),
 * then each in turn has TCP_REPAIR on; TCP_INFO gives the state and
 * the options negotiated (SACK, window scale, timestamps), TCP_MAXSEG the
 * mss, TCP_TIMESTAMP the clock, TCP_REPAIR_WINDOW the window; for each
 * queue TCP_REPAIR_QUEUE selects it, TCP_QUEUE_SEQ gives the sequence
 * number at its end and a MSG_PEEK reads it (SIOCINQ, SIOCOUTQ bytes;
 * SIOCOUTQNSD of the send queue were never sent). The socket stays in
 * repair mode until the dump ends: a socket closed in repair mode sends
 * nothing (no FIN, no RST), so when the tree is killed the connection just
 * goes quiet, and the lock keeps the kernel from resetting the peer's
 * packets until a restore has it again. When the tree runs on, repair mode
 * is left without a window probe (TCP_REPAIR_OFF_NO_WP) before the tree
 * is thawed, and the lock removed.
 *
 * Restore: TCP_REPAIR on a new socket, bind (repair mode may reuse the
 * listener's port), the sequence numbers at the start of each queue, a
 * connect that sends no SYN, the options, the receive queue and the part
 * of the send queue that was sent, the window, then repair mode off (a
 * window probe) and the unsent part sent as a program would. */
#include "daemon/files/socket-tcp.h"

#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/dump.h"
#include "daemon/files/socket-inet.h"
#include "daemon/netlock.h"

/* A connection noted by sock_tcp_dump, locked and read by
 * sock_tcp_dump_finish: si is its fd entry's, alive until files.img is
 * written. */
struct tcp_conn {
	int fd;			/* a duplicate: the same socket */
	pid_t pid;
	int tfd;		/* the target's fd number, for messages */
	SocketInfo *si;
};

struct tcp_dump {
	struct tcp_conn *conns;
	unsigned nr;
	char lock[32];		/* the netlock table, "" when none */
};

/* --- dump -------------------------------------------------------------------- */

static int note_conn(struct dump_ctx *ctx, const struct fd_parms *p, int fd, SocketInfo *si)
{
	struct tcp_dump *t = ctx->tcp;
	struct tcp_conn *nc;

	if (!t) {
		t = ctx->tcp = calloc(1, sizeof(*t));
		if (!t)
			return -ENOMEM;
	}
	nc = realloc(t->conns, (t->nr + 1) * sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	t->conns = nc;
	nc[t->nr] = (struct tcp_conn){ .fd = dup(fd), .pid = p->pid, .tfd = p->fd, .si = si };
	if (nc[t->nr].fd < 0)
		return negerrno();
	t->nr++;
	return 0;
}

static int get_queue(int fd, int q, uint32_t len, uint32_t *seq, ProtobufCBinaryData *b,
		     protobuf_c_boolean *has)
{
	socklen_t sl = sizeof(*seq);
	ssize_t n;
	int r;

	r = sock_set_int(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, q);
	if (r < 0)
		return r;
	if (getsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, seq, &sl) < 0)
		return negerrno();
	if (!len)
		return 0;
	/* a byte more than counted: the queue holds len bytes, no more */
	b->data = malloc(len + 1);
	if (!b->data)
		return -ENOMEM;
	n = recv(fd, b->data, len + 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0)
		return negerrno();
	if ((size_t)n != len)
		return -EAGAIN;
	b->len = len;
	*has = true;
	return 0;
}

static int read_repair(int fd, TcpStream *ts)
{
	struct tcp_info ti;
	struct tcp_repair_window w;
	socklen_t len = sizeof(ti);
	int inq = 0, outq = 0, unsent = 0, v, r;

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return negerrno();
	if (ti.tcpi_state != TCP_ESTABLISHED)
		return -ENOTCONN;
	if (ioctl(fd, SIOCINQ, &inq) < 0 || ioctl(fd, SIOCOUTQ, &outq) < 0 ||
	    ioctl(fd, SIOCOUTQNSD, &unsent) < 0)
		return negerrno();
	r = sock_get_int(fd, IPPROTO_TCP, TCP_MAXSEG, &v);
	if (r < 0)
		return r;
	ts->mss_clamp = v;
	ts->opt_mask = ti.tcpi_options;
	if (ti.tcpi_options & TCPI_OPT_WSCALE) {
		ts->has_snd_wscale = ts->has_rcv_wscale = true;
		ts->snd_wscale = ti.tcpi_snd_wscale;
		ts->rcv_wscale = ti.tcpi_rcv_wscale;
	}
	if (ti.tcpi_options & TCPI_OPT_TIMESTAMPS) {
		r = sock_get_int(fd, IPPROTO_TCP, TCP_TIMESTAMP, &v);
		if (r < 0)
			return r;
		ts->has_timestamp = true;
		ts->timestamp = v;
	}
	len = sizeof(w);
	if (getsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, &len) == 0) {
		ts->has_window = ts->window = true;
		ts->has_snd_wl1 = ts->has_snd_wnd = ts->has_max_window = true;
		ts->has_rcv_wnd = ts->has_rcv_wup = true;
		ts->snd_wl1 = w.snd_wl1;
		ts->snd_wnd = w.snd_wnd;
		ts->max_window = w.max_window;
		ts->rcv_wnd = w.rcv_wnd;
		ts->rcv_wup = w.rcv_wup;
	} else if (errno != ENOPROTOOPT) {
		return negerrno();
	}
	ts->has_unsent = true;
	ts->unsent = unsent;
	r = get_queue(fd, TCP_RECV_QUEUE, inq, &ts->inq_seq, &ts->inq, &ts->has_inq);
	if (r == 0)
		r = get_queue(fd, TCP_SEND_QUEUE, outq, &ts->outq_seq, &ts->outq, &ts->has_outq);
	if (r == 0)
		r = sock_set_int(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE);
	return r;
}

static const char *local_of(const SocketInfo *si)
{
	return si->local ? si->local : "?";
}

int sock_tcp_dump(struct dump_ctx *ctx, const struct fd_parms *p, int fd, SocketInfo *si)
{
	int r;

	if (!si->has_sockname || !si->has_peername)
		return ckpt_fail(ctx->err, -ENOTCONN, "pid %d fd %d: TCP connection %s has no "
				 "peer address", p->pid, p->fd, local_of(si));
	r = note_conn(ctx, p, fd, si);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %d: out of memory", p->pid, p->fd);
	return 0;
}

/* Every connection noted in one nft run. */
static int lock_all(struct dump_ctx *ctx, struct tcp_dump *t)
{
	_cleanup_free_ const struct sockaddr **own = calloc(t->nr, sizeof(*own));
	_cleanup_free_ const struct sockaddr **peer = calloc(t->nr, sizeof(*peer));
	char why[512];
	unsigned bad;
	int r;

	if (!own || !peer)
		return ckpt_fail(ctx->err, -ENOMEM, "locking %u TCP connections: out of memory",
				 t->nr);
	for (unsigned i = 0; i < t->nr; i++) {
		own[i] = (const struct sockaddr *)t->conns[i].si->sockname.data;
		peer[i] = (const struct sockaddr *)t->conns[i].si->peername.data;
	}
	netlock_name(ctx->opts->pid, t->lock, sizeof(t->lock));
	r = netlock_add(t->lock, own, peer, t->nr, &bad, why, sizeof(why));
	if (r == -EAFNOSUPPORT) {
		const struct tcp_conn *c = &t->conns[bad];

		return ckpt_fail(ctx->err, r, "pid %d fd %d: TCP connection %s -> %s: %s",
				 c->pid, c->tfd, local_of(c->si), c->si->peer ? c->si->peer : "?",
				 why);
	}
	if (r < 0)
		return ckpt_fail(ctx->err, r, "cannot lock the tree's %u TCP connection%s (pid %d "
				 "fd %d: %s -> %s%s) with nftables (table inet %s): %s. "
				 "--tcp-established needs the nft program and CAP_NET_ADMIN; "
				 "'ckptctl check' says whether locking works here", t->nr,
				 t->nr == 1 ? "" : "s", t->conns[0].pid, t->conns[0].tfd,
				 local_of(t->conns[0].si), t->conns[0].si->peer ?
				 t->conns[0].si->peer : "?", t->nr > 1 ? ", ..." : "", t->lock, why);
	return 0;
}

/* One connection, locked: repair mode on, then its state into si->tcp. */
static int repair_one(struct dump_ctx *ctx, const struct tcp_dump *t, const struct tcp_conn *c)
{
	SocketInfo *si = c->si;
	TcpStream *ts;
	int r;

	r = sock_set_int(c->fd, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_ON);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %d: TCP connection %s -> %s: the kernel "
				 "refuses TCP_REPAIR (it needs CAP_NET_ADMIN in the socket's "
				 "network namespace)", c->pid, c->tfd, local_of(si),
				 si->peer ? si->peer : "?");
	ts = si->tcp = malloc(sizeof(*ts));
	if (ts) {
		tcp_stream__init(ts);
		ts->netlock = strdup(t->lock);
	}
	r = !ts || !ts->netlock ? -ENOMEM : read_repair(c->fd, ts);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %d: cannot read TCP connection %s -> %s "
				 "in repair mode%s", c->pid, c->tfd, local_of(si),
				 si->peer ? si->peer : "?", r == -ENOTCONN ?
				 " (it is no longer established)" : "");
	return 0;
}

int sock_tcp_dump_finish(struct dump_ctx *ctx)
{
	struct tcp_dump *t = ctx->tcp;
	int r;

	if (!t || !t->nr)
		return 0;
	r = lock_all(ctx, t);
	for (unsigned i = 0; r == 0 && i < t->nr; i++)
		r = repair_one(ctx, t, &t->conns[i]);
	return r;
}

void sock_tcp_dump_end(struct dump_ctx *ctx, bool killed)
{
	struct tcp_dump *t = ctx->tcp;
	char why[256];

	if (!t)
		return;
	for (unsigned i = 0; i < t->nr; i++) {
		if (!killed)	/* also on a socket never put in repair mode */
			(void)sock_set_int(t->conns[i].fd, IPPROTO_TCP, TCP_REPAIR,
					   TCP_REPAIR_OFF_NO_WP);
		close(t->conns[i].fd);
	}
	free(t->conns);
	if (!killed && t->lock[0])
		(void)netlock_remove(t->lock, why, sizeof(why));
	free(t);
	ctx->tcp = NULL;
}

/* --- restore ----------------------------------------------------------------- */

static int set_seq(int fd, int q, uint32_t seq)
{
	int r = sock_set_int(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, q);

	if (r == 0 && setsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &seq, sizeof(seq)) < 0)
		r = negerrno();
	return r;
}

/* All of buf sent; in repair mode the kernel takes a receive-queue chunk
 * as one linear skb, so a big one may fail: halve it and go on. */
static int send_all(int fd, const uint8_t *buf, size_t len, int flags)
{
	size_t max = len;
	ssize_t n;

	while (len) {
		n = send(fd, buf, MIN(len, max), flags);
		if (n <= 0) {
			if (max > 1024) {
				max /= 2;
				continue;
			}
			return n < 0 ? negerrno() : -EIO;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

static int set_options(int fd, const TcpStream *ts)
{
	struct tcp_repair_opt o[4];
	unsigned n = 0;

	if (ts->opt_mask & TCPI_OPT_SACK)
		o[n++] = (struct tcp_repair_opt){ TCPOPT_SACK_PERMITTED, 0 };
	if (ts->opt_mask & TCPI_OPT_WSCALE)
		o[n++] = (struct tcp_repair_opt){ TCPOPT_WINDOW,
						  ts->snd_wscale + (ts->rcv_wscale << 16) };
	if (ts->opt_mask & TCPI_OPT_TIMESTAMPS)
		o[n++] = (struct tcp_repair_opt){ TCPOPT_TIMESTAMP, 0 };
	o[n++] = (struct tcp_repair_opt){ TCPOPT_MAXSEG, ts->mss_clamp };
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_OPTIONS, o, n * sizeof(o[0])) < 0)
		return negerrno();
	if ((ts->opt_mask & TCPI_OPT_TIMESTAMPS) &&
	    setsockopt(fd, IPPROTO_TCP, TCP_TIMESTAMP, &ts->timestamp, sizeof(ts->timestamp)) < 0)
		return negerrno();
	return 0;
}

int sock_tcp_repair(int fd, const SocketInfo *si, const struct sockaddr *own, socklen_t olen,
		    const struct sockaddr *peer, socklen_t plen, const char **step)
{
	const TcpStream *ts = si->tcp;
	size_t sent = ts->outq.len - MIN(ts->unsent, ts->outq.len);
	int r;

	*step = "bind it to its address";
	if (bind(fd, own, olen) < 0)
		return negerrno();
	*step = "set its sequence numbers";
	r = set_seq(fd, TCP_RECV_QUEUE, ts->inq_seq - ts->inq.len);
	if (r == 0)
		r = set_seq(fd, TCP_SEND_QUEUE, ts->outq_seq - ts->outq.len);
	if (r < 0)
		return r;
	*step = "connect it in repair mode";
	if (connect(fd, peer, plen) < 0 && errno != EINPROGRESS)
		return negerrno();
	*step = "set its TCP options (mss, window scale, SACK, timestamps)";
	r = set_options(fd, ts);
	if (r < 0)
		return r;
	*step = "refill its receive queue";
	r = sock_set_int(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE);
	if (r == 0 && ts->inq.len)
		r = send_all(fd, ts->inq.data, ts->inq.len, 0);
	if (r < 0)
		return r;
	*step = "refill its send queue";
	r = sock_set_int(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE);
	if (r == 0 && sent)
		r = send_all(fd, ts->outq.data, sent, 0);
	if (r < 0)
		return r;
	if (ts->window) {
		struct tcp_repair_window w = {
			.snd_wl1 = ts->snd_wl1, .snd_wnd = ts->snd_wnd,
			.max_window = ts->max_window, .rcv_wnd = ts->rcv_wnd,
			.rcv_wup = ts->rcv_wup,
		};

		*step = "set its window";
		if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, sizeof(w)) < 0)
			return negerrno();
	}
	*step = "leave repair mode";
	r = sock_set_int(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE);
	if (r == 0)
		r = sock_set_int(fd, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_OFF);
	if (r < 0)
		return r;
	*step = "send what it had not sent yet";
	if (ts->outq.len > sent)
		r = send_all(fd, ts->outq.data + sent, ts->outq.len - sent, MSG_DONTWAIT);
	return r;
}

/* --- ckptctl check ------------------------------------------------------------ */

int sock_tcp_probe(char *why, size_t len)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	char nft[128];
	int r;

	if (fd < 0)
		return negerrno();
	r = sock_set_int(fd, IPPROTO_TCP, TCP_REPAIR, TCP_REPAIR_ON);
	if (r < 0) {
		snprintf(why, len, "TCP_REPAIR refused (%s): ckptd lacks CAP_NET_ADMIN",
			 strerror(-r));
		return r;
	}
	r = netlock_probe(nft, sizeof(nft));
	if (r < 0)
		snprintf(why, len, "no network lock: nft failed: %s", nft[0] ? nft : "?");
	return r;
}
