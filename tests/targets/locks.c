/* File locks target: locks held by the tree come back held, and a task
 * waiting for one still waits. In the status file's directory:
 *   - lk-flock: an exclusive flock,
 *   - lk-range: a POSIX write lock on bytes 0-99 (through fd RANGE_FD, also
 *     dup'ed), and an OFD read lock on 100-199 through a read-only
 *     description,
 *   - lk-lease: a read lease (F_SETLEASE),
 *   - a memfd with a shared flock,
 *   - a child (in the tree, sharing RANGE_FD's description) blocked in
 *     F_SETLKW for a write lock on 50-59, which the root holds.
 * After SIGUSR1 the root checks every lock from inside (F_OFD_GETLK and
 * flock through new descriptions of its own, F_GETLEASE), that the child
 * still waits, then releases its POSIX lock: the child must get it (its
 * wait restarted, never EINTR) and exit 0.
 *
 *	locks
 *
 * Notes for the harness: "child PID". */
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "target.h"

#define RANGE_FD	10
#define RANGE_DUP	11
#define OFD_FD		12
#define FLOCK_FD	13
#define LEASE_FD	14
#define MEMFD_FD	15

static char path_buf[8192];

static const char *path(const char *name)
{
	snprintf(path_buf, sizeof(path_buf), "%s/%s", target_dir(), name);
	return path_buf;
}

/* Open name (created with size bytes) at fd number at. */
static void open_at(const char *name, int flags, size_t size, int at)
{
	int fd = open(path(name), flags | O_CREAT, 0644);

	if (fd < 0 || (size && ftruncate(fd, size) < 0))
		target_fail("%s: %s", name, strerror(errno));
	if (dup2(fd, at) < 0)
		target_fail("dup2: %s", strerror(errno));
	close(fd);
}

static int set_lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	return fcntl(fd, cmd, &fl);
}

/* The child: wait for bytes 50-59 (the root holds 0-99), then say so. */
static void child_main(void)
{
	if (set_lock(RANGE_FD, F_SETLKW, F_WRLCK, 50, 10) < 0)
		_exit(errno == EINTR ? 3 : 4);
	_exit(0);
}

/* Whether /proc/locks shows pid waiting for a POSIX lock. */
static int waits(pid_t pid)
{
	char line[256];
	int found = 0, p;
	FILE *f = fopen("/proc/locks", "re");

	if (!f)
		target_fail("/proc/locks: %s", strerror(errno));
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%*d: -> POSIX %*s %*s %d", &p) == 1 && p == pid;
	fclose(f);
	return found;
}

static void setup(pid_t *ret_child)
{
	int mfd;
	pid_t c;

	/* every file opened first: any close of lk-range by this process
	 * (open_at closes its first fd) would drop its POSIX locks on it */
	open_at("lk-flock", O_RDWR, 0, FLOCK_FD);
	open_at("lk-range", O_RDWR, 4096, RANGE_FD);
	open_at("lk-range", O_RDONLY, 0, OFD_FD);
	open_at("lk-lease", O_RDONLY, 0, LEASE_FD);
	if (flock(FLOCK_FD, LOCK_EX | LOCK_NB) < 0)
		target_fail("flock: %s", strerror(errno));
	if (dup2(RANGE_FD, RANGE_DUP) < 0 || set_lock(RANGE_FD, F_SETLK, F_WRLCK, 0, 100) < 0)
		target_fail("POSIX lock: %s", strerror(errno));
	if (set_lock(OFD_FD, F_OFD_SETLK, F_RDLCK, 100, 100) < 0)
		target_fail("OFD lock: %s", strerror(errno));
	if (fcntl(LEASE_FD, F_SETLEASE, F_RDLCK) < 0)
		target_fail("F_SETLEASE: %s", strerror(errno));
	mfd = memfd_create("lk-memfd", MFD_CLOEXEC);
	if (mfd < 0 || dup2(mfd, MEMFD_FD) < 0 || flock(MEMFD_FD, LOCK_SH | LOCK_NB) < 0)
		target_fail("memfd flock: %s", strerror(errno));
	close(mfd);
	c = fork();
	if (c < 0)
		target_fail("fork: %s", strerror(errno));
	if (c == 0)
		child_main();
	for (int i = 0; !waits(c); i++) {
		if (i > 5000)
			target_fail("child %d never waited for its lock", c);
		usleep(1000);
	}
	target_note("child %d", c);
	*ret_child = c;
}

