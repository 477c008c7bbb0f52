/* inotify: each watch from fdinfo (wd, inode, mask, file handle) with the
 * path its handle resolves to; a restore makes a new instance and adds
 * every watch again, on the same inode and under the same wd.
 *
 * Dump: ckptd (root) opens each handle with open_by_handle_at on a mount
 * of its device and names it through /proc/self/fd. The events queued and
 * not read are counted (FIONREAD on the target's own description): the
 * kernel can't hand them out without consuming them, so a restore refuses
 * an instance with a non-empty queue, and a killing dump with it.
 *
 * Restore: each watched file is opened by its handle (a root requester),
 * else by its path (as the requester), and must be the same inode (device
 * and inode number). The kernel hands out wds increasingly
 * (idr_alloc_cyclic), so to get wd W the watch is added and removed until
 * the kernel gives W, as CRIU does: O(highest wd) system calls. Each
 * removal queues an IN_IGNORED event; the queue is emptied once every
 * watch is in, before any task runs. */
#include "daemon/files/inotify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/dump.h"
#include "daemon/files/kinds.h"
#include "daemon/restore-creds.h"
#include "daemon/restore-int.h"

#define INOTIFY_NAME	"anon_inode:inotify"
#define HANDLE_MAX	128	/* MAX_HANDLE_SZ */
/* The highest wd a restore makes again (each one below it costs an
 * inotify_add_watch and an inotify_rm_watch). */
#define WD_MAX		(1u << 20)
/* What a watch's mask may carry back into inotify_add_watch. IN_DONT_FOLLOW
 * is left out: the watch is added through /proc/self/fd/N, a link. */
#define WATCH_MASK	(IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK)

static bool inotify_match(const struct fd_parms *p)
{
	return fd_is_anon(p, INOTIFY_NAME);
}

/* --- both sides ------------------------------------------------------------ */

static int unhex(const char *hex, size_t bytes, uint8_t *out)
{
	for (size_t i = 0; i < bytes; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -EBADMSG;
		out[i] = (uint8_t)v;
	}
	return 0;
}

int inotify_parse_wd(const char *l, InotifyWdEntry *w)
{
	unsigned wd, sdev, mask, ign, bytes, type;
	unsigned long ino;
	char hex[2 * HANDLE_MAX + 2];
	int n;

	if (!fd_str_starts(l, "inotify "))
		return 0;
	n = sscanf(l, "inotify wd:%x ino:%lx sdev:%x mask:%x ignored_mask:%x fhandle-bytes:%x "
		   "fhandle-type:%x f_handle:%257s", &wd, &ino, &sdev, &mask, &ign, &bytes, &type,
		   hex);
	if (n != 5 && n != 8)
		return -EBADMSG;
	w->wd = wd;
	/* the kernel prints a superblock's dev_t in its own encoding */
	w->dev = makedev(sdev >> 20, sdev & 0xfffff);
	w->ino = ino;
	w->mask = mask;
	w->has_ignored_mask = true;
	w->ignored_mask = ign;
	if (n == 5)	/* a kernel without CONFIG_EXPORTFS: no handle */
		return 1;
	if (bytes == 0 || bytes > HANDLE_MAX || strlen(hex) != 2 * bytes)
		return -EBADMSG;
	w->handle.data = malloc(bytes);
	if (!w->handle.data)
		return -ENOMEM;
	w->handle.len = bytes;
	w->has_handle = true;
	w->has_handle_type = true;
	w->handle_type = type;
	return unhex(hex, bytes, w->handle.data) < 0 ? -EBADMSG : 1;
}

/* Without a mount of dev in its mountinfo (a chroot: mounts above the
 * root are left out), the process's root or cwd serves when it is on dev:
 * open_by_handle_at wants any directory of the file system. */
static int same_dev_dir(const char *proc, dev_t dev)
{
	static const char *const dirs[] = { "root", "cwd" };

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		char path[4200];
		struct stat st;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", proc, dirs[i]);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && st.st_dev == dev)
			return fd;
		close(fd);
	}
	return -ENOENT;
}

/* An fd on a mount of dev as the process of proc ("/proc/PID" or
 * "/proc/self") sees it: the mount of its whole file system if there is
 * one. Mount points with escapes in mountinfo are passed over. Not O_PATH:
 * open_by_handle_at refuses that (EBADF). */
