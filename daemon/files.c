/* Open files of a dump: fs-PID.img per task, files.img once for the tree.
 *
 * Every fd of every task is described from /proc (readlink, stat through the
 * magic link, fdinfo) without opening anything that could change the target.
 * fds that share one open file description (dup, fork) get one desc_id.
 * Descriptions sit in binary trees hashed by (dev, ino), ordered by
 * (dev, ino, pos, flags) and then by kcmp(KCMP_FILE), which orders files as
 * well as it says which are the same: a lookup costs O(log n) kcmp calls even
 * when thousands of fds hold one file (/dev/null, anon inodes), where a list
 * of candidates would cost O(n). Descriptions are kept in memory (small: paths and ids) and
 * written to files.img at the end, when pipe data is read: the tree is still
 * frozen then, and only then do we know which end of each pipe the tree
 * holds (the data goes with a read end's description, once per pipe). */
#include "daemon/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/dump.h"
#include "daemon/files/kinds.h"
#include "daemon/files/lock.h"
#include "daemon/proc.h"
#include "images/img.h"
#include "files.pb-c.h"

#define DESC_BUCKETS 1024u

struct desc_ref {
	pid_t pid;		/* first holder, for kcmp */
	int fd;
	dev_t dev;
	ino_t ino;
	uint64_t pos;
	uint32_t flags;
	bool pipe_data;		/* this description carries its pipe's data */
	FileDescEntry e;
	struct desc_ref *left, *right;	/* in its bucket's tree */
	struct desc_ref *next;	/* id order */
};

/* Which description of a pipe carries its data. */
struct pipe_ref {
	dev_t dev;
	ino_t ino;
	struct desc_ref *holder;
	struct pipe_ref *next;
};

struct files_ctx *files_ctx_get(struct dump_ctx *ctx)
{
	struct files_ctx *f = ctx->files;

	if (f)
		return f;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->buckets = calloc(DESC_BUCKETS, sizeof(*f->buckets));
	if (!f->buckets) {
		free(f);
		return NULL;
	}
	ctx->files = f;
	return f;
}

/* Free what e points to, whatever its kind filled in: every string, bytes
 * field and sub-message of a description is malloc'ed, so protobuf-c's own
 * free does it (on a heap copy, since it frees the message itself too). */
static void desc_entry_clear(FileDescEntry *e)
{
	FileDescEntry *h = malloc(sizeof(*h));

	if (h) {
		*h = *e;
		file_desc_entry__free_unpacked(h, NULL);
	}
	file_desc_entry__init(e);
}

void files_ctx_free(struct files_ctx *f)
{
	struct desc_ref *d, *n;

	if (!f)
		return;
	for (d = f->first; d; d = n) {
		n = d->next;
		desc_entry_clear(&d->e);
		free(d);
	}
	free(f->posix_holders);
	while (f->pipes) {
		struct pipe_ref *pr = f->pipes;

		f->pipes = pr->next;
		free(pr);
	}
	free(f->buckets);
	ghosts_free(f->ghosts);
	sock_table_free(f->socks);
	free(f);
}

int fd_reopen(pid_t pid, int fd, int flags)
{
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	r = open(path, flags | O_CLOEXEC | O_NOCTTY);
	return r < 0 ? negerrno() : r;
}

int fd_take_shared(struct dump_ctx *ctx, pid_t pid, int fd)
{
	struct task *t = pstree_find(&ctx->tree, pid);
	_cleanup_close_ int own = -EBADF;
	int pidfd, r;

	/* the frozen task's pidfd names it whatever happens to the pid; a
	 * caller outside a dump (a test) has only the pid */
	if (t && t->pidfd >= 0) {
		pidfd = t->pidfd;
	} else {
		own = syscall(SYS_pidfd_open, pid, 0);
		if (own < 0)
			return negerrno();
		pidfd = own;
	}
	r = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	return r < 0 ? negerrno() : r;
}

/* --- reading one fd from /proc ------------------------------------------- */

