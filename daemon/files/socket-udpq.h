/* The datagrams queued to receive on a UDP socket (socket-udpq.c): read
 * without consuming them at dump, sent again at restore. */
#ifndef CKPT_FILES_SOCKET_UDPQ_H
#define CKPT_FILES_SOCKET_UDPQ_H

#include <stddef.h>
#include <sys/socket.h>

#include "daemon/files/kinds.h"

/* Dump: si->rcv_queue and rcv_from from fd (the target's socket), the
 * socket's peek offset put back. -E2BIG: too many datagrams. */
int sock_udpq_peek(int fd, SocketInfo *si);

struct sock_udpq_res {
	size_t other_source;	/* datagrams sent from another address than theirs */
	size_t failed_at;	/* the datagram sendto failed on */
	size_t queued;		/* datagrams found queued at the end */
};

/* Restore: si's datagrams sent again to fd, bound to own and not yet
 * connected. -ENOBUFS: res->queued of them are queued, not all. */
int sock_udpq_fill(int fd, const SocketInfo *si, const struct sockaddr_storage *own,
		   struct sock_udpq_res *res);

#endif
