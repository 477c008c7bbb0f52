/* Restore's validation and tree planning (daemon/restore-images.c) on
 * crafted image sets: inventory.img and pstree.img written through
 * libckptimg, then rst_load() must refuse each bad one naming what is
 * wrong, and plan a good tree with children in pstree order. Then the
 * rules for the files an image refers to under each --file-validation
 * mode, on real files, and the wait for a pid held by a zombie. */
#include "img-fixture.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "daemon/proc.h"
#include "daemon/restore-int.h"
#include "inventory.pb-c.h"
#include "pstree.pb-c.h"

static struct kerndat kd;

static void setup(void)
{
	fx_setup();
	memset(&kd, 0, sizeof(kd));
	kd.page_size = 4096;
	kd.xfeatures = 0x7;
	kd.xsave_size = 832;
	kd.clone3_set_tid = true;
}

TestSuite(restore, .init = setup, .fini = fx_teardown);

static void write_inventory(int root, unsigned nr_tasks, uint64_t xfeatures, uint32_t page_size)
{
	InventoryEntry e = INVENTORY_ENTRY__INIT;
	struct img *img;

	e.format_version = IMG_FORMAT_VERSION;
	e.kind = DUMP_KIND__DUMP_FULL;
	e.root_pid = root;
	e.kernel_release = "6.18";
	e.page_size = page_size;
	e.xfeatures = xfeatures;
	e.xsave_size = 832;
	e.nr_tasks = nr_tasks;
	e.ckpt_version = "test";
	cr_assert_eq(img_create(fx_dirfd, IMG_INVENTORY, 0, &img), 0);
	cr_assert_eq(img_write_msg(img, &e.base), 0);
	cr_assert_eq(img_close(img), 0);
}

struct t {
	int pid, ppid, pgid, sid, state, exit_code;
};

static void write_pstree(const struct t *ts, unsigned n)
{
	struct img *img;

	cr_assert_eq(img_create(fx_dirfd, IMG_PSTREE, 0, &img), 0);
	for (unsigned i = 0; i < n; i++) {
		PstreeEntry e = PSTREE_ENTRY__INIT;
		int32_t tid = ts[i].pid;

		e.pid = ts[i].pid;
		e.ppid = ts[i].ppid;
		e.pgid = ts[i].pgid;
		e.sid = ts[i].sid;
		e.state = ts[i].state ? ts[i].state : TASK_STATE__TASK_ALIVE;
		e.n_threads = 1;
		e.threads = &tid;
		if (e.state == TASK_STATE__TASK_ZOMBIE) {
			e.has_exit_code = true;
			e.exit_code = ts[i].exit_code;
		}
		cr_assert_eq(img_write_msg(img, &e.base), 0);
	}
	cr_assert_eq(img_close(img), 0);
}

/* rst_load() on the crafted set; the error message into msg. */
static int load(char *msg, size_t len, struct rst_ctx *out)
{
	static struct restore_opts opts;
	struct ckpt_err err = { 0 };
	struct rst_ctx ctx = {
		.opts = &opts, .kd = &kd, .err = &err, .dirfd = fx_dirfd, .page_size = 4096,
		.max_fd = 2,
	};
	int r = rst_load(&ctx);

	snprintf(msg, len, "%s", err.msg);
	if (out)
		*out = ctx;
	else
		rst_free(&ctx);
	return r;
}

#define EXPECT_REFUSED(want)                                                        \
	do {                                                                        \
		char msg[1024];                                                     \
		int r = load(msg, sizeof(msg), NULL);                               \
		cr_assert_lt(r, 0, "accepted; wanted '%s'", want);                  \
		cr_assert_not_null(strstr(msg, want), "message '%s' lacks '%s'", msg, want); \
	} while (0)

Test(restore, xfeatures_missing)
{
	write_inventory(100, 1, 0x207, 4096);
	EXPECT_REFUSED("XCR0 bits 0x200 missing");
}

Test(restore, page_size)
{
	write_inventory(100, 1, 0x7, 65536);
	EXPECT_REFUSED("page size 65536 differs");
}

