/* Unix sockets connected to a peer outside the tree (socket-unix-ext.c):
 * --ext-unix-sk, as CRIU's. */
#ifndef CKPT_FILES_SOCKET_UNIX_EXT_H
#define CKPT_FILES_SOCKET_UNIX_EXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "files.pb-c.h"

struct rst_ctx;

/* Dump, with --ext-unix-sk, a connected socket: its peer's name (len
 * bytes of sun_path, NULL: none) kept when reachable (a dgram peer bound
 * to it, or a listener bound to it for stream and seqpacket). */
int sock_unix_ext_describe(SocketInfo *si, const uint8_t *peer_name, size_t len, bool reachable);
/* Restore: whether a socket whose peer (si->peer_ino) is not in the tree
 * may come back connected to its peer's name; refused (reported, naming
 * pid, fd and what to do) otherwise. what: "unix stream socket ...". */
int sock_unix_ext_check(struct rst_ctx *ctx, pid_t pid, unsigned fd, const SocketInfo *si,
			const char *what);
/* Restore: connect fd to si's peer name, as the requester for a path;
 * 0 or -errno (the caller reports, with sock_unix_ext_peer_str). */
int sock_unix_ext_connect(struct rst_ctx *ctx, int fd, const SocketInfo *si);
/* "/run/app.sock" or "@name": the peer's name, into buf. */
const char *sock_unix_ext_peer_str(const SocketInfo *si, char *buf, size_t len);

#endif
