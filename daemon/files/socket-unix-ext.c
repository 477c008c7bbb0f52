/* Unix sockets connected to a peer outside the tree: --ext-unix-sk, as
 * CRIU's. Without the option such a socket is refused, naming it.
 *
 * Dump (socket.c asks, with the option, for every connected unix
 * socket; whether the peer is in the tree is known only once every fd is
 * described, at restore's checks): the peer's name as bound, raw, when a
 * restore could connect to it again by that name: a dgram socket's peer
 * bound to a path or an abstract name; a stream or seqpacket socket's
 * peer (the connection a server accepted, which carries its listener's
 * name) when a listener of the same type is bound to that name. A
 * socketpair half or an unbound client held outside has no such name.
 *
 * Restore (with the option again: the outside world sees a new
 * connection) connects a new socket to that name (socket-unix.c's
 * make_external): a dgram socket is connected to the same peer; a stream
 * or seqpacket socket makes a new connection the server accepts. Nobody
 * listening there fails the restore before any task runs.
 *
 * What the outside peer had sent and the socket had not read yet can't be
 * put back as it came (only that peer could send on the connection, and
 * a datagram's sender would differ), so such a socket is refused: at a
 * killing dump, before anything is killed. What the socket had sent and
 * the peer not read stays in the peer's queue, on the old connection. */
#include "daemon/files/socket-unix-ext.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "common/util.h"
#include "daemon/files/socket-unix.h"
#include "daemon/restore-creds.h"
#include "daemon/restore-int.h"
#include "daemon/restore.h"

#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

int sock_unix_ext_describe(SocketInfo *si, const uint8_t *peer_name, size_t len, bool reachable)
{
	si->has_ext_unix_sk = true;
	si->ext_unix_sk = true;
	if (!reachable || !peer_name || !len)
		return 0;
	si->peer_name.data = malloc(len);
	if (!si->peer_name.data)
		return -ENOMEM;
	memcpy(si->peer_name.data, peer_name, len);
	si->peer_name.len = len;
	si->has_peer_name = true;
	return 0;
}

static bool has_peer_name(const SocketInfo *si)
{
	return si->has_peer_name && si->peer_name.len > 0;
}

const char *sock_unix_ext_peer_str(const SocketInfo *si, char *buf, size_t len)
{
	size_t n;

	if (!has_peer_name(si))
		return si->peer && *si->peer ? si->peer : "";
	n = MIN(si->peer_name.len, len - 1);
	memcpy(buf, si->peer_name.data, n);
	buf[n] = '\0';
	if (buf[0] == '\0')
		for (size_t i = 0; i < n; i++)	/* abstract: "@name", NULs as @ */
			if (!buf[i])
				buf[i] = '@';
	return buf;
}

/* Without a name to connect to again: why, for the message. */
static int refuse_unreachable(struct rst_ctx *ctx, pid_t pid, unsigned fd, const SocketInfo *si,
			      const char *what)
{
	unsigned long long ino = si->peer_ino;

	if (!si->peer || !*si->peer)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: %s is connected to "
				 "inode %llu held outside the tree: a restore can't connect it "
				 "again, with --ext-unix-sk or without, as that socket has no name "
				 "(a socketpair half or an unbound socket). Dump the process "
				 "holding the other end with this one, or close the connection "
				 "first", pid, fd, what, ino);
	return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: %s is connected to %s (inode "
			 "%llu) held outside the tree, and no listener is bound to %s: a "
			 "restore can't connect it again, with --ext-unix-sk or without. Dump "
			 "the process holding the other end with this one, or close the "
			 "connection first", pid, fd, what, si->peer, ino, si->peer);
}

int sock_unix_ext_check(struct rst_ctx *ctx, pid_t pid, unsigned fd, const SocketInfo *si,
			const char *what)
{
	bool opt = ctx->opts && ctx->opts->ext_unix_sk;
	char buf[SUN_PATH_MAX + 1];
	const char *peer = sock_unix_ext_peer_str(si, buf, sizeof(buf));
	size_t bytes = sock_unix_queued_bytes(si);

	if (!has_peer_name(si) && (!si->peer || !*si->peer || si->ext_unix_sk))
		return refuse_unreachable(ctx, pid, fd, si, what);
	if (!has_peer_name(si) || !opt)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: %s is connected to %s "
				 "(inode %llu) held outside the tree: %s it with --ext-unix-sk to "
				 "have it connected to %s again%s, or dump the process holding the "
				 "other end with this one", pid, fd, what, peer,
				 (unsigned long long)si->peer_ino,
				 has_peer_name(si) ? "restore" : "dump and restore", peer,
				 si->type == SOCK_DGRAM ? "" : " (a new connection)");
	if (si->peer_name.len > SUN_PATH_MAX)
		return ckpt_fail(ctx->err, -EBADMSG, "files.img: pid %d fd %u: socket.peer_name "
				 "is %zu bytes long", pid, fd, si->peer_name.len);
	if (peer[0] != '/' && peer[0] != '@')
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: %s is connected to %s "
				 "outside the tree, a relative path whose directory is unknown: a "
				 "restore can't connect it again", pid, fd, what, peer);
	if (si->n_rcv_queue) {
		char n[64];

		if (si->type == SOCK_STREAM)
			snprintf(n, sizeof(n), "%zu bytes", bytes);
		else
			snprintf(n, sizeof(n), "%zu messages (%zu bytes)", si->n_rcv_queue, bytes);
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: %s has %s its peer %s "
				 "outside the tree sent, not read yet: a restore connects it anew "
				 "and can't put them back as they came. Let the program read them, "
				 "then dump again", pid, fd, what, n, peer);
	}
	return 0;
}

struct ext_connect {
	int fd;
	struct sockaddr_un sa;
	socklen_t len;
};

static int do_connect(void *arg)
{
	const struct ext_connect *c = arg;

	return connect(c->fd, (const struct sockaddr *)&c->sa, c->len) < 0 ? negerrno() : 0;
}

int sock_unix_ext_connect(struct rst_ctx *ctx, int fd, const SocketInfo *si)
{
	struct ext_connect c = { .fd = fd };

	if (!has_peer_name(si) || si->peer_name.len > SUN_PATH_MAX)
		return -EINVAL;		/* refused by the checks */
	c.sa.sun_family = AF_UNIX;
	memcpy(c.sa.sun_path, si->peer_name.data, si->peer_name.len);
	c.len = offsetof(struct sockaddr_un, sun_path) + si->peer_name.len;
	/* a path as the requester (who could have connected to it itself) */
	return si->peer_name.data[0] ? rst_as_requester(ctx, do_connect, &c) : do_connect(&c);
}
