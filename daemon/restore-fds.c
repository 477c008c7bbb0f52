/* Restore, phase 1 for files: read fs-PID.img (cwd, root, umask, the fd
 * table) and files.img (every file description) and check that each fd
 * names a description its kind (daemon/files/) can recreate. */
#include "daemon/restore-int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/files/kinds.h"
#include "daemon/files/lock.h"
#include "images/img.h"

#define RST_MAX_FDS	65536u
#define RST_MAX_FD	(1u << 20)
#define RST_MAX_DESCS	(1u << 20)

int rst_load_fs(struct rst_ctx *ctx, struct rst_task *t)
{
	ProtobufCMessage **v;
	char file[32];
	unsigned n;
	int r;

	r = rst_read_records(ctx, IMG_FS, t->pe->pid, RST_MAX_FDS + 1, &v, &n);
	if (r < 0)
		return r;
	t->fs = (FsEntry *)v[0];
	t->fds = (FdEntry **)(v + 1);
	t->nr_fds = n - 1;
	if (t->fs->umask & ~0777u)
		return ckpt_fail(ctx->err, -EBADMSG, "fs-%d.img: umask 0%o is invalid", t->pe->pid,
				 t->fs->umask);
	snprintf(file, sizeof(file), "fs-%d.img", t->pe->pid);
	r = rst_check_abs_path(ctx, file, "fs_entry", "cwd", t->fs->cwd);
	if (r == 0)
		r = rst_check_abs_path(ctx, file, "fs_entry", "root", t->fs->root);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < t->nr_fds; i++) {
		FdEntry *f = t->fds[i];

		if (f->fd >= RST_MAX_FD)
			return ckpt_fail(ctx->err, -EBADMSG, "fs-%d.img: fd %u is out of bounds",
					 t->pe->pid, f->fd);
		for (unsigned j = 0; j < i; j++)
			if (t->fds[j]->fd == f->fd)
				return ckpt_fail(ctx->err, -EBADMSG, "fs-%d.img: fd %u appears twice",
						 t->pe->pid, f->fd);
		if ((int)f->fd > ctx->max_fd)
			ctx->max_fd = f->fd;
	}
	return 0;
}

int rst_load_files(struct rst_ctx *ctx)
{
	const struct fd_kind_ops *k;
	ProtobufCMessage **v;
	unsigned n;
	int r;

	/* a tree with no fd at all may come without files.img */
	if (faccessat(ctx->dirfd, "files.img", F_OK, 0) < 0 && errno == ENOENT)
		return 0;
	r = rst_read_records(ctx, IMG_FILES, 0, RST_MAX_DESCS, &v, &n);
	if (r < 0)
		return r;
	ctx->descs = calloc(n, sizeof(*ctx->descs));
	if (!ctx->descs) {
		for (unsigned i = 0; i < n; i++)
			protobuf_c_message_free_unpacked(v[i], NULL);
		free(v);
		return -ENOMEM;
	}
	ctx->nr_descs = n;
	for (unsigned i = 0; i < n; i++) {
		ctx->descs[i].fe = (FileDescEntry *)v[i];
		ctx->descs[i].fd = -1;
	}
	free(v);
	for (unsigned i = 0; i < n; i++) {
		FileDescEntry *fe = ctx->descs[i].fe;

		for (unsigned j = 0; j < i; j++)
			if (ctx->descs[j].fe->id == fe->id)
				return ckpt_fail(ctx->err, -EBADMSG, "files.img: id %u appears twice",
						 fe->id);
		k = fd_kind_of_desc(fe);
		if (!k)
			return ckpt_fail(ctx->err, -EBADMSG, "files.img: id %u has unknown type %d",
					 fe->id, fe->type);
		r = fd_fown_check(ctx, fe);
		if (r < 0)
			return r;
		/* the kinds restore opens by path (or recreates next to it) */
		if (fe->file && k->by_path) {
			char rec[64];

			snprintf(rec, sizeof(rec), "file description %u", fe->id);
			r = rst_check_abs_path(ctx, "files.img", rec, "file.path", fe->file->path);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

struct rst_desc *rst_desc_find(struct rst_ctx *ctx, uint32_t id)
{
	for (unsigned i = 0; i < ctx->nr_descs; i++)
		if (ctx->descs[i].fe->id == id)
			return &ctx->descs[i];
	return NULL;
}

/* Every fd must name a description of files.img this engine can recreate,
 * as its kind says; then what the kind checks across the task's fds. */
int rst_check_fds(struct rst_ctx *ctx, struct rst_task *t)
{
	int r;

	for (unsigned i = 0; i < t->nr_fds; i++) {
		FdEntry *f = t->fds[i];
		struct rst_desc *d = rst_desc_find(ctx, f->desc_id);
		const struct fd_kind_ops *k;

		if (!d)
			return ckpt_fail(ctx->err, -EBADMSG,
					 "fs-%d.img: fd %u names file description %u, which "
					 "files.img lacks", t->pe->pid, f->fd, f->desc_id);
		k = fd_kind_of_desc(d->fe);
		if (!fd_kind_restorable(k, d->fe))
			return fd_kind_refuse(ctx, t, f, d->fe, k);
		if (k->check && (r = k->check(ctx, d->fe)) < 0)
			return r;
	}
	for (unsigned i = 0; i < t->nr_fds; i++) {
		FdEntry *f = t->fds[i];
		const FileDescEntry *fe = rst_desc_find(ctx, f->desc_id)->fe;
		const struct fd_kind_ops *k = fd_kind_of_desc(fe);

		if (k->check_task && (r = k->check_task(ctx, t, f, fe)) < 0)
			return r;
	}
	return fd_lock_check_task(ctx, t);	/* its locks can be taken again */
}