static int read_link_at(int dirfd, const char *name, char **ret)
{
	char buf[PATH_MAX + 16];
	ssize_t n;

	n = readlinkat(dirfd, name, buf, sizeof(buf) - 1);
	if (n < 0)
		return negerrno();
	buf[n] = '\0';
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

/* "pos:" and "flags:" (octal) of /proc/PID/fdinfo/N, read once and kept
 * in p->fdinfo for the kinds (fd_fdinfo_each) and the locks: the tree is
 * frozen, and a description's lines do not change under the dump. */
static int parse_fdinfo(struct dump_ctx *ctx, struct fd_parms *p)
{
	unsigned long long pos = 0;
	unsigned flags = 0;
	bool have_pos = false, have_flags = false;
	int r;

	r = proc_read_fdinfo(p->pid, p->fd, &p->fdinfo);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %d: cannot read its fdinfo", p->pid, p->fd);
	for (char *l = p->fdinfo; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (sscanf(l, "pos: %llu", &pos) == 1)
			have_pos = true;
		else if (sscanf(l, "flags: %o", &flags) == 1)
			have_flags = true;
	}
	if (!have_pos || !have_flags)
		return ckpt_fail(ctx->err, -EBADMSG, "pid %d fd %d: its fdinfo lacks pos or flags",
				 p->pid, p->fd);
	p->pos = pos;
	p->cloexec = flags & O_CLOEXEC;
	p->flags = flags & ~O_CLOEXEC;
	return 0;
}

static int fd_parms_fill(struct dump_ctx *ctx, int fddir, pid_t pid, const char *name,
			 struct fd_parms *p)
{
	int r;

	p->pid = pid;
	p->fd = atoi(name);
	r = read_link_at(fddir, name, &p->link);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %d: cannot read its link", pid, p->fd);
	if (fstatat(fddir, name, &p->st, 0) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %d: cannot stat %s",
				 pid, p->fd, p->link);
	return parse_fdinfo(ctx, p);
}

/* --- sharing: one desc_id per open file description ---------------------- */

static unsigned desc_bucket(dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)dev * 0x9e3779b97f4a7c15ull ^ (uint64_t)ino;

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return (unsigned)(h >> 32) % DESC_BUCKETS;
}

#define CMP(a, b) ((a) < (b) ? -1 : (a) > (b))

/* The order of (pid, fd) against the description d into *ret: <0, 0 (the
 * same description), >0. */
static int desc_cmp(struct dump_ctx *ctx, const struct desc_ref *d, const struct fd_parms *p,
		    int *ret)
{
	long r;

	if ((*ret = CMP(p->st.st_dev, d->dev)) || (*ret = CMP(p->st.st_ino, d->ino)) ||
	    (*ret = CMP(p->pos, d->pos)) || (*ret = CMP(p->flags, d->flags)))
		return 0;
	r = syscall(SYS_kcmp, p->pid, d->pid, KCMP_FILE, p->fd, d->fd);
	if (r < 0) {
		if (errno == ENOSYS)
			return ckpt_fail(ctx->err, -ENOSYS, "pid %d fd %d: this kernel has no "
					 "kcmp() (CONFIG_CHECKPOINT_RESTORE), so shared files "
					 "cannot be told apart", p->pid, p->fd);
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %d: kcmp with pid %d fd %d",
				 p->pid, p->fd, d->pid, d->fd);
	}
	*ret = r == 0 ? 0 : r == 1 ? -1 : 1;	/* kcmp: 1 is "less", 2 "greater" */
	return 0;
}

/* The description of (pid, fd) into *ret, or NULL and in *ret_link the
 * place to insert it. */
static int desc_find(struct dump_ctx *ctx, const struct fd_parms *p, struct desc_ref **ret,
		     struct desc_ref ***ret_link)
{
	struct desc_ref **link = &ctx->files->buckets[desc_bucket(p->st.st_dev, p->st.st_ino)];
	int c, r;

	while (*link) {
		r = desc_cmp(ctx, *link, p, &c);
		if (r < 0)
			return r;
		if (c == 0)
			break;
		link = c < 0 ? &(*link)->left : &(*link)->right;
	}
	*ret = *link;
	*ret_link = link;
	return 0;
}

static bool is_read_end(uint32_t flags)
{
	return (flags & O_ACCMODE) != O_WRONLY;
}

/* One description per pipe carries the pipe's data: a read end if the tree
 * holds one, else the first write end. */
static int pipe_pick_holder(struct files_ctx *f, struct desc_ref *nd)
{
	struct pipe_ref *pr;

	for (pr = f->pipes; pr; pr = pr->next)
		if (pr->dev == nd->dev && pr->ino == nd->ino)
			break;
	if (!pr) {
		pr = calloc(1, sizeof(*pr));
		if (!pr)
			return -ENOMEM;
		pr->dev = nd->dev;
		pr->ino = nd->ino;
		pr->next = f->pipes;
		f->pipes = pr;
	} else if (is_read_end(pr->holder->flags) || !is_read_end(nd->flags)) {
		return 0;
	} else {
		pr->holder->pipe_data = false;
	}
	pr->holder = nd;
	nd->pipe_data = true;
	return 0;
}

