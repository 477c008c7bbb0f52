/* TCP and UDP sockets over IPv4 and IPv6 (socket-inet.c), the part of the
 * socket kind (socket.c) that a restore brings back. */
#ifndef CKPT_FILES_SOCKET_INET_H
#define CKPT_FILES_SOCKET_INET_H

#include <stdbool.h>

#include "daemon/files/kinds.h"

/* A TCP or UDP socket of AF_INET or AF_INET6. */
bool sock_inet_is(const SocketInfo *si);
/* Dump: addresses and options from a duplicate of the target's fd; the
 * state, backlog and queue from sock_diag where si has them already. */
int sock_inet_describe(struct dump_ctx *ctx, const struct fd_parms *p, SocketInfo *si);
/* Restore: refuse what can't come back yet, naming pid, fd and why. */
int sock_inet_check_task(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
			 const FileDescEntry *fe);
/* Restore: a new socket, bound, listening or connected as it was. */
int sock_inet_open(struct rst_ctx *ctx, const FileDescEntry *fe);

#endif
