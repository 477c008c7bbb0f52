/* File locks held by the tree come back held.
 *
 * The kernel shows the locks taken through a description in its fdinfo
 * ("lock:\t1: POSIX  ADVISORY  WRITE 42 fe:00:1234 0 99"): those the
 * description owns (flock, OFD locks, leases) under every fd of it, and a
 * task's POSIX locks only under its own fds. A lock held by a process
 * outside the tree is in none of the tree's fdinfo, and is not ours.
 *
 * Dump: a description's locks go with it in files.img (one more read of
 * its fdinfo per description). A task's POSIX locks go to its fs_entry
 * with the fd they were taken through; to find them, the task's fds are
 * read once more only when /proc/locks shows a POSIX lock of its pid (one
 * read of /proc/locks per task: O(locks on the host)). A task blocked
 * waiting for a lock holds nothing: it restarts its syscall after restore
 * and waits again.
 *
 * Restore: the intermediate process takes a description's locks where it
 * opens it (one take serves every fd and task sharing it); each task takes
 * its POSIX locks itself, last before the blob: any close of a file by the
 * owner drops its POSIX locks on it, so they are taken once every fd the
 * blob won't keep is closed, and a lock on a file the task also maps
 * (whose fd the blob closes after mapping) is refused. Nothing blocks: a
 * lock someone else holds here fails the restore, naming it, before any
 * task of the tree runs. */
#include "daemon/files/lock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/dump.h"
#include "daemon/files/kinds.h"
#include "daemon/proc.h"
#include "daemon/restore-int.h"

/* --- parsing --------------------------------------------------------------- */

static int parse_kind(const char *s, FileLockKind *ret)
{
	static const struct {
		const char *name;
		FileLockKind kind;
	} kinds[] = {
		{ "POSIX", FILE_LOCK_KIND__LOCK_POSIX },
		{ "OFDLCK", FILE_LOCK_KIND__LOCK_OFD },
		{ "FLOCK", FILE_LOCK_KIND__LOCK_FLOCK },
		{ "LEASE", FILE_LOCK_KIND__LOCK_LEASE },
	};

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(s, kinds[i].name)) {
			*ret = kinds[i].kind;
			return 0;
		}
	return -EOPNOTSUPP;	/* DELEG, ACCESS, a waiter's "->" */
}

/* "ADVISORY"/"MANDATORY" for locks, "ACTIVE"/"BREAKING" for leases. */
static int parse_mode(const char *s, struct fd_lock *lk)
{
	if (lk->kind == FILE_LOCK_KIND__LOCK_LEASE) {
		lk->breaking = !strcmp(s, "BREAKING");
		return lk->breaking || !strcmp(s, "ACTIVE") ? 0 : -EBADMSG;
	}
	lk->mandatory = !strcmp(s, "MANDATORY");
	return lk->mandatory || !strcmp(s, "ADVISORY") ? 0 : -EBADMSG;
}

/* type: READ, WRITE (UNLCK: a lease being broken to nothing); end:
 * the last byte or EOF. */
static int parse_range(const char *type, long long start, const char *end, struct fd_lock *lk)
{
	char *e;
	long long last;

	if (!strcmp(type, "WRITE"))
		lk->write = true;
	else if (strcmp(type, "READ") && !(lk->breaking && !strcmp(type, "UNLCK")))
		return -EBADMSG;
	if (start < 0)
		return -EBADMSG;
	lk->start = start;
	if (!strcmp(end, "EOF"))
		return 0;
	errno = 0;
	last = strtoll(end, &e, 10);
	if (errno || *e || e == end || last < start)
		return -EBADMSG;
	lk->len = (uint64_t)(last - start) + 1;
	return 0;
}

int fd_lock_parse_entry(const char *l, struct fd_lock *ret)
{
	char kind[16], mode[16], type[16], end[24];
	struct fd_lock lk = { 0 };
	unsigned long long ino;
	long long start;
	int r;

	if (sscanf(l, " %*d: %15s", kind) != 1)
		return -EBADMSG;
	r = parse_kind(kind, &lk.kind);
	if (r < 0)
		return r;
	if (sscanf(l, " %*d: %*s %15s %15s %d %x:%x:%llu %lld %23s", mode, type, &lk.pid,
		   &lk.dev_major, &lk.dev_minor, &ino, &start, end) != 8)
		return -EBADMSG;
	lk.ino = ino;
	r = parse_mode(mode, &lk);
	if (r == 0)
		r = parse_range(type, start, end, &lk);
	if (r < 0)
		return r;
	*ret = lk;
	return 0;
}

