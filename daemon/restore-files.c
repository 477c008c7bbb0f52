/* Restore, files: the intermediate process opens every file description of
 * files.img once, every mapped file and every shared memory object, each at
 * a high fd (above any fd number a task uses). The tasks it forks inherit
 * them, so a description shared by several fds or tasks stays one
 * description; each task then dup3()s its own fds into place. */
#include "daemon/restore-int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/files/kinds.h"
#include "daemon/files/lock.h"
#include "daemon/files/socket-unix.h"
#include "daemon/restore-creds.h"
#include "daemon/vma.h"
#include "images/img.h"


/* Move fd above every fd number a task uses. */
int rst_move_high(struct rst_ctx *ctx, int fd)
{
	int nfd;

	if (fd < 0 || fd >= ctx->pages_fd_base)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, ctx->pages_fd_base);
	if (nfd < 0)
		nfd = negerrno();
	close(fd);
	return nfd;
}

/* An unlinked file: O_TMPFILE next to where it lived (as the requester),
 * else a memfd. */
static int ghost_create(struct rst_ctx *ctx, const char *near_path, const char *memfd_name,
			uint32_t mode, uint64_t hugetlb_kb)
{
	char dir[4096];
	int fd = -1;

	if (near_path) {
		rst_clean_path(near_path, dir, sizeof(dir));
		fd = rst_open_path(ctx, dirname(dir), O_TMPFILE | O_RDWR, mode & 07777);
		if (fd >= 0 && hugetlb_kb && !rst_hugetlb_is(fd, hugetlb_kb)) {
			close(fd);	/* not hugetlbfs of that page size any more */
			fd = -1;
		}
	}
	if (fd < 0 && hugetlb_kb)
		return rst_hugetlb_memfd(memfd_name, hugetlb_kb);
	if (fd < 0)
		fd = memfd_create(memfd_name && memfd_name[0] ? memfd_name : "ckpt-ghost",
				  MFD_CLOEXEC | MFD_ALLOW_SEALING);
	return fd < 0 ? negerrno() : fd;
}

/* An O_TMPFILE file shows as "/dir/#1234 (deleted)": give it its old name
 * for a moment and take an fd through that name, so it shows as
 * "/dir/name (deleted)" as it did. Returns the fd to use (fd itself if
 * the name is taken again, or fd is a memfd). */
struct ghost_link {
	int fd;
	char path[4096];
};

/* Link, reopen and unlink as the requester (restore-creds.c): a name
 * where it may create one, never through another process's /proc. */
static int ghost_link(void *arg)
{
	struct ghost_link *g = arg;
	struct open_how how = { .flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW,
				.resolve = RESOLVE_NO_MAGICLINKS };
	int nfd;

	if (g->path[0] != '/' || linkat(g->fd, "", AT_FDCWD, g->path, AT_EMPTY_PATH) < 0)
		return 0;
	nfd = syscall(SYS_openat2, AT_FDCWD, g->path, &how, sizeof(how));
	unlink(g->path);
	if (nfd >= 0) {
		close(g->fd);
		g->fd = nfd;
	}
	return 0;
}

static int ghost_name(struct rst_ctx *ctx, int fd, const char *near_path)
{
	struct ghost_link g = { .fd = fd };

	rst_clean_path(near_path, g.path, sizeof(g.path));
	rst_as_requester(ctx, ghost_link, &g);
	return g.fd;
}

/* The deleted file's owner, mode and times, set as the requester may
 * (ckptd's powers would let an image make a file anyone's, setuid): root
 * gets them all, another requester what the kernel lets it do on the file
 * it made (a memfd made by ckptd keeps ckptd's owner and gets only its
 * permission bits, set before). */
struct ghost_attrs {
	const GhostHead *h;
	int fd;
};

static int ghost_set_attrs(void *arg)
{
	struct ghost_attrs *a = arg;
	const GhostHead *h = a->h;
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };

	if (h->has_uid && h->has_gid)
		fchown(a->fd, h->uid, h->gid);
	if (h->mode & 07777)
		fchmod(a->fd, h->mode & 07777);	/* after fchown, which clears setuid */
	if (h->has_atime_ns)
		ts[0] = (struct timespec){ h->atime_ns / 1000000000, h->atime_ns % 1000000000 };
	if (h->has_mtime_ns)
		ts[1] = (struct timespec){ h->mtime_ns / 1000000000, h->mtime_ns % 1000000000 };
	futimens(a->fd, ts);
	return 0;
}

