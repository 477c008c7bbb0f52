/* files.c and its resources, against live child processes: each test forks
 * a target that sets up fds, dumps it with dump_task_files() and
 * dump_files_finish() into a temporary directory, reads the images back, and
 * then lets the target check that nothing of it changed (pipe data still
 * there, offsets unmoved). */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/dump.h"
#include "images/img.h"
#include "files.pb-c.h"

/* --- targets ------------------------------------------------------------------ */

static int child_res = -1;

struct target {
	pid_t pid;
	int cmd, res;
};

/* The target tells the test one number (an fd, a pid). */
static void child_report(int v)
{
	if (write(child_res, &v, sizeof(v)) != sizeof(v))
		_exit(3);
}

static int target_report(struct target *t)
{
	int v = -1;

	cr_assert_eq(read(t->res, &v, sizeof(v)), (ssize_t)sizeof(v));
	return v;
}

static void target_start(struct target *t, int (*setup)(void), int (*verify)(void))
{
	int cmd[2], res[2];
	char c;

	cr_assert_eq(pipe2(cmd, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(res, O_CLOEXEC), 0);
	t->pid = fork();
	cr_assert_geq(t->pid, 0);
	if (t->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(cmd[1]);
		close(res[0]);
		child_res = res[1];
		if (setup() < 0)
			_exit(2);
		if (read(cmd[0], &c, 1) != 1)
			_exit(1);
		c = !verify || verify() == 0 ? 'p' : 'f';
		_exit(write(res[1], &c, 1) == 1 ? 0 : 1);
	}
	close(cmd[0]);
	close(res[1]);
	t->cmd = cmd[1];
	t->res = res[0];
}

/* Let the target verify itself; true if it says pass. */
static bool target_finish(struct target *t)
{
	char c = 0;
	int st;

	cr_assert_eq(write(t->cmd, "v", 1), 1);
	if (read(t->res, &c, 1) != 1)
		c = 0;
	waitpid(t->pid, &st, 0);
	close(t->cmd);
	close(t->res);
	return c == 'p';
}

/* --- dumping and reading back ----------------------------------------------- */

struct dumped {
	char dir[64];
	int dirfd;
	struct ckpt_err err;
	int rc;
	unsigned fds;
};

static void dump_pids(struct dumped *d, const pid_t *pids, unsigned n)
{
	struct dump_ctx ctx = { .err = &d->err };

	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "/tmp/ckpt-files-XXXXXX");
	cr_assert_not_null(mkdtemp(d->dir));
	d->dirfd = open(d->dir, O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(d->dirfd, 0);
	ctx.dirfd = d->dirfd;
	for (unsigned i = 0; i < n && d->rc == 0; i++) {
		struct task t = { .pid = pids[i], .pidfd = -1 };

		d->rc = dump_task_files(&ctx, &t);
	}
	if (d->rc == 0)
		d->rc = dump_files_finish(&ctx);
	files_ctx_free(ctx.files);
	d->fds = ctx.stats.fds;
}

static void dumped_cleanup(struct dumped *d)
{
	char cmd[128];

	close(d->dirfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", d->dir);
	cr_assert_eq(system(cmd), 0);
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static FsEntry *read_fs(struct dumped *d, pid_t pid, FdEntry **fds, unsigned max, unsigned *n)
{
	ProtobufCMessage *m;
	FsEntry *fs = NULL;
	struct img *img;

	cr_assert_eq(img_open(d->dirfd, IMG_FS, pid, &img), 0);
	*n = 0;
	while (img_read_next(img, &m) == 0 && m) {
		if (!fs)
			fs = (FsEntry *)m;
		else if (*n < max)
			fds[(*n)++] = (FdEntry *)m;
	}
	cr_assert_eq(img_close(img), 0, "%s", img_errmsg(img));
	cr_assert_not_null(fs);
	return fs;
}

#define MAX_DESCS 256
static FileDescEntry *descs[MAX_DESCS];

static void read_files(struct dumped *d)
{
	ProtobufCMessage *m;
	struct img *img;

	memset(descs, 0, sizeof(descs));
	cr_assert_eq(img_open(d->dirfd, IMG_FILES, 0, &img), 0);
	while (img_read_next(img, &m) == 0 && m) {
		FileDescEntry *e = (FileDescEntry *)m;

		cr_assert_lt(e->id, MAX_DESCS);
		cr_assert_null(descs[e->id], "desc id %u twice", e->id);
		descs[e->id] = e;
	}
	img_close(img);
}

static FdEntry *find_fd(FdEntry **fds, unsigned n, int fd)
{
	for (unsigned i = 0; i < n; i++)
		if ((int)fds[i]->fd == fd)
			return fds[i];
	cr_assert_fail("fd %d not in the image", fd);
	return NULL;
}

static FileDescEntry *desc_of(FdEntry **fds, unsigned n, int fd)
{
	FdEntry *fe = find_fd(fds, n, fd);

	cr_assert_not_null(descs[fe->desc_id], "fd %d: desc %u missing", fd, fe->desc_id);
	return descs[fe->desc_id];
}

/* Dump one target and read its images. */
static void dump_one(struct dumped *d, struct target *t, FsEntry **fs, FdEntry **fds,
		     unsigned *n)
{
	dump_pids(d, &t->pid, 1);
	cr_assert_eq(d->rc, 0, "dump failed: %s", d->err.msg);
	*fs = read_fs(d, t->pid, fds, 64, n);
	read_files(d);
}

/* --- basic kinds -------------------------------------------------------------- */

static const char file_text[] = "0123456789abcdef";
static int target_fd;	/* in the target: the fd whose offset verify checks */

static int setup_basic(void)
{
	char path[] = "/tmp/ckpt-files-reg-XXXXXX";
	int fd;

	if (chdir("/tmp") < 0)
		return -1;
	umask(027);
	fd = mkstemp(path);
	if (fd < 0 || write(fd, file_text, sizeof(file_text)) < 0)
		return -1;
	lseek(fd, 5, SEEK_SET);
	target_fd = fd;
	child_report(fd);
	child_report(open("/dev/null", O_WRONLY | O_CLOEXEC));
	child_report(open("/tmp", O_RDONLY | O_DIRECTORY));
	child_report(eventfd(3, EFD_NONBLOCK));
	return 0;
}

static int verify_basic(void)
{
	return lseek(target_fd, 0, SEEK_CUR) == 5 ? 0 : -1;
}

Test(files, basic_kinds)
{
	struct target t;
	struct dumped d;
	FsEntry *fs;
	FdEntry *fds[64];
	FileDescEntry *e;
	unsigned n;
	int reg, null, dir, efd;

	target_start(&t, setup_basic, verify_basic);
	reg = target_report(&t);
	null = target_report(&t);
	dir = target_report(&t);
	efd = target_report(&t);
	dump_one(&d, &t, &fs, fds, &n);

	cr_expect_str_eq(fs->cwd, "/tmp");
	cr_expect_eq(fs->umask, 027);
	cr_expect_eq(d.fds, n);

	e = desc_of(fds, n, reg);
	cr_expect_eq(e->type, FD_TYPE__FD_REG);
	cr_expect_eq(e->pos, 5);
	cr_expect_eq(e->flags & O_ACCMODE, O_RDWR);
	cr_assert_not_null(e->file);
	cr_expect_eq(e->file->size, sizeof(file_text));
	cr_expect(strncmp(e->file->path, "/tmp/ckpt-files-reg-", 20) == 0);
	cr_expect(!e->deleted);
	unlink(e->file->path);
	cr_expect(!find_fd(fds, n, reg)->cloexec);

	e = desc_of(fds, n, null);
	cr_expect_eq(e->type, FD_TYPE__FD_CHR);
	cr_expect_str_eq(e->file->path, "/dev/null");
	cr_expect_eq(e->rdev, makedev(1, 3));
	cr_expect(find_fd(fds, n, null)->cloexec);
	cr_expect_eq(e->flags & O_CLOEXEC, 0u, "O_CLOEXEC is per fd, not per description");

	e = desc_of(fds, n, dir);
	cr_expect_eq(e->type, FD_TYPE__FD_DIR);
	cr_expect_str_eq(e->file->path, "/tmp");

	e = desc_of(fds, n, efd);
	cr_expect_eq(e->type, FD_TYPE__FD_ANON);
	cr_expect_str_eq(e->anon_name, "anon_inode:[eventfd]");
	cr_expect(e->flags & O_NONBLOCK);

	cr_expect(target_finish(&t));
	dumped_cleanup(&d);
}

/* --- pipes ------------------------------------------------------------------- */

static const char pipe_text[] = "hello through a pipe";
static int pipe_fds[2];

static int setup_pipe(void)
{
	if (pipe(pipe_fds) < 0 || fcntl(pipe_fds[0], F_SETPIPE_SZ, 1 << 17) < 0)
		return -1;
	/* two writes: two pipe buffers, both must come out */
	if (write(pipe_fds[1], pipe_text, 6) != 6 ||
	    write(pipe_fds[1], pipe_text + 6, sizeof(pipe_text) - 6) != sizeof(pipe_text) - 6)
		return -1;
	child_report(pipe_fds[0]);
	child_report(pipe_fds[1]);
	child_report(dup(pipe_fds[1]));
	return 0;
}

static int verify_pipe(void)
{
	char buf[64] = "";

	fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);
	if (read(pipe_fds[0], buf, sizeof(buf)) != sizeof(pipe_text))
		return -1;
	return memcmp(buf, pipe_text, sizeof(pipe_text));
}

Test(files, pipe_data_kept)
{
	struct target t;
	struct dumped d;
	FsEntry *fs;
	FdEntry *fds[64];
	FileDescEntry *r, *w, *w2;
	unsigned n;
	int rfd, wfd, wfd2;

	target_start(&t, setup_pipe, verify_pipe);
	rfd = target_report(&t);
	wfd = target_report(&t);
	wfd2 = target_report(&t);
	dump_one(&d, &t, &fs, fds, &n);

	r = desc_of(fds, n, rfd);
	w = desc_of(fds, n, wfd);
	w2 = desc_of(fds, n, wfd2);
	cr_expect_eq(r->type, FD_TYPE__FD_PIPE);
	cr_expect_eq(w->type, FD_TYPE__FD_PIPE);
	cr_expect_eq(w, w2, "a dup'd fd shares its description");
	cr_expect_neq(r, w);
	cr_expect_eq(r->pipe_ino, w->pipe_ino);
	cr_assert(r->has_pipe_data, "the read end carries the data");
	cr_expect(!w->has_pipe_data);
	cr_expect_eq(r->pipe_data.len, sizeof(pipe_text));
	cr_expect(memcmp(r->pipe_data.data, pipe_text, sizeof(pipe_text)) == 0);
	cr_expect_eq(r->pipe_size, 1u << 17);

	cr_expect(target_finish(&t), "the target lost its pipe data");
	dumped_cleanup(&d);
}

/* A pipe whose read end is not in the tree: its data goes with a write end. */
static int setup_pipe_wonly(void)
{
	int p[2];

	if (pipe(p) < 0 || write(p[1], "xyz", 3) != 3)
		return -1;
	close(p[0]);
	child_report(p[1]);
	return 0;
}

Test(files, pipe_write_end_only)
{
	struct target t;
	struct dumped d;
	FsEntry *fs;
	FdEntry *fds[64];
	FileDescEntry *w;
	unsigned n;
	int wfd;

	target_start(&t, setup_pipe_wonly, NULL);
	wfd = target_report(&t);
	dump_one(&d, &t, &fs, fds, &n);
	w = desc_of(fds, n, wfd);
	cr_expect_eq(w->type, FD_TYPE__FD_PIPE);
	cr_assert(w->has_pipe_data);
	cr_expect_eq(w->pipe_data.len, 3);
	cr_expect(target_finish(&t));
	dumped_cleanup(&d);
}

/* A FIFO is a pipe with a path; its data is saved like a pipe's. */
static char fifo_path[64];

static int setup_fifo(void)
{
	int fd;

	snprintf(fifo_path, sizeof(fifo_path), "/tmp/ckpt-files-fifo-%d", getpid());
	if (mkfifo(fifo_path, 0600) < 0)
		return -1;
	fd = open(fifo_path, O_RDWR | O_NONBLOCK);
	if (fd < 0 || write(fd, "fifo!", 5) != 5)
		return -1;
	target_fd = fd;
	child_report(fd);
	return 0;
}

static int verify_fifo(void)
{
	char buf[8];

	unlink(fifo_path);
	return read(target_fd, buf, sizeof(buf)) == 5 ? 0 : -1;
}

Test(files, fifo)
{
	struct target t;
	struct dumped d;
	FsEntry *fs;
	FdEntry *fds[64];
	FileDescEntry *e;
	unsigned n;
	int fd;

	target_start(&t, setup_fifo, verify_fifo);
	fd = target_report(&t);
	dump_one(&d, &t, &fs, fds, &n);
	e = desc_of(fds, n, fd);
	cr_expect_eq(e->type, FD_TYPE__FD_FIFO);
	cr_assert_not_null(e->file);
	cr_expect(strncmp(e->file->path, "/tmp/ckpt-files-fifo-", 21) == 0, "%s", e->file->path);
	cr_expect_eq(e->flags & O_ACCMODE, O_RDWR);
	cr_assert(e->has_pipe_data);
	cr_expect_eq(e->pipe_data.len, 5);
	cr_expect(memcmp(e->pipe_data.data, "fifo!", 5) == 0);
	cr_expect(target_finish(&t), "the FIFO lost its data");
	dumped_cleanup(&d);
}

/* A live file whose name ends in " (deleted)" is not a deleted file. */
static int setup_named_deleted(void)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/ckpt-files-%d (deleted)", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -1;
	child_report(fd);
	return 0;
}

Test(files, live_file_named_deleted)
{
	struct target t;
	struct dumped d;
	FsEntry *fs;
	FdEntry *fds[64];
	FileDescEntry *e;
	char want[64];
	unsigned n;
	int fd;

	target_start(&t, setup_named_deleted, NULL);
	fd = target_report(&t);
	dump_one(&d, &t, &fs, fds, &n);
	snprintf(want, sizeof(want), "/tmp/ckpt-files-%d (deleted)", t.pid);
	e = desc_of(fds, n, fd);
	unlink(want);
	cr_expect_str_eq(e->file->path, want);
	cr_expect(!e->deleted);
	cr_expect(!e->has_ghost_id);
	cr_expect(target_finish(&t));
	dumped_cleanup(&d);
}

/* --- sharing across tasks ------------------------------------------------------ */

static int setup_shared(void)
{
	int a, b, c;
	pid_t kid;

	a = open("/etc/passwd", O_RDONLY);
	b = dup(a);
	c = open("/etc/passwd", O_RDONLY);	/* same file, its own description */
	if (a < 0 || b < 0 || c < 0)
		return -1;
	child_report(a);
	child_report(b);
	child_report(c);
	kid = fork();
	if (kid < 0)
		return -1;
	if (kid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(b);
		child_report(getpid());	/* last: its fds are final */
		for (;;)
			pause();
	}
	return 0;
}

Test(files, shared_descriptions)
{
	struct target t;
	struct dumped d;
	FsEntry *fs;
	FdEntry *fds[64], *kfds[64];
	unsigned n, kn;
	int a, b, c;
	pid_t pids[2];

	target_start(&t, setup_shared, NULL);
	a = target_report(&t);
	b = target_report(&t);
	c = target_report(&t);
	pids[0] = t.pid;
	pids[1] = target_report(&t);
	dump_pids(&d, pids, 2);
	cr_assert_eq(d.rc, 0, "dump failed: %s", d.err.msg);
	fs = read_fs(&d, pids[0], fds, 64, &n);
	read_fs(&d, pids[1], kfds, 64, &kn);
	read_files(&d);
	(void)fs;

	cr_expect_eq(find_fd(fds, n, a)->desc_id, find_fd(fds, n, b)->desc_id);
	cr_expect_neq(find_fd(fds, n, a)->desc_id, find_fd(fds, n, c)->desc_id);
	cr_expect_eq(find_fd(fds, n, a)->desc_id, find_fd(kfds, kn, a)->desc_id,
		     "an fd inherited across fork shares the description");
	cr_expect_eq(find_fd(fds, n, c)->desc_id, find_fd(kfds, kn, c)->desc_id);
	cr_expect_eq(d.fds, n + kn);

	kill(pids[1], SIGKILL);
	cr_expect(target_finish(&t));
	dumped_cleanup(&d);
}

/* Many descriptions of one file (same dev, ino, pos, flags): only kcmp
 * tells them apart, and a dup must still find its own. */
#define MANY 500

static int setup_many(void)
{
	for (int i = 0; i < MANY; i++) {
		int a = open("/dev/null", O_RDONLY), b = dup(a);

		if (a < 0 || b < 0)
			return -1;
		child_report(a);
		child_report(b);
	}
	return 0;
}

Test(files, many_descriptions_of_one_file)
{
	static int a[MANY], b[MANY];
	static bool seen[MAX_DESCS * 4];
	struct target t;
	struct dumped d;
	FsEntry *fs;
	FdEntry *fds[2 * MANY + 16];
	unsigned n;

	target_start(&t, setup_many, NULL);
	for (int i = 0; i < MANY; i++) {
		a[i] = target_report(&t);
		b[i] = target_report(&t);
	}
	dump_pids(&d, &t.pid, 1);
	cr_assert_eq(d.rc, 0, "dump failed: %s", d.err.msg);
	fs = read_fs(&d, t.pid, fds, ARRAY_SIZE(fds), &n);
	(void)fs;
	for (int i = 0; i < MANY; i++) {
		uint32_t id = find_fd(fds, n, a[i])->desc_id;

		cr_assert_lt(id, ARRAY_SIZE(seen));
		cr_expect(!seen[id], "fd %d: desc %u taken by another open", a[i], id);
		seen[id] = true;
		cr_expect_eq(find_fd(fds, n, b[i])->desc_id, id, "fd %d is a dup of %d", b[i], a[i]);
	}
	cr_expect(target_finish(&t));
	dumped_cleanup(&d);
}

/* --- ghosts: deleted files and memfds ------------------------------------------- */

#define SPARSE_SIZE (1ull << 30)
#define SPARSE_OFF (512ull << 20)

static int setup_ghost(void)
{
	char path[] = "/tmp/ckpt-files-del-XXXXXX";
	int fd, m;

	fd = mkstemp(path);
	if (fd < 0 || write(fd, file_text, sizeof(file_text)) < 0 || unlink(path) < 0)
		return -1;
	lseek(fd, 3, SEEK_SET);
	target_fd = fd;
	m = memfd_create("sparse", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (m < 0 || ftruncate(m, SPARSE_SIZE) < 0 ||
	    pwrite(m, "abc", 3, SPARSE_OFF) != 3 ||
	    fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		return -1;
	child_report(fd);
	child_report(m);
	child_report(dup(m));
	return 0;
}

static int verify_ghost(void)
{
	return lseek(target_fd, 0, SEEK_CUR) == 3 ? 0 : -1;
}

static void read_ghost(struct dumped *d, uint32_t id, GhostHead **h, GhostChunk **c,
		       unsigned max, unsigned *n)
{
	ProtobufCMessage *m;
	struct img *img;

	cr_assert_eq(img_open(d->dirfd, IMG_GHOST, id, &img), 0, "ghost-%u.img", id);
	*h = NULL;
	*n = 0;
	while (img_read_next(img, &m) == 0 && m) {
		if (!*h)
			*h = (GhostHead *)m;
		else if (*n < max)
			c[(*n)++] = (GhostChunk *)m;
		else
			cr_assert_fail("more than %u chunks", max);
	}
	img_close(img);
	cr_assert_not_null(*h);
}

Test(files, ghosts)
{
	struct target t;
	struct dumped d;
	FsEntry *fs;
	FdEntry *fds[64];
	FileDescEntry *e, *m;
	GhostHead *h;
	GhostChunk *c[8];
	unsigned n, nc;
	int del, mfd, mfd2;

	target_start(&t, setup_ghost, verify_ghost);
	del = target_report(&t);
	mfd = target_report(&t);
	mfd2 = target_report(&t);
	dump_one(&d, &t, &fs, fds, &n);

	e = desc_of(fds, n, del);
	cr_expect_eq(e->type, FD_TYPE__FD_REG);
	cr_expect(e->deleted);
	cr_assert(e->has_ghost_id);
	cr_expect_eq(e->pos, 3);
	read_ghost(&d, e->ghost_id, &h, c, 8, &nc);
	cr_expect_eq(h->size, sizeof(file_text));
	cr_assert_eq(nc, 1);
	cr_expect_eq(c[0]->off, 0);
	cr_expect_eq(c[0]->data.len, sizeof(file_text));
	cr_expect(memcmp(c[0]->data.data, file_text, sizeof(file_text)) == 0);

	m = desc_of(fds, n, mfd);
	cr_expect_eq(m, desc_of(fds, n, mfd2));
	cr_expect_eq(m->type, FD_TYPE__FD_MEMFD);
	cr_expect_str_eq(m->memfd_name, "sparse");
	cr_expect(m->deleted);
	cr_expect(m->has_seals && (m->seals & F_SEAL_SHRINK));
	cr_expect_neq(m->ghost_id, e->ghost_id);
	read_ghost(&d, m->ghost_id, &h, c, 8, &nc);
	cr_expect_eq(h->size, SPARSE_SIZE);
	cr_expect_str_eq(h->name, "/memfd:sparse");
	cr_assert_eq(nc, 1, "a sparse GiB is one chunk, not %u", nc);
	cr_expect_eq(c[0]->off, SPARSE_OFF);
	cr_expect_eq(c[0]->data.len, 4096);
	cr_expect(memcmp(c[0]->data.data, "abc", 3) == 0);

	cr_expect(target_finish(&t), "the target's file offset moved");
	dumped_cleanup(&d);
}

/* --- sockets and ttys --------------------------------------------------------- */

static int setup_sockets(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int sp[2], l, u, nl;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0)
		return -1;
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (void *)&a, sizeof(a)) < 0 || listen(l, 4) < 0)
		return -1;
	u = socket(AF_INET6, SOCK_DGRAM, 0);
	nl = socket(AF_NETLINK, SOCK_RAW, 0);
	if (u < 0 || nl < 0)
		return -1;
	child_report(sp[0]);
	child_report(sp[1]);
	child_report(l);
	child_report(u);
	child_report(nl);
	return 0;
}

