/* Unix sockets a restore must bring back whole, or refuse by name.
 *
 *	unixsk [all|scm|outside|hold PATH]
 *
 * all (the default) holds, with data queued both ways and checked byte
 * for byte after SIGUSR1 (message boundaries by recv sizes):
 *  - a stream socketpair (SO_SNDBUF set on one end, O_NONBLOCK on the other),
 *  - a dgram socketpair (messages of 1, 0, 300, 4096, 60000 and 0 bytes one
 *    way, SO_PASSCRED on the receiver),
 *  - a seqpacket socketpair, one end shut down for writing after sending
 *    (the other reads its messages, an empty one among them, then EOF),
 *  - a stream socketpair split across this process and a child,
 *  - a listener bound to DIR/unixsk.sock (DIR: $UNIXSK_DIR, else the status
 *    file's directory) with one connection accepted and one not yet,
 *  - a dgram server bound to the abstract name "@ckpt-unixsk-PID" with
 *    two clients connected to it, one unbound, one bound to
 *    STATUSDIR/unixsk-dg.sock; datagrams queued at the server from both, and
 *    at the bound client from the server,
 *  - a stream socketpair whose other end was closed after writing (the
 *    survivor reads the bytes, then end-of-file).
 * After the checks every pair talks both ways again, the pending
 * connection is accepted and a new client is served.
 *
 * scm: a socketpair with an fd in flight (SCM_RIGHTS, not received);
 * outside: a socketpair whose other end a process outside the tree holds
 * (a grandchild left to init; its pid in $CKPT_STATUS.outside; it echoes
 * and leaves at end-of-file). After SIGUSR1 each checks it is still whole.
 * hold PATH: a listener bound to PATH, until killed. */
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "target.h"

#define BIG 70000

static char buf[BIG];

static void fill(char *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (char)(seed * 131 + i * 7 + (i >> 8));
}

static void send_or_fail(int fd, const void *p, size_t n, const char *what)
{
	ssize_t r = send(fd, p, n, MSG_NOSIGNAL);

	if (r != (ssize_t)n)
		target_fail("%s: send %zu bytes: %zd (%s)", what, n, r, strerror(errno));
}

static void send_msgs(int fd, const size_t *sizes, int n, unsigned seed, const char *what)
{
	char m[BIG];

	for (int i = 0; i < n; i++) {
		fill(m, sizes[i], seed + i);
		send_or_fail(fd, m, sizes[i], what);
	}
}

/* Each message as sent, whole, then nothing (EAGAIN, or eof: 0). */
static void expect_msgs(int fd, const size_t *sizes, int n, unsigned seed, bool eof,
			const char *what)
{
	char want[BIG];
	ssize_t r;

	for (int i = 0; i < n; i++) {
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (r != (ssize_t)sizes[i])
			target_fail("%s: message %d: %zd bytes, not %zu (%s)", what, i, r, sizes[i],
				    r < 0 ? strerror(errno) : "boundary lost");
		fill(want, sizes[i], seed + i);
		if (memcmp(buf, want, sizes[i]))
			target_fail("%s: message %d differs", what, i);
	}
	r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (eof ? r != 0 : !(r < 0 && errno == EAGAIN))
		target_fail("%s: after the messages: %zd (%s), not %s", what, r,
			    r < 0 ? strerror(errno) : "data", eof ? "end-of-file" : "EAGAIN");
}

/* n bytes of pattern seed on a stream, then nothing queued. */
static void expect_stream(int fd, size_t n, unsigned seed, const char *what)
{
	static char got[4 * BIG], want[4 * BIG];
	size_t have = 0;
	ssize_t r;

	while (have < n) {
		r = recv(fd, got + have, n - have, MSG_DONTWAIT);
		if (r <= 0)
			target_fail("%s: %zu of %zu bytes, then %zd (%s)", what, have, n, r,
				    r < 0 ? strerror(errno) : "eof");
		have += r;
	}
	fill(want, n, seed);
	for (size_t i = 0; i < n; i++)
		if (got[i] != want[i])
			target_fail("%s: byte %zu differs", what, i);
	r = recv(fd, got, 1, MSG_DONTWAIT);
	if (!(r < 0 && errno == EAGAIN))
		target_fail("%s: more than %zu bytes queued (%zd)", what, n, r);
}

static void send_stream(int fd, size_t n, unsigned seed, const char *what)
{
	static char m[4 * BIG];

	fill(m, n, seed);
	send_or_fail(fd, m, n, what);
}

