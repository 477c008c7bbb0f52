/* ckptd's requests (rpc.c) and its listening loop (listener.c): the two
 * ways the daemon serves (a listening socket, or one inherited connection).
 * The protocol constants ckptctl shares, and the wire format, are in
 * common/protocol.h. */
#ifndef CKPT_RPC_H
#define CKPT_RPC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/protocol.h"

/* Handler slots beyond max_clients for the quick requests (check, status,
 * cancel): root can always look and cancel, however busy ckptd is.
 * max_clients + RPC_LIGHT_EXTRA stays within RPC_OPS_MAX. */
#define RPC_LIGHT_EXTRA		4

struct kerndat;
struct ops_table;

struct rpc_server {
	int listen_fd;
	int idle_timeout_s;		/* exit when idle this long; 0: never */
	unsigned max_clients;		/* dumps and restores served at once */
	unsigned max_per_user;		/* of them, for one uid (not root); 0: no limit */
	uint64_t watchdog_us;		/* sd_notify WATCHDOG=1 at half this; 0: none */
	struct ops_table *ops;		/* the operations in flight (listener only) */
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
 * timeout passes with no client, or SIGTERM/SIGINT. A connection whose uid
 * is at its limit waits, in order, for one of its requests to end. On
 * SIGTERM every operation in flight is cancelled and its handler waited
 * for (10 s at most, then killed). 0 or -errno. */
int rpc_serve_listener(const struct rpc_server *srv);

/* Serve the one request arriving on the connected socket fd (closed on
 * return). 0 when an answer was sent, else -errno. */
int rpc_serve_conn(const struct rpc_server *srv, int fd);

/* The same in a listener's handler, whose operation is srv->ops's slot
 * (daemon/listener.c). */
int rpc_serve_handler(const struct rpc_server *srv, int fd, int slot);

#endif
