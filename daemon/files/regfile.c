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
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
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
	struct statfs sfs;
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
	/* a MFD_HUGETLB memfd or an unlinked hugetlbfs file: made again on
	 * hugetlbfs with its page size */
	if (fstatfs(fd, &sfs) == 0 && (uint64_t)sfs.f_type == HUGETLBFS_MAGIC) {
		e->has_hugetlb_kb = true;
		e->hugetlb_kb = sfs.f_bsize / 1024;
	}
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
	if (e->type == FD_TYPE__FD_REG && p->st.st_nlink > 0) {
		/* unlinked under this name, linked under another: a restore
		 * refuses it (a copy would not be the same file) */
		e->has_deleted = e->deleted = true;
		e->has_deleted_nlink = true;
		e->deleted_nlink = p->st.st_nlink;
		return 0;
	}
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

/* A deleted directory or FIFO is made again from nothing (fd_deleted_node),
 * a hard-linked file unlinked once is refused by fd_check_path. */
int fd_check_file(struct rst_ctx *ctx, const FileDescEntry *fe)
{
	bool node = fe->type == FD_TYPE__FD_DIR || fe->type == FD_TYPE__FD_FIFO;

	if (!fe->file)
		return ckpt_fail(ctx->err, -EBADMSG, "files.img: file description %u names no file",
				 fe->id);
	if (fe->deleted && !fe->has_ghost_id && !node && !fe->has_deleted_nlink)
		return ckpt_fail(ctx->err, -EBADMSG, "files.img: deleted file %u has no ghost image",
				 fe->id);
	return 0;
}

/* "/proc/N" or "/proc/N/...": N, else 0. A file reached through
 * /proc/N/root/ or /proc/N/cwd/ is a file of that process's file system,
 * opened by path like any other (the path checks judge it). */
static long proc_pid_of(const char *path)
{
	char *end;
	long pid;

	if (!fd_str_starts(path, "/proc/") || path[6] < '1' || path[6] > '9')
		return 0;
	pid = strtol(path + 6, &end, 10);
	if (fd_str_starts(end, "/root/") || fd_str_starts(end, "/cwd/"))
		return 0;
	return *end == '\0' || *end == '/' ? pid : 0;
}

static bool in_tree(struct rst_ctx *ctx, long pid)
{
	for (unsigned i = 0; i < ctx->nr_tasks; i++)
		if (ctx->tasks[i].pe->pid == pid)
			return true;
	return false;
}

/* Whether another description is the same deleted inode (a deleted
 * directory or FIFO is made again per description: they would split). */
static const FileDescEntry *same_deleted(struct rst_ctx *ctx, const FileDescEntry *fe)
{
	for (unsigned i = 0; i < ctx->nr_descs; i++) {
		const FileDescEntry *o = ctx->descs[i].fe;

		if (o != fe && o->deleted && o->file && o->type == fe->type &&
		    o->file->dev == fe->file->dev && o->file->ino == fe->file->ino)
			return o;
	}
	return NULL;
}

/* What a restore can't reopen by path, named by pid and fd: a file unlinked
 * under its name and still linked under another (ckpt can't find that name,
 * and a copy would be another inode), an entry of /proc/PID of a process
 * outside the tree or of a thread (made after the fds), one deleted
 * directory or FIFO held through two descriptions. */
int fd_check_path(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
		  const FileDescEntry *fe)
{
	const char *path = fe->file ? fe->file->path : "";
	long pid = proc_pid_of(path);

	if (fe->deleted && fe->has_deleted_nlink)
		return ckpt_fail(ctx->err, -EOPNOTSUPP,
				 "pid %d fd %u: %s was unlinked but keeps %u other hard link(s), "
				 "which ckpt cannot find; restored, the fd would be a copy, not "
				 "the same file. Reopen it through its remaining name before "
				 "dumping", t->pe->pid, f->fd, path, fe->deleted_nlink);
	if (pid && !in_tree(ctx, pid))
		return ckpt_fail(ctx->err, -EOPNOTSUPP,
				 "pid %d fd %u: %s is a /proc entry of pid %ld, which is not a "
				 "process of the dumped tree: ckpt reopens /proc entries of the "
				 "tree's processes only. Close the fd before dumping",
				 t->pe->pid, f->fd, path, pid);
	if (pid && strstr(path, "/task/"))
		return ckpt_fail(ctx->err, -EOPNOTSUPP,
				 "pid %d fd %u: %s is a /proc entry of a thread, which does not "
				 "exist yet when fds are reopened. Close the fd before dumping",
				 t->pe->pid, f->fd, path);
	if (fe->deleted && (fe->type == FD_TYPE__FD_DIR || fe->type == FD_TYPE__FD_FIFO) &&
	    same_deleted(ctx, fe))
		return ckpt_fail(ctx->err, -EOPNOTSUPP,
				 "pid %d fd %u: deleted %s %s is open through two descriptions "
				 "(%u and %u), which a restore would split. Keep one description "
				 "(dup the fd) before dumping", t->pe->pid, f->fd,
				 fe->type == FD_TYPE__FD_DIR ? "directory" : "FIFO", path, fe->id,
				 same_deleted(ctx, fe)->id);
	return 0;
}

struct node_args {
	const char *path;
	const FileDescEntry *fe;
	int flags;
	int fd;
};

