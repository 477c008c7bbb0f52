/* A held dump's wait for its verdict: see hold.h.
 *
 * The wait polls the connection in slices of HOLD_SLICE_MS so that a
 * cancel recorded in the ops table (ckptctl cancel, ckptd's SIGTERM) is
 * seen within that time; it costs a wake-up ten times a second, for a
 * wait that lasts a migration's restore. Should ckptd itself die meanwhile,
 * the kernel detaches its ptrace stops and the tree runs on by itself. */
#include "daemon/hold.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>

#include "common/util.h"
#include "daemon/ops.h"

#define HOLD_SLICE_MS 100

int hold_wait(int fd, const struct ops_table *ops, int slot, unsigned timeout_ms,
	      char *why, size_t len)
{
	uint64_t end = now_us() + (uint64_t)timeout_ms * 1000;
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };

	for (;;) {
		uint64_t now = now_us();
		int n;

		if (ops_cancel_requested(ops, slot)) {
			snprintf(why, len, "the dump was cancelled while held");
			return 0;
		}
		if (now >= end) {
			snprintf(why, len, "no verdict within %u ms", timeout_ms);
			return 0;
		}
		n = poll(&p, 1, MIN((end - now + 999) / 1000, HOLD_SLICE_MS));
		if (n < 0 && errno != EINTR) {
			snprintf(why, len, "cannot wait for the verdict: %m");
			return 0;
		}
		if (n > 0 && (p.revents & POLLIN))
			return 1;	/* a message, or the end of the stream */
		if (n > 0) {
			snprintf(why, len, "the client hung up");
			return 0;
		}
	}
}

int hold_verdict(const RpcRequest *req, char *why, size_t len)
{
	if (!req) {
		snprintf(why, len, "the client hung up or sent no verdict it could read");
		return 0;
	}
	if (req->type != RPC_TYPE__RPC_VERDICT || !req->verdict) {
		snprintf(why, len, "a request of type %d came instead of a verdict", req->type);
		return 0;
	}
	if (!req->verdict->go) {
		snprintf(why, len, "the client said no-go");
		return 0;
	}
	return 1;
}
