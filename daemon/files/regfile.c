/* Files opened by path: regular files, memfds, directories and character
 * devices other than terminals. A dump records the file's identity (path,
 * device, inode, size, mtime, mode) and the offset; the contents of a
 * deleted file or a memfd go to a ghost image. A restore opens the file by
 * path as the requester (checked as --file-validation wants), or recreates
 * a deleted one from its ghost image, sets the F_SETFL flags open can't
 * (fd_restore_fl) and seeks to the offset. */
#include "daemon/files/kinds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/dump.h"
#include "daemon/restore-creds.h"
#include "daemon/restore-int.h"

/* --- dump ------------------------------------------------------------------ */

int fd_set_identity(FileDescEntry *e, const struct stat *st, const char *path)
{
	FileIdentity *fi = malloc(sizeof(*fi));

	if (!fi)
		return -ENOMEM;
	file_identity__init(fi);
	fi->path = strdup(path);
	if (!fi->path) {
		free(fi);
		return -ENOMEM;
	}
	fi->dev = st->st_dev;
	fi->ino = st->st_ino;
	fi->size = st->st_size;
	fi->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	fi->has_mode = true;
	fi->mode = st->st_mode;
	e->file = fi;
	return 0;
}

/* Whether the file was unlinked: the kernel appends " (deleted)" to its
 * path, which is then cut off. A file really named "x (deleted)" still
 * answers at that name with the same inode, and keeps it. */
bool fd_strip_deleted(char *path, const struct stat *st)
{
	struct stat cur;

	if (!path_is_deleted(path))
		return false;
	if (stat(path, &cur) == 0 && cur.st_dev == st->st_dev && cur.st_ino == st->st_ino)
		return false;	/* a file really named "... (deleted)" */
	return path_strip_deleted(path);
}

/* Contents of a deleted file or a memfd into a ghost image. The target's
 * own description is taken (no path permission check, so a requester's
 * process may hold a file created by someone else); dump_ghost_file reads it
 * through a description of its own where it can, else only with pread. */
static int describe_ghost(struct dump_ctx *ctx, const struct fd_parms *p,
			  FileDescEntry *e, const char *name)
{
	_cleanup_close_ int fd = -EBADF;
	int r;

	fd = fd_take_shared(ctx, p->pid, p->fd);
	if (fd < 0)
		fd = fd_reopen(p->pid, p->fd, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return ckpt_fail(ctx->err, fd, "pid %d fd %d: cannot open deleted file %s",
				 p->pid, p->fd, p->link);
	r = dump_ghost_file(ctx, fd, &p->st, name, &e->ghost_id);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %d: cannot save deleted file %s",
				 p->pid, p->fd, p->link);
	e->has_ghost_id = true;
	e->has_deleted = e->deleted = true;
	if (e->type == FD_TYPE__FD_MEMFD) {
		r = fcntl(fd, F_GET_SEALS);
		if (r >= 0) {
			e->has_seals = true;
			e->seals = r;
		}
	}
	return 0;
}

static bool reg_match(const struct fd_parms *p)
{
	return S_ISREG(p->st.st_mode);
}

/* A regular file, or a memfd (a deleted "/memfd:NAME"). */
static int reg_describe(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e)
{
	bool deleted = fd_strip_deleted(p->link, &p->st);
	int r;

	e->has_pos = true;
	e->pos = p->pos;
	if (deleted && fd_str_starts(p->link, "/memfd:")) {
		e->type = FD_TYPE__FD_MEMFD;
		e->memfd_name = strdup(p->link + strlen("/memfd:"));
		if (!e->memfd_name)
			return -ENOMEM;
	} else {
		e->type = FD_TYPE__FD_REG;
	}
	r = fd_set_identity(e, &p->st, p->link);
	if (r < 0)
		return r;
	if (!deleted)
		return 0;
	return describe_ghost(ctx, p, e, p->link);
}

static bool dir_match(const struct fd_parms *p)
{
	return S_ISDIR(p->st.st_mode);
}

static int dir_describe(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e)
{
	e->has_pos = true;
	e->pos = p->pos;
	if (fd_strip_deleted(p->link, &p->st))
		e->has_deleted = e->deleted = true;
	return fd_set_identity(e, &p->st, p->link);
}

static bool chr_match(const struct fd_parms *p)
{
	return S_ISCHR(p->st.st_mode);
}

static int chr_describe(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e)
{
	e->has_rdev = true;
	e->rdev = p->st.st_rdev;
	return fd_set_identity(e, &p->st, p->link);
}

/* --- restore --------------------------------------------------------------- */

int fd_check_file(struct rst_ctx *ctx, const FileDescEntry *fe)
{
	if (!fe->file)
		return ckpt_fail(ctx->err, -EBADMSG, "files.img: file description %u names no file",
				 fe->id);
	if (fe->deleted && !fe->has_ghost_id)
		return ckpt_fail(ctx->err, -EBADMSG, "files.img: deleted file %u has no ghost image",
				 fe->id);
	return 0;
}

