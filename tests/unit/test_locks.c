/* daemon/files/lock.c: the fdinfo "lock:" line parser on fixed text as
 * this kernel writes it (and on a live line), malformed lines refused;
 * restore's checks of the lock fields on a plan built in memory; taking a
 * description's locks never blocks and names what someone else holds. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "daemon/files/lock.h"
#include "daemon/proc.h"
#include "daemon/restore-int.h"

#define NR 2

#include "tests/unit/rst-fds-fixture.h"

/* --- parser ---------------------------------------------------------------- */

Test(lock_parse, posix)
{
	struct fd_lock lk;

	cr_assert_eq(fd_lock_parse("lock:\t1: POSIX  ADVISORY  WRITE 4246 fe:00:10952974 5 14\n",
				   &lk), 1);
	cr_assert_eq(lk.kind, FILE_LOCK_KIND__LOCK_POSIX);
	cr_assert(lk.write);
	cr_assert(!lk.mandatory);
	cr_assert_eq(lk.start, 5);
	cr_assert_eq(lk.len, 10);
	cr_assert_eq(lk.pid, 4246);
	cr_assert_eq(lk.dev_major, 0xfe);
	cr_assert_eq(lk.dev_minor, 0);
	cr_assert_eq(lk.ino, 10952974);
}

Test(lock_parse, ofd_flock_lease)
{
	struct fd_lock lk;

	cr_assert_eq(fd_lock_parse("lock:\t2: OFDLCK ADVISORY  READ -1 fe:00:12 100 149", &lk), 1);
	cr_assert_eq(lk.kind, FILE_LOCK_KIND__LOCK_OFD);
	cr_assert(!lk.write);
	cr_assert_eq(lk.pid, -1);
	cr_assert_eq(lk.start, 100);
	cr_assert_eq(lk.len, 50);

	cr_assert_eq(fd_lock_parse("lock:\t1: FLOCK  ADVISORY  WRITE 7 00:01:39068 0 EOF\n", &lk), 1);
	cr_assert_eq(lk.kind, FILE_LOCK_KIND__LOCK_FLOCK);
	cr_assert(lk.write);
	cr_assert_eq(lk.dev_minor, 1);
	cr_assert_eq(lk.len, 0);

	cr_assert_eq(fd_lock_parse("lock:\t1: LEASE  ACTIVE    READ 7 fe:00:3 0 EOF\n", &lk), 1);
	cr_assert_eq(lk.kind, FILE_LOCK_KIND__LOCK_LEASE);
	cr_assert(!lk.write);
	cr_assert(!lk.breaking);

	cr_assert_eq(fd_lock_parse("lock:\t1: LEASE  BREAKING  UNLCK 7 fe:00:3 0 EOF\n", &lk), 1);
	cr_assert(lk.breaking);
}

Test(lock_parse, posix_to_eof_and_mandatory)
{
	struct fd_lock lk;

	cr_assert_eq(fd_lock_parse("lock:\t1: POSIX  MANDATORY READ 9 08:01:77 4096 EOF\n", &lk), 1);
	cr_assert(lk.mandatory);
	cr_assert_eq(lk.start, 4096);
	cr_assert_eq(lk.len, 0);
	cr_assert_eq(lk.dev_major, 8);
}

Test(lock_parse, other_lines)
{
	struct fd_lock lk;

	cr_assert_eq(fd_lock_parse("pos:\t0\n", &lk), 0);
	cr_assert_eq(fd_lock_parse("flags:\t02100002\n", &lk), 0);
	cr_assert_eq(fd_lock_parse("", &lk), 0);
}

Test(lock_parse, kinds_ckpt_cannot_save)
{
	struct fd_lock lk;

	cr_assert_eq(fd_lock_parse("lock:\t1: DELEG  ACTIVE    READ 7 fe:00:3 0 EOF\n", &lk),
		     -EOPNOTSUPP);
	cr_assert_eq(fd_lock_parse("lock:\t1: ACCESS ADVISORY  READ 7 fe:00:3 0 9\n", &lk),
		     -EOPNOTSUPP);
	/* /proc/locks: a waiter is no lock held */
	cr_assert_eq(fd_lock_parse_entry("1: -> POSIX  ADVISORY  WRITE 17374 fe:00:10 50 59\n",
					 &lk), -EOPNOTSUPP);
	cr_assert_eq(fd_lock_parse_entry("1: POSIX  ADVISORY  WRITE 17281 fe:00:10 0 99\n", &lk), 0);
	cr_assert_eq(lk.pid, 17281);
}