Test(files, sockets)
{
	struct target t;
	struct dumped d;
	FsEntry *fs;
	FdEntry *fds[64];
	FileDescEntry *s0, *s1, *l, *u, *nl;
	struct stat st;
	char path[64];
	unsigned n;
	int f0, f1, fl, fu, fnl;

	target_start(&t, setup_sockets, NULL);
	f0 = target_report(&t);
	f1 = target_report(&t);
	fl = target_report(&t);
	fu = target_report(&t);
	fnl = target_report(&t);
	dump_one(&d, &t, &fs, fds, &n);

	s0 = desc_of(fds, n, f0);
	s1 = desc_of(fds, n, f1);
	cr_assert_eq(s0->type, FD_TYPE__FD_SOCKET);
	cr_assert_not_null(s0->socket);
	cr_expect_eq(s0->socket->family, AF_UNIX);
	cr_expect_eq(s0->socket->type, SOCK_STREAM);
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", t.pid, f1);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(s0->socket->peer_ino, st.st_ino, "socketpair: peer is the other end");
	cr_expect(s1->socket->has_peer_ino);

	l = desc_of(fds, n, fl);
	cr_expect_eq(l->socket->family, AF_INET);
	cr_expect_eq(l->socket->type, SOCK_STREAM);
	cr_expect_eq(l->socket->protocol, IPPROTO_TCP);
	cr_expect_eq(l->socket->state, 10, "TCP_LISTEN");
	cr_assert_not_null(l->socket->local);
	cr_expect(strncmp(l->socket->local, "127.0.0.1:", 10) == 0, "%s", l->socket->local);

	u = desc_of(fds, n, fu);
	cr_expect_eq(u->socket->family, AF_INET6);
	cr_expect_eq(u->socket->type, SOCK_DGRAM);

	nl = desc_of(fds, n, fnl);
	cr_expect_eq(nl->socket->family, AF_NETLINK, "netlink: from getsockopt");
	cr_expect_eq(nl->socket->type, SOCK_RAW);

	cr_expect(target_finish(&t));
	dumped_cleanup(&d);
}