Test(restore, task_count)
{
	struct t ts[] = { { 100, 0, 100, 100 } };

	write_inventory(100, 2, 0x7, 4096);
	write_pstree(ts, 1);
	EXPECT_REFUSED("pstree.img holds 1 tasks, inventory.img says 2");
}

Test(restore, parent_order)
{
	struct t ts[] = { { 100, 0, 100, 100 }, { 102, 101, 100, 100 }, { 101, 100, 100, 100 } };

	write_inventory(100, 3, 0x7, 4096);
	write_pstree(ts, 3);
	EXPECT_REFUSED("pid 102: parent 101 does not precede it");
}

Test(restore, duplicate_pid)
{
	struct t ts[] = { { 100, 0, 100, 100 }, { 101, 100, 100, 100 }, { 101, 100, 100, 100 } };

	write_inventory(100, 3, 0x7, 4096);
	write_pstree(ts, 3);
	EXPECT_REFUSED("pid 101 appears twice");
}

Test(restore, zombie_root)
{
	struct t ts[] = { { 100, 0, 100, 100, TASK_STATE__TASK_ZOMBIE, 0 } };

	write_inventory(100, 1, 0x7, 4096);
	write_pstree(ts, 1);
	EXPECT_REFUSED("the root 100 is a zombie");
}

Test(restore, foreign_session)
{
	/* 101 is in session 50, led by no task of the tree and not its parent's */
	struct t ts[] = { { 100, 0, 100, 100 }, { 101, 100, 101, 50 } };

	write_inventory(100, 2, 0x7, 4096);
	write_pstree(ts, 2);
	EXPECT_REFUSED("pid 101: session 50 differs from its parent 100's");
}

Test(restore, group_in_other_session)
{
	/* 102 leads its own session; 103 (its child) can't join group 101 */
	struct t ts[] = { { 100, 0, 100, 100 }, { 101, 100, 101, 100 }, { 102, 100, 102, 102 },
			  { 103, 102, 101, 102 } };

	write_inventory(100, 4, 0x7, 4096);
	write_pstree(ts, 4);
	EXPECT_REFUSED("pid 103: process group 101 belongs to another session");
}

Test(restore, zombie_status)
{
	struct t ts[] = { { 100, 0, 100, 100 }, { 101, 100, 100, 100, TASK_STATE__TASK_ZOMBIE,
					       0x137f } };

	write_inventory(100, 2, 0x7, 4096);
	write_pstree(ts, 2);
	EXPECT_REFUSED("zombie 101: wait status 0x137f is neither an exit nor a signal");
}

/* A session or group led from outside the dumper's pid namespace reads as
 * 0 in /proc: a valid tree (the tasks join the restorer's session). */
Test(restore, session_outside_namespace)
{
	struct t ts[] = { { 2, 0, 0, 0 }, { 3, 2, 0, 0 } };
	char msg[1024];

	write_inventory(2, 2, 0x7, 4096);
	write_pstree(ts, 2);
	cr_assert_lt(load(msg, sizeof(msg), NULL), 0);
	cr_assert_not_null(strstr(msg, "core-2.img is missing"), "%s", msg);
}

Test(restore, session_negative)
{
	struct t ts[] = { { 100, 0, 100, -1 } };

	write_inventory(100, 1, 0x7, 4096);
	write_pstree(ts, 1);
	EXPECT_REFUSED("pstree.img: pid 100: pid/ppid/pgid/sid out of bounds");
}

Test(restore, plan)
{
	struct t ts[] = {
		{ 100, 0, 100, 100 },
		{ 101, 100, 101, 100 },				/* own group */
		{ 102, 101, 101, 100, TASK_STATE__TASK_ZOMBIE, 42 << 8 },
		{ 103, 100, 101, 100 },				/* joins 101's group */
		{ 104, 100, 104, 104 },				/* session leader */
	};
	struct rst_ctx ctx;
	char msg[1024];

	write_inventory(100, 5, 0x7, 4096);
	write_pstree(ts, 5);
	/* the tree is fine: loading stops at the first task's missing core */
	cr_assert_lt(load(msg, sizeof(msg), &ctx), 0);
	cr_assert_not_null(strstr(msg, "core-100.img is missing"), "%s", msg);
	cr_assert_eq(ctx.nr_tasks, 5);
	cr_assert_eq(ctx.nr_alive, 4);
	cr_assert_eq(ctx.tasks[0].nr_children, 3);
	cr_assert_eq(ctx.tasks[0].children[0]->pe->pid, 101);
	cr_assert_eq(ctx.tasks[0].children[1]->pe->pid, 103);
	cr_assert_eq(ctx.tasks[0].children[2]->pe->pid, 104);
	cr_assert_eq(ctx.tasks[1].nr_children, 1);
	cr_assert_eq(ctx.tasks[1].children[0]->pe->pid, 102);
	cr_assert_eq(ctx.tasks[2].parent, &ctx.tasks[1]);
	cr_assert_eq(rst_find(&ctx, 103), &ctx.tasks[3]);
	rst_free(&ctx);
}

