/* Restore: the files an image set refers to, checked against what is on
 * disk now (--file-validation), and the ghost images of deleted files read
 * through once. */
#include "daemon/restore-int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/files/kinds.h"
#include "daemon/restore-creds.h"
#include "images/img.h"

uint64_t rst_encode_dev(dev_t dev)
{
	uint64_t ma = major(dev), mi = minor(dev);

	return (mi & 0xff) | (ma << 8) | ((mi & ~0xffull) << 12);
}

/* The path as the image saw it, without a " (deleted)" suffix. */
void rst_clean_path(const char *in, char *out, size_t len)
{
	if ((size_t)snprintf(out, len, "%s", in) < len)
		path_strip_deleted(out);
}

/* --- files the image refers to --------------------------------------------
 *
 * How closely a file on disk must match what the dump saw depends on how the
 * process uses it and on --file-validation. Pages of the executable and of a
 * mapped file come from the file itself, so it must be the very one, unchanged
 * (device, inode, size, mtime). A file held open only through an fd may have
 * grown and been written since (a log): what would go wrong is another file
 * under the path, or bytes before the saved offset gone. "strict" wants every
 * file unchanged; "path" takes a file of the same type at the same path (a copy
 * on another host), mapped files of the same size. */

static const char *const fv_names[] = {
	[RESTORE_FV_DEFAULT] = "default",
	[RESTORE_FV_STRICT] = "strict",
	[RESTORE_FV_PATH] = "path",
};

int restore_file_validation_parse(const char *name, enum restore_file_validation *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(fv_names); i++)
		if (strcmp(name, fv_names[i]) == 0) {
			*ret = (enum restore_file_validation)i;
			return 0;
		}
	return -EINVAL;
}

const char *restore_file_validation_name(enum restore_file_validation fv)
{
	return (unsigned)fv < ARRAY_SIZE(fv_names) ? fv_names[fv] : "unknown";
}

static enum restore_file_validation fv_mode(const struct rst_ctx *ctx)
{
	return ctx->opts ? ctx->opts->file_validation : RESTORE_FV_DEFAULT;
}

static const char *type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFLNK:
		return "a symbolic link";
	default:
		return "a file of unknown type";
	}
}

/* The file now (fd, or the saved path when fd < 0) into *st; the path as
 * the image saw it into path. */
static int stat_saved(struct rst_ctx *ctx, const char *what, int fd, const FileIdentity *id,
		      char *path, size_t len, struct stat *st)
{
	_cleanup_close_ int pfd = -EBADF;

	rst_clean_path(id->path, path, len);
	/* looked up as the requester (restore-creds.c) */
	if (fd < 0) {
		/* an O_PATH fd on a symlink holds the link itself */
		pfd = rst_open_path(ctx, path, O_PATH | (id->has_mode && S_ISLNK(id->mode) ?
							 O_NOFOLLOW : 0), 0);
		if (pfd < 0)
			return ckpt_fail(ctx->err, pfd, "%s: file %s %s", what, path,
					 pfd == -ENOENT ? "is gone" : "cannot be reached");
		fd = pfd;
	}
	if (fstat(fd, st) < 0)
		return ckpt_fail(ctx->err, negerrno(), "%s: file %s is gone", what, path);
	return 0;
}

static int same_inode(struct rst_ctx *ctx, const char *what, const char *path,
		      const struct stat *st, const FileIdentity *id)
{
	if (rst_encode_dev(st->st_dev) == id->dev && st->st_ino == id->ino)
		return 0;
	return ckpt_fail(ctx->err, -ESTALE,
			 "%s: file %s was replaced (device/inode %llx/%llu, the image has "
			 "%llx/%llu); --file-validation=path accepts a copy at the same path",
			 what, path, (unsigned long long)rst_encode_dev(st->st_dev),
			 (unsigned long long)st->st_ino, (unsigned long long)id->dev,
			 (unsigned long long)id->ino);
}

/* want: the saved st_mode (0: not recorded, any type will do). */
static int same_type(struct rst_ctx *ctx, const char *what, const char *path,
		     const struct stat *st, mode_t want)
{
	if (!(want & S_IFMT) || (st->st_mode & S_IFMT) == (want & S_IFMT))
		return 0;
	return ckpt_fail(ctx->err, -ESTALE, "%s: file %s is now %s, the image has %s", what,
			 path, type_name(st->st_mode), type_name(want));
}