static void ghost_attrs(struct rst_ctx *ctx, const GhostHead *h, int fd)
{
	struct ghost_attrs a = { .h = h, .fd = fd };

	rst_as_requester(ctx, ghost_set_attrs, &a);
}

/* Open ghost-N.img and read its head; on success the caller closes *ret_img
 * and frees *ret_head. */
static int ghost_open(struct rst_ctx *ctx, uint32_t ghost_id, struct img **ret_img,
		      GhostHead **ret_head)
{
	ProtobufCMessage *m = NULL;
	struct img *img = NULL;
	int r;

	r = img_open(ctx->dirfd, IMG_GHOST, ghost_id, &img);
	if (r == 0)
		r = img_read_next(img, &m);
	if (r < 0 || !m) {
		r = ckpt_fail(ctx->err, r < 0 ? r : -EBADMSG, "ghost-%u.img: %s", ghost_id,
			      img ? img_errmsg(img) : "cannot open");
		if (img)
			img_close(img);
		return r;
	}
	*ret_img = img;
	*ret_head = (GhostHead *)m;
	return 0;
}

/* Write the chunks that follow the head into fd, an object of size bytes
 * (through map, its shared mapping, if not NULL). */
static int ghost_write_chunks(struct rst_ctx *ctx, struct img *img, uint32_t ghost_id, int fd,
			      uint64_t size, uint8_t *map)
{
	ProtobufCMessage *m;
	int r;

	for (;;) {
		GhostChunk *c;

		r = img_read_next(img, &m);
		if (r < 0)
			return ckpt_fail(ctx->err, r, "%s", img_errmsg(img));
		if (!m)
			return 0;
		c = (GhostChunk *)m;
		if (c->off > size || c->data.len > size - c->off)
			r = ckpt_fail(ctx->err, -EBADMSG, "ghost-%u.img: chunk past the object's %llu bytes",
				      ghost_id, (unsigned long long)size);
		else if (map)
			memcpy(map + c->off, c->data.data, c->data.len);
		else if ((r = pwrite_full(fd, c->data.data, c->data.len, c->off)) < 0)
			r = ckpt_fail(ctx->err, r, "ghost-%u.img: cannot write contents", ghost_id);
		protobuf_c_message_free_unpacked(m, NULL);
		if (r < 0)
			return r;
	}
}

/* hugetlbfs has no write(): a hugetlb object is filled through a shared
 * mapping, whose mmap reserves its pages (ENOMEM: the pool is short). */
static int ghost_write_object(struct rst_ctx *ctx, struct img *img, uint32_t ghost_id, int fd,
			      uint64_t size, uint64_t hugetlb_kb)
{
	uint8_t *map = NULL;
	int r;

	if (hugetlb_kb && size) {
		r = rst_hugetlb_map(fd, size, &map);
		if (r < 0)
			return ckpt_fail(ctx->err, r, "ghost-%u.img: cannot map %llu bytes of "
					 "hugetlb memory of %llu kB pages to fill them%s", ghost_id,
					 (unsigned long long)size, (unsigned long long)hugetlb_kb,
					 r == -ENOMEM ? " (too few free huge pages?)" : "");
	}
	r = ghost_write_chunks(ctx, img, ghost_id, fd, size, map);
	if (map)
		munmap(map, size);
	return r;
}

static int ghost_fill(struct rst_ctx *ctx, struct img *img, GhostHead *h, int fd,
		      uint64_t hugetlb_kb)
{
	if (ftruncate(fd, h->size) < 0)
		return ckpt_fail(ctx->err, negerrno(), "ghost-%u.img: cannot size a file to %llu",
				 h->id, (unsigned long long)h->size);
	return ghost_write_object(ctx, img, h->id, fd, h->size, hugetlb_kb);
}