int fd_lock_parse(const char *l, struct fd_lock *ret)
{
	int r;

	if (strncmp(l, "lock:", 5))
		return 0;
	r = fd_lock_parse_entry(l + 5, ret);
	return r < 0 ? r : 1;
}

void fd_lock_name(const FileLockEntry *lk, char *buf, size_t len)
{
	const char *rw = lk->write ? "write" : "read";

	switch (lk->kind) {
	case FILE_LOCK_KIND__LOCK_FLOCK:
		snprintf(buf, len, "flock %s lock", rw);
		break;
	case FILE_LOCK_KIND__LOCK_LEASE:
		snprintf(buf, len, "%s lease", rw);
		break;
	default:
		if (lk->len)
			snprintf(buf, len, "%s %s lock %llu-%llu",
				 lk->kind == FILE_LOCK_KIND__LOCK_OFD ? "OFD" : "POSIX", rw,
				 (unsigned long long)lk->start,
				 (unsigned long long)(lk->start + lk->len - 1));
		else
			snprintf(buf, len, "%s %s lock %llu-EOF",
				 lk->kind == FILE_LOCK_KIND__LOCK_OFD ? "OFD" : "POSIX", rw,
				 (unsigned long long)lk->start);
	}
}

/* --- dump ------------------------------------------------------------------ */

static int lock_append(FileLockEntry ***v, size_t *n, const struct fd_lock *lk, int fd)
{
	FileLockEntry **nv = realloc(*v, (*n + 1) * sizeof(*nv));
	FileLockEntry *e;

	if (!nv)
		return -ENOMEM;
	*v = nv;
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	file_lock_entry__init(e);
	e->kind = lk->kind;
	e->write = lk->write;
	e->has_start = e->has_len = lk->kind == FILE_LOCK_KIND__LOCK_POSIX ||
				    lk->kind == FILE_LOCK_KIND__LOCK_OFD;
	e->start = lk->start;
	e->len = lk->len;
	e->has_fd = fd >= 0;
	e->fd = fd >= 0 ? (uint32_t)fd : 0;
	e->has_mandatory = lk->mandatory;
	e->mandatory = lk->mandatory;
	e->has_breaking = lk->breaking;
	e->breaking = lk->breaking;
	nv[(*n)++] = e;
	return 0;
}

static int parse_failed(struct dump_ctx *ctx, pid_t pid, int fd, const char *l, int r)
{
	int n = (int)strcspn(l, "\n");

	if (r == -EOPNOTSUPP)
		return ckpt_fail(ctx->err, r, "pid %d fd %d holds a lock ckpt can't save "
				 "(fdinfo: \"%.*s\")", pid, fd, n, l);
	return ckpt_fail(ctx->err, r, "pid %d fd %d: cannot read the lock line \"%.*s\" of its "
			 "fdinfo", pid, fd, n, l);
}

int fd_lock_describe(struct dump_ctx *ctx, const struct fd_parms *p, FileDescEntry *e)
{
	_cleanup_free_ char *buf = NULL;
	const char *text;
	struct fd_lock lk;
	int r;

	r = fd_fdinfo_text(ctx, p, &text, &buf);
	if (r < 0)
		return r;
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		r = fd_lock_parse(l, &lk);
		if (r < 0)
			return parse_failed(ctx, p->pid, p->fd, l, r);
		if (r == 0 || lk.kind == FILE_LOCK_KIND__LOCK_POSIX)
			continue;	/* POSIX locks: the task's (fd_lock_dump_posix) */
		r = lock_append(&e->locks, &e->n_locks, &lk, -1);
		if (r < 0)
			return ckpt_fail(ctx->err, r, "pid %d fd %d: out of memory", p->pid, p->fd);
	}
	return 0;
}

/* The pids /proc/locks shows holding a POSIX lock, read once a dump (the
 * tree is frozen: its locks do not change). */
static int read_posix_holders(struct dump_ctx *ctx, struct files_ctx *f)
{
	_cleanup_free_ char *buf = NULL;
	struct fd_lock lk;
	int r;

	r = read_file_at(AT_FDCWD, "/proc/locks", &buf, NULL);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "cannot read /proc/locks");
	for (char *l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		pid_t *np;

		if (fd_lock_parse_entry(l, &lk) != 0 || lk.kind != FILE_LOCK_KIND__LOCK_POSIX)
			continue;
		np = realloc(f->posix_holders, (f->nr_posix_holders + 1) * sizeof(*np));
		if (!np)
			return ckpt_fail(ctx->err, -ENOMEM, "/proc/locks: out of memory");
		f->posix_holders = np;
		np[f->nr_posix_holders++] = lk.pid;
	}
	f->posix_read = true;
	return 0;
}