/* Sockets of a task in another network namespace: sock_diag must be asked
 * inside that namespace (peer_ino comes only from there). */
static int setup_netns(void)
{
	int sp[2];

	if (unshare(CLONE_NEWNET) < 0 || socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) < 0)
		return -1;
	child_report(sp[0]);
	child_report(sp[1]);
	return 0;
}

Test(files, sockets_in_other_netns)
{
	struct target t;
	struct dumped d;
	FsEntry *fs;
	FdEntry *fds[64];
	FileDescEntry *s0;
	struct stat st;
	char path[64];
	unsigned n;
	int f0, f1;

	target_start(&t, setup_netns, NULL);
	f0 = target_report(&t);
	f1 = target_report(&t);
	dump_one(&d, &t, &fs, fds, &n);
	s0 = desc_of(fds, n, f0);
	cr_assert_not_null(s0->socket);
	cr_expect_eq(s0->socket->type, SOCK_DGRAM);
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", t.pid, f1);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(s0->socket->peer_ino, st.st_ino);
	cr_expect(target_finish(&t));
	dumped_cleanup(&d);
}

static int setup_pty(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY), s;

	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
		return -1;
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	if (s < 0)
		return -1;
	child_report(m);
	child_report(s);
	return 0;
}

Test(files, pty)
{
	struct target t;
	struct dumped d;
	FsEntry *fs;
	FdEntry *fds[64];
	FileDescEntry *m, *s;
	char name[64];
	unsigned n;
	int fm, fs_;

	target_start(&t, setup_pty, NULL);
	fm = target_report(&t);
	fs_ = target_report(&t);
	dump_one(&d, &t, &fs, fds, &n);
	m = desc_of(fds, n, fm);
	s = desc_of(fds, n, fs_);
	cr_expect_eq(m->type, FD_TYPE__FD_TTY);
	cr_expect_eq(s->type, FD_TYPE__FD_TTY);
	cr_assert_not_null(m->tty);
	cr_assert_not_null(s->tty);
	cr_expect(m->tty->master);
	cr_expect(!s->tty->master);
	cr_expect_eq(m->tty->index, s->tty->index);
	snprintf(name, sizeof(name), "/dev/pts/%u", s->tty->index);
	cr_expect_str_eq(s->tty->name, name);
	cr_expect(target_finish(&t));
	dumped_cleanup(&d);
}

