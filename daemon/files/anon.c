/* Anonymous-inode files of no kind of their own (userfaultfd, perf
 * events...): recorded by name only, refused by a restore. fanotify is
 * recorded the same way and refused by its own name. Every anon kind
 * records its name the same way. */
#include "daemon/files/kinds.h"

#include <errno.h>
#include <string.h>

#define FANOTIFY_NAME	"anon_inode:[fanotify]"

static bool anon_match(const struct fd_parms *p)
{
	return fd_str_starts(p->link, "anon_inode:");
}

static bool fanotify_match(const struct fd_parms *p)
{
	return fd_is_anon(p, FANOTIFY_NAME);
}

int fd_anon_describe(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e)
{
	e->anon_name = strdup(p->link);
	return e->anon_name ? 0 : -ENOMEM;
}

/* Its marks (fdinfo "fanotify ino:... mflags:... mask:...") and queued
 * events, and the permission events it owes answers to, are not brought
 * back: refused at restore (and so before a killing dump kills). */
const struct fd_kind_ops fd_kind_fanotify = {
	.type = FD_TYPE__FD_ANON,
	.anon_name = FANOTIFY_NAME,
	.name = "fanotify",
	.match = fanotify_match,
	.describe = fd_anon_describe,
};

const struct fd_kind_ops fd_kind_anon = {
	.type = FD_TYPE__FD_ANON,
	.name = FD_ANON_REFUSED,
	.match = anon_match,
	.describe = fd_anon_describe,
};
