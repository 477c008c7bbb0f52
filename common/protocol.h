/* What ckptctl and ckptd agree on, besides proto/rpc.proto: the protocol's
 * version, its bounds, and where the daemon listens by default.
 *
 * Wire format (proto/rpc.proto) on a SOCK_SEQPACKET unix socket: the client
 * sends one packed rpc_request in one message, with fds attached as
 * SCM_RIGHTS for dump and restore: the image directory first, then the
 * parent sets of an incremental chain, nearest first (a dump with --prev
 * sends its parent; a restore the whole chain, opened by the client so that
 * ckptd never resolves a path an image names); the daemon answers with zero
 * or more RPC_PROGRESS responses and one final response (err 0 or -errno,
 * and a message naming what failed). One request per connection. */
#ifndef CKPT_PROTOCOL_H
#define CKPT_PROTOCOL_H

#include "common/version.h"

#define RPC_PROTO_VERSION	1u
#define RPC_MSG_MAX		(64u * 1024)	/* bound on every message, both ways */
#define RPC_FDS_MAX		64u		/* fds one request carries: the set and
						   at most 63 parents */
#define CKPT_SOCKET_DEFAULT	"/run/ckpt/ckptd.sock"

/* Bound on the operations a daemon runs at once (its max_clients plus the
 * slots it keeps for quick requests), so on those a status answer lists. */
#define RPC_OPS_MAX		64
/* Bound on the tracked tasks a status answer lists. */
#define RPC_TRACKED_MAX		256
/* lazy restores listed in a status answer */
#define RPC_LAZY_MAX		64

#endif