/* --- threads with an fd table of their own are refused ---------------------- */

static void *unshared_thread(void *arg)
{
	if (unshare(CLONE_FILES) < 0)
		_exit(4);
	child_report(gettid());
	for (;;)
		pause();
	return NULL;
}

static int setup_unshared(void)
{
	pthread_t th;

	return pthread_create(&th, NULL, unshared_thread, NULL) == 0 ? 0 : -1;
}

Test(files, thread_own_fd_table_refused)
{
	struct target t;
	struct dumped d = { 0 };
	struct dump_ctx ctx = { .err = &d.err };
	struct thread th[2] = { 0 };
	struct task task = { .threads = th, .nr_threads = 2, .pidfd = -1 };
	char want[64];

	target_start(&t, setup_unshared, NULL);
	th[1].tid = target_report(&t);
	task.pid = th[0].tid = t.pid;
	snprintf(d.dir, sizeof(d.dir), "/tmp/ckpt-files-XXXXXX");
	cr_assert_not_null(mkdtemp(d.dir));
	d.dirfd = ctx.dirfd = open(d.dir, O_DIRECTORY | O_CLOEXEC);
	cr_expect_eq(dump_task_files(&ctx, &task), -EOPNOTSUPP);
	snprintf(want, sizeof(want), "pid %d thread %d", t.pid, th[1].tid);
	cr_expect(strstr(d.err.msg, want) != NULL, "message: %s", d.err.msg);
	files_ctx_free(ctx.files);
	kill(t.pid, SIGKILL);
	waitpid(t.pid, NULL, 0);
	dumped_cleanup(&d);
}

/* --- failures name the pid -------------------------------------------------- */

Test(files, gone_task_named)
{
	struct dumped d;
	pid_t pid = fork();
	char want[32];

	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	dump_pids(&d, &pid, 1);
	cr_expect_lt(d.rc, 0);
	snprintf(want, sizeof(want), "pid %d", pid);
	cr_expect(strstr(d.err.msg, want) != NULL, "message: %s", d.err.msg);
	dumped_cleanup(&d);
}