/* One short line each way, blocking (with a timeout). */
static void talk(int a, int b, const char *what)
{
	struct pollfd p = { .fd = b, .events = POLLIN };
	char got[16] = "";

	send_or_fail(a, "ping", 4, what);
	if (poll(&p, 1, 5000) != 1 || recv(b, got, sizeof(got), 0) != 4 || memcmp(got, "ping", 4))
		target_fail("%s: no ping after restore", what);
	p.fd = a;
	send_or_fail(b, "pong", 4, what);
	if (poll(&p, 1, 5000) != 1 || recv(a, got, sizeof(got), 0) != 4 || memcmp(got, "pong", 4))
		target_fail("%s: no pong after restore", what);
}

static int get_opt(int fd, int opt)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, opt, &v, &len) < 0)
		target_fail("getsockopt %d: %s", opt, strerror(errno));
	return v;
}

static socklen_t addr_path(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", path);
	return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

static socklen_t addr_abstract(struct sockaddr_un *sa)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "ckpt-unixsk-%d", getpid());
	return offsetof(struct sockaddr_un, sun_path) + 1 + n;
}

static int sock(int type)
{
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		target_fail("socket: %s", strerror(errno));
	return fd;
}

static void same_name(int fd, bool peer, const struct sockaddr_un *want, socklen_t wlen,
		      const char *what)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	int r = peer ? getpeername(fd, (struct sockaddr *)&sa, &len) :
		       getsockname(fd, (struct sockaddr *)&sa, &len);

	if (r < 0 || len != wlen || memcmp(&sa, want, len))
		target_fail("%s: %s is not as before (%s)", what, peer ? "peer name" : "name",
			    r < 0 ? strerror(errno) : "differs");
}

/* --- all -------------------------------------------------------------------- */

static const size_t dg_ab[] = { 1, 0, 300, 4096, 60000, 0 }, dg_ba[] = { 7 };
static const size_t sq_ab[] = { 10, 2000, 0, 5 }, sq_ba[] = { 3, 1 };
static const size_t ab_srv[] = { 100, 0, 33, 9 }, srv_cl2[] = { 12, 0 };
#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

static int s[2], d[2], q[2], x[2], e[2], lst, c1, a1, c2, srv, cl, cl2, sndbuf, nbflags;
static pid_t child;
static char lpath[sizeof(((struct sockaddr_un *)0)->sun_path)], dpath[sizeof(lpath)];

static void child_main(void)
{
	close(x[0]);
	send_stream(x[1], 2000, 41, "child to parent");
	target_wait();
	expect_stream(x[1], 3000, 40, "parent to child (in the child)");
	send_or_fail(x[1], "child ok", 8, "child");
	_exit(0);
}

static void setup_all(void)
{
	struct sockaddr_un sa;
	socklen_t len;
	int inq = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) < 0 ||
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, d) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, q) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, x) < 0)
		target_fail("socketpair: %s", strerror(errno));
	if (setsockopt(s[0], SOL_SOCKET, SO_SNDBUF, &(int){ 300000 }, sizeof(int)) < 0 ||
	    fcntl(s[1], F_SETFL, O_NONBLOCK) < 0 ||
	    setsockopt(d[1], SOL_SOCKET, SO_PASSCRED, &(int){ 1 }, sizeof(int)) < 0)
		target_fail("options: %s", strerror(errno));
	sndbuf = get_opt(s[0], SO_SNDBUF);
	nbflags = fcntl(s[1], F_GETFL);
	send_stream(s[0], 151000, 1, "stream a->b");
	send_stream(s[1], 5000, 3, "stream b->a");
	send_msgs(d[0], dg_ab, N(dg_ab), 10, "dgram a->b");
	send_msgs(d[1], dg_ba, N(dg_ba), 20, "dgram b->a");
	send_msgs(q[0], sq_ab, N(sq_ab), 30, "seqpacket a->b");
	send_msgs(q[1], sq_ba, N(sq_ba), 35, "seqpacket b->a");
	if (shutdown(q[0], SHUT_WR) < 0)
		target_fail("shutdown: %s", strerror(errno));

	send_stream(x[0], 3000, 40, "parent to child");
	child = fork();
	if (child < 0)
		target_fail("fork: %s", strerror(errno));
	if (child == 0)
		child_main();
	close(x[1]);
	for (int i = 0; i < 500 && inq < 2000; i++) {
		if (ioctl(x[0], FIONREAD, &inq) < 0)
			target_fail("FIONREAD: %s", strerror(errno));
		usleep(10000);
	}
	if (inq != 2000)
		target_fail("the child did not send its bytes");

	snprintf(lpath, sizeof(lpath), "%.90s/unixsk.sock", getenv("UNIXSK_DIR") ?: target_dir());
	unlink(lpath);
	len = addr_path(&sa, lpath);
	lst = sock(SOCK_STREAM);
	c1 = sock(SOCK_STREAM);
	c2 = sock(SOCK_STREAM);
	if (bind(lst, (struct sockaddr *)&sa, len) < 0 || listen(lst, 4) < 0 ||
	    connect(c1, (struct sockaddr *)&sa, len) < 0 ||
	    (a1 = accept4(lst, NULL, NULL, SOCK_CLOEXEC)) < 0 ||
	    connect(c2, (struct sockaddr *)&sa, len) < 0)
		target_fail("listen on %s: %s", lpath, strerror(errno));
	send_stream(c1, 500, 50, "client to server");
	send_stream(a1, 700, 51, "server to client");

	len = addr_abstract(&sa);
	srv = sock(SOCK_DGRAM);
	cl = sock(SOCK_DGRAM);
	if (bind(srv, (struct sockaddr *)&sa, len) < 0 ||
	    connect(cl, (struct sockaddr *)&sa, len) < 0)
		target_fail("abstract dgram: %s", strerror(errno));
	send_msgs(cl, ab_srv, N(ab_srv) - 1, 60, "dgram client to server");
	snprintf(dpath, sizeof(dpath), "%.90s/unixsk-dg.sock", target_dir());
	unlink(dpath);
	cl2 = sock(SOCK_DGRAM);
	len = addr_path(&sa, dpath);
	if (bind(cl2, (struct sockaddr *)&sa, len) < 0)
		target_fail("bind %s: %s", dpath, strerror(errno));
	len = addr_abstract(&sa);
	if (connect(cl2, (struct sockaddr *)&sa, len) < 0)
		target_fail("connect to the abstract dgram server: %s", strerror(errno));
	send_msgs(cl2, ab_srv + 3, 1, 63, "second dgram client to server");
	len = addr_path(&sa, dpath);
	for (int i = 0; i < N(srv_cl2); i++) {
		fill(buf, srv_cl2[i], 70 + i);
		if (sendto(srv, buf, srv_cl2[i], 0, (struct sockaddr *)&sa, len) !=
		    (ssize_t)srv_cl2[i])
			target_fail("dgram server to %s: %s", dpath, strerror(errno));
	}

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, e) < 0)
		target_fail("socketpair: %s", strerror(errno));
	send_stream(e[1], 100, 80, "stream to a closing end");
	close(e[1]);
}