static int mount_fd(const char *proc, dev_t dev)
{
	_cleanup_free_ char *buf = NULL;
	char path[4200], root[4096], mnt[4096], best[4096] = "";
	unsigned maj, min;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/mountinfo", proc);
	r = read_file_at(AT_FDCWD, path, &buf, &len);
	if (r < 0)
		return r;
	for (char *l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (sscanf(l, "%*d %*d %u:%u %4095s %4095s", &maj, &min, root, mnt) != 4 ||
		    makedev(maj, min) != dev || strchr(mnt, '\\'))
			continue;
		if (!best[0] || !strcmp(root, "/"))
			snprintf(best, sizeof(best), "%s", mnt);
		if (!strcmp(root, "/"))
			break;
	}
	if (!best[0])
		return same_dev_dir(proc, dev);
	snprintf(path, sizeof(path), "%s/root%s", proc, best);
	r = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return r < 0 ? negerrno() : r;
}

/* The watched file by its handle, through a mount of its device. */
static int open_handle(const char *proc, const InotifyWdEntry *w, int flags)
{
	_cleanup_free_ struct file_handle *fh = NULL;
	_cleanup_close_ int mfd = -EBADF;
	int fd;

	if (!w->has_handle || w->handle.len > HANDLE_MAX)
		return -ENOENT;
	mfd = mount_fd(proc, (dev_t)w->dev);
	if (mfd < 0)
		return mfd;
	fh = malloc(sizeof(*fh) + w->handle.len);
	if (!fh)
		return -ENOMEM;
	fh->handle_bytes = (unsigned)w->handle.len;
	fh->handle_type = (int)w->handle_type;
	memcpy(fh->f_handle, w->handle.data, w->handle.len);
	fd = open_by_handle_at(mfd, fh, flags | O_CLOEXEC);
	return fd < 0 ? negerrno() : fd;
}

/* Is fd the watched inode: the same device and inode number, and (a
 * freed inode's number is soon given to a new file) the same file handle,
 * which holds its generation, where its file system gives handles. */
static bool same_inode(int fd, const InotifyWdEntry *w)
{
	_cleanup_free_ struct file_handle *fh = NULL;
	struct stat st;
	int mnt;

	if (fstat(fd, &st) < 0 || st.st_dev != (dev_t)w->dev || st.st_ino != (ino_t)w->ino)
		return false;
	if (!w->has_handle || w->handle.len > HANDLE_MAX)
		return true;
	fh = malloc(sizeof(*fh) + HANDLE_MAX);
	if (!fh)
		return false;
	fh->handle_bytes = HANDLE_MAX;
	if (name_to_handle_at(fd, "", fh, &mnt, AT_EMPTY_PATH) < 0)
		return errno == EOPNOTSUPP;
	return fh->handle_bytes == w->handle.len && fh->handle_type == (int)w->handle_type &&
	       !memcmp(fh->f_handle, w->handle.data, w->handle.len);
}

/* --- dump ------------------------------------------------------------------ */

