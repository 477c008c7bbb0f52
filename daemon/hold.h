/* A held dump's wait for its verdict (ckptctl migrate's last round).
 *
 * The set is in place and the tree frozen; the client (ckptctl migrate)
 * asks the destination whether the restored tree runs and answers with an
 * RPC_VERDICT on the dump's own connection. Only a go lets the tree go:
 * a no-go, a hang-up, anything else on the wire, a cancel (ckptctl cancel,
 * ckptd's SIGTERM) or the timeout passing lets it run on. */
#ifndef CKPT_HOLD_H
#define CKPT_HOLD_H

#include <stdbool.h>
#include <stddef.h>

#include "rpc.pb-c.h"

#define HOLD_TIMEOUT_DEFAULT_MS 120000	/* dump_req.hold_timeout_ms absent */

struct ops_table;

/* Wait (at most timeout_ms) until fd, the client's connection, has
 * something to read: 1 then; 0 when the client hung up, the operation
 * (slot in ops; -1 or ops NULL: none) was cancelled or the time passed,
 * with the reason in why. Never blocks past the timeout. */
int hold_wait(int fd, const struct ops_table *ops, int slot, unsigned timeout_ms,
	      char *why, size_t len);

/* What the message that came says: 1 for a verdict of go; 0 for a no-go
 * or anything that is no verdict (req NULL: none could be read), with
 * the reason in why. */
int hold_verdict(const RpcRequest *req, char *why, size_t len);

#endif
