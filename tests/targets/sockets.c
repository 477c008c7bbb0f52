/* TCP and UDP sockets a restore must bring back, or refuse by name.
 *
 *	sockets [serve|established|udpqueue|tcpconn PORT]
 *
 * serve (the default): a TCP listener on 127.0.0.1 (SO_REUSEADDR,
 * TCP_NODELAY, SO_KEEPALIVE, SO_RCVBUF, backlog 7), one on ::1
 * (IPV6_V6ONLY, SO_REUSEPORT, O_NONBLOCK, backlog 3), a UDP socket bound
 * to 127.0.0.1 (SO_BROADCAST, SO_SNDBUF), an unbound IPv6 UDP socket and
 * a UDP socket connected to 127.0.0.1:9; every port picked by the kernel
 * and written to $CKPT_STATUS.ports ("tcp4 P", "tcp6 P", "udp P"). After
 * SIGUSR1 it checks every address, option, backlog and flag, then accepts
 * one connection on each listener and answers its line with "tcp4 LINE" or
 * "tcp6 LINE", and answers one datagram with "udp DATAGRAM" (10 s each).
 *
 * The others hold what a restore refuses, and after SIGUSR1 check it is
 * still whole: established, a TCP connection to its own listener (a byte
 * each way). udpqueue: UDP sockets on 127.0.0.1 and ::1 with datagrams
 * queued (see setup_udpqueue); after SIGUSR1 each must be there, in
 * order, whole, from its sender's address. tcpconn PORT: established
 * connections for --tcp-established (see setup_tcpconn). Unix sockets have a target of their own, unixsk.c. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "target.h"

enum { T4, T6, U4, U6, UC, NR };

static int fds[8];	/* serve: NR; tcpconn: six */
static struct sockaddr_storage names[NR];
static int flags[NR];

static int sock_or_fail(int family, int type)
{
	int fd = socket(family, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		target_fail("socket: %s", strerror(errno));
	return fd;
}

static void set_opt(int fd, int level, int opt, int v, const char *what)
{
	if (setsockopt(fd, level, opt, &v, sizeof(v)) < 0)
		target_fail("setsockopt %s: %s", what, strerror(errno));
}

static int get_opt(int fd, int level, int opt)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, level, opt, &v, &len) < 0)
		target_fail("getsockopt %d/%d: %s", level, opt, strerror(errno));
	return v;
}

static void bind_lo(int fd, int family)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int r = family == AF_INET ? bind(fd, (struct sockaddr *)&in, sizeof(in)) :
				    bind(fd, (struct sockaddr *)&in6, sizeof(in6));

	if (r < 0)
		target_fail("bind to loopback: %s", strerror(errno));
}