static int ghost_make(struct rst_ctx *ctx, uint32_t ghost_id, const char *near_path,
		      const char *memfd_name, uint64_t hugetlb_kb, int *ret);

/* One file per ghost image: the fds and mappings of one deleted file or
 * memfd must share its inode, as they did. */
static int ghost_cached(struct rst_ctx *ctx, uint32_t ghost_id)
{
	for (unsigned i = 0; i < ctx->nr_ghosts; i++)
		if (ctx->ghosts[i].id == ghost_id)
			return ctx->ghosts[i].fd;
	return -1;
}

static int ghost_remember(struct rst_ctx *ctx, uint32_t ghost_id, int fd)
{
	struct rst_ghost *ng = realloc(ctx->ghosts, (ctx->nr_ghosts + 1) * sizeof(*ng));
	int keep;

	if (!ng)
		return -ENOMEM;
	ctx->ghosts = ng;
	keep = fcntl(fd, F_DUPFD_CLOEXEC, ctx->pages_fd_base);
	if (keep < 0)
		return negerrno();
	ng[ctx->nr_ghosts++] = (struct rst_ghost){ .id = ghost_id, .fd = keep };
	return 0;
}

int rst_ghost_open(struct rst_ctx *ctx, uint32_t ghost_id, const char *near_path,
		   const char *memfd_name, uint64_t hugetlb_kb, int *ret)
{
	int cached = ghost_cached(ctx, ghost_id);

	if (cached >= 0) {
		*ret = fcntl(cached, F_DUPFD_CLOEXEC, 0);
		return *ret < 0 ? ckpt_fail(ctx->err, negerrno(), "ghost-%u.img: dup", ghost_id) : 0;
	}
	return ghost_make(ctx, ghost_id, near_path, memfd_name, hugetlb_kb, ret);
}

static int ghost_make(struct rst_ctx *ctx, uint32_t ghost_id, const char *near_path,
		      const char *memfd_name, uint64_t hugetlb_kb, int *ret)
{
	_cleanup_close_ int fd = -EBADF;
	struct img *img;
	GhostHead *h;
	int r;

	r = ghost_open(ctx, ghost_id, &img, &h);
	if (r < 0)
		return r;
	fd = ghost_create(ctx, near_path, memfd_name ? memfd_name : h->name, h->mode, hugetlb_kb);
	if (fd < 0) {
		r = ckpt_fail(ctx->err, fd, "ghost-%u.img: cannot create a file for it", ghost_id);
		goto out;
	}
	r = ghost_fill(ctx, img, h, fd, hugetlb_kb);
	if (r < 0)
		goto out;
	if (h->mode & 0777)
		fchmod(fd, h->mode & 0777);	/* a memfd is ckptd's: its permissions */
	if (near_path)
		fd = ghost_name(ctx, fd, near_path);
	ghost_attrs(ctx, h, fd);
	r = ghost_remember(ctx, ghost_id, fd);
	if (r < 0) {
		r = ckpt_fail(ctx->err, r, "ghost-%u.img: cannot keep its file", ghost_id);
		goto out;
	}
	*ret = TAKE_FD(fd);
out:
	protobuf_c_message_free_unpacked(&h->base, NULL);
	img_close(img);
	return r;
}

/* Each description by its kind (daemon/files/); a kind that can't come
 * back is used by no task (checked at load). */
int rst_open_descs(struct rst_ctx *ctx)
{
	struct fd_open_state st = { 0 };
	int r = 0, fd;

	for (unsigned i = 0; i < ctx->nr_descs; i++) {
		struct rst_desc *d = &ctx->descs[i];
		const struct fd_kind_ops *k = fd_kind_of_desc(d->fe);

		if (!fd_kind_restorable(k, d->fe))
			continue;
		fd = k->open(ctx, d->fe, &st);
		if (fd >= 0)
			fd = rst_move_high(ctx, fd);
		if (fd < 0) {
			r = ckpt_fail(ctx->err, fd, "file description %u: cannot open", d->fe->id);
			break;
		}
		d->fd = fd;
		r = fd_lock_take_desc(ctx, d->fe, fd);	/* its flock, OFD locks, lease */
		if (r < 0)
			break;
	}
	fd_open_state_release(&st);
	sock_unix_release(&st);
	fd_pty_release(&st);
	return r;
}

