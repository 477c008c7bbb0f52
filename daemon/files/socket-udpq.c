/* The datagrams queued on a UDP socket (IPv4 or IPv6).
 *
 * Dump: on a duplicate of the target's fd (the same socket), SO_PEEK_OFF
 * from 0 and one MSG_PEEK|MSG_TRUNC a datagram: the kernel moves the
 * offset past each whole datagram, so nothing is consumed and every
 * boundary is kept; msg_name gives its sender. The socket's own peek
 * offset is put back after.
 * Restore: before the socket is connected (a connected UDP socket drops
 * what does not come from its peer), each datagram is sent again, in
 * order, to the socket's address: from the socket itself when it had
 * sent it to itself, else from a socket bound to the original sender's
 * address, else (that address in use or not of this host) from a socket
 * the kernel binds, so the receiver sees a loopback address and a port
 * the kernel picked as the source. Then the queue is counted: every
 * datagram must be there. */
#include "daemon/files/socket-udpq.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/files/socket-inet.h"

#define UDPQ_BUF	65536u		/* more than any UDP payload */
#define UDPQ_MAX_MSGS	(1u << 20)
#define UDPQ_WAIT_MS	2000		/* for the last datagram to be queued */

/* --- dump -------------------------------------------------------------------- */

static int add_bin(ProtobufCBinaryData **arr, size_t *n, const void *data, size_t len)
{
	ProtobufCBinaryData *na = realloc(*arr, (*n + 1) * sizeof(*na));

	if (!na)
		return -ENOMEM;
	*arr = na;
	na[*n].len = len;
	na[*n].data = malloc(len ? len : 1);
	if (!na[*n].data)
		return -ENOMEM;
	memcpy(na[*n].data, data, len);
	(*n)++;
	return 0;
}

static int peek_all(int fd, SocketInfo *si)
{
	_cleanup_free_ uint8_t *buf = malloc(UDPQ_BUF);
	struct sockaddr_storage from;
	struct iovec iov = { .iov_len = UDPQ_BUF };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int r;

	if (!buf)
		return -ENOMEM;
	iov.iov_base = buf;
	for (unsigned i = 0; i < UDPQ_MAX_MSGS; i++) {
		m.msg_name = &from;
		m.msg_namelen = sizeof(from);
		n = recvmsg(fd, &m, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0)
			return errno == EAGAIN ? 0 : negerrno();
		if ((size_t)n > UDPQ_BUF)
			return -EMSGSIZE;
		r = add_bin(&si->rcv_queue, &si->n_rcv_queue, buf, n);
		if (r == 0)
			r = add_bin(&si->rcv_from, &si->n_rcv_from, &from, m.msg_namelen);
		if (r < 0)
			return r;
	}
	return -E2BIG;
}

int sock_udpq_peek(int fd, SocketInfo *si)
{
	int old = -1, r, r2;

	r = sock_get_int(fd, SOL_SOCKET, SO_PEEK_OFF, &old);
	if (r < 0)
		return r;
	r = sock_set_int(fd, SOL_SOCKET, SO_PEEK_OFF, 0);
	if (r == 0)
		r = peek_all(fd, si);
	r2 = sock_set_int(fd, SOL_SOCKET, SO_PEEK_OFF, old);
	return r < 0 ? r : r2;
}

/* --- restore ----------------------------------------------------------------- */

static bool sa_valid(const ProtobufCBinaryData *b)
{
	const struct sockaddr *sa = (const void *)b->data;

	return b->data && ((b->len == sizeof(struct sockaddr_in) && sa->sa_family == AF_INET) ||
			   (b->len == sizeof(struct sockaddr_in6) && sa->sa_family == AF_INET6));
}

static bool v4mapped(const ProtobufCBinaryData *b)
{
	return b->len == sizeof(struct sockaddr_in6) &&
	       IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)b->data)->sin6_addr);
}

/* Where to send: the socket's address, its wildcard made the loopback of
 * the sender's kind (a v4-mapped sender: ::ffff:127.0.0.1). */
