/* Anonymous-inode files of no kind of their own (userfaultfd, inotify,
 * pidfd...): recorded by name only, refused by a restore. Every anon kind
 * records its name the same way. */
#include "daemon/files/kinds.h"

#include <errno.h>
#include <string.h>

static bool anon_match(const struct fd_parms *p)
{
	return fd_str_starts(p->link, "anon_inode:");
}

int fd_anon_describe(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e)
{
	e->anon_name = strdup(p->link);
	return e->anon_name ? 0 : -ENOMEM;
}

const struct fd_kind_ops fd_kind_anon = {
	.type = FD_TYPE__FD_ANON,
	.name = FD_ANON_REFUSED,
	.match = anon_match,
	.describe = fd_anon_describe,
};