Test(lock_parse, malformed)
{
	static const char *const bad[] = {
		"lock:\t1: POSIX  ADVISORY  WRITE\n",			/* cut short */
		"lock:\t1: POSIX  ADVISORY  WRITE 7 fe:00:3 20 10\n",	/* end < start */
		"lock:\t1: POSIX  ADVISORY  WRITE 7 fe:00:3 -5 10\n",	/* negative start */
		"lock:\t1: POSIX  ADVISORY  WRITE 7 fe:00:3 5 10x\n",	/* junk end */
		"lock:\t1: POSIX  WEIRD     WRITE 7 fe:00:3 5 10\n",	/* mode */
		"lock:\t1: POSIX  ADVISORY  UNLCK 7 fe:00:3 5 10\n",	/* type */
		"lock:\t1: LEASE  ACTIVE    UNLCK 7 fe:00:3 0 EOF\n",	/* UNLCK, not breaking */
		"lock:\t1: FLOCK  ADVISORY  WRITE 7 <none>:0 0 EOF\n",	/* no inode */
		"lock: nonsense\n",
	};
	struct fd_lock lk;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(fd_lock_parse(bad[i], &lk), -EBADMSG, "%s", bad[i]);
}

/* The kernel's own line for a lock this process takes. */
Test(lock_parse, live)
{
	char path[] = "/tmp/ckpt-test-locks.XXXXXX";
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 7, .l_len = 3 };
	struct fd_lock lk = { 0 };
	char *buf = NULL;
	int fd = mkstemp(path), n = 0;

	cr_assert(fd >= 0);
	unlink(path);
	cr_assert_eq(fcntl(fd, F_OFD_SETLK, &fl), 0);
	cr_assert_eq(proc_read_fdinfo(getpid(), fd, &buf), 0);
	for (char *l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (fd_lock_parse(l, &lk) == 1)
			n++;
	cr_assert_eq(n, 1, "%s", buf);
	cr_assert_eq(lk.kind, FILE_LOCK_KIND__LOCK_OFD);
	cr_assert(lk.write);
	cr_assert_eq(lk.start, 7);
	cr_assert_eq(lk.len, 3);
	free(buf);
	close(fd);
}

Test(lock_name, names)
{
	FileLockEntry lk = FILE_LOCK_ENTRY__INIT;
	char b[96];

	lk.kind = FILE_LOCK_KIND__LOCK_POSIX;
	lk.write = true;
	lk.len = 100;
	fd_lock_name(&lk, b, sizeof(b));
	cr_assert_str_eq(b, "POSIX write lock 0-99");
	lk.kind = FILE_LOCK_KIND__LOCK_OFD;
	lk.write = false;
	lk.start = 100;
	lk.len = 0;
	fd_lock_name(&lk, b, sizeof(b));
	cr_assert_str_eq(b, "OFD read lock 100-EOF");
	lk.kind = FILE_LOCK_KIND__LOCK_FLOCK;
	fd_lock_name(&lk, b, sizeof(b));
	cr_assert_str_eq(b, "flock read lock");
	lk.kind = FILE_LOCK_KIND__LOCK_LEASE;
	lk.write = true;
	fd_lock_name(&lk, b, sizeof(b));
	cr_assert_str_eq(b, "write lease");
}

/* --- restore checks ---------------------------------------------------------- */

static FileIdentity ident = { .path = "/srv/x", .dev = 8, .ino = 99 };
static FileLockEntry locks[2];
static FileLockEntry *lockp[2];
static FsEntry fs;

static void file_desc(unsigned i, int flags)
{
	file_desc_entry__init(&fe[i]);
	fe[i].id = 100 + i;
	fe[i].type = FD_TYPE__FD_REG;
	fe[i].flags = flags;
	fe[i].file = &ident;
}

static FileLockEntry *lock(unsigned i, FileLockKind kind, bool write, uint64_t start,
			   uint64_t len)
{
	file_lock_entry__init(&locks[i]);
	locks[i].kind = kind;
	locks[i].write = write;
	locks[i].start = start;
	locks[i].len = len;
	lockp[i] = &locks[i];
	return &locks[i];
}

/* Description 0 holds the lock i (or the task, a POSIX lock on fd 0). */
static void plan_with(unsigned i, bool posix)
{
	plan(1);
	fs_entry__init(&fs);
	task.fs = &fs;
	if (posix) {
		locks[i].has_fd = true;
		locks[i].fd = 0;
		fs.posix_locks = &lockp[i];
		fs.n_posix_locks = 1;
	} else {
		fe[0].locks = &lockp[i];
		fe[0].n_locks = 1;
	}
}

Test(lock_check, sane_locks_pass)
{
	file_desc(0, O_RDWR);
	lock(0, FILE_LOCK_KIND__LOCK_OFD, true, 0, 100);
	plan_with(0, false);
	cr_assert_eq(fd_lock_check_task(&ctx, &task), 0, "%s", err.msg);
	lock(1, FILE_LOCK_KIND__LOCK_POSIX, false, 5, 0);
	plan_with(1, true);
	cr_assert_eq(fd_lock_check_task(&ctx, &task), 0, "%s", err.msg);
}