/* --- describing one description ------------------------------------------ */

/* Its kind (daemon/files/) says what to record. */
static int describe(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e)
{
	const struct fd_kind_ops *k = fd_kind_of_fd(p);
	int r;

	e->flags = p->flags;
	e->type = k->type;
	r = k->describe(ctx, p, e);
	if (r == 0 && !(p->flags & O_PATH))	/* its owner, whatever its kind */
		r = fd_fown_describe(ctx, p, e);
	if (r == 0 && !(p->flags & O_PATH))	/* its flock, OFD locks, lease */
		r = fd_lock_describe(ctx, p, e);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %d: cannot describe %s",
				 p->pid, p->fd, p->link);
	return 0;
}

static int desc_add(struct dump_ctx *ctx, struct fd_parms *p, struct desc_ref **link,
		    struct desc_ref **ret)
{
	struct files_ctx *f = ctx->files;
	struct desc_ref *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return ckpt_fail(ctx->err, -ENOMEM, "pid %d fd %d: out of memory", p->pid, p->fd);
	file_desc_entry__init(&d->e);
	r = describe(ctx, p, &d->e);
	if (r < 0) {
		desc_entry_clear(&d->e);
		free(d);
		return r;
	}
	d->pid = p->pid;
	d->fd = p->fd;
	d->dev = p->st.st_dev;
	d->ino = p->st.st_ino;
	d->pos = p->pos;
	d->flags = p->flags;
	if (d->e.type == FD_TYPE__FD_PIPE || d->e.type == FD_TYPE__FD_FIFO) {
		r = pipe_pick_holder(f, d);
		if (r < 0) {
			desc_entry_clear(&d->e);
			free(d);
			return ckpt_fail(ctx->err, r, "pid %d fd %d: out of memory", p->pid, p->fd);
		}
	}
	d->e.id = ++f->nr_descs;
	*link = d;
	if (f->last)
		f->last->next = d;
	else
		f->first = d;
	f->last = d;
	*ret = d;
	return 0;
}

/* --- per task --------------------------------------------------------------- */

static int dump_one_fd(struct dump_ctx *ctx, int fddir, pid_t pid, const char *name,
		       struct img *img)
{
	struct fd_parms p = { 0 };
	FdEntry fe = FD_ENTRY__INIT;
	struct desc_ref *d, **link;
	int r;

	r = fd_parms_fill(ctx, fddir, pid, name, &p);
	if (r < 0)
		goto out;
	r = desc_find(ctx, &p, &d, &link);
	if (r == 0 && !d)
		r = desc_add(ctx, &p, link, &d);
	if (r < 0)
		goto out;
	fe.fd = p.fd;
	fe.desc_id = d->e.id;
	fe.cloexec = p.cloexec;
	r = img_write_msg(img, &fe.base);
	if (r < 0)
		ckpt_fail(ctx->err, r, "%s", img_errmsg(img));
	ctx->stats.fds++;
out:
	free(p.link);
	free(p.fdinfo);
	return r;
}

static int dump_fds(struct dump_ctx *ctx, pid_t pid, struct img *img)
{
	char path[64];
	DIR *dir;
	struct dirent *de;
	int r = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	if (!dir)
		return ckpt_fail(ctx->err, negerrno(), "pid %d: cannot open %s", pid, path);
	while ((errno = 0, de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		r = dump_one_fd(ctx, dirfd(dir), pid, de->d_name, img);
		if (r < 0)
			break;
	}
	if (r == 0 && errno)
		r = ckpt_fail(ctx->err, negerrno(), "pid %d: cannot list %s", pid, path);
	closedir(dir);
	return r;
}

static int read_umask(struct dump_ctx *ctx, pid_t pid, uint32_t *ret)
{
	_cleanup_free_ char *buf = NULL;
	char path[64], *l;
	unsigned m;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	r = read_file_at(AT_FDCWD, path, &buf, NULL);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d: cannot read %s", pid, path);
	l = strstr(buf, "\nUmask:");
	if (!l || sscanf(l, "\nUmask: %o", &m) != 1)
		return ckpt_fail(ctx->err, -EBADMSG, "pid %d: no Umask in %s", pid, path);
	*ret = m;
	return 0;
}

static int fs_entry_fill(struct dump_ctx *ctx, pid_t pid, FsEntry *fs)
{
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/cwd", pid);
	r = read_link_at(AT_FDCWD, path, &fs->cwd);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d: cannot read %s", pid, path);
	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	r = read_link_at(AT_FDCWD, path, &fs->root);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d: cannot read %s", pid, path);
	return read_umask(ctx, pid, &fs->umask);
}

/* fs-PID.img describes one fd table per task: refuse a thread that
 * unshare(CLONE_FILES)'d its own. */
static int check_thread_fd_tables(struct dump_ctx *ctx, const struct task *t)
{
	for (unsigned i = 1; i < t->nr_threads; i++) {
		pid_t tid = t->threads[i].tid;
		long r = syscall(SYS_kcmp, t->pid, tid, KCMP_FILES, 0, 0);

		if (r < 0)
			return ckpt_fail(ctx->err, negerrno(), "pid %d thread %d: kcmp of fd "
					 "tables", t->pid, tid);
		if (r != 0)
			return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d thread %d has an fd table "
					 "of its own (unshare(CLONE_FILES)), which ckpt cannot save",
					 t->pid, tid);
	}
	return 0;
}

