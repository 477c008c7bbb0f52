/* ckptctl's side of the RPC: a ckptctl command talks to a daemon that
 * answers with the input. The command runs in full (cmd_status, cmd_check,
 * cmd_dump, cmd_restore: their request, the progress loop, the decoding of
 * every answer, the checks that the answer fits the request, the printing
 * of the result or the error), against a socket whose server, a thread
 * here, sends the input's messages and hangs up.
 *
 * Input: u8 selector (bits 0-1: status, check, dump, restore; bit 4:
 * --json; bit 5: restore --pidfile), then messages, each le16 length and
 * bytes (the last takes what is left), at most MAX_MSGS. The command must
 * return one of ckptctl's exit codes; nothing may crash or leak. */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "client/commands.h"
#include "daemon/rpc.h"
#include "tests/fuzz/fuzz.h"

#define MAX_MSGS 32

struct server {
	int listen_fd;
	struct fuzz_in in;
	atomic_bool done;	/* the command returned: it may never connect */
};

static const char *image_dir(void)
{
	static char dir[4200];

	snprintf(dir, sizeof(dir), "%s/images", fuzz_dir());
	return dir;
}

/* The harness's own listening socket, made once per process. */
static int listener(void)
{
	static int fd = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (fd >= 0)
		return fd;
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", fuzz_dir()) >=
	    sizeof(sa.sun_path))
		abort();
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0)
		abort();
	/* dump's and restore's -D, there from the first input on */
	if (mkdir(image_dir(), 0700) < 0)
		abort();
	/* the commands connect here; none may start a one-shot ckptd */
	setenv("CKPT_SOCKET", sa.sun_path, 1);
	setenv("CKPTD", "/nonexistent/ckptd", 1);
	return fd;
}

static void *serve(void *arg)
{
	struct server *s = arg;
	uint8_t req[RPC_MSG_MAX];
	int fd;

	/* a command that fails before it connects (a bad argument) leaves
	 * no one to accept */
	for (;;) {
		struct pollfd p = { .fd = s->listen_fd, .events = POLLIN };

		if (poll(&p, 1, 50) > 0)
			break;
		if (atomic_load(&s->done))
			return NULL;
	}
	fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		abort();
	recv(fd, req, sizeof(req), 0);	/* the request: whatever it is */
	for (unsigned n = 0; s->in.left && n < MAX_MSGS; n++) {
		const uint8_t *p;
		size_t want = fuzz_u8(&s->in);
		size_t len;

		want |= (size_t)fuzz_u8(&s->in) << 8;
		len = fuzz_take(&s->in, want, &p);
		if (send(fd, p, len, MSG_NOSIGNAL) < 0)
			break;	/* the client has its answer and left */
	}
	close(fd);
	return NULL;
}

static int run_command(uint8_t sel)
{
	char *dir = (char *)image_dir(), pidfile[4200];
	char *json = sel & 0x10 ? "--json" : NULL;

	snprintf(pidfile, sizeof(pidfile), "%s/pidfile", fuzz_dir());
	switch (sel & 3) {
	case 0:
		return cmd_status(json ? 2 : 1, (char *[]){ "status", json, NULL });
	case 1:
		return cmd_check(json ? 2 : 1, (char *[]){ "check", json, NULL });
	case 2:
		return cmd_dump(json ? 6 : 5,
				(char *[]){ "dump", "-t", "4242", "-D", dir, json, NULL });
	default:
		if (sel & 0x20)
			return cmd_restore(json ? 6 : 5, (char *[]){ "restore", "-D", dir,
						"--pidfile", pidfile, json, NULL });
		return cmd_restore(json ? 4 : 3, (char *[]){ "restore", "-D", dir, json, NULL });
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct server s = { .listen_fd = listener(), .in = { data, size } };
	pthread_t t;
	uint8_t sel;
	int r;

	fuzz_quiet();
	sel = fuzz_u8(&s.in);
	if (pthread_create(&t, NULL, serve, &s))
		abort();
	r = run_command(sel);
	atomic_store(&s.done, true);
	pthread_join(t, NULL);
	if (r < EXIT_OK || r > EXIT_CANCELLED)
		abort();	/* not one of ckptctl(1)'s exit codes */
	return 0;
}