/* Whether /proc/locks shows a POSIX lock held by pid. */
static int holds_posix(struct dump_ctx *ctx, pid_t pid, bool *ret)
{
	struct files_ctx *f = files_ctx_get(ctx);
	int r;

	if (!f)
		return ckpt_fail(ctx->err, -ENOMEM, "pid %d: out of memory", pid);
	if (!f->posix_read) {
		r = read_posix_holders(ctx, f);
		if (r < 0)
			return r;
	}
	*ret = false;
	for (size_t i = 0; i < f->nr_posix_holders && !*ret; i++)
		*ret = f->posix_holders[i] == pid;
	return 0;
}

/* A POSIX lock shows under every fd of the description it was taken
 * through: one record, with the first fd. */
static bool posix_seen(const struct fd_lock *seen, size_t n, const struct fd_lock *lk)
{
	for (size_t i = 0; i < n; i++)
		if (seen[i].dev_major == lk->dev_major && seen[i].dev_minor == lk->dev_minor &&
		    seen[i].ino == lk->ino && seen[i].start == lk->start)
			return true;
	return false;
}

static int posix_of_fd(struct dump_ctx *ctx, pid_t pid, int fd, FsEntry *fs,
		       struct fd_lock **seen)
{
	_cleanup_free_ char *buf = NULL;
	struct fd_lock lk, *ns;
	int r;

	r = proc_read_fdinfo(pid, fd, &buf);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %d: cannot read its fdinfo", pid, fd);
	for (char *l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		r = fd_lock_parse(l, &lk);
		if (r < 0)
			return parse_failed(ctx, pid, fd, l, r);
		if (r == 0 || lk.kind != FILE_LOCK_KIND__LOCK_POSIX ||
		    posix_seen(*seen, fs->n_posix_locks, &lk))
			continue;
		ns = realloc(*seen, (fs->n_posix_locks + 1) * sizeof(*ns));
		if (!ns)
			return ckpt_fail(ctx->err, -ENOMEM, "pid %d: out of memory", pid);
		*seen = ns;
		ns[fs->n_posix_locks] = lk;
		r = lock_append(&fs->posix_locks, &fs->n_posix_locks, &lk, fd);
		if (r < 0)
			return ckpt_fail(ctx->err, r, "pid %d: out of memory", pid);
	}
	return 0;
}

int fd_lock_dump_posix(struct dump_ctx *ctx, pid_t pid, FsEntry *fs)
{
	_cleanup_free_ struct fd_lock *seen = NULL;
	struct dirent *de;
	char path[64];
	bool any = false;
	DIR *dir;
	int r;

	r = holds_posix(ctx, pid, &any);
	if (r < 0 || !any)
		return r;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo", pid);
	dir = opendir(path);
	if (!dir)
		return ckpt_fail(ctx->err, negerrno(), "pid %d: cannot open %s", pid, path);
	while ((errno = 0, de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		r = posix_of_fd(ctx, pid, atoi(de->d_name), fs, &seen);
		if (r < 0)
			break;
	}
	if (r == 0 && errno)
		r = ckpt_fail(ctx->err, negerrno(), "pid %d: cannot list %s", pid, path);
	closedir(dir);
	return r;
}

void fd_lock_free_posix(FsEntry *fs)
{
	for (size_t i = 0; i < fs->n_posix_locks; i++)
		free(fs->posix_locks[i]);
	free(fs->posix_locks);
	fs->posix_locks = NULL;
	fs->n_posix_locks = 0;
}

/* --- restore: checks --------------------------------------------------------- */

static const char *desc_path(const FileDescEntry *fe)
{
	return fe->file && fe->file->path ? fe->file->path : "(a file with no path)";
}

static int lock_refuse(struct rst_ctx *ctx, pid_t pid, uint32_t fd, const FileDescEntry *fe,
		       const FileLockEntry *lk, const char *why)
{
	char name[96];

	fd_lock_name(lk, name, sizeof(name));
	return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: %s: its %s can't be restored: %s",
			 pid, fd, desc_path(fe), name, why);
}

/* Fields a kernel would take: a range within off_t, a lock the
 * description's access mode allows. */
