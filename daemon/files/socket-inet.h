/* TCP and UDP sockets over IPv4 and IPv6 (socket-inet.c), the part of the
 * socket kind (socket.c) that a restore brings back. */
#ifndef CKPT_FILES_SOCKET_INET_H
#define CKPT_FILES_SOCKET_INET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

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

/* Helpers every socket family shares (defined in socket-inet.c). */
int sock_get_int(int fd, int level, int opt, int *ret);
int sock_set_int(int fd, int level, int opt, int v);
/* SO_RCVBUF/SO_SNDBUF as getsockopt gave it (doubled): set, halved, only
 * when has and a new socket's value differs (setting one stops autotuning). */
int sock_set_buf(int fd, int opt, bool has, uint32_t want);
/* The first task and fd of the tree holding description id (0, 0: none). */
void sock_holder_of(struct rst_ctx *ctx, uint32_t id, pid_t *pid, unsigned *fd);

#endif
