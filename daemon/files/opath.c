/* O_PATH fds: a file (any type, a symlink itself with O_NOFOLLOW) held
 * only to name it to the *at() calls, fstat, fchdir (directories) or
 * /proc/self/fd. Their own kind, not regfile's: nothing reads, writes or
 * seeks them, they have no offset, no contents to save (a deleted file
 * can't be reopened by path and is refused) and no owner (fcntl refuses
 * F_SETOWN on them); a restore opens the path again with O_PATH, and
 * O_NOFOLLOW when the file was a symlink, and checks it is the file the
 * dump saw, as --file-validation wants. */
#include "daemon/files/kinds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "daemon/restore-creds.h"
#include "daemon/restore-int.h"

static bool opath_match(const struct fd_parms *p)
{
	return p->flags & O_PATH;
}

static int opath_describe(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e)
{
	e->type = FD_TYPE__FD_PATH;
	if (fd_strip_deleted(p->link, &p->st))
		e->has_deleted = e->deleted = true;
	return fd_set_identity(e, &p->st, p->link);
}

static bool opath_restorable(const FileDescEntry *fe)
{
	return !fe->deleted;
}

static int opath_check(struct rst_ctx *ctx, const FileDescEntry *fe)
{
	if (!fe->file)
		return ckpt_fail(ctx->err, -EBADMSG, "files.img: O_PATH description %u names no file",
				 fe->id);
	return 0;
}

static int opath_open(struct rst_ctx *ctx, FileDescEntry *fe, struct fd_open_state *st)
{
	bool link = fe->file->has_mode && S_ISLNK(fe->file->mode);
	char path[4096], what[64];
	int fd, r;

	rst_clean_path(fe->file->path, path, sizeof(path));
	snprintf(what, sizeof(what), "file description %u", fe->id);
	fd = rst_open_path(ctx, path, O_PATH | (link ? O_NOFOLLOW : 0), 0);
	if (fd < 0)
		return ckpt_fail(ctx->err, fd, "%s: cannot open %s (O_PATH)", what, path);
	r = rst_check_open_file(ctx, what, fd, fe);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* Before fd_kind_regfile and the other kinds by file type in the table:
 * an O_PATH fd on any file is this kind. */
const struct fd_kind_ops fd_kind_opath = {
	.type = FD_TYPE__FD_PATH,
	.name = "O_PATH fds on deleted files",
	.by_path = true,
	.match = opath_match,
	.describe = opath_describe,
	.restorable = opath_restorable,
	.check = opath_check,
	.open = opath_open,
};