static int vmfile_add(struct rst_ctx *ctx, const char *key, bool write, int fd)
{
	struct rst_vmfile *nv = realloc(ctx->vmfiles, (ctx->nr_vmfiles + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	ctx->vmfiles = nv;
	nv[ctx->nr_vmfiles].path = strdup(key);
	nv[ctx->nr_vmfiles].write = write;
	nv[ctx->nr_vmfiles].fd = fd;
	if (!nv[ctx->nr_vmfiles].path)
		return -ENOMEM;
	ctx->nr_vmfiles++;
	return 0;
}

int rst_vmfile_fd(struct rst_ctx *ctx, const char *path, bool write)
{
	for (unsigned i = 0; i < ctx->nr_vmfiles; i++)
		if (ctx->vmfiles[i].write == write && strcmp(ctx->vmfiles[i].path, path) == 0)
			return ctx->vmfiles[i].fd;
	return -1;
}

/* Key of a file mapping: its path, or "ghost:N" for a deleted file. */
void rst_vma_key(VmaEntry *v, char *buf, size_t len)
{
	if (v->deleted)
		snprintf(buf, len, "ghost:%u", v->ghost_id);
	else
		rst_clean_path(v->file->path, buf, len);
}

/* A shared view that is writable, or may become so by mprotect (VmFlags
 * "mw" at dump: the process opened the file for writing); fill_vmas()
 * (restore-mm.c) picks the fd by the same rule. */
static bool vma_wants_write(VmaEntry *v)
{
	return v->kind == VMA_KIND__VMA_FILE_SHARED &&
	       ((v->prot & PROT_WRITE) || (v->has_may_write && v->may_write));
}

static int open_vmfile(struct rst_ctx *ctx, struct rst_task *t, VmaEntry *v)
{
	char key[4096], what[96];
	bool w = vma_wants_write(v);
	int fd, r;

	rst_vma_key(v, key, sizeof(key));
	if (rst_vmfile_fd(ctx, key, w) >= 0)
		return 0;
	snprintf(what, sizeof(what), "pid %d mapping at 0x%llx", t->pe->pid,
		 (unsigned long long)v->start);
	if (v->deleted) {
		uint64_t kb = v->has_hugetlb_kb ? v->hugetlb_kb : 0;
		bool memfd = kb && !strncmp(v->file->path, "/memfd:", 7);

		/* a MFD_HUGETLB memfd: a memfd of its name, not a file in "/" */
		r = rst_ghost_open(ctx, v->ghost_id, memfd ? NULL : v->file->path,
				   memfd ? v->file->path + 7 : NULL, kb, &fd);
		if (r < 0)
			return r;
	} else {
		fd = rst_open_path(ctx, key, w ? O_RDWR : O_RDONLY, 0);
		if (fd < 0)
			return ckpt_fail(ctx->err, fd, "%s: cannot open %s", what, key);
		r = rst_check_identity(ctx, what, fd, v->file);
		if (r < 0) {
			close(fd);
			return r;
		}
	}
	fd = rst_move_high(ctx, fd);
	if (fd < 0)
		return ckpt_fail(ctx->err, fd, "%s: cannot move its fd", what);
	return vmfile_add(ctx, key, w, fd);
}

int rst_open_vmfiles(struct rst_ctx *ctx)
{
	int r, fd;

	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		struct rst_task *t = &ctx->tasks[i];

		for (unsigned j = 0; j < t->nr_vmas; j++) {
			VmaEntry *v = t->vmas[j];

			if (v->kind != VMA_KIND__VMA_FILE_PRIVATE &&
			    v->kind != VMA_KIND__VMA_FILE_SHARED)
				continue;
			r = open_vmfile(ctx, t, v);
			if (r < 0)
				return r;
		}
		if (t->mm && t->mm->exe && rst_vmfile_fd(ctx, t->mm->exe->path, false) < 0) {
			char path[4096];

			rst_clean_path(t->mm->exe->path, path, sizeof(path));
			fd = rst_open_path(ctx, path, O_RDONLY, 0);
			if (fd < 0)
				return ckpt_fail(ctx->err, fd,
						 "pid %d: cannot open its executable %s", t->pe->pid,
						 path);
			fd = rst_move_high(ctx, fd);
			if (fd < 0)
				return ckpt_fail(ctx->err, fd, "pid %d: executable", t->pe->pid);
			r = vmfile_add(ctx, t->mm->exe->path, false, fd);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

struct rst_shmem *rst_shmem_find(struct rst_ctx *ctx, uint64_t shmid)
{
	for (unsigned i = 0; i < ctx->nr_shmems; i++)
		if (ctx->shmems[i].shmid == shmid)
			return &ctx->shmems[i];
	return NULL;
}

/* A shared anonymous object as the kernel makes one for
 * mmap(MAP_SHARED | MAP_ANONYMOUS) ("/dev/zero (deleted)" in the maps):
 * map one, take an fd on it through map_files, unmap. */
static int shmem_anon_fd(uint64_t size, uint64_t hugetlb_kb)
{
	int huge = hugetlb_kb ? (int)vma_hugetlb_flags(hugetlb_kb) : 0;
	char path[96];
	void *p;
	int fd;

	/* MAP_HUGETLB: "/anon_hugepage (deleted)" of that page size */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | huge, -1, 0);
	if (p == MAP_FAILED)
		return negerrno();
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)p,
		 (unsigned long)p + (unsigned long)size);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fd = negerrno();
	munmap(p, size);
	return fd;
}

/* Write ghost-N.img's contents into fd, an object of size bytes. */
static int ghost_copy(struct rst_ctx *ctx, uint32_t ghost_id, int fd, uint64_t size,
		      uint64_t hugetlb_kb)
{
	struct img *img;
	GhostHead *h;
	int r;

	r = ghost_open(ctx, ghost_id, &img, &h);
	if (r < 0)
		return r;
	r = ghost_write_object(ctx, img, ghost_id, fd, size, hugetlb_kb);
	protobuf_c_message_free_unpacked(&h->base, NULL);
	img_close(img);
	return r;
}

/* Pages a task's pagemap holds for a shared object go into the object. */
static int fill_shmem_pages(struct rst_ctx *ctx, struct rst_task *t)
{
	_cleanup_close_ int pfd = -EBADF;
	_cleanup_free_ void *buf = NULL;
	const char *why = NULL;
	char name[64];

	for (size_t i = 0; i < t->nr_pages; i++) {
		struct page_entry *e = &t->pages[i];
		size_t len = (size_t)e->nr_pages * ctx->page_size;
		struct rst_shmem *s;
		VmaEntry *v = NULL;
		int r;

		for (unsigned j = 0; j < t->nr_vmas && !v; j++)
			if (t->vmas[j]->start <= e->vaddr && e->vaddr < t->vmas[j]->end)
				v = t->vmas[j];
		if (!v || v->kind != VMA_KIND__VMA_ANON_SHARED || !(e->flags & PE_PRESENT))
			continue;
		s = rst_shmem_find(ctx, v->shmid);
		snprintf(name, sizeof(name), "pages-%u.img", t->pages_id);
		if (pfd < 0) {
			r = img_open_regular(ctx->dirfd, name, &pfd, &why);
			if (r < 0)
				return ckpt_fail(ctx->err, r, "cannot open %s%s%s", name,
						 why ? ": " : "", why ? why : "");
			buf = malloc((size_t)PAGES_MAX_BLOCK_PAGES * ctx->page_size);
			if (!buf)
				return -ENOMEM;
		}
		if (e->nr_pages > PAGES_MAX_BLOCK_PAGES)
			return ckpt_fail(ctx->err, -EBADMSG, "pagemap-%d.img: block of %u pages",
					 t->pe->pid, e->nr_pages);
		r = pread_full(pfd, buf, len, e->data_off);
		if (r < 0)
			return ckpt_fail(ctx->err, r, "%s at offset %llu: cannot read %zu bytes",
					 name, (unsigned long long)e->data_off, len);
		if (pages_block_hash(buf, len) != e->xxh3)
			return ckpt_fail(ctx->err, -EBADMSG,
					 "%s at offset %llu: checksum mismatch (pages at 0x%llx)",
					 name, (unsigned long long)e->data_off,
					 (unsigned long long)e->vaddr);
		r = pwrite_full(s->fd, buf, len, v->pgoff + (e->vaddr - v->start));
		if (r < 0)
			return ckpt_fail(ctx->err, r, "pid %d: cannot fill shared memory at 0x%llx",
					 t->pe->pid, (unsigned long long)e->vaddr);
	}
	return 0;
}

/* Shared anonymous memory: one object per shmid, however many tasks map it. */
int rst_open_shmems(struct rst_ctx *ctx)
{
	int r, fd;

	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		struct rst_task *t = &ctx->tasks[i];

		for (unsigned j = 0; j < t->nr_vmas; j++) {
			VmaEntry *v = t->vmas[j];
			struct rst_shmem *s;
			uint64_t end = v->pgoff + (v->end - v->start);

			if (v->kind != VMA_KIND__VMA_ANON_SHARED)
				continue;
			s = rst_shmem_find(ctx, v->shmid);
			if (!s) {
				s = realloc(ctx->shmems, (ctx->nr_shmems + 1) * sizeof(*s));
				if (!s)
					return -ENOMEM;
				ctx->shmems = s;
				s = &s[ctx->nr_shmems++];
				memset(s, 0, sizeof(*s));
				s->shmid = v->shmid;
				s->fd = -1;
			}
			if (v->has_ghost_id) {
				s->has_ghost = true;
				s->ghost_id = v->ghost_id;
			}
			if (v->has_hugetlb_kb)
				s->hugetlb_kb = v->hugetlb_kb;
			if (end > s->size)
				s->size = end;
		}
	}
	for (unsigned i = 0; i < ctx->nr_shmems; i++) {
		struct rst_shmem *s = &ctx->shmems[i];

		fd = shmem_anon_fd(s->size, s->hugetlb_kb);
		if (fd < 0)
			return ckpt_fail(ctx->err, fd, "shared memory %llx: cannot create %llu bytes",
					 (unsigned long long)s->shmid, (unsigned long long)s->size);
		if (s->has_ghost) {
			r = ghost_copy(ctx, s->ghost_id, fd, s->size, s->hugetlb_kb);
			if (r < 0) {
				close(fd);
				return r;
			}
		}
		s->fd = rst_move_high(ctx, fd);
		if (s->fd < 0)
			return ckpt_fail(ctx->err, s->fd, "shared memory: cannot move its fd");
	}
	for (unsigned i = 0; i < ctx->nr_tasks && ctx->nr_shmems; i++) {
		r = fill_shmem_pages(ctx, &ctx->tasks[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* In task t, its fds in place: their owners (the tree's pids exist now),
 * then what their kinds do (epoll watches). */
static int post_open_fds(struct rst_ctx *ctx, struct rst_task *t)
{
	for (unsigned i = 0; i < t->nr_fds; i++) {
		FdEntry *f = t->fds[i];
		const FileDescEntry *fe = rst_desc_find(ctx, f->desc_id)->fe;
		const struct fd_kind_ops *k = fd_kind_of_desc(fe);
		int r = fd_fown_restore(ctx, t, f, fe);

		if (r < 0)
			return r;
		if (!k || !k->post_open)
			continue;
		r = k->post_open(ctx, t, f, fe);
		if (r < 0)
			return r;
	}
	return 0;
}

int rst_install_fds(struct rst_ctx *ctx, struct rst_task *t)
{
	for (unsigned i = 0; i < t->nr_fds; i++) {
		FdEntry *f = t->fds[i];
		struct rst_desc *d = rst_desc_find(ctx, f->desc_id);

		if (!d || d->fd < 0)
			return ckpt_fail(ctx->err, -EBADF, "pid %d fd %u: description %u not open",
					 t->pe->pid, f->fd, f->desc_id);
		if (dup3(d->fd, f->fd, f->cloexec ? O_CLOEXEC : 0) < 0)
			return ckpt_fail(ctx->err, negerrno(), "pid %d fd %u: cannot install",
					 t->pe->pid, f->fd);
	}
	return post_open_fds(ctx, t);
}
