/* Ghost files: the contents of files that exist only while open (deleted
 * files, memfds, shared anonymous memory), which restore must recreate.
 *
 * Saved once per (dev, ino) into ghost-N.img: a ghost_head, then ghost_chunk
 * records of at most GHOST_CHUNK bytes. Holes (SEEK_DATA/SEEK_HOLE) and pages
 * of zeros are skipped, so a sparse 1 GiB object costs a few records, and
 * memory stays at one chunk buffer whatever the size. We read through a
 * description of our own, so the caller's offset (and the target's) never
 * moves; when the file's permissions refuse us one (the requester's process
 * holds a file the requester may not open), through the caller's fd with
 * pread only, which moves no offset either but cannot skip holes. The
 * head keeps the file's mode, owner and times, for a restore to set. */
#include "daemon/files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/dump.h"
#include "daemon/dump-io.h"
#include "images/img.h"
#include "files.pb-c.h"

#define GHOST_CHUNK	(1u << 20)
#define GHOST_BLOCK	4096u

void ghosts_free(struct ghost_ref *g)
{
	while (g) {
		struct ghost_ref *n = g->next;

		free(g);
		g = n;
	}
}

static bool block_is_zero(const uint8_t *p, size_t len)
{
	return p[0] == 0 && memcmp(p, p + 1, len - 1) == 0;
}

static int write_chunk(struct img *img, uint64_t off, uint8_t *data, size_t len)
{
	GhostChunk c = GHOST_CHUNK__INIT;

	c.off = off;
	c.data.data = data;
	c.data.len = len;
	return img_write_msg(img, &c.base);
}

/* Write the runs of non-zero blocks of buf (file offset off). */
static int write_runs(struct img *img, uint8_t *buf, size_t len, uint64_t off)
{
	size_t start = 0, pos = 0;
	int r;

	while (pos < len) {
		size_t n = MIN(GHOST_BLOCK, len - pos);

		if (block_is_zero(buf + pos, n)) {
			if (pos > start) {
				r = write_chunk(img, off + start, buf + start, pos - start);
				if (r < 0)
					return r;
			}
			start = pos + n;
		}
		pos += n;
	}
	if (pos > start)
		return write_chunk(img, off + start, buf + start, pos - start);
	return 0;
}

/* Every data region of fd up to size, as chunks. A shared fd (whose offset
 * is someone else's) is read whole: SEEK_DATA would move its offset. */
static int write_data(struct img *img, int fd, bool shared, uint64_t size, uint8_t *buf)
{
	off_t off = 0, data, hole;
	int r;

	while ((uint64_t)off < size) {
		data = shared ? off : lseek(fd, off, SEEK_DATA);
		if (data < 0)
			return errno == ENXIO ? 0 : negerrno();
		hole = shared ? -1 : lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > size)
			hole = size;
		for (off = data; off < hole;) {
			size_t n = MIN((uint64_t)GHOST_CHUNK, (uint64_t)(hole - off));

			r = pread_full(fd, buf, n, off);
			if (r < 0)
				return r;
			r = write_runs(img, buf, n, off);
			if (r < 0)
				return r;
			off += n;
		}
	}
	return 0;
}

static int ghost_write(struct dump_ctx *ctx, int fd, bool shared, const struct stat *st,
		       const char *name, uint32_t id)
{
	GhostHead h = GHOST_HEAD__INIT;
	_cleanup_free_ uint8_t *buf = NULL;
	struct img *img;
	int r;

	buf = malloc(GHOST_CHUNK);
	if (!buf)
		return ckpt_fail(ctx->err, -ENOMEM, "ghost-%u.img: out of memory", id);
	r = img_create(ctx->dirfd, IMG_GHOST, id, &img);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "cannot create ghost-%u.img", id);
	h.id = id;
	h.size = st->st_size;
	h.mode = st->st_mode;
	h.name = (char *)name;
	h.has_uid = h.has_gid = h.has_atime_ns = h.has_mtime_ns = true;
	h.uid = st->st_uid;
	h.gid = st->st_gid;
	h.atime_ns = (int64_t)st->st_atim.tv_sec * 1000000000 + st->st_atim.tv_nsec;
	h.mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	r = img_write_msg(img, &h.base);
	if (r == 0)
		r = write_data(img, fd, shared, st->st_size, buf);
	if (r < 0) {
		if (img_failed(img))
			ckpt_fail(ctx->err, r, "%s", img_errmsg(img));
		else
			ckpt_fail(ctx->err, r, "ghost-%u.img: cannot read %s", id,
				  name ? name : "the file");
		img_abort(img);
		return r;
	}
	return dump_img_close(ctx, img);
}

int dump_ghost_file(struct dump_ctx *ctx, int fd, const struct stat *st,
		    const char *name, uint32_t *ret_id)
{
	struct files_ctx *f = files_ctx_get(ctx);
	_cleanup_close_ int own = -EBADF;
	struct ghost_ref *g;
	char path[64];
	uint32_t id;
	int r;

	if (!f)
		return ckpt_fail(ctx->err, -ENOMEM, "ghost file: out of memory");
	for (g = f->ghosts; g; g = g->next)
		if (g->dev == st->st_dev && g->ino == st->st_ino) {
			*ret_id = g->id;
			return 0;
		}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* O_NOATIME: reading it must not change the atime the image keeps
	 * (the owner or CAP_FOWNER only: else without) */
	own = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOATIME);
	if (own < 0 && errno == EPERM)
		own = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (own < 0 && errno != EACCES && errno != EPERM)
		return ckpt_fail(ctx->err, negerrno(), "cannot open %s again to save it",
				 name ? name : "a deleted file");
	g = calloc(1, sizeof(*g));
	if (!g)
		return ckpt_fail(ctx->err, -ENOMEM, "ghost file: out of memory");
	/* ids count up from 1, and the newest ghost heads the list */
	id = f->ghosts ? f->ghosts->id + 1 : 1;
	r = ghost_write(ctx, own >= 0 ? own : fd, own < 0, st, name, id);
	if (r < 0) {
		free(g);
		return r;
	}
	g->dev = st->st_dev;
	g->ino = st->st_ino;
	g->id = id;
	g->next = f->ghosts;
	f->ghosts = g;
	*ret_id = id;
	return 0;
}