static void dest_of(const struct sockaddr_storage *own, const ProtobufCBinaryData *from,
		    struct sockaddr_storage *d)
{
	*d = *own;
	if (d->ss_family == AF_INET) {
		struct sockaddr_in *in = (void *)d;

		if (in->sin_addr.s_addr == htonl(INADDR_ANY))
			in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		struct sockaddr_in6 *in6 = (void *)d;

		if (!IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
			return;
		if (from && v4mapped(from)) {
			memset(&in6->sin6_addr, 0, sizeof(in6->sin6_addr));
			in6->sin6_addr.s6_addr[10] = 0xff;
			in6->sin6_addr.s6_addr[11] = 0xff;
			in6->sin6_addr.s6_addr32[3] = htonl(INADDR_LOOPBACK);
		} else {
			in6->sin6_addr = in6addr_loopback;
		}
	}
}

static bool same_addr(const ProtobufCBinaryData *from, const struct sockaddr_storage *d)
{
	if (!from || from->len < sizeof(sa_family_t) ||
	    ((const struct sockaddr *)from->data)->sa_family != d->ss_family)
		return false;
	if (d->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)from->data, *b = (const void *)d;

		return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *a = (const void *)from->data, *b = (const void *)d;

	return a->sin6_port == b->sin6_port &&
	       !memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr));
}

/* A socket to send as from: bound to it, or (in use, not of this host)
 * bound by the kernel; *ret_kept tells which. */
static int sender_for(const ProtobufCBinaryData *from, int family, bool *ret_kept)
{
	_cleanup_close_ int s = -EBADF;

	*ret_kept = false;
	if (from) {
		s = socket(((const struct sockaddr *)from->data)->sa_family,
			   SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
		if (s < 0)
			return negerrno();
		(void)sock_set_int(s, SOL_SOCKET, SO_REUSEADDR, 1);
		if (bind(s, (const struct sockaddr *)from->data, from->len) == 0) {
			*ret_kept = true;
			return TAKE_FD(s);
		}
		close(TAKE_FD(s));
	}
	s = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	return s < 0 ? negerrno() : TAKE_FD(s);
}

/* How many datagrams the queue holds (up to want), waiting a little for
 * the last to arrive. */
static int count_queued(int fd, size_t want, size_t *ret)
{
	char c;
	size_t n = 0;
	int r = 0;

	for (int waited = 0;; waited += 10) {
		r = sock_set_int(fd, SOL_SOCKET, SO_PEEK_OFF, 0);
		for (n = 0; r == 0 && n < want; n++)
			if (recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC) < 0) {
				if (errno != EAGAIN)
					r = negerrno();
				break;
			}
		if (r < 0 || n == want || waited >= UDPQ_WAIT_MS)
			break;
		poll(NULL, 0, 10);
	}
	if (r == 0)
		r = sock_set_int(fd, SOL_SOCKET, SO_PEEK_OFF, -1);
	*ret = n;
	return r;
}

int sock_udpq_fill(int fd, const SocketInfo *si, const struct sockaddr_storage *own,
		   struct sock_udpq_res *res)
{
	_cleanup_close_ int s = -EBADF;
	const ProtobufCBinaryData *last = NULL;
	struct sockaddr_storage d;
	socklen_t dlen = own->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
						     sizeof(struct sockaddr_in6);
	bool kept = false;
	int r;

	*res = (struct sock_udpq_res){ 0 };
	for (size_t i = 0; i < si->n_rcv_queue; i++) {
		const ProtobufCBinaryData *from = i < si->n_rcv_from && sa_valid(&si->rcv_from[i]) ?
						  &si->rcv_from[i] : NULL;
		int out = fd;

		dest_of(own, from, &d);
		if (!same_addr(from, &d)) {
			if (s < 0 || !last || !from || last->len != from->len ||
			    memcmp(last->data, from->data, from->len)) {
				if (s >= 0)
					close(TAKE_FD(s));
				s = sender_for(from, from && v4mapped(from) ? AF_INET6 :
						     own->ss_family, &kept);
				if (s < 0)
					return s;
				last = from;
			}
			out = s;
			if (!kept)
				res->other_source++;
		}
		if (sendto(out, si->rcv_queue[i].data, si->rcv_queue[i].len, 0,
			   (struct sockaddr *)&d, dlen) < 0) {
			res->failed_at = i;
			return negerrno();
		}
	}
	r = count_queued(fd, si->n_rcv_queue, &res->queued);
	if (r == 0 && res->queued != si->n_rcv_queue)
		r = -ENOBUFS;
	return r;
}