Test(lock_check, write_lock_on_read_only_file)
{
	file_desc(0, O_RDONLY);
	lock(0, FILE_LOCK_KIND__LOCK_OFD, true, 0, 100);
	plan_with(0, false);
	cr_assert_eq(fd_lock_check_task(&ctx, &task), -EBADMSG);
	cr_assert(strstr(err.msg, "pid 10 fd 0: a write lock on a file open read-only"), "%s",
		  err.msg);
}

Test(lock_check, range_out_of_bounds)
{
	file_desc(0, O_RDWR);
	lock(0, FILE_LOCK_KIND__LOCK_POSIX, true, INT64_MAX, 2);
	plan_with(0, true);
	cr_assert_eq(fd_lock_check_task(&ctx, &task), -EBADMSG);
	cr_assert(strstr(err.msg, "fs-10.img: pid 10 fd 0: lock range"), "%s", err.msg);
}

Test(lock_check, posix_lock_among_description_locks)
{
	file_desc(0, O_RDWR);
	lock(0, FILE_LOCK_KIND__LOCK_POSIX, true, 0, 1);
	plan_with(0, false);
	cr_assert_eq(fd_lock_check_task(&ctx, &task), -EBADMSG);
	cr_assert(strstr(err.msg, "files.img: file description 100"), "%s", err.msg);
}

Test(lock_check, posix_lock_on_fd_not_held)
{
	file_desc(0, O_RDWR);
	lock(0, FILE_LOCK_KIND__LOCK_POSIX, true, 0, 1);
	plan_with(0, true);
	locks[0].fd = 7;
	cr_assert_eq(fd_lock_check_task(&ctx, &task), -EBADMSG);
	cr_assert(strstr(err.msg, "fs-10.img: a POSIX lock through fd 7"), "%s", err.msg);
}

Test(lock_check, write_lease_and_mandatory_refused)
{
	file_desc(0, O_RDONLY);
	lock(0, FILE_LOCK_KIND__LOCK_LEASE, true, 0, 0);
	plan_with(0, false);
	cr_assert_eq(fd_lock_check_task(&ctx, &task), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 0: /srv/x: its write lease can't be restored"), "%s",
		  err.msg);
	file_desc(0, O_RDONLY);
	lock(0, FILE_LOCK_KIND__LOCK_FLOCK, false, 0, 0);
	locks[0].mandatory = true;
	plan_with(0, false);
	cr_assert_eq(fd_lock_check_task(&ctx, &task), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "mandatory"), "%s", err.msg);
}

Test(lock_check, posix_lock_on_a_mapped_file_refused)
{
	VmaEntry v = VMA_ENTRY__INIT, *vp = &v;

	v.kind = VMA_KIND__VMA_FILE_PRIVATE;
	v.file = &ident;
	file_desc(0, O_RDWR);
	lock(0, FILE_LOCK_KIND__LOCK_POSIX, true, 0, 10);
	plan_with(0, true);
	task.vmas = &vp;
	task.nr_vmas = 1;
	cr_assert_eq(fd_lock_check_task(&ctx, &task), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 0: /srv/x: its POSIX write lock 0-9 can't be "
			  "restored: the process also maps that file"), "%s", err.msg);
}

/* --- taking a description's locks --------------------------------------------- */

Test(lock_take, flock_held_elsewhere_is_named)
{
	char path[] = "/tmp/ckpt-test-locks.XXXXXX";
	int fd = mkstemp(path), other;

	cr_assert(fd >= 0);
	other = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(other >= 0);
	ident.path = path;
	file_desc(0, O_RDWR);
	lock(0, FILE_LOCK_KIND__LOCK_FLOCK, true, 0, 0);
	plan_with(0, false);
	cr_assert_eq(flock(other, LOCK_SH | LOCK_NB), 0);
	cr_assert_eq(fd_lock_take_desc(&ctx, &fe[0], fd), -EBUSY);
	cr_assert(strstr(err.msg, "pid 10 fd 0: /tmp/ckpt-test-locks.") &&
		  strstr(err.msg, ": flock write lock is held by another process here"), "%s",
		  err.msg);
	/* released: taken, without blocking */
	close(other);
	memset(&err, 0, sizeof(err));
	cr_assert_eq(fd_lock_take_desc(&ctx, &fe[0], fd), 0, "%s", err.msg);
	other = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_eq(flock(other, LOCK_SH | LOCK_NB), -1);
	cr_assert_eq(errno, EWOULDBLOCK);
	close(other);
	close(fd);
	unlink(path);
	ident.path = "/srv/x";
}