static void check_all(void)
{
	struct sockaddr_un sa, sa2;
	socklen_t len;
	char got[16] = "";
	int status, a2, c3, a3;

	if (get_opt(s[0], SO_SNDBUF) != sndbuf || fcntl(s[1], F_GETFL) != nbflags ||
	    !get_opt(d[1], SO_PASSCRED) || get_opt(d[0], SO_PASSCRED) || get_opt(q[1], SO_PASSCRED))
		target_fail("an option or flag changed: sndbuf %d (was %d), flags 0%o (was 0%o), "
			    "passcred %d", get_opt(s[0], SO_SNDBUF), sndbuf, fcntl(s[1], F_GETFL),
			    nbflags, get_opt(d[1], SO_PASSCRED));
	expect_stream(s[1], 151000, 1, "stream a->b");
	expect_stream(s[0], 5000, 3, "stream b->a");
	talk(s[0], s[1], "stream pair");
	expect_msgs(d[1], dg_ab, N(dg_ab), 10, false, "dgram a->b");
	expect_msgs(d[0], dg_ba, N(dg_ba), 20, false, "dgram b->a");
	talk(d[0], d[1], "dgram pair");
	expect_msgs(q[1], sq_ab, N(sq_ab), 30, true, "seqpacket a->b");
	expect_msgs(q[0], sq_ba, N(sq_ba), 35, false, "seqpacket b->a");
	if (send(q[0], "x", 1, MSG_NOSIGNAL) >= 0 || errno != EPIPE)
		target_fail("seqpacket: the end shut down for writing can write");
	send_or_fail(q[1], "y", 1, "seqpacket b->a after restore");
	if (recv(q[0], got, 1, 0) != 1 || got[0] != 'y')
		target_fail("seqpacket: b->a after restore lost");

	expect_stream(x[0], 2000, 41, "child to parent");
	kill(child, SIGUSR1);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
		target_fail("the child failed (status 0x%x): see the status file history", status);
	if (recv(x[0], got, sizeof(got), MSG_DONTWAIT) != 8 || memcmp(got, "child ok", 8))
		target_fail("the child did not answer");

	len = addr_path(&sa, lpath);
	same_name(lst, false, &sa, len, "listener");
	expect_stream(a1, 500, 50, "client to server");
	expect_stream(c1, 700, 51, "server to client");
	talk(c1, a1, "accepted connection");
	if (poll(&(struct pollfd){ .fd = lst, .events = POLLIN }, 1, 0) != 1 ||
	    (a2 = accept4(lst, NULL, NULL, SOCK_CLOEXEC)) < 0)
		target_fail("the pending connection is gone: %s", strerror(errno));
	talk(c2, a2, "connection accepted after restore");
	if (poll(&(struct pollfd){ .fd = lst, .events = POLLIN }, 1, 0) != 0)
		target_fail("more than one pending connection");
	c3 = sock(SOCK_STREAM);
	if (connect(c3, (struct sockaddr *)&sa, len) < 0 || (a3 = accept4(lst, NULL, NULL, 0)) < 0)
		target_fail("a new client of %s: %s", lpath, strerror(errno));
	talk(c3, a3, "new connection");

	len = addr_abstract(&sa2);
	same_name(srv, false, &sa2, len, "abstract dgram server");
	same_name(cl, true, &sa2, len, "its client");
	expect_msgs(srv, ab_srv, N(ab_srv), 60, false, "dgram clients to server");
	expect_msgs(cl2, srv_cl2, N(srv_cl2), 70, false, "dgram server to a bound client");
	len = addr_path(&sa, dpath);
	same_name(cl2, false, &sa, len, "the bound dgram client");
	send_or_fail(cl, "again", 5, "dgram client");
	if (recv(srv, got, sizeof(got), 0) != 5 || memcmp(got, "again", 5))
		target_fail("dgram server: no datagram after restore");
	if (sendto(srv, "back", 4, 0, (struct sockaddr *)&sa, len) != 4 ||
	    recv(cl2, got, sizeof(got), 0) != 4 || memcmp(got, "back", 4))
		target_fail("dgram server to %s after restore: %s", dpath, strerror(errno));

	{
		char want[100];
		ssize_t r = recv(e[0], buf, sizeof(buf), MSG_DONTWAIT);

		fill(want, sizeof(want), 80);
		if (r != 100 || memcmp(buf, want, 100))
			target_fail("stream from a closed end: %zd bytes (%s)", r,
				    r < 0 ? strerror(errno) : "not as sent");
		r = recv(e[0], buf, 1, MSG_DONTWAIT);
		if (r != 0)
			target_fail("stream from a closed end: no end-of-file (%zd)", r);
	}
}

