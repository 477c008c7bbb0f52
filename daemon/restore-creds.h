/* Restore, the requester's identity (restore-creds.c): the credentials a
 * non-root requester may give a restored task, and every path of an image
 * opened as that requester, never with ckptd's powers. */
#ifndef CKPT_RESTORE_CREDS_H
#define CKPT_RESTORE_CREDS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core.pb-c.h"

struct rst_ctx;

/* What /proc/PID/status says of the requesting process. */
struct rst_requester {
	uid_t uid;		/* SO_PEERCRED's, not the status file's */
	gid_t gid;
	gid_t *groups;		/* supplementary groups */
	size_t nr_groups;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	bool no_new_privs;
};

/* Parse a /proc/PID/status text into *ret (uid and gid left alone);
 * -EBADMSG when a line it needs is missing. Free with rst_requester_free. */
int rst_requester_parse(const char *status, struct rst_requester *ret);
void rst_requester_free(struct rst_requester *rq);

/* NULL when a non-root requester rq could give itself the credentials cr,
 * else the name of the first field it could not ("uids", "gids",
 * "groups", "capabilities", "inheritable capabilities", "bounding set",
 * "securebits", "no_new_privs"). */
const char *rst_creds_refusal(const CredsEntry *cr, const struct rst_requester *rq);

/* Open an absolute path as the requester would: its fsuid, fsgid and
 * groups, no capability of ckptd's, no /proc magic link on the way
 * (RESOLVE_NO_MAGICLINKS). For root, a plain open. Returns an fd
 * (O_CLOEXEC) or -errno; -EINVAL for a relative path. */
int rst_open_path(struct rst_ctx *ctx, const char *path, int flags, mode_t mode);

/* Change root and directory of the calling task as fs says, the way the
 * requester could: see restore-creds.c. Returns 0 or a reported -errno. */
int rst_enter_fs(struct rst_ctx *ctx, pid_t pid, const char *root, const char *cwd);

/* Run fn(arg) as the requester (see rst_open_path); fn returns -errno. */
int rst_as_requester(struct rst_ctx *ctx, int (*fn)(void *arg), void *arg);

#endif