/* Anyone but root restores only processes of its own identity. */
Test(restore, creds_authorization)
{
	CredsEntry cr = CREDS_ENTRY__INIT;
	TaskCoreEntry core = TASK_CORE_ENTRY__INIT;
	PstreeEntry pe = PSTREE_ENTRY__INIT;
	struct rst_task t = { .pe = &pe, .core = &core };
	struct restore_opts opts = { .requester = getpid(), .requester_uid = 1000,
				     .requester_gid = 1000 };
	struct ckpt_err err = { 0 };
	struct rst_ctx ctx = { .opts = &opts, .kd = &kd, .err = &err, .tasks = &t,
			       .nr_tasks = 1 };

	pe.pid = 100;
	core.creds = &cr;
	cr.uid = cr.euid = cr.suid = cr.fsuid = 1000;
	cr.gid = cr.egid = cr.sgid = cr.fsgid = 1000;
	cr_assert_eq(rst_check_creds(&ctx), 0, "%s", err.msg);

	cr.euid = 0;
	cr_assert_eq(rst_check_creds(&ctx), -EPERM);
	cr_assert_not_null(strstr(err.msg, "pid 100 ran with effective uid 0"), "%s", err.msg);

	/* the id that differs is named, whichever it is */
	memset(&err, 0, sizeof(err));
	cr.euid = 1000;
	cr.uid = 1002;
	cr_assert_eq(rst_check_creds(&ctx), -EPERM);
	cr_assert_not_null(strstr(err.msg, "pid 100 ran with real uid 1002"), "%s", err.msg);
	cr.uid = 1000;
	memset(&err, 0, sizeof(err));
	cr.fsgid = 7;
	cr_assert_eq(rst_check_creds(&ctx), -EPERM);
	cr_assert_not_null(strstr(err.msg, "pid 100 ran with fs gid 7"), "%s", err.msg);
	cr.fsgid = 1000;

	memset(&err, 0, sizeof(err));
	cr.euid = 1000;
	cr.cap_eff = 1;
	cr_assert_eq(rst_check_creds(&ctx), -EPERM);
	cr_assert_not_null(strstr(err.msg, "held capabilities"), "%s", err.msg);

	/* root may restore anything */
	memset(&err, 0, sizeof(err));
	opts.requester_uid = 0;
	cr_assert_eq(rst_check_creds(&ctx), 0);
}

/* ---- files the image refers to (--file-validation) -------------------- */

static const char fv_text[] = "forty bytes of a log, saved by the dump\n";

/* A file of fx_dir holding fv_text; its full path into path. */
static void fv_file(const char *name, char *path, size_t len)
{
	int fd;

	snprintf(path, len, "%s/%s", fx_dir, name);
	cr_assert_eq(strlen(fv_text), 40);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0, "create %s", path);
	cr_assert_eq(write(fd, fv_text, 40), 40);
	close(fd);
}

/* What a dump records of the file at path now. */
static void fv_identity(const char *path, FileIdentity *id)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "stat %s", path);
	file_identity__init(id);
	id->path = (char *)path;
	id->dev = rst_encode_dev(st.st_dev);
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec;
	id->has_mode = true;
	id->mode = st.st_mode;
}

