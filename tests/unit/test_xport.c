/* client/xport.c over 127.0.0.1 (port 0), the peer in a thread: TLS and
 * plaintext round trips, peers without the right certificate refused both
 * ways, the option and file checks, and a peer that is gone or silent.
 * The certificates are tests/certs/ (make-certs.sh). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/xport.h"
#include "common/util.h"

#ifndef XPORT_CERTS
#define XPORT_CERTS "tests/certs"
#endif
#define CERT(name) XPORT_CERTS "/" name

#define BIG	(1u << 20)

static const struct xport_tls server_tls = {
	.cacert = CERT("ca.pem"), .cert = CERT("server.pem"), .key = CERT("server-key.pem") };
static const struct xport_tls client_tls = {
	.cacert = CERT("ca.pem"), .cert = CERT("client.pem"), .key = CERT("client-key.pem") };
/* signed by other-ca, but trusting ours: only its own certificate is wrong */
static const struct xport_tls other_tls = {
	.cacert = CERT("ca.pem"), .cert = CERT("other.pem"), .key = CERT("other-key.pem") };
static const struct xport_tls plain_tls = { .plaintext = true };

enum serve { SERVE_ECHO, SERVE_CLOSE, SERVE_WAIT };

/* The peer: accepts one connection on lfd, then does what serve says. */
struct server {
	pthread_t thread;
	int lfd;
	unsigned port;
	char where[64];
	struct xport_tls tls;
	enum serve serve;
	int accept_timeout_ms;
	int r;			/* xport_accept's answer */
	int io;			/* the echo's answer */
	struct ckpt_err err;
	char peer[512];
};

/* BIG bytes in, each xored with 0x5a back out. */
static int echo(struct xport *x)
{
	_cleanup_free_ unsigned char *buf = malloc(BIG);
	int r;

	if (!buf)
		return -ENOMEM;
	r = xport_recv(x, buf, BIG, 5000);
	if (r < 0)
		return r;
	for (size_t i = 0; i < BIG; i++)
		buf[i] ^= 0x5a;
	return xport_send(x, buf, BIG);
}

static void *serve(void *arg)
{
	struct server *s = arg;
	struct xport *x = NULL;
	char c;

	s->r = xport_accept(s->lfd, &s->tls, s->accept_timeout_ms, &x, &s->err);
	if (s->r < 0)
		return NULL;
	snprintf(s->peer, sizeof(s->peer), "%s", xport_peer(x));
	if (s->serve == SERVE_ECHO && (s->io = echo(x)) == 0)
		xport_recv(x, &c, 1, 5000);	/* open until the client goes */
	else if (s->serve == SERVE_WAIT)	/* until the client goes */
		s->io = xport_recv(x, &c, 1, 5000);
	xport_close(x);
	return NULL;
}

static void server_start(struct server *s, const char *addr, const struct xport_tls *tls,
			 enum serve what)
{
	struct ckpt_err err = { 0 };
	int r;

	*s = (struct server){ .tls = *tls, .serve = what, .accept_timeout_ms = 5000 };
	r = xport_listen(addr, &s->lfd, &s->port, &err);
	cr_assert_eq(r, 0, "xport_listen %s: %d %s", addr, r, err.msg);
	cr_assert_gt(s->port, 0);
	cr_assert(fcntl(s->lfd, F_GETFD) & FD_CLOEXEC, "the listening socket is not O_CLOEXEC");
	snprintf(s->where, sizeof(s->where), addr[0] == '[' ? "[::1]:%u" : "127.0.0.1:%u",
		 s->port);
	cr_assert_eq(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_join(struct server *s)
{
	pthread_join(s->thread, NULL);
	close(s->lfd);
}

static void fill(unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 7 + (i >> 11));
}

static int sockopt(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	cr_assert_eq(getsockopt(fd, level, name, &v, &len), 0);
	return v;
}

/* Our TCP connection to or from port (found among this process's fds) is
 * close-on-exec, with no Nagle delay, keepalive and the user timeout. */
static void check_tuned(unsigned port, bool ours_is_local)
{
	int found = 0;

	for (int fd = 3; fd < 256; fd++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int r = ours_is_local ? getsockname(fd, (struct sockaddr *)&ss, &len) :
			getpeername(fd, (struct sockaddr *)&ss, &len);

		if (r < 0 || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
		    ntohs(((struct sockaddr_in *)&ss)->sin_port) != port ||
		    sockopt(fd, SOL_SOCKET, SO_ACCEPTCONN))
			continue;
		found++;
		cr_expect(fcntl(fd, F_GETFD) & FD_CLOEXEC, "fd %d is not O_CLOEXEC", fd);
		cr_expect_eq(sockopt(fd, IPPROTO_TCP, TCP_NODELAY), 1);
		cr_expect_eq(sockopt(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
		cr_expect_eq(sockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT), XPORT_DEAD_MS);
		cr_expect_leq(sockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE) +
			      sockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL) *
			      sockopt(fd, IPPROTO_TCP, TCP_KEEPCNT), XPORT_DEAD_MS / 1000);
	}
	cr_assert_eq(found, 1, "connections on port %u: %d", port, found);
}