static int check_fields(struct rst_ctx *ctx, pid_t pid, uint32_t fd, const FileDescEntry *fe,
			const FileLockEntry *lk, const char *file)
{
	uint32_t acc = fe->flags & O_ACCMODE;

	if (lk->start > INT64_MAX || lk->len > INT64_MAX ||
	    (lk->len && lk->start > (uint64_t)INT64_MAX - (lk->len - 1)))
		return ckpt_fail(ctx->err, -EBADMSG, "%s: pid %d fd %u: lock range %llu+%llu is "
				 "out of bounds", file, pid, fd, (unsigned long long)lk->start,
				 (unsigned long long)lk->len);
	if (lk->kind != FILE_LOCK_KIND__LOCK_FLOCK && lk->kind != FILE_LOCK_KIND__LOCK_LEASE &&
	    (lk->write ? acc == O_RDONLY : acc == O_WRONLY))
		return ckpt_fail(ctx->err, -EBADMSG, "%s: pid %d fd %u: a %s lock on a file open "
				 "%s", file, pid, fd, lk->write ? "write" : "read",
				 acc == O_RDONLY ? "read-only" : "write-only");
	if (lk->mandatory)
		return lock_refuse(ctx, pid, fd, fe, lk, "mandatory locks are gone from Linux "
				   "5.15 on; take it as an advisory lock");
	return 0;
}

static int check_desc_lock(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
			   const FileDescEntry *fe, const FileLockEntry *lk)
{
	int r;

	if (lk->kind != FILE_LOCK_KIND__LOCK_FLOCK && lk->kind != FILE_LOCK_KIND__LOCK_OFD &&
	    lk->kind != FILE_LOCK_KIND__LOCK_LEASE)
		return ckpt_fail(ctx->err, -EBADMSG, "files.img: file description %u: lock kind "
				 "%d is not one a description holds", fe->id, lk->kind);
	r = check_fields(ctx, t->pe->pid, f->fd, fe, lk, "files.img");
	if (r < 0 || lk->kind != FILE_LOCK_KIND__LOCK_LEASE)
		return r;
	if (lk->breaking)
		return lock_refuse(ctx, t->pe->pid, f->fd, fe, lk, "it was being broken when "
				   "dumped; dump again once it is given up or the breaker is gone");
	if (lk->write)
		return lock_refuse(ctx, t->pe->pid, f->fd, fe, lk, "write leases can't be taken "
				   "back yet; drop it (F_SETLEASE F_UNLCK) before the dump");
	if ((fe->flags & O_ACCMODE) != O_RDONLY)
		return ckpt_fail(ctx->err, -EBADMSG, "files.img: file description %u: a read "
				 "lease on a file not open read-only", fe->id);
	return 0;
}

/* The file of fe, which task t also maps (or runs). */
static bool task_maps(const struct rst_task *t, const FileDescEntry *fe)
{
	const FileIdentity *id = fe->file;

	if (!id)
		return false;
	if (t->mm && t->mm->exe && t->mm->exe->dev == id->dev && t->mm->exe->ino == id->ino)
		return true;
	for (unsigned i = 0; i < t->nr_vmas; i++) {
		const VmaEntry *v = t->vmas[i];

		bool file = v->kind == VMA_KIND__VMA_FILE_PRIVATE ||
			    v->kind == VMA_KIND__VMA_FILE_SHARED;

		if (file && v->file && v->file->dev == id->dev && v->file->ino == id->ino)
			return true;
	}
	return false;
}

static int check_posix_lock(struct rst_ctx *ctx, struct rst_task *t, const FileLockEntry *lk)
{
	char file[32];
	const FdEntry *f = NULL;
	struct rst_desc *d;
	int r;

	snprintf(file, sizeof(file), "fs-%d.img", t->pe->pid);
	if (lk->kind != FILE_LOCK_KIND__LOCK_POSIX || !lk->has_fd)
		return ckpt_fail(ctx->err, -EBADMSG, "%s: a lock of kind %d%s among the POSIX "
				 "locks", file, lk->kind, lk->has_fd ? "" : " (no fd)");
	for (unsigned i = 0; i < t->nr_fds && !f; i++)
		if (t->fds[i]->fd == lk->fd)
			f = t->fds[i];
	d = f ? rst_desc_find(ctx, f->desc_id) : NULL;
	if (!d)
		return ckpt_fail(ctx->err, -EBADMSG, "%s: a POSIX lock through fd %u, which the "
				 "task does not hold", file, lk->fd);
	r = check_fields(ctx, t->pe->pid, f->fd, d->fe, lk, file);
	if (r == 0 && task_maps(t, d->fe))
		r = lock_refuse(ctx, t->pe->pid, f->fd, d->fe, lk, "the process also maps that "
				"file, and the restorer's close of its mapping's fd would drop the "
				"lock (not supported yet)");
	return r;
}

