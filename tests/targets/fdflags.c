/* Flags and owners of open file descriptions a restore must bring back.
 *
 *	fdflags
 *
 * In $TMPDIR: an O_PATH fd on a regular file, an O_PATH | O_NOFOLLOW fd on
 * a symlink (the link itself), a file opened O_APPEND | O_NONBLOCK with
 * O_NOATIME and O_DIRECT where the file system takes them, a memfd given
 * O_NONBLOCK | O_APPEND by F_SETFL, a file owned by this process
 * (F_SETOWN) with F_SETSIG SIGRTMIN+1, one owned by this thread
 * (F_SETOWN_EX F_OWNER_TID) and one by this process group (F_OWNER_PGRP;
 * the harness makes the target a group leader), and a pipe's read end owned
 * by this process with signal SIGRTMIN+2. After SIGUSR1: the O_PATH
 * fds are still O_PATH and name the same file (the symlink one the link
 * itself, S_ISLNK), every F_GETFL is as before, and so are every owner and
 * signal. */
#include <sys/mman.h>
#include <sys/stat.h>

#include "target.h"

enum { F_PATH, F_LINK, F_FLAGS, F_MEMFD, F_OWN, F_TID, F_PGRP, F_PIPE, NR };

static int fds[NR];
static int getfl[NR];
static char links[NR][256];
static struct f_owner_ex owners[NR];
static int sigs[NR];
static struct stat sts[NR];

static int open_file(const char *dir, const char *name, int flags)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, flags | O_CREAT, 0600);
	if (fd < 0)
		target_fail("open %s: %s", path, strerror(errno));
	return fd;
}

/* O_APPEND | O_NONBLOCK, and O_NOATIME and O_DIRECT if they are taken. */
static int open_flagged(const char *dir)
{
	static const int extra[] = { O_NOATIME | O_DIRECT, O_NOATIME, O_DIRECT, 0 };
	char path[512];

	snprintf(path, sizeof(path), "%s/flagged", dir);
	for (unsigned i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_NONBLOCK | extra[i], 0600);

		if (fd >= 0)
			return fd;
		if (errno != EINVAL && errno != EPERM)
			break;
	}
	target_fail("open %s: %s", path, strerror(errno));
	return -1;
}

static void set_owner(int fd, int type, pid_t pid)
{
	struct f_owner_ex o = { .type = type, .pid = pid };

	if (fcntl(fd, F_SETOWN_EX, &o) < 0)
		target_fail("F_SETOWN_EX fd %d: %s", fd, strerror(errno));
}

static void snapshot(int i, int fd)
{
	char p[64];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, links[i], sizeof(links[i]) - 1);
	if (n < 0)
		target_fail("readlink %s: %s", p, strerror(errno));
	links[i][n] = '\0';
	getfl[i] = fcntl(fd, F_GETFL);
	if (fstatat(fd, "", &sts[i], AT_EMPTY_PATH) < 0)
		target_fail("fstatat fd %d: %s", fd, strerror(errno));
	if (getfl[i] & O_PATH)
		return;
	if (fcntl(fd, F_GETOWN_EX, &owners[i]) < 0)
		target_fail("F_GETOWN_EX fd %d: %s", fd, strerror(errno));
	sigs[i] = fcntl(fd, F_GETSIG);
}