/* A client sends BIG bytes and must get them back xored. */
static void round_trip(const char *addr, const struct xport_tls *stls,
		       const struct xport_tls *ctls)
{
	_cleanup_free_ unsigned char *out = malloc(BIG), *in = malloc(BIG);
	struct ckpt_err err = { 0 };
	struct server s;
	struct xport *x = NULL;
	int r;

	cr_assert(out && in);
	fill(out, BIG);
	server_start(&s, addr, stls, SERVE_ECHO);
	r = xport_connect(s.where, ctls, 5000, &x, &err);
	cr_assert_eq(r, 0, "xport_connect %s: %d %s", s.where, r, err.msg);
	cr_assert_eq(xport_send(x, out, BIG), 0, "%s", xport_errmsg(x));
	cr_assert_eq(xport_recv(x, in, BIG, 5000), 0, "%s", xport_errmsg(x));
	/* both ends, while both are open: the server's is in this process too */
	check_tuned(s.port, false);
	check_tuned(s.port, true);
	for (size_t i = 0; i < BIG; i++)
		if (in[i] != (out[i] ^ 0x5a))
			cr_assert_fail("byte %zu: got 0x%02x, want 0x%02x", i, in[i], out[i] ^ 0x5a);
	if (!ctls->plaintext)
		cr_expect(strstr(xport_peer(x), "CN=ckpt test server"), "peer: %s", xport_peer(x));
	xport_close(x);
	server_join(&s);
	cr_assert_eq(s.r, 0, "xport_accept: %d %s", s.r, s.err.msg);
	cr_assert_eq(s.io, 0);
	if (!ctls->plaintext)
		cr_expect(strstr(s.peer, "CN=ckpt test client"), "peer: %s", s.peer);
	cr_expect(!strncmp(s.peer, addr[0] == '[' ? "[::1]:" : "127.0.0.1:", addr[0] == '[' ? 6 : 10),
		  "peer: %s", s.peer);
}

Test(xport, tls_round_trip)
{
	round_trip("127.0.0.1:0", &server_tls, &client_tls);
}

Test(xport, plaintext_round_trip)
{
	round_trip("127.0.0.1:0", &plain_tls, &plain_tls);
}

Test(xport, ipv6_round_trip)
{
	struct ckpt_err err = { 0 };
	unsigned port;
	int fd, r;

	r = xport_listen("[::1]:0", &fd, &port, &err);
	if (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT)
		cr_skip_test("no IPv6 loopback here");
	cr_assert_eq(r, 0, "%s", err.msg);
	close(fd);
	round_trip("[::1]:0", &server_tls, &client_tls);
}

/* The client's certificate is signed by another CA: the server refuses it
 * (and reads nothing), and the client learns so in xport_connect. */
Test(xport, server_refuses_client_of_other_ca)
{
	struct ckpt_err err = { 0 };
	struct server s;
	struct xport *x = NULL;
	int r;

	server_start(&s, "127.0.0.1:0", &server_tls, SERVE_ECHO);
	r = xport_connect(s.where, &other_tls, 5000, &x, &err);
	server_join(&s);
	cr_assert_eq(s.r, -EACCES, "xport_accept: %d %s", s.r, s.err.msg);
	cr_expect(strstr(s.err.msg, "not signed by --tls-cacert " CERT("ca.pem")), "%s", s.err.msg);
	cr_expect(strstr(s.err.msg, "CN=ckpt test other"), "%s", s.err.msg);
	cr_expect(strstr(s.err.msg, "127.0.0.1:"), "%s", s.err.msg);
	cr_assert_eq(r, -EACCES, "xport_connect: %d %s", r, err.msg);
	cr_assert_null(x);
	cr_expect(strstr(err.msg, "refused our certificate (--tls-cert " CERT("other.pem")),
		  "%s", err.msg);
}