/* A new description of a file (or of our fd at), so that checks through it
 * are another owner's. */
static int reopen(const char *name, int at, int flags)
{
	char p[64];
	int fd;

	if (!name) {
		snprintf(p, sizeof(p), "/proc/self/fd/%d", at);
		name = p;
	} else {
		name = path(name);
	}
	fd = open(name, flags | O_CLOEXEC);
	if (fd < 0)
		target_fail("reopen %s: %s", name, strerror(errno));
	return fd;
}

/* What F_OFD_GETLK says about a write lock on start+len through fd. */
static void expect_conflict(int fd, off_t start, off_t len, short type, off_t cs, off_t cl,
			    pid_t pid, const char *what)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start,
			    .l_len = len };

	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		target_fail("F_OFD_GETLK: %s", strerror(errno));
	if (fl.l_type != type || fl.l_start != cs || fl.l_len != cl || fl.l_pid != pid)
		target_fail("%s: F_OFD_GETLK says type %d %lld+%lld pid %d, not %d %lld+%lld pid %d",
			    what, fl.l_type, (long long)fl.l_start, (long long)fl.l_len, fl.l_pid,
			    type, (long long)cs, (long long)cl, pid);
}

static void expect_flock_busy(int fd, int op, const char *what)
{
	if (flock(fd, op | LOCK_NB) == 0)
		target_fail("%s: not locked any more", what);
	if (errno != EWOULDBLOCK)
		target_fail("%s: flock: %s", what, strerror(errno));
}

static void check_locks(pid_t child)
{
	int range = reopen("lk-range", 0, O_RDWR);
	int fl = reopen("lk-flock", 0, O_RDONLY);
	int mem = reopen(NULL, MEMFD_FD, O_RDWR);
	int st;

	expect_conflict(range, 0, 100, F_WRLCK, 0, 100, getpid(), "POSIX lock 0-99");
	expect_conflict(range, 100, 100, F_RDLCK, 100, 100, -1, "OFD lock 100-199");
	expect_conflict(range, 200, 100, F_UNLCK, 200, 100, 0, "bytes 200-299");
	expect_flock_busy(fl, LOCK_SH, "flock on lk-flock");
	expect_flock_busy(mem, LOCK_EX, "shared flock on the memfd");
	if (flock(mem, LOCK_SH | LOCK_NB) < 0)
		target_fail("the memfd's flock is not a shared one: %s", strerror(errno));
	if (fcntl(LEASE_FD, F_GETLEASE) != F_RDLCK)
		target_fail("lk-lease: F_GETLEASE is %d, not a read lease", fcntl(LEASE_FD, F_GETLEASE));
	if (waitpid(child, &st, WNOHANG) != 0 || !waits(child))
		target_fail("child %d does not wait for its lock any more", child);
	/* release: the child gets its lock (closing range would do it too) */
	if (set_lock(RANGE_FD, F_SETLK, F_UNLCK, 0, 100) < 0)
		target_fail("unlock: %s", strerror(errno));
	alarm(20);
	if (waitpid(child, &st, 0) != child)
		target_fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		target_fail("child %d: status 0x%x (3: its wait saw EINTR, 4: it failed)", child, st);
}

int main(void)
{
	pid_t child;

	signal(SIGIO, SIG_IGN);		/* a lease break must not kill us */
	target_init();
	setup(&child);
	target_ready();
	target_wait();
	check_locks(child);
	target_pass();
}