/* Devices, FIFOs and directories change size and times freely. */
static int same_size(struct rst_ctx *ctx, const char *what, const char *path,
		     const struct stat *st, const FileIdentity *id, const char *hint)
{
	if (!S_ISREG(st->st_mode) || (uint64_t)st->st_size == id->size)
		return 0;
	return ckpt_fail(ctx->err, -ESTALE,
			 "%s: file %s changed size (%lld bytes, the image has %llu)%s", what, path,
			 (long long)st->st_size, (unsigned long long)id->size, hint);
}

static int same_mtime(struct rst_ctx *ctx, const char *what, const char *path,
		      const struct stat *st, const FileIdentity *id, const char *hint)
{
	int64_t mt = (int64_t)st->st_mtim.tv_sec * 1000000000ll + st->st_mtim.tv_nsec;

	if (!S_ISREG(st->st_mode) || mt == id->mtime_ns)
		return 0;
	return ckpt_fail(ctx->err, -ESTALE,
			 "%s: file %s was modified since the dump (mtime differs)%s", what, path,
			 hint);
}

/* Every byte that lay before the saved offset at the dump must still be
 * there: else a reader resumes past the end and a writer leaves a hole of
 * zeros where they were. An append-only writer is spared: each of its
 * writes goes to the end, wherever that is now (a log truncated by
 * logrotate's copytruncate). */
static int offset_inside(struct rst_ctx *ctx, const char *what, const char *path,
			 const struct stat *st, const FileDescEntry *fe)
{
	uint64_t pos = fe->has_pos ? fe->pos : 0;

	if (!S_ISREG(st->st_mode) || (uint64_t)st->st_size >= MIN(pos, fe->file->size))
		return 0;
	if ((fe->flags & O_APPEND) && (fe->flags & O_ACCMODE) == O_WRONLY)
		return 0;
	return ckpt_fail(ctx->err, -ESTALE,
			 "%s: file %s was truncated: the saved offset %llu lies past its end "
			 "(%lld bytes, %llu at the dump)", what, path, (unsigned long long)pos,
			 (long long)st->st_size, (unsigned long long)fe->file->size);
}

/* The type an fd's file had: recorded, or implied by its fd type. */
static mode_t saved_mode(const FileDescEntry *fe)
{
	const struct fd_kind_ops *k;

	if (fe->file->has_mode)
		return fe->file->mode;
	k = fd_kind_of_desc(fe);
	return k ? k->mode : 0;
}

int rst_check_identity(struct rst_ctx *ctx, const char *what, int fd, const FileIdentity *id)
{
	char path[4096];
	struct stat st;
	int r;

	r = stat_saved(ctx, what, fd, id, path, sizeof(path), &st);
	if (r < 0)
		return r;
	if (fv_mode(ctx) == RESTORE_FV_PATH) {
		r = same_type(ctx, what, path, &st, id->has_mode ? id->mode : 0);
		return r < 0 ? r : same_size(ctx, what, path, &st, id, "");
	}
	r = same_inode(ctx, what, path, &st, id);
	if (r == 0)
		r = same_size(ctx, what, path, &st, id, "");
	if (r == 0)
		r = same_mtime(ctx, what, path, &st, id, "");
	return r;
}

int rst_check_open_file(struct rst_ctx *ctx, const char *what, int fd, const FileDescEntry *fe)
{
	static const char hint[] = "; --file-validation=default lets a file that is only "
				   "held open change";
	char path[4096];
	struct stat st;
	int r;

	r = stat_saved(ctx, what, fd, fe->file, path, sizeof(path), &st);
	if (r < 0)
		return r;
	switch (fv_mode(ctx)) {
	case RESTORE_FV_STRICT:
		r = same_inode(ctx, what, path, &st, fe->file);
		if (r == 0)
			r = same_size(ctx, what, path, &st, fe->file, hint);
		if (r == 0)
			r = same_mtime(ctx, what, path, &st, fe->file, hint);
		return r;
	case RESTORE_FV_PATH:
		r = same_type(ctx, what, path, &st, saved_mode(fe));
		break;
	default:
		r = same_inode(ctx, what, path, &st, fe->file);
		break;
	}
	return r < 0 ? r : offset_inside(ctx, what, path, &st, fe);
}

/* Files that must still be there, as --file-validation wants: the exe,
 * mapped files, files held open. */