/* The server's certificate is signed by another CA: the client refuses it. */
Test(xport, client_refuses_server_of_other_ca)
{
	struct ckpt_err err = { 0 };
	struct server s;
	struct xport *x = NULL;
	int r;

	server_start(&s, "127.0.0.1:0", &other_tls, SERVE_ECHO);
	r = xport_connect(s.where, &client_tls, 5000, &x, &err);
	server_join(&s);
	cr_assert_eq(r, -EACCES, "xport_connect: %d %s", r, err.msg);
	cr_assert_null(x);
	cr_expect(strstr(err.msg, "not signed by --tls-cacert " CERT("ca.pem")), "%s", err.msg);
	cr_expect(strstr(err.msg, s.where), "%s", err.msg);
	cr_assert_eq(s.r, -EACCES, "xport_accept: %d %s", s.r, s.err.msg);
	cr_expect(strstr(s.err.msg, "refused our certificate"), "%s", s.err.msg);
}

/* A plaintext client at a TLS server: refused, with a hint. */
Test(xport, plaintext_client_at_tls_server)
{
	struct ckpt_err err = { 0 };
	struct server s;
	struct xport *x = NULL;
	char junk[16] = "CKMG";
	int r;

	server_start(&s, "127.0.0.1:0", &server_tls, SERVE_ECHO);
	r = xport_connect(s.where, &plain_tls, 5000, &x, &err);
	cr_assert_eq(r, 0, "%s", err.msg);
	xport_send(x, junk, sizeof(junk));
	server_join(&s);
	xport_close(x);
	cr_assert_lt(s.r, 0);
	cr_expect(strstr(s.err.msg, "--insecure-plaintext"), "%s", s.err.msg);
}

Test(xport, check_needs_every_option)
{
	struct xport_tls none = { 0 }, only_ca = { .cacert = CERT("ca.pem") };
	struct ckpt_err err = { 0 }, err2 = { 0 };

	cr_assert_eq(xport_tls_check(&none, &err), -EINVAL);
	cr_expect(strstr(err.msg, "--tls-cacert"), "%s", err.msg);
	cr_expect(strstr(err.msg, "--insecure-plaintext"), "%s", err.msg);
	cr_assert_eq(xport_tls_check(&only_ca, &err2), -EINVAL);
	cr_expect(strstr(err2.msg, "--tls-cert is missing"), "%s", err2.msg);
	cr_assert_eq(xport_tls_check(&plain_tls, NULL), 0);
	cr_assert_eq(xport_tls_check(&server_tls, NULL), 0);
	cr_assert_eq(xport_tls_check(&client_tls, NULL), 0);
}

