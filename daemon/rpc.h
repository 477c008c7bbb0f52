/* ckptd's request loop: the protocol constants ckptctl shares, and the two
 * ways the daemon serves (a listening socket, or one inherited connection).
 *
 * Wire format (proto/rpc.proto) on a SOCK_SEQPACKET unix socket: the client
 * sends one packed rpc_request in one message, with the image directory fd
 * attached as SCM_RIGHTS for dump and restore; the daemon answers with zero
 * or more RPC_PROGRESS responses and one final response (err 0 or -errno,
 * and a message naming what failed). One request per connection. */
#ifndef CKPT_RPC_H
#define CKPT_RPC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/version.h"

#define RPC_PROTO_VERSION	1u
#define RPC_MSG_MAX		(64u * 1024)	/* bound on every message, both ways */
#define CKPT_SOCKET_DEFAULT	"/run/ckpt/ckptd.sock"

struct kerndat;

struct rpc_server {
	int listen_fd;
	int idle_timeout_s;		/* exit when idle this long; 0: never */
	unsigned max_clients;		/* connections served at once */
	unsigned handler_timeout_s;	/* a handler still running this long after
					   its connection came is killed; 0: never */
	bool log;			/* say what each request did on stderr */
	pid_t pid, parent;		/* the daemon's main process and its parent:
					   never a dump target */
	const char *mode;		/* how it was started (ckptctl status) */
	uint64_t started_us;		/* now_us() at start, for its uptime */
	const struct kerndat *kd;
};

/* Accept connections and serve each in a child of its own until the idle
 * timeout passes with no client, or SIGTERM/SIGINT. 0 or -errno. */
int rpc_serve_listener(const struct rpc_server *srv);

/* Serve the one request arriving on the connected socket fd (closed on
 * return). 0 when an answer was sent, else -errno. */
int rpc_serve_conn(const struct rpc_server *srv, int fd);

#endif