static int check_task_files(struct rst_ctx *ctx, struct rst_task *t)
{
	char what[96];
	int r;

	if (t->mm->exe) {
		snprintf(what, sizeof(what), "pid %d executable", t->pe->pid);
		r = rst_check_identity(ctx, what, -1, t->mm->exe);
		if (r < 0)
			return r;
	}
	for (unsigned i = 0; i < t->nr_vmas; i++) {
		VmaEntry *v = t->vmas[i];

		if (!v->file || v->deleted)
			continue;
		snprintf(what, sizeof(what), "pid %d mapping at 0x%llx", t->pe->pid,
			 (unsigned long long)v->start);
		r = rst_check_identity(ctx, what, -1, v->file);
		if (r < 0)
			return r;
	}
	for (unsigned i = 0; i < t->nr_fds; i++) {
		FileDescEntry *fe = rst_desc_find(ctx, t->fds[i]->desc_id)->fe;

		if (!fe->file || fe->deleted || fe->type == FD_TYPE__FD_MEMFD ||
		    fe->type == FD_TYPE__FD_PIPE || fd_proc_deferred(ctx, fe))
			continue;
		snprintf(what, sizeof(what), "pid %d fd %u", t->pe->pid, t->fds[i]->fd);
		r = rst_check_open_file(ctx, what, -1, fe);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Read a ghost image through once: head and chunk bounds. */
static int check_ghost(struct rst_ctx *ctx, uint32_t id)
{
	ProtobufCMessage *m;
	struct img *img = NULL;
	GhostHead *h = NULL;
	int r;

	r = img_open(ctx->dirfd, IMG_GHOST, id, &img);
	if (r < 0) {
		r = ckpt_fail(ctx->err, r == -ENOENT ? -ENODATA : r, "ghost-%u.img: %s", id,
			      img ? img_errmsg(img) : "missing");
		goto out;
	}
	r = img_read_next(img, &m);
	if (r < 0 || !m) {
		r = ckpt_fail(ctx->err, r < 0 ? r : -EBADMSG, "%s", img_errmsg(img));
		goto out;
	}
	h = (GhostHead *)m;
	if (h->id != id || (h->mode & ~07777u & ~S_IFMT)) {
		r = ckpt_fail(ctx->err, -EBADMSG, "ghost-%u.img: head names id %u / mode 0%o", id,
			      h->id, h->mode);
		goto out;
	}
	for (;;) {
		GhostChunk *c;

		r = img_read_next(img, &m);
		if (r < 0) {
			r = ckpt_fail(ctx->err, r, "%s", img_errmsg(img));
			goto out;
		}
		if (!m)
			break;
		c = (GhostChunk *)m;
		if (c->off > h->size || c->data.len > h->size - c->off)
			r = ckpt_fail(ctx->err, -EBADMSG,
				      "ghost-%u.img at offset %lld: chunk [%llu, +%zu) lies past the "
				      "file's %llu bytes", id, (long long)img_offset(img),
				      (unsigned long long)c->off, c->data.len,
				      (unsigned long long)h->size);
		protobuf_c_message_free_unpacked(m, NULL);
		if (r < 0)
			goto out;
	}
out:
	if (h)
		protobuf_c_message_free_unpacked(&h->base, NULL);
	if (img)
		img_close(img);
	return r;
}

int rst_check_ghosts(struct rst_ctx *ctx)
{
	int r;

	for (unsigned i = 0; i < ctx->nr_descs; i++) {
		FileDescEntry *fe = ctx->descs[i].fe;

		if (fe->has_ghost_id && (fe->deleted || fe->type == FD_TYPE__FD_MEMFD)) {
			r = check_ghost(ctx, fe->ghost_id);
			if (r < 0)
				return r;
		}
	}
	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		struct rst_task *t = &ctx->tasks[i];

		for (unsigned j = 0; j < t->nr_vmas; j++)
			if (t->vmas[j]->has_ghost_id) {
				r = check_ghost(ctx, t->vmas[j]->ghost_id);
				if (r < 0)
					return r;
			}
	}
	return 0;
}

int rst_check_files(struct rst_ctx *ctx)
{
	int r;

	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		if (ctx->tasks[i].pe->state == TASK_STATE__TASK_ZOMBIE)
			continue;
		r = check_task_files(ctx, &ctx->tasks[i]);
		if (r < 0)
			return r;
	}
	return 0;
}
