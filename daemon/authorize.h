/* Who a request comes from and what it may touch (authorize.c). Each
 * function fails with a message for the requester in err. */
#ifndef CKPT_AUTHORIZE_H
#define CKPT_AUTHORIZE_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"

#define PEER_GROUPS_MAX		256

struct rpc_server;

struct peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	gid_t groups[PEER_GROUPS_MAX];
	int nr_groups;
};

/* The peer's pid, uid, gid and groups (SO_PEERCRED, SO_PEERGROUPS). */
int peer_creds(int fd, struct peer *p);

/* p may dump pid: not ckptd, its parent, an ancestor of either or of the
 * requester; a process, not a thread; and, unless p is root, p's own
 * (every uid and gid, dumpable), with every descendant. */
int authorize_target(const struct rpc_server *srv, const struct peer *p, pid_t pid,
		     struct ckpt_err *err);

/* The image directory dirfd is one p may write (or read), by its mode. */
int authorize_dir(const struct peer *p, int dirfd, bool write, struct ckpt_err *err);

/* For a non-root requester: files are opened, created and checked with
 * its fsuid, fsgid and groups from now on. */
int take_peer_fs_identity(const struct peer *p, struct ckpt_err *err);

/* A dump's handler gives up every capability it does not use. */
int limit_permitted_to_effective(struct ckpt_err *err);

#endif