/* Replace path by a copy of itself: same bytes, another inode. */
static void fv_replace_by_copy(const char *path)
{
	char tmp[256], buf[4096];
	int in, out;
	ssize_t n;

	snprintf(tmp, sizeof(tmp), "%s.copy", path);
	in = open(path, O_RDONLY | O_CLOEXEC);
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	cr_assert(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		cr_assert_eq(write(out, buf, n), n);
	close(in);
	close(out);
	cr_assert_eq(rename(tmp, path), 0);
}

static void fv_set_mtime(const char *path, time_t sec)
{
	struct timespec ts[2] = { { .tv_sec = sec }, { .tv_sec = sec } };

	cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void fv_truncate(const char *path, off_t len)
{
	cr_assert_eq(truncate(path, len), 0);
}

static void fv_append(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

/* rst_check_identity (mapped) or rst_check_open_file (fe != NULL) under
 * mode fv, through fd (or the path when fd < 0); the message into msg. */
static int fv_check(enum restore_file_validation fv, const FileIdentity *id,
		    const FileDescEntry *fe, int fd, char *msg, size_t len)
{
	struct restore_opts opts = { .file_validation = fv };
	struct ckpt_err err = { 0 };
	struct rst_ctx ctx = { .opts = &opts, .kd = &kd, .err = &err };
	int r = fe ? rst_check_open_file(&ctx, "pid 100 fd 3", fd, fe)
		   : rst_check_identity(&ctx, "pid 100 mapping at 0x400000", fd, id);

	snprintf(msg, len, "%s", r < 0 ? err.msg : "");
	return r;
}

#define FV_OK(fv, id, fe)                                                           \
	do {                                                                        \
		char msg[1024];                                                     \
		int r = fv_check(fv, id, fe, -1, msg, sizeof(msg));                 \
		cr_assert_eq(r, 0, "%s refused: %s", restore_file_validation_name(fv), msg); \
	} while (0)

#define FV_REFUSED(fv, id, fe, want)                                                \
	do {                                                                        \
		char msg[1024];                                                     \
		int r = fv_check(fv, id, fe, -1, msg, sizeof(msg));                 \
		cr_assert_lt(r, 0, "%s accepted; wanted '%s'",                      \
			     restore_file_validation_name(fv), want);               \
		cr_assert_not_null(strstr(msg, want), "%s: message '%s' lacks '%s'", \
				   restore_file_validation_name(fv), msg, want);    \
	} while (0)

Test(restore, file_validation_names)
{
	enum restore_file_validation fv = RESTORE_FV_STRICT;

	cr_assert_eq(restore_file_validation_parse("default", &fv), 0);
	cr_assert_eq(fv, RESTORE_FV_DEFAULT);
	cr_assert_eq(restore_file_validation_parse("strict", &fv), 0);
	cr_assert_eq(fv, RESTORE_FV_STRICT);
	cr_assert_eq(restore_file_validation_parse("path", &fv), 0);
	cr_assert_eq(fv, RESTORE_FV_PATH);
	cr_assert_eq(restore_file_validation_parse("Strict", &fv), -EINVAL);
	cr_assert_eq(restore_file_validation_parse("", &fv), -EINVAL);
	cr_assert_eq(fv, RESTORE_FV_PATH, "untouched on failure");
	cr_assert_str_eq(restore_file_validation_name(RESTORE_FV_PATH), "path");
	/* a zeroed restore_opts (a dump's own validation) means default */
	cr_assert_eq((struct restore_opts){ 0 }.file_validation, RESTORE_FV_DEFAULT);
}

/* A mapped file's pages come from it: in every mode but path it must be
 * the very file, unchanged; path takes a copy of the same size. */
Test(restore, mapped_file_rules)
{
	FileIdentity id;
	char path[256];

	fv_file("lib.so", path, sizeof(path));
	fv_identity(path, &id);
	FV_OK(RESTORE_FV_DEFAULT, &id, NULL);
	FV_OK(RESTORE_FV_STRICT, &id, NULL);
	FV_OK(RESTORE_FV_PATH, &id, NULL);

	/* modified in place, same size */
	fv_set_mtime(path, 1000000000);
	FV_REFUSED(RESTORE_FV_DEFAULT, &id, NULL,
		   "pid 100 mapping at 0x400000: file ");
	FV_REFUSED(RESTORE_FV_DEFAULT, &id, NULL, "lib.so was modified since the dump");
	FV_REFUSED(RESTORE_FV_STRICT, &id, NULL, "lib.so was modified since the dump");
	FV_OK(RESTORE_FV_PATH, &id, NULL);

	/* replaced by a copy */
	fv_identity(path, &id);
	fv_replace_by_copy(path);
	FV_REFUSED(RESTORE_FV_DEFAULT, &id, NULL, "lib.so was replaced (device/inode");
	FV_REFUSED(RESTORE_FV_DEFAULT, &id, NULL, "--file-validation=path accepts a copy");
	FV_REFUSED(RESTORE_FV_STRICT, &id, NULL, "was replaced");
	FV_OK(RESTORE_FV_PATH, &id, NULL);

	/* grown: refused even under path */
	fv_identity(path, &id);
	fv_append(path, "more\n");
	FV_REFUSED(RESTORE_FV_DEFAULT, &id, NULL, "lib.so changed size (45 bytes, the image has 40)");
	FV_REFUSED(RESTORE_FV_STRICT, &id, NULL, "changed size (45 bytes");
	FV_REFUSED(RESTORE_FV_PATH, &id, NULL, "changed size (45 bytes");

	/* another type at the path */
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(mkdir(path, 0700), 0);
	FV_REFUSED(RESTORE_FV_PATH, &id, NULL,
		   "lib.so is now a directory, the image has a regular file");
	cr_assert_eq(rmdir(path), 0);

	FV_REFUSED(RESTORE_FV_DEFAULT, &id, NULL, "lib.so is gone");
	FV_REFUSED(RESTORE_FV_STRICT, &id, NULL, "lib.so is gone");
	FV_REFUSED(RESTORE_FV_PATH, &id, NULL, "lib.so is gone");
}

/* A file only held open may grow and change (a log); it must be the same
 * file (default) or of the same type (path), with every byte before the
 * saved offset still there. */
Test(restore, open_file_rules)
{
	FileDescEntry fe = FILE_DESC_ENTRY__INIT;
	FileIdentity id;
	char path[256];

	fv_file("app.log", path, sizeof(path));
	fv_identity(path, &id);
	fe.id = 7;
	fe.type = FD_TYPE__FD_REG;
	fe.flags = O_RDWR;
	fe.has_pos = true;
	fe.pos = 40;
	fe.file = &id;
	FV_OK(RESTORE_FV_DEFAULT, &id, &fe);
	FV_OK(RESTORE_FV_STRICT, &id, &fe);
	FV_OK(RESTORE_FV_PATH, &id, &fe);

	/* grown (mtime too) since the dump */
	fv_set_mtime(path, 1000000000);
	fv_append(path, "a line written after the dump\n");
	FV_OK(RESTORE_FV_DEFAULT, &id, &fe);
	FV_OK(RESTORE_FV_PATH, &id, &fe);
	FV_REFUSED(RESTORE_FV_STRICT, &id, &fe,
		   "pid 100 fd 3: file ");
	FV_REFUSED(RESTORE_FV_STRICT, &id, &fe, "app.log changed size (70 bytes, the image has 40)");
	FV_REFUSED(RESTORE_FV_STRICT, &id, &fe, "--file-validation=default");

	/* only the mtime differs */
	fv_truncate(path, 40);
	fv_set_mtime(path, 1000000000);
	FV_OK(RESTORE_FV_DEFAULT, &id, &fe);
	FV_REFUSED(RESTORE_FV_STRICT, &id, &fe, "app.log was modified since the dump");

	/* truncated below the offset: refused in every mode */
	fv_truncate(path, 5);
	FV_REFUSED(RESTORE_FV_DEFAULT, &id, &fe,
		   "pid 100 fd 3: file ");
	FV_REFUSED(RESTORE_FV_DEFAULT, &id, &fe,
		   "app.log was truncated: the saved offset 40 lies past its end (5 bytes, 40 at "
		   "the dump)");
	FV_REFUSED(RESTORE_FV_PATH, &id, &fe, "the saved offset 40 lies past its end (5 bytes");
	FV_REFUSED(RESTORE_FV_STRICT, &id, &fe, "changed size (5 bytes");
	/* ... which an append-only writer never minds */
	fe.flags = O_WRONLY | O_APPEND;
	FV_OK(RESTORE_FV_DEFAULT, &id, &fe);
	FV_OK(RESTORE_FV_PATH, &id, &fe);
	/* ... but a reader or a writer at an offset does */
	fe.flags = O_WRONLY;
	FV_REFUSED(RESTORE_FV_DEFAULT, &id, &fe, "saved offset 40 lies past its end");
	fe.flags = O_RDWR | O_APPEND;
	FV_REFUSED(RESTORE_FV_DEFAULT, &id, &fe, "saved offset 40 lies past its end");
	/* shorter, but not below the offset */
	fe.flags = O_RDONLY;
	fe.pos = 5;
	FV_OK(RESTORE_FV_DEFAULT, &id, &fe);
	fe.pos = 6;
	FV_REFUSED(RESTORE_FV_DEFAULT, &id, &fe, "saved offset 6 lies past its end (5 bytes");

	/* an offset the process had put past the end at the dump: nothing
	 * before it is gone */
	fv_truncate(path, 40);
	fe.pos = 100;
	FV_OK(RESTORE_FV_DEFAULT, &id, &fe);
	fv_truncate(path, 39);
	FV_REFUSED(RESTORE_FV_DEFAULT, &id, &fe, "saved offset 100 lies past its end (39 bytes");
	fv_truncate(path, 40);
	fe.pos = 40;

	/* replaced by a copy: only path takes it */
	fv_replace_by_copy(path);
	FV_REFUSED(RESTORE_FV_DEFAULT, &id, &fe, "app.log was replaced (device/inode");
	FV_REFUSED(RESTORE_FV_STRICT, &id, &fe, "app.log was replaced");
	FV_OK(RESTORE_FV_PATH, &id, &fe);
	/* a copy, truncated below the offset */
	fv_truncate(path, 3);
	FV_REFUSED(RESTORE_FV_PATH, &id, &fe, "saved offset 40 lies past its end (3 bytes");

	/* another type at the path: path mode wants the saved one (the fd
	 * type says it when the image has no mode) */
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(mkfifo(path, 0600), 0);
	FV_REFUSED(RESTORE_FV_PATH, &id, &fe, "app.log is now a FIFO, the image has a regular file");
	id.has_mode = false;
	FV_REFUSED(RESTORE_FV_PATH, &id, &fe, "app.log is now a FIFO, the image has a regular file");
	cr_assert_eq(unlink(path), 0);
	FV_REFUSED(RESTORE_FV_DEFAULT, &id, &fe, "pid 100 fd 3: file ");
	FV_REFUSED(RESTORE_FV_DEFAULT, &id, &fe, "app.log is gone");
}

/* At open time the file opened is what counts (fd >= 0), not the path. */
Test(restore, open_file_through_fd)
{
	FileDescEntry fe = FILE_DESC_ENTRY__INIT;
	FileIdentity id;
	char path[256], msg[1024];
	int fd;

	fv_file("held.log", path, sizeof(path));
	fv_identity(path, &id);
	fe.type = FD_TYPE__FD_REG;
	fe.flags = O_RDONLY;
	fe.has_pos = true;
	fe.pos = 40;
	fe.file = &id;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	fv_replace_by_copy(path);
	cr_assert_eq(fv_check(RESTORE_FV_DEFAULT, &id, &fe, fd, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_lt(fv_check(RESTORE_FV_DEFAULT, &id, &fe, -1, msg, sizeof(msg)), 0);
	fv_truncate(path, 0);	/* the copy: the file held open keeps its bytes */
	cr_assert_eq(fv_check(RESTORE_FV_DEFAULT, &id, &fe, fd, msg, sizeof(msg)), 0, "%s", msg);
	close(fd);
}

/* rst_check_files walks the executable, the mappings and the fds of each
 * task and names which one is wrong. */
Test(restore, check_files_names_what)
{
	PstreeEntry pe = PSTREE_ENTRY__INIT;
	MmEntry mm = MM_ENTRY__INIT;
	VmaEntry vma = VMA_ENTRY__INIT, *vmas[] = { &vma };
	FdEntry fd3 = FD_ENTRY__INIT, *fds[] = { &fd3 };
	FileDescEntry fe = FILE_DESC_ENTRY__INIT;
	FileIdentity exe_id, lib_id, log_id;
	struct rst_task t = { .pe = &pe, .mm = &mm, .vmas = vmas, .nr_vmas = 1, .fds = fds,
			      .nr_fds = 1 };
	struct rst_desc desc = { .fe = &fe, .fd = -1 };
	struct restore_opts opts = { 0 };
	struct ckpt_err err = { 0 };
	struct rst_ctx ctx = { .opts = &opts, .kd = &kd, .err = &err, .tasks = &t,
			       .nr_tasks = 1, .descs = &desc, .nr_descs = 1 };
	char exe[256], lib[256], log[256];

	fv_file("exe", exe, sizeof(exe));
	fv_file("lib.so", lib, sizeof(lib));
	fv_file("app.log", log, sizeof(log));
	fv_identity(exe, &exe_id);
	fv_identity(lib, &lib_id);
	fv_identity(log, &log_id);
	pe.pid = 100;
	mm.exe = &exe_id;
	vma.start = 0x7f0000001000;
	vma.end = 0x7f0000002000;
	vma.kind = VMA_KIND__VMA_FILE_PRIVATE;
	vma.file = &lib_id;
	fd3.fd = 3;
	fd3.desc_id = 7;
	fe.id = 7;
	fe.type = FD_TYPE__FD_REG;
	fe.flags = O_WRONLY | O_APPEND;
	fe.has_pos = true;
	fe.pos = 40;
	fe.file = &log_id;
	cr_assert_eq(rst_check_files(&ctx), 0, "%s", err.msg);

	/* the log grew: fine, but not under strict */
	fv_append(log, "grown\n");
	cr_assert_eq(rst_check_files(&ctx), 0, "%s", err.msg);
	opts.file_validation = RESTORE_FV_STRICT;
	cr_assert_eq(rst_check_files(&ctx), -ESTALE);
	cr_assert_not_null(strstr(err.msg, "pid 100 fd 3: file "), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "app.log changed size (46 bytes, the image has 40)"),
			   "%s", err.msg);
	opts.file_validation = RESTORE_FV_DEFAULT;

	/* a reader of it, and the log truncated below its offset */
	fe.flags = O_RDONLY;
	fv_truncate(log, 10);
	memset(&err, 0, sizeof(err));
	cr_assert_eq(rst_check_files(&ctx), -ESTALE);
	cr_assert_not_null(strstr(err.msg, "pid 100 fd 3: file "), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "app.log was truncated: the saved offset 40 lies past "
				  "its end (10 bytes"), "%s", err.msg);
	fv_truncate(log, 40);

	/* the mapped library changed: named by its address */
	fv_append(lib, "x");
	memset(&err, 0, sizeof(err));
	cr_assert_eq(rst_check_files(&ctx), -ESTALE);
	cr_assert_not_null(strstr(err.msg, "pid 100 mapping at 0x7f0000001000: file "), "%s",
			   err.msg);
	cr_assert_not_null(strstr(err.msg, "lib.so changed size (41 bytes"), "%s", err.msg);
	fv_truncate(lib, 40);
	fv_identity(lib, &lib_id);

	/* the executable replaced by a copy: path mode only */
	fv_replace_by_copy(exe);
	memset(&err, 0, sizeof(err));
	cr_assert_eq(rst_check_files(&ctx), -ESTALE);
	cr_assert_not_null(strstr(err.msg, "pid 100 executable: file "), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "exe was replaced"), "%s", err.msg);
	opts.file_validation = RESTORE_FV_PATH;
	cr_assert_eq(rst_check_files(&ctx), 0, "%s", err.msg);
}

/* ---- pids held by zombies ---------------------------------------------- */

/* A child that exits at once and stays a zombie until reaped. */
static pid_t zombie_child(void)
{
	siginfo_t si = { 0 };
	pid_t p = fork();

	cr_assert_geq(p, 0);
	if (p == 0)
		_exit(7);
	cr_assert_eq(waitid(P_PID, p, &si, WEXITED | WNOWAIT), 0);
	return p;
}

/* rst_check_pids on a one-task tree of pid; the time it took in ms. */
static int check_pid(pid_t pid, char *msg, size_t len, uint64_t *ret_ms)
{
	int32_t tid = pid;
	PstreeEntry pe = PSTREE_ENTRY__INIT;
	struct rst_task t = { .pe = &pe };
	struct ckpt_err err = { 0 };
	struct rst_ctx ctx = { .kd = &kd, .err = &err, .tasks = &t, .nr_tasks = 1 };
	uint64_t t0 = now_us();
	int r;

	pe.pid = pid;
	pe.n_threads = 1;
	pe.threads = &tid;
	r = rst_check_pids(&ctx);
	*ret_ms = (now_us() - t0) / 1000;
	snprintf(msg, len, "%s", r < 0 ? err.msg : "");
	return r;
}

static void *reap_later(void *arg)
{
	pid_t p = (pid_t)(intptr_t)arg;

	usleep(1000 * 1000);
	waitpid(p, NULL, 0);
	return NULL;
}

Test(restore, pid_live_fails_at_once)
{
	char msg[1024], want[64];
	uint64_t ms;

	snprintf(want, sizeof(want), "pid %d is in use", getpid());
	cr_assert_eq(check_pid(getpid(), msg, sizeof(msg), &ms), -EBUSY);
	cr_assert_not_null(strstr(msg, want), "%s", msg);
	cr_assert_lt(ms, 1000, "took %llu ms", (unsigned long long)ms);
}

Test(restore, pid_zombie_reaped_meanwhile, .timeout = 30)
{
	pid_t z = zombie_child();
	pthread_t th;
	char msg[1024];
	uint64_t ms;

	cr_assert_eq(pthread_create(&th, NULL, reap_later, (void *)(intptr_t)z), 0);
	cr_assert_eq(check_pid(z, msg, sizeof(msg), &ms), 0, "%s", msg);
	pthread_join(th, NULL);
	cr_assert_geq(ms, 800, "returned after %llu ms, before the zombie was reaped",
		      (unsigned long long)ms);
	cr_assert_lt(ms, 4000, "took %llu ms", (unsigned long long)ms);
}

Test(restore, pid_zombie_not_reaped, .timeout = 30)
{
	pid_t z = zombie_child();
	char msg[1024], want[160];
	uint64_t ms;

	snprintf(want, sizeof(want),
		 "pid %d is held by a zombie (not yet reaped by its parent pid %d); waited 5 s", z,
		 getpid());
	cr_assert_eq(check_pid(z, msg, sizeof(msg), &ms), -EBUSY);
	cr_assert_not_null(strstr(msg, want), "'%s' lacks '%s'", msg, want);
	cr_assert_geq(ms, 4900, "gave up after %llu ms", (unsigned long long)ms);
	cr_assert_lt(ms, 8000, "took %llu ms", (unsigned long long)ms);
	waitpid(z, NULL, 0);
}

static void *sleeper(void *arg)
{
	pause();
	return NULL;
}

/* A leader that left its threads behind reads "Z" but its process lives:
 * in use, at once. */
Test(restore, pid_exited_leader_is_in_use, .timeout = 30)
{
	struct proc_stat st = { 0 };
	char msg[1024], want[64];
	uint64_t ms;
	pid_t p = fork();

	cr_assert_geq(p, 0);
	if (p == 0) {
		pthread_t th;

		pthread_create(&th, NULL, sleeper, NULL);
		pthread_exit(NULL);
	}
	for (int i = 0; i < 500 && st.state != 'Z'; i++) {
		usleep(10000);
		cr_assert_eq(proc_read_stat(p, &st), 0);
	}
	cr_assert_eq(st.state, 'Z', "the leader did not exit");
	snprintf(want, sizeof(want), "pid %d is in use", p);
	cr_assert_eq(check_pid(p, msg, sizeof(msg), &ms), -EBUSY);
	cr_assert_not_null(strstr(msg, want), "%s", msg);
	cr_assert_lt(ms, 1000, "took %llu ms", (unsigned long long)ms);
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
}
