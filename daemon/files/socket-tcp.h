/* Established TCP connections with --tcp-established (socket-tcp.c):
 * saved and brought back with TCP_REPAIR, as CRIU's libsoccr does. */
#ifndef CKPT_FILES_SOCKET_TCP_H
#define CKPT_FILES_SOCKET_TCP_H

#include <stdbool.h>
#include <sys/socket.h>

#include "daemon/files/kinds.h"

/* Dump, the tree frozen, while fds are described: note the connection
 * (fd: the target's socket, duplicated) for sock_tcp_dump_finish; si must
 * stay alive until then. Reports failures. */
int sock_tcp_dump(struct dump_ctx *ctx, const struct fd_parms *p, int fd, SocketInfo *si);
/* Once every fd is described, before files.img is written: lock every
 * noted connection in one nft run (netlock.h), then put each socket in
 * repair mode and fill its si->tcp. The sockets stay in repair mode until
 * sock_tcp_dump_end. Reports failures. */
int sock_tcp_dump_finish(struct dump_ctx *ctx);
/* The dump's end: killed, the sockets close in repair mode (sending
 * nothing) and the lock stays for the restore; else repair mode is left
 * without a window probe and the lock removed. Frees ctx->tcp: a no-op
 * after. Call it before the tree is thawed, or after it is killed. */
void sock_tcp_dump_end(struct dump_ctx *ctx, bool killed);

/* Restore: fd a new TCP socket (TCP_REPAIR on, options set), made the
 * connection si->tcp saved: bound to own, connected to peer without a
 * SYN, its sequence numbers, options, queues and window set, repair mode
 * left. 0, or -errno with *step the step that failed. */
int sock_tcp_repair(int fd, const SocketInfo *si, const struct sockaddr *own, socklen_t olen,
		    const struct sockaddr *peer, socklen_t plen, const char **step);

/* Whether --tcp-established can work here: TCP_REPAIR permitted and the
 * nftables lock usable. 0, or -errno and why. */
int sock_tcp_probe(char *why, size_t len);

#endif