int fd_lock_check_task(struct rst_ctx *ctx, struct rst_task *t)
{
	int r;

	for (unsigned i = 0; i < t->nr_fds; i++) {
		const FdEntry *f = t->fds[i];
		const FileDescEntry *fe = rst_desc_find(ctx, f->desc_id)->fe;

		for (size_t j = 0; j < fe->n_locks; j++) {
			r = check_desc_lock(ctx, t, f, fe, fe->locks[j]);
			if (r < 0)
				return r;
		}
	}
	for (size_t j = 0; t->fs && j < t->fs->n_posix_locks; j++) {
		r = check_posix_lock(ctx, t, t->fs->posix_locks[j]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* --- restore: taking them ---------------------------------------------------- */

static int lock_busy(struct rst_ctx *ctx, pid_t pid, uint32_t fd, const FileDescEntry *fe,
		     const FileLockEntry *lk, int err)
{
	char name[96];

	fd_lock_name(lk, name, sizeof(name));
	if (err == -EAGAIN || err == -EACCES || err == -EWOULDBLOCK)
		return ckpt_fail(ctx->err, -EBUSY, "pid %d fd %u: %s: %s is held by another "
				 "process here; release it and restore again", pid, fd,
				 desc_path(fe), name);
	return ckpt_fail(ctx->err, err, "pid %d fd %u: %s: cannot take its %s again", pid, fd,
			 desc_path(fe), name);
}

/* The first task and fd that hold description id, to name it. */
static void desc_holder(struct rst_ctx *ctx, uint32_t id, pid_t *ret_pid, uint32_t *ret_fd)
{
	*ret_pid = 0;
	*ret_fd = 0;
	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		const struct rst_task *t = &ctx->tasks[i];

		for (unsigned j = 0; j < t->nr_fds; j++)
			if (t->fds[j]->desc_id == id) {
				*ret_pid = t->pe->pid;
				*ret_fd = t->fds[j]->fd;
				return;
			}
	}
}

static int set_lock(int fd, int cmd, const FileLockEntry *lk)
{
	struct flock fl = {
		.l_type = lk->write ? F_WRLCK : F_RDLCK,
		.l_whence = SEEK_SET,
		.l_start = (off_t)lk->start,
		.l_len = (off_t)lk->len,
	};

	return fcntl(fd, cmd, &fl) < 0 ? negerrno() : 0;
}

/* F_SETLEASE makes the caller (this passing process) the owner that
 * SIGIO goes to: cleared, the description's own owner (the dump saved the
 * one that took the lease) is set in its task later (fd_fown_restore). */
static int take_lease(int fd)
{
	if (fcntl(fd, F_SETLEASE, F_RDLCK) < 0)
		return negerrno();
	return fcntl(fd, F_SETOWN, 0) < 0 ? negerrno() : 0;
}

int fd_lock_take_desc(struct rst_ctx *ctx, const FileDescEntry *fe, int fd)
{
	for (size_t i = 0; i < fe->n_locks; i++) {
		const FileLockEntry *lk = fe->locks[i];
		uint32_t hfd;
		pid_t pid;
		int r;

		switch (lk->kind) {
		case FILE_LOCK_KIND__LOCK_FLOCK:
			r = flock(fd, (lk->write ? LOCK_EX : LOCK_SH) | LOCK_NB);
			r = r < 0 ? negerrno() : 0;
			break;
		case FILE_LOCK_KIND__LOCK_OFD:
			r = set_lock(fd, F_OFD_SETLK, lk);
			break;
		default:
			r = take_lease(fd);
		}
		if (r < 0) {
			desc_holder(ctx, fe->id, &pid, &hfd);
			return lock_busy(ctx, pid, hfd, fe, lk, r);
		}
	}
	return 0;
}

int fd_lock_take_posix(struct rst_ctx *ctx, struct rst_task *t)
{
	for (size_t i = 0; i < t->fs->n_posix_locks; i++) {
		const FileLockEntry *lk = t->fs->posix_locks[i];
		int r = set_lock((int)lk->fd, F_SETLK, lk);

		if (r < 0) {
			const FileDescEntry *fe = NULL;

			for (unsigned j = 0; j < t->nr_fds && !fe; j++)
				if (t->fds[j]->fd == lk->fd)
					fe = rst_desc_find(ctx, t->fds[j]->desc_id)->fe;
			return lock_busy(ctx, t->pe->pid, lk->fd, fe, lk, r);
		}
	}
	return 0;
}