/* As the requester: make the node, open it, remove it again. */
static int node_make(void *arg)
{
	struct node_args *a = arg;
	mode_t mode = a->fe->file->mode & 07777;
	bool dir = a->fe->type == FD_TYPE__FD_DIR;
	int r;

	r = dir ? mkdir(a->path, 0700) : mknod(a->path, S_IFIFO | 0600, 0);
	if (r < 0)
		return negerrno();
	a->fd = open(a->path, a->flags | O_NOFOLLOW);
	r = a->fd < 0 ? negerrno() : 0;
	if (a->fd >= 0 && fchmod(a->fd, mode) < 0)
		r = negerrno();
	if ((dir ? rmdir(a->path) : unlink(a->path)) < 0 && r == 0)
		r = negerrno();
	if (r < 0 && a->fd >= 0)
		close(a->fd);
	return r;
}

int fd_deleted_node(struct rst_ctx *ctx, const FileDescEntry *fe, const char *path,
		    int flags)
{
	struct node_args a = { .path = path, .fe = fe, .flags = flags, .fd = -1 };
	const char *what = fe->type == FD_TYPE__FD_DIR ? "directory" : "FIFO";
	int r;

	if (path[0] != '/')
		return ckpt_fail(ctx->err, -EINVAL, "file description %u: deleted %s has no "
				 "path to make it again at", fe->id, what);
	r = rst_as_requester(ctx, node_make, &a);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "file description %u: cannot make deleted %s %s "
				 "again (create, open and remove it there)%s", fe->id, what, path,
				 r == -EEXIST ? ": the name is taken now; move that away" : "");
	return a.fd;
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

	r = rst_ghost_open(ctx, fe->ghost_id, memfd ? NULL : path, fe->memfd_name,
			   fe->has_hugetlb_kb ? fe->hugetlb_kb : 0, &g);
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

	if (fe->type == FD_TYPE__FD_DIR && fe->deleted)
		return fd_deleted_node(ctx, fe, path, oflags);
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

/* An entry of /proc/PID of a task of the tree: the task does not exist
 * yet when the intermediate process opens the descriptions, so it opens a
 * stand-in and each holder reopens the path in post_open, once every task
 * exists (with the same pid, the path names the restored task). Fds of one
 * task sharing the description share the new one; tasks sharing it get one
 * each, with an offset each. */
bool fd_proc_deferred(struct rst_ctx *ctx, const FileDescEntry *fe)
{
	long pid = fe->file ? proc_pid_of(fe->file->path) : 0;

	return pid && in_tree(ctx, pid);
}

static int proc_stand_in(struct rst_ctx *ctx, const FileDescEntry *fe)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ckpt_fail(ctx->err, negerrno(), "file description %u: cannot make a "
				 "stand-in for %s", fe->id, fe->file->path);
	return fd;
}

static int proc_post_open(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
			  const FileDescEntry *fe, int oflags)
{
	_cleanup_close_ int fd = -EBADF;
	char path[4096];
	int src = -1;

	if (!fd_proc_deferred(ctx, fe))
		return 0;
	/* an earlier fd of t with this description has it already */
	for (unsigned j = 0; j < t->nr_fds && t->fds[j] != f; j++)
		if (t->fds[j]->desc_id == fe->id)
			src = (int)t->fds[j]->fd;
	if (src < 0) {
		rst_clean_path(fe->file->path, path, sizeof(path));
		fd = rst_open_path(ctx, path, oflags, 0);
		if (fd < 0)
			return ckpt_fail(ctx->err, fd, "pid %d fd %u: cannot open %s again",
					 t->pe->pid, f->fd, path);
		if (fd_restore_fl(fd, fe->flags) < 0 ||
		    (fe->has_pos && fe->pos && lseek(fd, fe->pos, SEEK_SET) < 0))
			return ckpt_fail(ctx->err, negerrno(), "pid %d fd %u (%s): cannot set "
					 "its flags or offset", t->pe->pid, f->fd, path);
		src = fd;
	}
	if (dup3(src, (int)f->fd, f->cloexec ? O_CLOEXEC : 0) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %u: cannot install %s",
				 t->pe->pid, f->fd, fe->file->path);
	return 0;
}

#define REG_OFLAGS(fe)	(((fe)->flags & FD_REOPEN_MASK) | O_CLOEXEC | O_NOCTTY)
#define DIR_OFLAGS(fe)	(O_RDONLY | O_DIRECTORY | O_CLOEXEC | ((fe)->flags & O_NONBLOCK))

static int reg_open(struct rst_ctx *ctx, FileDescEntry *fe, struct fd_open_state *st)
{
	if (fd_proc_deferred(ctx, fe))
		return proc_stand_in(ctx, fe);
	return open_seek(ctx, fe, REG_OFLAGS(fe), true, true);
}

static int dir_open(struct rst_ctx *ctx, FileDescEntry *fe, struct fd_open_state *st)
{
	if (fd_proc_deferred(ctx, fe))
		return proc_stand_in(ctx, fe);
	return open_seek(ctx, fe, DIR_OFLAGS(fe), true, false);
}

static int reg_post_open(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
			 const FileDescEntry *fe)
{
	return proc_post_open(ctx, t, f, fe, REG_OFLAGS(fe));
}

static int dir_post_open(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
			 const FileDescEntry *fe)
{
	return proc_post_open(ctx, t, f, fe, DIR_OFLAGS(fe));
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
	.check_task = fd_check_path,
	.open = reg_open,
	.post_open = reg_post_open,
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
	.check_task = fd_check_path,
	.open = dir_open,
	.post_open = dir_post_open,
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