/* --- refusals ----------------------------------------------------------------- */

static int p[2], nullfd;

static void check_outside(void)
{
	char b = 0;

	if (write(p[0], "e", 1) != 1 || read(p[0], &b, 1) != 1 || b != 'e')
		target_fail("the process outside does not echo");
}

static void setup_scm(void)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = "f", .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0)
		target_fail("socketpair: %s", strerror(errno));
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &nullfd, sizeof(int));
	if (nullfd < 0 || sendmsg(p[0], &m, 0) != 1)
		target_fail("SCM_RIGHTS: %s", strerror(errno));
	close(nullfd);
}

static void check_scm(void)
{
	char cbuf[CMSG_SPACE(sizeof(int))], b;
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	struct stat st;
	int fd;

	if (recvmsg(p[1], &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1 || b != 'f')
		target_fail("the message with an fd is gone: %s", strerror(errno));
	c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		target_fail("the fd in flight is gone");
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode))
		target_fail("the fd in flight is not /dev/null");
	if (recv(p[1], &b, 1, MSG_DONTWAIT) >= 0 || errno != EAGAIN)
		target_fail("more was queued");
}

/* The grandchild notes its pid, then echoes until end-of-file. */
static void echo_main(void)
{
	char path[4200], b;
	FILE *f;

	close(p[0]);
	snprintf(path, sizeof(path), "%s.outside", getenv("CKPT_STATUS") ?: "target.status");
	f = fopen(path, "w");
	if (!f)
		_exit(1);
	fprintf(f, "%d\n", getpid());
	fclose(f);
	while (read(p[1], &b, 1) == 1 && write(p[1], &b, 1) == 1)
		;
	_exit(0);
}

static void setup_outside(void)
{
	pid_t pid, g;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0)
		target_fail("socketpair: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		g = fork();
		if (g == 0)
			echo_main();
		_exit(g < 0);
	}
	if (pid < 0 || waitpid(pid, NULL, 0) != pid)
		target_fail("fork");
	close(p[1]);
	check_outside();	/* its pid is noted once it echoes */
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "all";

	target_init();
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(mode, "hold") && argc > 2) {
		struct sockaddr_un sa;
		socklen_t len = addr_path(&sa, argv[2]);
		int l = sock(SOCK_STREAM);

		if (bind(l, (struct sockaddr *)&sa, len) < 0 || listen(l, 1) < 0)
			target_fail("hold %s: %s", argv[2], strerror(errno));
		target_ready();
		target_wait();
		target_pass();
	}
	if (!strcmp(mode, "all"))
		setup_all();
	else if (!strcmp(mode, "scm"))
		setup_scm();
	else if (!strcmp(mode, "outside"))
		setup_outside();
	else
		target_fail("unknown mode %s", mode);
	target_ready();
	target_wait();
	if (!strcmp(mode, "all"))
		check_all();
	else if (!strcmp(mode, "scm"))
		check_scm();
	else
		check_outside();
	target_pass();
}