/* fs-PID.img gives each task its own fd table: refuse a task that shares
 * its parent's (clone(CLONE_FILES) without CLONE_VM), which a restore would
 * split. A parent gone or a zombie (no fd table) is no sharer. */
static int check_shared_fd_table(struct dump_ctx *ctx, const struct task *t)
{
	long r;

	if (!t->parent || t->parent->state == TS_ZOMBIE || t->state == TS_ZOMBIE)
		return 0;
	r = syscall(SYS_kcmp, t->parent->pid, t->pid, KCMP_FILES, 0, 0);
	if (r != 0)
		return 0;
	return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d shares its fd table with its parent, "
			 "pid %d (clone(CLONE_FILES)); ckpt would restore two tables, so an "
			 "fd one opens would not appear in the other. Dump a tree whose "
			 "processes have fd tables of their own", t->pid, t->parent->pid);
}

int dump_task_files(struct dump_ctx *ctx, struct task *t)
{
	FsEntry fs = FS_ENTRY__INIT;
	struct img *img = NULL;
	int r;

	if (!files_ctx_get(ctx))
		return ckpt_fail(ctx->err, -ENOMEM, "pid %d: out of memory", t->pid);
	r = check_thread_fd_tables(ctx, t);
	if (r == 0)
		r = check_shared_fd_table(ctx, t);
	if (r < 0)
		return r;
	r = fs_entry_fill(ctx, t->pid, &fs);
	if (r < 0)
		goto out;
	r = fd_lock_dump_posix(ctx, t->pid, &fs);
	if (r < 0)
		goto out;
	r = img_create(ctx->dirfd, IMG_FS, t->pid, &img);
	if (r < 0) {
		ckpt_fail(ctx->err, r, "pid %d: cannot create fs-%d.img", t->pid, t->pid);
		goto out;
	}
	r = img_write_msg(img, &fs.base);
	if (r < 0) {
		ckpt_fail(ctx->err, r, "%s", img_errmsg(img));
		goto out;
	}
	r = dump_fds(ctx, t->pid, img);
	if (r < 0)
		goto out;
	r = dump_img_close(ctx, TAKE_PTR(img));
out:
	if (img)
		img_abort(img);
	free(fs.cwd);
	free(fs.root);
	fd_lock_free_posix(&fs);
	return r;
}

/* --- files.img -------------------------------------------------------------- */

static int write_desc(struct dump_ctx *ctx, struct desc_ref *d, struct img *img)
{
	struct fd_parms p = { .pid = d->pid, .fd = d->fd, .flags = d->flags };
	size_t len = 0;
	int r;

	if (d->pipe_data) {
		r = pipe_peek(ctx, &p, &d->e.pipe_data.data, &len, &d->e.pipe_size);
		if (r < 0)
			return r;
		d->e.has_pipe_size = true;
		d->e.pipe_data.len = len;
		d->e.has_pipe_data = len > 0;
	}
	r = img_write_msg(img, &d->e.base);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "%s", img_errmsg(img));
	free(d->e.pipe_data.data);
	d->e.pipe_data.data = NULL;
	d->e.has_pipe_data = false;
	return 0;
}

int dump_files_finish(struct dump_ctx *ctx)
{
	struct files_ctx *f = files_ctx_get(ctx);
	struct img *img;
	int r;

	if (!f)
		return ckpt_fail(ctx->err, -ENOMEM, "files.img: out of memory");
	r = img_create(ctx->dirfd, IMG_FILES, 0, &img);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "cannot create files.img");
	for (struct desc_ref *d = f->first; d; d = d->next) {
		r = write_desc(ctx, d, img);
		if (r < 0) {
			img_abort(img);
			return r;
		}
	}
	return dump_img_close(ctx, img);
}