static void check(int i)
{
	int fd = fds[i], fl, sig;
	struct f_owner_ex o;
	struct stat st;
	char p[64], link[256];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, link, sizeof(link) - 1);
	if (n < 0)
		target_fail("fd %d is gone: %s", fd, strerror(errno));
	link[n] = '\0';
	if (i != F_PIPE && strcmp(link, links[i]))	/* a new pipe: a new inode */
		target_fail("fd %d names %s, was %s", fd, link, links[i]);
	fl = fcntl(fd, F_GETFL);
	if (fl != getfl[i])
		target_fail("fd %d (%s): F_GETFL 0%o, was 0%o", fd, link, fl, getfl[i]);
	if (fstatat(fd, "", &st, AT_EMPTY_PATH) < 0)
		target_fail("fstatat fd %d: %s", fd, strerror(errno));
	/* a memfd or a pipe is made anew: a new inode */
	if ((i != F_MEMFD && i != F_PIPE && st.st_ino != sts[i].st_ino) ||
	    (st.st_mode & S_IFMT) != (sts[i].st_mode & S_IFMT))
		target_fail("fd %d (%s): inode %lu mode 0%o, was %lu 0%o", fd, link,
			    (unsigned long)st.st_ino, st.st_mode, (unsigned long)sts[i].st_ino,
			    sts[i].st_mode);
	if (fl & O_PATH)
		return;
	if (fcntl(fd, F_GETOWN_EX, &o) < 0)
		target_fail("F_GETOWN_EX fd %d: %s", fd, strerror(errno));
	if (o.type != owners[i].type || o.pid != owners[i].pid)
		target_fail("fd %d (%s): owner %d/%d, was %d/%d", fd, link, o.type, o.pid,
			    owners[i].type, owners[i].pid);
	sig = fcntl(fd, F_GETSIG);
	if (sig != sigs[i])
		target_fail("fd %d (%s): F_GETSIG %d, was %d", fd, link, sig, sigs[i]);
}

int main(void)
{
	const char *dir = getenv("TMPDIR");
	char path[512];
	int p[2];

	target_init();
	if (!dir)
		dir = "/tmp";
	close(open_file(dir, "plain", O_RDWR));
	snprintf(path, sizeof(path), "%s/link", dir);
	unlink(path);
	if (symlink("plain", path) < 0)
		target_fail("symlink %s: %s", path, strerror(errno));

	fds[F_PATH] = open_file(dir, "plain", O_PATH);
	fds[F_LINK] = open(path, O_PATH | O_NOFOLLOW);
	if (fds[F_LINK] < 0)
		target_fail("open %s O_PATH|O_NOFOLLOW: %s", path, strerror(errno));
	fds[F_FLAGS] = open_flagged(dir);
	fds[F_MEMFD] = memfd_create("fdflags", 0);
	if (fds[F_MEMFD] < 0 || write(fds[F_MEMFD], "memfd", 5) != 5 ||
	    fcntl(fds[F_MEMFD], F_SETFL, O_NONBLOCK | O_APPEND) < 0)
		target_fail("memfd: %s", strerror(errno));
	fds[F_OWN] = open_file(dir, "owned", O_RDWR);
	if (fcntl(fds[F_OWN], F_SETOWN, getpid()) < 0 ||
	    fcntl(fds[F_OWN], F_SETSIG, SIGRTMIN + 1) < 0)
		target_fail("F_SETOWN/F_SETSIG: %s", strerror(errno));
	fds[F_TID] = open_file(dir, "tid", O_RDONLY);
	set_owner(fds[F_TID], F_OWNER_TID, (pid_t)syscall(SYS_gettid));
	fds[F_PGRP] = open_file(dir, "pgrp", O_WRONLY);
	set_owner(fds[F_PGRP], F_OWNER_PGRP, getpgrp());
	if (pipe(p) < 0 || fcntl(p[0], F_SETOWN, getpid()) < 0 ||
	    fcntl(p[0], F_SETSIG, SIGRTMIN + 2) < 0)
		target_fail("pipe owner: %s", strerror(errno));
	fds[F_PIPE] = p[0];	/* p[1] stays open: restore wants both ends */
	for (int i = 0; i < NR; i++)
		snapshot(i, fds[i]);
	if (!(getfl[F_LINK] & O_PATH) || !S_ISLNK(sts[F_LINK].st_mode))
		target_fail("the symlink fd is not an O_PATH fd on the link");

	target_ready();
	target_wait();

	for (int i = 0; i < NR; i++)
		check(i);
	target_pass();
	return 0;
}