static int memfd_check(struct rst_ctx *ctx, const FileDescEntry *fe)
{
	if (!fe->has_ghost_id)
		return ckpt_fail(ctx->err, -EBADMSG, "files.img: memfd %u has no ghost image",
				 fe->id);
	return 0;
}

/* A deleted file or a memfd, from its ghost image: a new description (an
 * O_TMPFILE one shows O_TMPFILE in its flags). */
static int ghost_reopen(struct rst_ctx *ctx, FileDescEntry *fe, const char *path,
			const char *what)
{
	bool memfd = fe->type == FD_TYPE__FD_MEMFD;
	int g, fd, r;

	r = rst_ghost_open(ctx, fe->ghost_id, memfd ? NULL : path, fe->memfd_name, &g);
	if (r < 0)
		return r;
	if (memfd && fe->has_seals && fe->seals)
		fcntl(g, F_ADD_SEALS, fe->seals);
	fd = memfd && (fe->flags & O_ACCMODE) == O_RDWR ? fcntl(g, F_DUPFD_CLOEXEC, 0)
							 : fd_reopen_self(g, fe->flags);
	close(g);
	if (fd < 0)
		return ckpt_fail(ctx->err, fd < -1 ? fd : negerrno(),
				 "%s (%s): cannot reopen the recreated file", what,
				 path[0] ? path : "memfd");
	return fd;
}

/* The file at its path, as the image saw it and --file-validation wants. */
static int path_open(struct rst_ctx *ctx, FileDescEntry *fe, const char *path,
		     const char *what, int oflags)
{
	int fd, r;

	if (fe->type == FD_TYPE__FD_MEMFD || fe->deleted)
		return ghost_reopen(ctx, fe, path, what);
	fd = rst_open_path(ctx, path, oflags, 0);
	if (fd < 0)
		return ckpt_fail(ctx->err, fd, "%s: cannot open %s", what, path);
	r = rst_check_open_file(ctx, what, fd, fe);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* Open fe (oflags for a file by path) and seek to its offset; a failed
 * seek fails it only if must_seek. */
static int open_seek(struct rst_ctx *ctx, FileDescEntry *fe, int oflags, bool seek,
		     bool must_seek)
{
	char path[4096] = "", what[64];
	int fd, r;

	if (fe->file)
		rst_clean_path(fe->file->path, path, sizeof(path));
	snprintf(what, sizeof(what), "file description %u", fe->id);
	fd = path_open(ctx, fe, path, what, oflags);
	if (fd < 0)
		return fd;
	r = fd_restore_fl(fd, fe->flags);
	if (r < 0) {
		close(fd);
		return ckpt_fail(ctx->err, r, "%s (%s): cannot set its flags to 0%o (F_SETFL)",
				 what, path[0] ? path : "memfd", fe->flags & FD_SETFL_MASK);
	}
	if (!seek || !fe->has_pos || lseek(fd, fe->pos, SEEK_SET) >= 0 || !must_seek)
		return fd;
	r = negerrno();
	close(fd);
	return ckpt_fail(ctx->err, r, "%s (%s): cannot seek to %llu", what, path,
			 (unsigned long long)fe->pos);
}

static int reg_open(struct rst_ctx *ctx, FileDescEntry *fe, struct fd_open_state *st)
{
	return open_seek(ctx, fe, (fe->flags & FD_REOPEN_MASK) | O_CLOEXEC | O_NOCTTY, true, true);
}

static int dir_open(struct rst_ctx *ctx, FileDescEntry *fe, struct fd_open_state *st)
{
	return open_seek(ctx, fe, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (fe->flags & O_NONBLOCK),
			 true, false);
}

static int chr_open(struct rst_ctx *ctx, FileDescEntry *fe, struct fd_open_state *st)
{
	return open_seek(ctx, fe, (fe->flags & FD_REOPEN_MASK) | O_CLOEXEC | O_NOCTTY, false,
			 false);
}

const struct fd_kind_ops fd_kind_regfile = {
	.type = FD_TYPE__FD_REG,
	.name = "files of this kind",
	.mode = S_IFREG,
	.by_path = true,
	.match = reg_match,
	.describe = reg_describe,
	.check = fd_check_file,
	.open = reg_open,
};

/* Described by fd_kind_regfile (a deleted "/memfd:" file). */
const struct fd_kind_ops fd_kind_memfd = {
	.type = FD_TYPE__FD_MEMFD,
	.name = "files of this kind",
	.check = memfd_check,
	.open = reg_open,
};

const struct fd_kind_ops fd_kind_dir = {
	.type = FD_TYPE__FD_DIR,
	.name = "files of this kind",
	.mode = S_IFDIR,
	.by_path = true,
	.match = dir_match,
	.describe = dir_describe,
	.check = fd_check_file,
	.open = dir_open,
};

/* After fd_kind_tty in the table: a terminal is a character device too. */
const struct fd_kind_ops fd_kind_chr = {
	.type = FD_TYPE__FD_CHR,
	.name = "files of this kind",
	.mode = S_IFCHR,
	.by_path = true,
	.match = chr_match,
	.describe = chr_describe,
	.check = fd_check_file,
	.open = chr_open,
};