static unsigned port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port :
						((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void name_of(int i)
{
	socklen_t len = sizeof(names[i]);

	if (getsockname(fds[i], (struct sockaddr *)&names[i], &len) < 0)
		target_fail("getsockname: %s", strerror(errno));
	flags[i] = fcntl(fds[i], F_GETFL);
}

static void setup_serve(void)
{
	struct sockaddr_in nine = { .sin_family = AF_INET, .sin_port = htons(9),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char path[4200];
	FILE *f;

	fds[T4] = sock_or_fail(AF_INET, SOCK_STREAM);
	set_opt(fds[T4], SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
	set_opt(fds[T4], IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
	set_opt(fds[T4], SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE");
	set_opt(fds[T4], SOL_SOCKET, SO_RCVBUF, 65536, "SO_RCVBUF");
	bind_lo(fds[T4], AF_INET);
	if (listen(fds[T4], 7) < 0)
		target_fail("listen: %s", strerror(errno));

	fds[T6] = sock_or_fail(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK);
	set_opt(fds[T6], IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY");
	set_opt(fds[T6], SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
	bind_lo(fds[T6], AF_INET6);
	if (listen(fds[T6], 3) < 0)
		target_fail("listen on ::1: %s", strerror(errno));

	fds[U4] = sock_or_fail(AF_INET, SOCK_DGRAM);
	set_opt(fds[U4], SOL_SOCKET, SO_BROADCAST, 1, "SO_BROADCAST");
	set_opt(fds[U4], SOL_SOCKET, SO_SNDBUF, 32768, "SO_SNDBUF");
	bind_lo(fds[U4], AF_INET);

	fds[U6] = sock_or_fail(AF_INET6, SOCK_DGRAM);
	fds[UC] = sock_or_fail(AF_INET, SOCK_DGRAM);
	if (connect(fds[UC], (struct sockaddr *)&nine, sizeof(nine)) < 0)
		target_fail("connect UDP to 127.0.0.1:9: %s", strerror(errno));
	for (int i = 0; i < NR; i++)
		name_of(i);

	snprintf(path, sizeof(path), "%s.ports", getenv("CKPT_STATUS") ?: "target.status");
	f = fopen(path, "w");
	if (!f)
		target_fail("cannot write %s", path);
	fprintf(f, "tcp4 %u\ntcp6 %u\nudp %u\n", port_of(&names[T4]), port_of(&names[T6]),
		port_of(&names[U4]));
	fclose(f);
}

static void expect_opt(int i, int level, int opt, int want, const char *what)
{
	int v = get_opt(fds[i], level, opt);

	if (v != want)
		target_fail("fd %d: %s is %d, want %d", fds[i], what, v, want);
}

static void check_serve(void)
{
	struct sockaddr_storage ss, peer;
	socklen_t len = sizeof(peer);
	struct tcp_info ti;
	socklen_t tlen = sizeof(ti);

	for (int i = 0; i < NR; i++) {
		socklen_t l = sizeof(ss);

		if (getsockname(fds[i], (struct sockaddr *)&ss, &l) < 0 ||
		    memcmp(&ss, &names[i], l) != 0)
			target_fail("socket %d: its address changed (port %u, was %u)", i,
				    port_of(&ss), port_of(&names[i]));
		if (fcntl(fds[i], F_GETFL) != flags[i])
			target_fail("socket %d: F_GETFL %#x, was %#x", i, fcntl(fds[i], F_GETFL),
				    flags[i]);
		if (!(fcntl(fds[i], F_GETFD) & FD_CLOEXEC))
			target_fail("socket %d lost FD_CLOEXEC", i);
	}
	expect_opt(T4, SOL_SOCKET, SO_ACCEPTCONN, 1, "SO_ACCEPTCONN");
	expect_opt(T4, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
	expect_opt(T4, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
	expect_opt(T4, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE");
	expect_opt(T4, SOL_SOCKET, SO_RCVBUF, 131072, "SO_RCVBUF");
	expect_opt(T6, SOL_SOCKET, SO_ACCEPTCONN, 1, "SO_ACCEPTCONN");
	expect_opt(T6, IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY");
	expect_opt(T6, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
	expect_opt(T6, SOL_SOCKET, SO_REUSEADDR, 0, "SO_REUSEADDR");
	expect_opt(U4, SOL_SOCKET, SO_BROADCAST, 1, "SO_BROADCAST");
	expect_opt(U4, SOL_SOCKET, SO_SNDBUF, 65536, "SO_SNDBUF");
	expect_opt(U4, SOL_SOCKET, SO_TYPE, SOCK_DGRAM, "SO_TYPE");
	expect_opt(U6, SOL_SOCKET, SO_DOMAIN, AF_INET6, "SO_DOMAIN");
	if (getpeername(fds[UC], (struct sockaddr *)&peer, &len) < 0 || port_of(&peer) != 9)
		target_fail("the connected UDP socket is no longer connected to port 9");
	if (getsockopt(fds[T4], IPPROTO_TCP, TCP_INFO, &ti, &tlen) < 0 || ti.tcpi_sacked != 7)
		target_fail("the 127.0.0.1 listener's backlog is %u, want 7", ti.tcpi_sacked);
}

static void wait_in(int fd, const char *what)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 10000) != 1)
		target_fail("%s: nothing came in 10 s", what);
}

static void answer_tcp(int i, const char *tag)
{
	char buf[128], out[160];
	ssize_t n;
	int c;

	wait_in(fds[i], tag);
	c = accept4(fds[i], NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		target_fail("%s: accept: %s", tag, strerror(errno));
	wait_in(c, tag);
	n = read(c, buf, sizeof(buf) - 1);
	if (n <= 0)
		target_fail("%s: read: %zd", tag, n);
	buf[n] = '\0';
	n = snprintf(out, sizeof(out), "%s %s", tag, buf);
	if (write(c, out, n) != n)
		target_fail("%s: write: %s", tag, strerror(errno));
	close(c);
}

static void answer_udp(void)
{
	struct sockaddr_storage from;
	socklen_t len = sizeof(from);
	char buf[128], out[160];
	ssize_t n;

	wait_in(fds[U4], "udp");
	n = recvfrom(fds[U4], buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &len);
	if (n < 0)
		target_fail("udp: recvfrom: %s", strerror(errno));
	buf[n] = '\0';
	n = snprintf(out, sizeof(out), "udp %s", buf);
	if (sendto(fds[U4], out, n, 0, (struct sockaddr *)&from, len) != n)
		target_fail("udp: sendto: %s", strerror(errno));
}

/* One byte each way between a and b. */
static void check_pair(int a, int b, const char *what)
{
	char c = 0;

	if (write(a, "a", 1) != 1 || read(b, &c, 1) != 1 || c != 'a' ||
	    write(b, "b", 1) != 1 || read(a, &c, 1) != 1 || c != 'b')
		target_fail("%s: a byte each way did not pass", what);
}

static void setup_established(void)
{
	socklen_t len = sizeof(names[0]);

	fds[0] = sock_or_fail(AF_INET, SOCK_STREAM);
	bind_lo(fds[0], AF_INET);
	if (listen(fds[0], 1) < 0 || getsockname(fds[0], (struct sockaddr *)&names[0], &len) < 0)
		target_fail("listen: %s", strerror(errno));
	fds[1] = sock_or_fail(AF_INET, SOCK_STREAM);
	if (connect(fds[1], (struct sockaddr *)&names[0], len) < 0)
		target_fail("connect: %s", strerror(errno));
	fds[2] = accept4(fds[0], NULL, NULL, SOCK_CLOEXEC);
	if (fds[2] < 0)
		target_fail("accept: %s", strerror(errno));
}

static const char dgram[] = "queued datagram";
static char big[60000];

static void send_or_fail(int from, const void *buf, size_t len, const struct sockaddr_storage *to)
{
	socklen_t tl = to->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
						  sizeof(struct sockaddr_in6);

	if (sendto(from, buf, len, 0, (const struct sockaddr *)to, tl) != (ssize_t)len)
		target_fail("sendto: %s", strerror(errno));
}

static void name_or_fail(int fd, struct sockaddr_storage *ss)
{
	socklen_t len = sizeof(*ss);

	if (getsockname(fd, (struct sockaddr *)ss, &len) < 0)
		target_fail("getsockname: %s", strerror(errno));
}

/* fds[0] (127.0.0.1) holds, in order: a datagram from itself, an empty
 * one from fds[1], 60000 bytes from a socket closed since (its address in
 * names[2]), "last" from itself; fds[3] (::1), connected to fds[4], holds
 * "six" from fds[4]. */
static void setup_udpqueue(void)
{
	int gone;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + 1);
	fds[0] = sock_or_fail(AF_INET, SOCK_DGRAM);
	bind_lo(fds[0], AF_INET);
	name_or_fail(fds[0], &names[0]);
	fds[1] = sock_or_fail(AF_INET, SOCK_DGRAM);
	bind_lo(fds[1], AF_INET);
	name_or_fail(fds[1], &names[1]);
	gone = sock_or_fail(AF_INET, SOCK_DGRAM);
	bind_lo(gone, AF_INET);
	name_or_fail(gone, &names[2]);
	send_or_fail(fds[0], dgram, sizeof(dgram), &names[0]);
	send_or_fail(fds[1], "", 0, &names[0]);
	send_or_fail(gone, big, sizeof(big), &names[0]);
	send_or_fail(fds[0], "last", 4, &names[0]);
	close(gone);

	fds[3] = sock_or_fail(AF_INET6, SOCK_DGRAM);
	bind_lo(fds[3], AF_INET6);
	name_or_fail(fds[3], &names[3]);
	fds[4] = sock_or_fail(AF_INET6, SOCK_DGRAM);
	bind_lo(fds[4], AF_INET6);
	name_or_fail(fds[4], &names[4]);
	if (connect(fds[3], (struct sockaddr *)&names[4], sizeof(struct sockaddr_in6)) < 0)
		target_fail("connect on ::1: %s", strerror(errno));
	send_or_fail(fds[4], "six", 3, &names[3]);
	wait_in(fds[0], "udpqueue");
	wait_in(fds[3], "udpqueue on ::1");
}

static bool same_name(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	return a->ss_family == b->ss_family && port_of(a) == port_of(b) &&
	       (a->ss_family == AF_INET ?
		((const struct sockaddr_in *)a)->sin_addr.s_addr ==
			((const struct sockaddr_in *)b)->sin_addr.s_addr :
		!memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			&((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)));
}

/* The next datagram on fd is want (len bytes) from *from. */
static void expect_dgram(int fd, const void *want, size_t len, const struct sockaddr_storage *from,
			 const char *what)
{
	static char buf[65536];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&ss, &sl);

	if (n < 0)
		target_fail("%s: the datagram is lost: %s", what, strerror(errno));
	if ((size_t)n != len || memcmp(buf, want, len))
		target_fail("%s: the datagram changed: %zd bytes, not %zu", what, n, len);
	if (!same_name(&ss, from))
		target_fail("%s: the datagram comes from port %u, not %u", what, port_of(&ss),
			    port_of(from));
}

static void check_udpqueue(void)
{
	char c;

	expect_dgram(fds[0], dgram, sizeof(dgram), &names[0], "the first datagram");
	expect_dgram(fds[0], "", 0, &names[1], "the empty datagram");
	expect_dgram(fds[0], big, sizeof(big), &names[2], "the 60000-byte datagram");
	expect_dgram(fds[0], "last", 4, &names[0], "the last datagram");
	if (recv(fds[0], &c, 1, MSG_DONTWAIT) >= 0 || errno != EAGAIN)
		target_fail("a datagram more than the four queued");
	expect_dgram(fds[3], "six", 3, &names[4], "the datagram on ::1");
	/* still connected: a datagram from its peer passes */
	send_or_fail(fds[4], "again", 5, &names[3]);
	wait_in(fds[3], "the connected socket");
	expect_dgram(fds[3], "again", 5, &names[4], "the datagram after the restore");
}

/* --- tcpconn: established connections for --tcp-established ------------- */

enum { TL, TC, TS, TO, TFULL_C, TFULL_S };	/* fds[]: listener, client, server, outside, full pair */
#define TC_TO_S		700	/* queued from fds[TC] to fds[TS], not read */
#define TS_TO_C		900	/* the other way */
#define FROM_OUTSIDE	1000	/* the harness's client sends this much first */
#define TO_OUTSIDE	2000	/* we answer with this much after the restore */

#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif

static uint8_t pat(size_t i, unsigned seed)
{
	return (uint8_t)(i * 13 + seed);
}

static void write_pat(int fd, size_t n, unsigned seed, const char *what)
{
	uint8_t buf[4096];

	for (size_t off = 0; off < n;) {
		size_t k = MIN(n - off, sizeof(buf));

		for (size_t j = 0; j < k; j++)
			buf[j] = pat(off + j, seed);
		ssize_t w = write(fd, buf, k);
		if (w <= 0)
			target_fail("%s: write: %s", what, strerror(errno));
		off += w;
	}
}

/* n bytes of pattern seed on fd, none missing or changed (10 s at most). */
static void read_pat(int fd, size_t n, unsigned seed, const char *what)
{
	uint8_t buf[4096];

	for (size_t off = 0; off < n;) {
		ssize_t r;

		wait_in(fd, what);
		r = read(fd, buf, MIN(n - off, sizeof(buf)));
		if (r < 0 && errno == EAGAIN)
			continue;
		if (r <= 0)
			target_fail("%s: %zu of %zu bytes came, then %s", what, off, n,
				    r ? strerror(errno) : "end of stream");
		for (ssize_t j = 0; j < r; j++)
			if (buf[j] != pat(off + j, seed))
				target_fail("%s: byte %zu changed", what, off + j);
		off += r;
	}
}

static size_t full_bytes;	/* written to fds[TFULL_C] until it would block */

/* argv: the port to listen on (127.0.0.1). A connection to itself with
 * bytes queued each way; another whose writer filled the reader's buffer
 * and its own send queue (non-blocking until EAGAIN); the harness's
 * client, accepted, its FROM_OUTSIDE bytes left queued. */
static void setup_tcpconn(const char *port)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(atoi(port)),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint8_t buf[65536];
	ssize_t w;

	fds[TL] = sock_or_fail(AF_INET, SOCK_STREAM);
	set_opt(fds[TL], SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
	if (bind(fds[TL], (struct sockaddr *)&in, sizeof(in)) < 0 || listen(fds[TL], 4) < 0)
		target_fail("listen on 127.0.0.1:%s: %s", port, strerror(errno));
	fds[TC] = sock_or_fail(AF_INET, SOCK_STREAM);
	if (connect(fds[TC], (struct sockaddr *)&in, sizeof(in)) < 0)
		target_fail("connect: %s", strerror(errno));
	fds[TS] = accept4(fds[TL], NULL, NULL, SOCK_CLOEXEC);
	if (fds[TS] < 0)
		target_fail("accept: %s", strerror(errno));
	set_opt(fds[TS], IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
	write_pat(fds[TC], TC_TO_S, 1, "client to server");
	write_pat(fds[TS], TS_TO_C, 2, "server to client");

	fds[TFULL_C] = sock_or_fail(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
	if (connect(fds[TFULL_C], (struct sockaddr *)&in, sizeof(in)) < 0 && errno != EINPROGRESS)
		target_fail("connect: %s", strerror(errno));
	fds[TFULL_S] = accept4(fds[TL], NULL, NULL, SOCK_CLOEXEC);
	if (fds[TFULL_S] < 0)
		target_fail("accept: %s", strerror(errno));
	for (;;) {
		for (size_t j = 0; j < sizeof(buf); j++)
			buf[j] = pat(full_bytes + j, 3);
		w = write(fds[TFULL_C], buf, sizeof(buf));
		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = fds[TFULL_C], .events = POLLOUT };

			if (poll(&p, 1, 200) == 1)	/* acks may still come */
				continue;
			break;
		}
		if (w <= 0)
			target_fail("filling a connection: %s", strerror(errno));
		full_bytes += w;
	}

	wait_in(fds[TL], "the harness's client");
	fds[TO] = accept4(fds[TL], NULL, NULL, SOCK_CLOEXEC);
	if (fds[TO] < 0)
		target_fail("accept the harness's client: %s", strerror(errno));
	/* its bytes all in before the dump: peek until they are */
	for (int i = 0; i < 100; i++) {
		int n = 0;

		if (ioctl(fds[TO], FIONREAD, &n) == 0 && n >= FROM_OUTSIDE)
			break;
		poll(NULL, 0, 100);
	}
	target_note("full %zu", full_bytes);
}

/* Every queued byte, in order, then more each way on every connection. */
static void check_tcpconn(void)
{
	read_pat(fds[TS], TC_TO_S, 1, "the bytes queued from client to server");
	read_pat(fds[TC], TS_TO_C, 2, "the bytes queued from server to client");
	check_pair(fds[TC], fds[TS], "the connection to itself, after the restore");
	read_pat(fds[TFULL_S], full_bytes, 3, "the full connection's bytes");
	read_pat(fds[TO], FROM_OUTSIDE, 4, "the bytes the harness's client sent");
	write_pat(fds[TO], TO_OUTSIDE, 5, "answer to the harness's client");
	read_pat(fds[TO], 3, 6, "the client's last bytes");
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "serve";

	target_init();
	if (!strcmp(mode, "serve")) {
		setup_serve();
	} else if (!strcmp(mode, "established")) {
		setup_established();
	} else if (!strcmp(mode, "udpqueue")) {
		setup_udpqueue();
	} else if (!strcmp(mode, "tcpconn") && argc > 2) {
		setup_tcpconn(argv[2]);
	} else {
		target_fail("unknown mode %s", mode);
	}
	target_ready();
	target_wait();
	if (!strcmp(mode, "serve")) {
		check_serve();
		answer_tcp(T4, "tcp4");
		answer_tcp(T6, "tcp6");
		answer_udp();
	} else if (!strcmp(mode, "established")) {
		check_pair(fds[1], fds[2], "the TCP connection");
	} else if (!strcmp(mode, "tcpconn")) {
		check_tcpconn();
	} else {
		check_udpqueue();
	}
	target_pass();
	return 0;
}
