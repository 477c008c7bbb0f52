/* TCP and UDP sockets a restore must bring back, or refuse by name.
 *
 *	sockets [serve|established|udpqueue]
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
 * each way); udpqueue, a bound UDP socket with a datagram sent to itself
 * (still queued). Unix sockets have a target of their own, unixsk.c. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include "target.h"

enum { T4, T6, U4, U6, UC, NR };

static int fds[NR];
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

static void setup_udpqueue(void)
{
	socklen_t len = sizeof(names[0]);

	fds[0] = sock_or_fail(AF_INET, SOCK_DGRAM);
	bind_lo(fds[0], AF_INET);
	if (getsockname(fds[0], (struct sockaddr *)&names[0], &len) < 0 ||
	    sendto(fds[0], dgram, sizeof(dgram), 0, (struct sockaddr *)&names[0], len) < 0)
		target_fail("send to itself: %s", strerror(errno));
	wait_in(fds[0], "udpqueue");
}

static void check_udpqueue(void)
{
	char buf[64];

	if (recv(fds[0], buf, sizeof(buf), MSG_DONTWAIT) != sizeof(dgram) ||
	    memcmp(buf, dgram, sizeof(dgram)) != 0)
		target_fail("the queued datagram is lost or changed");
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
	} else {
		check_udpqueue();
	}
	target_pass();
	return 0;
}