static int parse_line(const struct fd_parms *p, FileDescEntry *e, const char *l)
{
	InotifyEntry *ie = e->inotify;
	InotifyWdEntry *w, **n;
	int r;

	if (!fd_str_starts(l, "inotify "))
		return 0;
	n = realloc(ie->wds, (ie->n_wds + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	ie->wds = n;
	w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	inotify_wd_entry__init(w);
	ie->wds[ie->n_wds++] = w;	/* freed with e, even half filled */
	r = inotify_parse_wd(l, w);
	return r < 0 ? r : 0;
}

/* Name the watched inode: its handle opened, its link in /proc/self/fd.
 * A watch whose handle can't be opened keeps no path. */
static int name_watch(pid_t pid, InotifyWdEntry *w)
{
	char proc[32], link[64], path[4096];
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/%d", pid);
	fd = open_handle(proc, w, O_PATH);
	if (fd < 0 || fstat(fd, &st) < 0 || !same_inode(fd, w))
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0 || path[0] != '/')
		return 0;
	path[n] = '\0';
	w->has_deleted = true;
	w->deleted = fd_strip_deleted(path, &st) || st.st_nlink == 0;
	w->path = strdup(path);
	return w->path ? 0 : -ENOMEM;
}

static int cmp_wd(const void *a, const void *b)
{
	const InotifyWdEntry *x = *(InotifyWdEntry *const *)a, *y = *(InotifyWdEntry *const *)b;

	return x->wd < y->wd ? -1 : x->wd > y->wd;
}

/* Bytes of events queued and not read, on the target's own description. */
static int queued_bytes(struct dump_ctx *ctx, const struct fd_parms *p, uint32_t *ret)
{
	_cleanup_close_ int fd = fd_take_shared(ctx, p->pid, p->fd);
	int n = 0;

	if (fd < 0)
		return ckpt_fail(ctx->err, fd, "pid %d fd %d: cannot take its inotify file",
				 p->pid, p->fd);
	if (ioctl(fd, FIONREAD, &n) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %d: FIONREAD on its inotify file",
				 p->pid, p->fd);
	*ret = (uint32_t)n;
	return 0;
}

static int inotify_describe(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e)
{
	InotifyEntry *ie;
	int r = fd_anon_describe(ctx, p, e);

	if (r < 0)
		return r;
	ie = malloc(sizeof(*ie));
	if (!ie)
		return -ENOMEM;
	inotify_entry__init(ie);
	e->inotify = ie;
	r = fd_fdinfo_each(ctx, p, parse_line, e);
	if (r == -EBADMSG)
		return fd_fdinfo_lacks(ctx, p);
	if (r < 0)
		return r;
	qsort(ie->wds, ie->n_wds, sizeof(*ie->wds), cmp_wd);
	for (size_t i = 0; i < ie->n_wds; i++) {
		r = name_watch(p->pid, ie->wds[i]);
		if (r < 0)
			return r;
	}
	ie->has_queued = true;
	return queued_bytes(ctx, p, &ie->queued);
}

/* --- restore --------------------------------------------------------------- */

static bool inotify_restorable(const FileDescEntry *fe)
{
	return fe->inotify;
}

/* The description's own fields: wds ascending, within what can be made. */
static int inotify_check(struct rst_ctx *ctx, const FileDescEntry *fe)
{
	const InotifyEntry *ie = fe->inotify;

	for (size_t i = 0; i < ie->n_wds; i++) {
		const InotifyWdEntry *w = ie->wds[i];

		if (w->wd == 0 || (i && w->wd <= ie->wds[i - 1]->wd) ||
		    (w->has_handle && w->handle.len > HANDLE_MAX) || (w->path && w->path[0] != '/'))
			return ckpt_fail(ctx->err, -EBADMSG, "files.img: file description %u: "
					 "inotify watch %zu (wd %u) is malformed", fe->id, i,
					 w->wd);
	}
	return 0;
}

/* A root requester's restore may open a watched file by its handle; anyone
 * else's only by its path, as the requester, and readable (inotify wants
 * read permission on what it watches). */
static bool by_root(const struct rst_ctx *ctx)
{
	return !ctx->opts || ctx->opts->requester_uid == 0;
}

/* An fd on the watched file, the same inode as at the dump, or a failure
 * naming pid, fd, wd and path. */
static int watch_file(struct rst_ctx *ctx, pid_t pid, unsigned fdno, const InotifyWdEntry *w)
{
	const char *path = w->path ? w->path : "(no path)";
	char clean[4096];
	int fd = -ENOENT;

	if (by_root(ctx))
		fd = open_handle("/proc/self", w, O_PATH);
	if (fd >= 0 && !same_inode(fd, w)) {
		close(fd);
		fd = -ESTALE;
	}
	if (fd < 0 && w->path) {
		rst_clean_path(w->path, clean, sizeof(clean));
		fd = rst_open_path(ctx, clean, by_root(ctx) ? O_PATH :
				   O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
		if (fd < 0)
			return ckpt_fail(ctx->err, fd, "pid %d fd %u: inotify watch wd %u: cannot "
					 "open %s", pid, fdno, w->wd, path);
		if (!same_inode(fd, w)) {
			close(fd);
			return ckpt_fail(ctx->err, -ESTALE, "pid %d fd %u: inotify watch wd %u: %s "
					 "is no longer the file it watched (device %llx inode "
					 "%llu)", pid, fdno, w->wd, path,
					 (unsigned long long)w->dev, (unsigned long long)w->ino);
		}
	}
	if (fd < 0)
		return ckpt_fail(ctx->err, fd, "pid %d fd %u: inotify watch wd %u: its file "
				 "(device %llx inode %llu) was not named at the dump (naming it "
				 "takes CAP_DAC_READ_SEARCH, which a dump for a user other than "
				 "root does without: have root dump it)%s", pid, fdno, w->wd,
				 (unsigned long long)w->dev, (unsigned long long)w->ino,
				 by_root(ctx) ? " and its handle no longer opens" : "");
	return fd;
}

static int check_watch(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
		       const InotifyWdEntry *w)
{
	int fd;

	if (w->deleted)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: inotify watch wd %u is on "
				 "%s, which was deleted: such a watch can't be restored",
				 t->pe->pid, f->fd, w->wd, w->path ? w->path : "a file");
	if (w->wd > WD_MAX)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: inotify watch wd %u: a "
				 "wd above %u can't be made again", t->pe->pid, f->fd, w->wd,
				 WD_MAX);
	fd = watch_file(ctx, t->pe->pid, f->fd, w);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* Every watched file is there and the same; no event is waiting. */
static int inotify_check_task(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
			      const FileDescEntry *fe)
{
	const InotifyEntry *ie = fe->inotify;
	int r;

	if (ie->queued)
		return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: inotify has %u bytes of "
				 "events not read, which the kernel can't give back unread: dump "
				 "again once the program has read them", t->pe->pid, f->fd,
				 ie->queued);
	for (size_t i = 0; i < ie->n_wds; i++) {
		r = check_watch(ctx, t, f, ie->wds[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The first task and fd holding description id, to name in messages. */
static void desc_holder(struct rst_ctx *ctx, uint32_t id, pid_t *pid, unsigned *fd)
{
	for (unsigned i = 0; i < ctx->nr_tasks; i++)
		for (unsigned j = 0; j < ctx->tasks[i].nr_fds; j++)
			if (ctx->tasks[i].fds[j]->desc_id == id) {
				*pid = ctx->tasks[i].pe->pid;
				*fd = ctx->tasks[i].fds[j]->fd;
				return;
			}
}

/* Add w to ifd under its own wd: add and remove until the kernel gives it.
 * A wd at or below prev (the wd added last) names a watch already made: two
 * watches of the image on one inode, which one instance can't have. */
static int add_watch(struct rst_ctx *ctx, int ifd, const InotifyWdEntry *w, uint32_t prev,
		     pid_t pid, unsigned fdno)
{
	_cleanup_close_ int fd = watch_file(ctx, pid, fdno, w);
	char path[64];

	if (fd < 0)
		return fd;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	for (;;) {
		int wd = inotify_add_watch(ifd, path, w->mask & WATCH_MASK);

		if (wd < 0)
			return ckpt_fail(ctx->err, negerrno(), "pid %d fd %u: inotify watch wd %u "
					 "on %s: cannot add it (mask %#x)", pid, fdno, w->wd,
					 w->path ? w->path : "its file", w->mask);
		if ((uint32_t)wd == w->wd)
			return 0;
		if ((uint32_t)wd <= prev)
			return ckpt_fail(ctx->err, -EBADMSG, "pid %d fd %u: inotify watches wd %d "
					 "and wd %u are on one file", pid, fdno, wd, w->wd);
		if ((uint32_t)wd > w->wd)
			return ckpt_fail(ctx->err, -EEXIST, "pid %d fd %u: inotify watch wd %u: "
					 "the kernel gave wd %d, past it", pid, fdno, w->wd, wd);
		inotify_rm_watch(ifd, wd);
	}
}

/* The IN_IGNORED events of the removed watches. */
static void drain(int ifd)
{
	char buf[4096];
	int n;

	while (ioctl(ifd, FIONREAD, &n) == 0 && n > 0)
		if (read(ifd, buf, sizeof(buf)) <= 0)
			break;
}

static int inotify_open(struct rst_ctx *ctx, FileDescEntry *fe, struct fd_open_state *st)
{
	const InotifyEntry *ie = fe->inotify;
	int flags = IN_CLOEXEC | (fe->flags & O_NONBLOCK ? IN_NONBLOCK : 0);
	_cleanup_close_ int fd = inotify_init1(flags);
	unsigned fdno = 0;
	pid_t pid = 0;
	int r;

	if (fd < 0)
		return ckpt_fail(ctx->err, negerrno(), "file description %u: cannot create %s",
				 fe->id, fe->anon_name);
	desc_holder(ctx, fe->id, &pid, &fdno);
	for (size_t i = 0; i < ie->n_wds; i++) {
		r = add_watch(ctx, fd, ie->wds[i], i ? ie->wds[i - 1]->wd : 0, pid, fdno);
		if (r < 0)
			return r;
	}
	drain(fd);
	return TAKE_FD(fd);
}

const struct fd_kind_ops fd_kind_inotify = {
	.type = FD_TYPE__FD_ANON,
	.anon_name = INOTIFY_NAME,
	.name = FD_ANON_REFUSED,
	.match = inotify_match,
	.describe = inotify_describe,
	.restorable = inotify_restorable,
	.check = inotify_check,
	.check_task = inotify_check_task,
	.open = inotify_open,
};