Test(xport, check_names_the_bad_file)
{
	char dir[] = "/tmp/test-xport.XXXXXX", junk[64], cmd[128];
	struct xport_tls tls = client_tls;
	struct ckpt_err e1 = { 0 }, e2 = { 0 }, e3 = { 0 }, e4 = { 0 }, e5 = { 0 };
	FILE *f;

	tls.cert = "/nonexistent/client.pem";
	cr_assert_eq(xport_tls_check(&tls, &e1), -ENOENT);
	cr_expect(strstr(e1.msg, "--tls-cert /nonexistent/client.pem"), "%s", e1.msg);

	cr_assert_not_null(mkdtemp(dir));
	snprintf(junk, sizeof(junk), "%s/junk.pem", dir);
	f = fopen(junk, "w");
	cr_assert_not_null(f);
	fputs("-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n", f);
	fclose(f);
	tls = client_tls;
	tls.cert = junk;
	cr_assert_eq(xport_tls_check(&tls, &e2), -EINVAL);
	cr_expect(strstr(e2.msg, "--tls-cert ") && strstr(e2.msg, junk), "%s", e2.msg);
	tls = client_tls;
	tls.cacert = junk;
	cr_assert_eq(xport_tls_check(&tls, &e3), -EINVAL);
	cr_expect(strstr(e3.msg, "--tls-cacert ") && strstr(e3.msg, junk), "%s", e3.msg);
	tls = client_tls;
	tls.key = junk;
	cr_assert_eq(xport_tls_check(&tls, &e4), -EINVAL);
	cr_expect(strstr(e4.msg, "--tls-key ") && strstr(e4.msg, junk), "%s", e4.msg);
	tls = client_tls;
	tls.key = CERT("server-key.pem");
	cr_assert_eq(xport_tls_check(&tls, &e5), -EINVAL);
	cr_expect(strstr(e5.msg, "server-key.pem is not the key of --tls-cert"), "%s", e5.msg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

/* A bad file is said before any connection is tried (port 1 would refuse
 * it) or any peer waited for. */
Test(xport, bad_file_before_the_network)
{
	struct xport_tls tls = client_tls;
	struct ckpt_err err = { 0 }, err2 = { 0 };
	struct xport *x = NULL;
	unsigned port;
	int fd;

	tls.key = "/nonexistent/key.pem";
	cr_assert_eq(xport_connect("127.0.0.1:1", &tls, 1000, &x, &err), -ENOENT);
	cr_assert_null(x);
	cr_expect(strstr(err.msg, "--tls-key /nonexistent/key.pem"), "%s", err.msg);
	cr_assert_eq(xport_listen("127.0.0.1:0", &fd, &port, &err2), 0);
	cr_assert_eq(xport_accept(fd, &tls, 5000, &x, &err2), -ENOENT);
	cr_expect(strstr(err2.msg, "--tls-key /nonexistent/key.pem"), "%s", err2.msg);
	close(fd);
}

Test(xport, bad_addresses)
{
	static const char *const bad[] = { "", "7000", "localhost", "::1:7000", "[::1]7000",
					   "[::1", "1.2.3.4:", "1.2.3.4:99999", "1.2.3.4:7x",
					   ":7000" };
	struct xport *x = NULL;
	unsigned port;
	int fd;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct ckpt_err e1 = { 0 }, e2 = { 0 };

		cr_expect_eq(xport_listen(bad[i], &fd, &port, &e1), -EINVAL, "'%s'", bad[i]);
		cr_expect_eq(xport_connect(bad[i], &plain_tls, 100, &x, &e2), -EINVAL, "'%s'",
			     bad[i]);
		if (bad[i][0])
			cr_expect(strstr(e1.msg, bad[i]), "%s", e1.msg);
	}
}

Test(xport, connect_refused)
{
	struct ckpt_err err = { 0 };
	struct xport *x = NULL;
	unsigned port;
	char where[64];
	int fd;

	/* a port that was free a moment ago */
	cr_assert_eq(xport_listen("127.0.0.1:0", &fd, &port, &err), 0);
	close(fd);
	snprintf(where, sizeof(where), "127.0.0.1:%u", port);
	cr_assert_eq(xport_connect(where, &client_tls, 2000, &x, &err), -ECONNREFUSED);
	cr_expect(strstr(err.msg, where), "%s", err.msg);
}

Test(xport, accept_times_out)
{
	struct ckpt_err err = { 0 };
	struct xport *x = NULL;
	uint64_t t0;
	unsigned port;
	int fd;

	cr_assert_eq(xport_listen("127.0.0.1:0", &fd, &port, &err), 0);
	t0 = now_us();
	cr_assert_eq(xport_accept(fd, &server_tls, 200, &x, &err), -ETIMEDOUT);
	cr_expect_lt(now_us() - t0, 2000000);
	close(fd);
}

/* The peer closes: a recv says -ECONNRESET, a send fails without SIGPIPE. */
static void peer_closes(const struct xport_tls *stls, const struct xport_tls *ctls)
{
	_cleanup_free_ char *buf = calloc(1, BIG);
	struct ckpt_err err = { 0 };
	struct server s;
	struct xport *x = NULL;
	int r;

	cr_assert_not_null(buf);
	server_start(&s, "127.0.0.1:0", stls, SERVE_CLOSE);
	cr_assert_eq(xport_connect(s.where, ctls, 5000, &x, &err), 0, "%s", err.msg);
	server_join(&s);
	cr_assert_eq(s.r, 0, "%s", s.err.msg);
	cr_assert_eq(xport_recv(x, buf, 10, 5000), -ECONNRESET);
	cr_expect(strstr(xport_errmsg(x), "127.0.0.1:"), "%s", xport_errmsg(x));
	/* SIGPIPE would end this process here */
	for (int i = 0; i < 8 && (r = xport_send(x, buf, BIG)) == 0; i++)
		;
	cr_assert(r == -EPIPE || r == -ECONNRESET, "send: %d %s", r, xport_errmsg(x));
	xport_close(x);
}

Test(xport, tls_peer_closes)
{
	peer_closes(&server_tls, &client_tls);
}

Test(xport, plaintext_peer_closes)
{
	peer_closes(&plain_tls, &plain_tls);
}

static void recv_times_out(const struct xport_tls *tls)
{
	struct ckpt_err err = { 0 };
	struct server s;
	struct xport *x = NULL;
	uint64_t t0;
	char c;

	server_start(&s, "127.0.0.1:0", tls, SERVE_WAIT);
	cr_assert_eq(xport_connect(s.where, tls == &plain_tls ? tls : &client_tls, 5000, &x, &err),
		     0, "%s", err.msg);
	t0 = now_us();
	cr_assert_eq(xport_recv(x, &c, 1, 200), -ETIMEDOUT);
	cr_expect_geq(now_us() - t0, 150000);
	cr_expect_lt(now_us() - t0, 2000000);
	xport_close(x);
	server_join(&s);
	cr_assert_eq(s.io, -ECONNRESET, "server's recv: %d", s.io);
}

Test(xport, tls_recv_times_out)
{
	recv_times_out(&server_tls);
}

Test(xport, plaintext_recv_times_out)
{
	recv_times_out(&plain_tls);
}
