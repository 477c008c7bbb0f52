/* Unix sockets connected to servers outside the tree (--ext-unix-sk).
 *
 *   unix-ext ok DGRAM STREAM SEQPACKET
 *	a dgram socket connected to the server bound at DGRAM (as to
 *	/dev/log), with SO_PASSCRED; a stream socket connected to the
 *	listener at STREAM, O_NONBLOCK; a seqpacket one to SEQPACKET. Each
 *	says "before" to its server. After SIGUSR1 each is still of its type,
 *	connected to the same path, with its flags and options, and talks:
 *	"after" on the dgram; "ping" on the stream and the seqpacket socket
 *	(a new connection the server accepted), answered "pong".
 *   unix-ext plain DGRAM STREAM SEQPACKET
 *	the same without SO_PASSCRED, which autobinds the dgram socket to an
 *	abstract name (migrate: the source's socket keeps that name until
 *	the destination runs the tree)
 *   unix-ext queued STREAM
 *	the stream's server has sent bytes the target has not read (it says
 *	"please-send" and waits for them): a dump refuses it, the target runs
 *	on and finds its bytes still there after SIGUSR1.
 */
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "target.h"

static socklen_t addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", path);
	return offsetof(struct sockaddr_un, sun_path) + strlen(sa->sun_path) + 1;
}

static int connect_to(int type, const char *path)
{
	struct sockaddr_un sa;
	socklen_t len = addr(path, &sa);
	int fd = socket(AF_UNIX, type, 0);

	/* the server may still be starting */
	for (int i = 0; fd >= 0 && i < 100; i++) {
		if (connect(fd, (struct sockaddr *)&sa, len) == 0)
			return fd;
		usleep(50000);
	}
	target_fail("connect %s: %s", path, strerror(errno));
	return -1;
}

static void say(int fd, const char *what, const char *msg)
{
	if (send(fd, msg, strlen(msg), MSG_NOSIGNAL) != (ssize_t)strlen(msg))
		target_fail("%s: send %s: %s", what, msg, strerror(errno));
}

/* Wait up to 5 s for exactly want on fd. */
static void expect(int fd, const char *what, const char *want)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[256];
	size_t got = 0, n = strlen(want);
	ssize_t r;

	while (got < n) {
		if (poll(&p, 1, 5000) != 1)
			target_fail("%s: no answer (%zu of %zu bytes of '%s')", what, got, n, want);
		r = recv(fd, buf + got, n - got, MSG_DONTWAIT);
		if (r <= 0)
			target_fail("%s: recv: %s", what, r ? strerror(errno) : "end of file");
		got += r;
	}
	if (memcmp(buf, want, n))
		target_fail("%s: got '%.*s', not '%s'", what, (int)n, buf, want);
}

static void check_sock(int fd, const char *what, int type, const char *path)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	int t = -1;
	socklen_t tl = sizeof(t);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &tl) < 0 || t != type)
		target_fail("%s: type %d, not %d", what, t, type);
	if (getpeername(fd, (struct sockaddr *)&sa, &len) < 0)
		target_fail("%s: getpeername: %s", what, strerror(errno));
	if (len <= offsetof(struct sockaddr_un, sun_path) || strcmp(sa.sun_path, path))
		target_fail("%s: connected to '%s', not %s", what, sa.sun_path, path);
}

static int run_ok(char **argv, bool cred)
{
	int dg = connect_to(SOCK_DGRAM, argv[2]);
	int st = connect_to(SOCK_STREAM, argv[3]);
	int sq = connect_to(SOCK_SEQPACKET, argv[4]);
	int one = 1, v = 0;
	socklen_t vl = sizeof(v);

	if (cred)
		setsockopt(dg, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	fcntl(st, F_SETFL, fcntl(st, F_GETFL) | O_NONBLOCK);
	say(dg, "dgram", "before");
	say(st, "stream", "before\n");
	say(sq, "seqpacket", "before");
	expect(sq, "seqpacket", "ok");	/* the server has it all */
	target_ready();
	target_wait();

	check_sock(dg, "dgram", SOCK_DGRAM, argv[2]);
	check_sock(st, "stream", SOCK_STREAM, argv[3]);
	check_sock(sq, "seqpacket", SOCK_SEQPACKET, argv[4]);
	if (getsockopt(dg, SOL_SOCKET, SO_PASSCRED, &v, &vl) < 0 || !v != !cred)
		target_fail("dgram: SO_PASSCRED is %s", v ? "on" : "off");
	if (!(fcntl(st, F_GETFL) & O_NONBLOCK))
		target_fail("stream: O_NONBLOCK is off");
	if (fcntl(sq, F_GETFL) & O_NONBLOCK)
		target_fail("seqpacket: O_NONBLOCK is on");
	say(dg, "dgram", "after");
	say(st, "stream", "ping\n");
	expect(st, "stream", "pong\n");
	say(sq, "seqpacket", "ping");
	expect(sq, "seqpacket", "pong");
	target_pass();
	return 0;
}

static int run_queued(char **argv)
{
	int st = connect_to(SOCK_STREAM, argv[2]), n = 0;

	say(st, "stream", "please-send\n");
	for (int i = 0; i < 100 && n < 7; i++) {
		usleep(50000);
		if (ioctl(st, FIONREAD, &n) < 0)
			target_fail("FIONREAD: %s", strerror(errno));
	}
	if (n != 7)
		target_fail("the server sent %d bytes, not 7", n);
	target_ready();
	target_wait();
	expect(st, "stream", "unread\n");
	target_pass();
	return 0;
}

int main(int argc, char **argv)
{
	target_init();
	if (argc == 5 && (!strcmp(argv[1], "ok") || !strcmp(argv[1], "plain")))
		return run_ok(argv, !strcmp(argv[1], "ok"));
	if (argc == 3 && !strcmp(argv[1], "queued"))
		return run_queued(argv);
	fprintf(stderr, "usage: unix-ext ok|plain DGRAM STREAM SEQPACKET | queued STREAM\n");
	return 2;
}
