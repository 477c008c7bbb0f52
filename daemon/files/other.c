/* Any other file (a block device...): its identity recorded, refused by a
 * restore. Last in the table: it takes what no other kind took. */
#include "daemon/files/kinds.h"

#include <sys/stat.h>

static bool other_match(const struct fd_parms *p)
{
	return true;
}

static int other_describe(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e)
{
	if (S_ISBLK(p->st.st_mode)) {
		e->has_rdev = true;
		e->rdev = p->st.st_rdev;
	}
	return fd_set_identity(e, &p->st, p->link);
}

const struct fd_kind_ops fd_kind_other = {
	.type = FD_TYPE__FD_OTHER,
	.name = "files of this kind",
	.match = other_match,
	.describe = other_describe,
};
