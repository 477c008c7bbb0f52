/* Unix sockets (socket-unix.c), the part of the socket kind (socket.c)
 * that reads their queues at dump and makes them again at restore. */
#ifndef CKPT_FILES_SOCKET_UNIX_H
#define CKPT_FILES_SOCKET_UNIX_H

#include "daemon/files/kinds.h"

/* Dump: the receive queue (peeked, not consumed) and the options, from a
 * duplicate of the target's fd; sock_diag's part is in si already. */
int sock_unix_describe(struct dump_ctx *ctx, const struct fd_parms *p, SocketInfo *si);
/* Restore: refuse what can't come back (a peer outside the tree, fds in
 * flight...), naming pid, fd, the socket and what to do. */
int sock_unix_check_task(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
			 const FileDescEntry *fe);
/* Restore: the socket of fe, made with its peer (kept in st until the
 * peer's description is opened), its queue written back. */
int sock_unix_open(struct rst_ctx *ctx, FileDescEntry *fe, struct fd_open_state *st);
/* Close the sockets an open pass made and no description took. */
void sock_unix_release(struct fd_open_state *st);
/* Bytes in si's saved receive queue. */
size_t sock_unix_queued_bytes(const SocketInfo *si);

#endif
