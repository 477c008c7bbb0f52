/* ckptd's request path: the input arrives as one message on a connection,
 * and rpc_serve_conn receives it, decodes it (rpc_request__unpack), checks
 * its version and type and what each type requires, and answers. Then the
 * answer is decoded as ckptctl would: it must be one valid rpc_response.
 *
 * No file descriptor travels with the request, so a dump or restore stops
 * at "the request carries no image directory" after the checks on the
 * request itself (a dump's target pid is looked up in /proc, read-only):
 * nothing is frozen, written or restored. check and status answer in full
 * from the fixed kerndat below. */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/kerndat.h"
#include "daemon/rpc.h"
#include "rpc.pb-c.h"
#include "tests/fuzz/fuzz.h"

static const struct kerndat kd = {
	.release = "6.1.0-fuzz",
	.page_size = 4096,
	.soft_dirty = true,
	.uffd = true,
	.xfeatures = 0x2e7,
	.xsave_size = 2696,
	.vdso_size = 8192,
	.vvar_size = 16384,
};

/* Every answer ckptd sent must decode, and the last one is final. */
static void check_answers(int fd)
{
	uint8_t *buf = malloc(RPC_MSG_MAX);
	unsigned finals = 0;
	ssize_t n;

	if (!buf)
		abort();
	while ((n = recv(fd, buf, RPC_MSG_MAX, MSG_DONTWAIT | MSG_TRUNC)) > 0) {
		RpcResponse *resp;

		if ((size_t)n > RPC_MSG_MAX)
			abort();
		resp = rpc_response__unpack(NULL, n, buf);
		if (!resp)
			abort();	/* ckptd sent what ckptctl can't read */
		if (resp->type != RPC_TYPE__RPC_PROGRESS)
			finals++;
		rpc_response__free_unpacked(resp, NULL);
	}
	if (finals > 1)
		abort();
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_server srv = {
		.listen_fd = -1,
		.max_clients = 1,
		.pid = getpid(),
		.parent = getppid(),
		.mode = "fuzz",
		.kd = &kd,
	};
	int sv[2];

	fuzz_quiet();
	if (size > 2 * RPC_MSG_MAX)
		return 0;	/* over what one datagram may carry here */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (send(sv[0], data, size, MSG_NOSIGNAL) != (ssize_t)size)
		abort();
	rpc_serve_conn(&srv, sv[1]);	/* closes sv[1] */
	check_answers(sv[0]);
	close(sv[0]);
	return 0;
}
