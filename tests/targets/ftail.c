/* Target: the long tail of open files (issue 14), one mode per item.
 *
 *   ghostattr	a deleted file with its owner, group, mode, atime and mtime set
 *   hardlink	a file opened through two names, one unlinked since (and a
 *		third fd on the unlinked name only): one inode after restore
 *   delfifo	a FIFO held open (with bytes in it), its name removed
 *   deldir	a directory held open, removed
 *   epoll	an epoll watching a pipe through an fd closed since (a dup
 *		keeps the pipe) and reused by /dev/null: the watch, under
 *		the same number, must still fire
 *   procfd	an fd on /proc/CHILD of a child in the tree, and on /proc/self
 *   procout	an fd on /proc/PPID, outside the tree (refused)
 *   sharedfiles	a child made by clone(CLONE_FILES) without CLONE_VM
 *   aio	an io_setup ring (refused)
 *
 * Files go in the status file's directory (target_dir()). */

#include <dirent.h>
#include <linux/aio_abi.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "target.h"

static const char text[] = "long tail bytes";
static char path_a[4096], path_b[4096];
static int fds[4];
static pid_t kid = -1;
static ino_t want_ino;

#define T_UID	1234
#define T_GID	2345
#define T_ATIME	1000000007
#define T_MTIME	1200000011

static void ghostattr_setup(void)
{
	struct timespec ts[2] = { { T_ATIME, 123 }, { T_MTIME, 456789 } };

	fds[0] = open(path_a, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fds[0] < 0 || write(fds[0], text, sizeof(text)) != sizeof(text))
		target_fail("create %s", path_a);
	if (fchown(fds[0], T_UID, T_GID) < 0 || fchmod(fds[0], 0640) < 0 ||
	    futimens(fds[0], ts) < 0 || unlink(path_a) < 0)
		target_fail("set the attributes of %s", path_a);
}

static void ghostattr_verify(void)
{
	struct stat st;
	char buf[sizeof(text)];

	if (fstat(fds[0], &st) < 0)
		target_fail("fstat");
	if ((st.st_mode & 07777) != 0640)
		target_fail("deleted file: mode %o, want 640", st.st_mode & 07777);
	if (st.st_uid != T_UID || st.st_gid != T_GID)
		target_fail("deleted file: owner %u:%u, want %u:%u", st.st_uid, st.st_gid,
			    T_UID, T_GID);
	if (st.st_mtim.tv_sec != T_MTIME || st.st_mtim.tv_nsec != 456789)
		target_fail("deleted file: mtime %lld.%09ld, want %d.000456789",
			    (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, T_MTIME);
	if (st.st_atim.tv_sec != T_ATIME || st.st_atim.tv_nsec != 123)
		target_fail("deleted file: atime %lld.%09ld, want %d.000000123",
			    (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec, T_ATIME);
	if (pread(fds[0], buf, sizeof(buf), 0) != sizeof(buf) || memcmp(buf, text, sizeof(buf)))
		target_fail("deleted file: contents changed");
}

static void hardlink_setup(void)
{
	struct stat st;

	fds[0] = open(path_a, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fds[0] < 0 || write(fds[0], text, sizeof(text)) != sizeof(text) ||
	    link(path_a, path_b) < 0)
		target_fail("create %s and its link", path_a);
	fds[1] = open(path_b, O_RDONLY);
	fds[2] = open(path_a, O_RDONLY);
	if (fds[1] < 0 || fds[2] < 0 || unlink(path_a) < 0 || fstat(fds[1], &st) < 0)
		target_fail("open %s, unlink %s", path_b, path_a);
	want_ino = st.st_ino;
}

static void hardlink_verify(void)
{
	struct stat s0, s1, s2, sb;
	char buf[sizeof(text) + 4] = "";

	if (fstat(fds[0], &s0) < 0 || fstat(fds[1], &s1) < 0 || fstat(fds[2], &s2) < 0 ||
	    stat(path_b, &sb) < 0)
		target_fail("fstat");
	if (s0.st_ino != s1.st_ino || s2.st_ino != s1.st_ino || sb.st_ino != s1.st_ino ||
	    s0.st_dev != s1.st_dev)
		target_fail("hard link: inodes %lu %lu %lu, %s %lu: not one file",
			    (unsigned long)s0.st_ino, (unsigned long)s1.st_ino,
			    (unsigned long)s2.st_ino, path_b, (unsigned long)sb.st_ino);
	if (s1.st_nlink != 1)
		target_fail("hard link: nlink %lu, want 1", (unsigned long)s1.st_nlink);
	/* a write through the unlinked name shows through the other */
	if (pwrite(fds[0], "X", 1, 0) != 1 || pread(fds[1], buf, 1, 0) != 1 || buf[0] != 'X')
		target_fail("hard link: a write through one fd is not seen through the other");
	if (lseek(fds[0], 0, SEEK_CUR) != sizeof(text))
		target_fail("hard link: offset moved");
	unlink(path_b);
}

static void delfifo_setup(void)
{
	if (mkfifo(path_a, 0640) < 0)
		target_fail("mkfifo %s", path_a);
	fds[0] = open(path_a, O_RDWR | O_NONBLOCK);
	if (fds[0] < 0 || write(fds[0], text, sizeof(text)) != sizeof(text) || unlink(path_a) < 0)
		target_fail("fill and unlink %s", path_a);
}

static void delfifo_verify(void)
{
	char buf[64];
	struct stat st;

	if (fstat(fds[0], &st) < 0 || !S_ISFIFO(st.st_mode))
		target_fail("deleted fifo: not a fifo");
	if (read(fds[0], buf, sizeof(buf)) != sizeof(text) || memcmp(buf, text, sizeof(text)))
		target_fail("deleted fifo: its bytes are gone");
	if (access(path_a, F_OK) == 0)
		target_fail("deleted fifo: %s exists again", path_a);
}

static void deldir_setup(void)
{
	if (mkdir(path_a, 0710) < 0)
		target_fail("mkdir %s", path_a);
	fds[0] = open(path_a, O_RDONLY | O_DIRECTORY);
	if (fds[0] < 0 || rmdir(path_a) < 0)
		target_fail("open and rmdir %s", path_a);
}

static void deldir_verify(void)
{
	struct stat st;

	if (fstat(fds[0], &st) < 0 || !S_ISDIR(st.st_mode))
		target_fail("deleted dir: not a directory");
	if ((st.st_mode & 07777) != 0710)
		target_fail("deleted dir: mode %o, want 710", st.st_mode & 07777);
	if (st.st_nlink != 0)
		target_fail("deleted dir: nlink %lu, want 0", (unsigned long)st.st_nlink);
	if (access(path_a, F_OK) == 0)
		target_fail("deleted dir: %s exists again", path_a);
	if (openat(fds[0], "x", O_CREAT | O_WRONLY, 0600) >= 0 || errno != ENOENT)
		target_fail("deleted dir: a file could be created in it");
}

static void epoll_setup(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1234567890ull };
	int p[2];

	if (pipe(p) < 0)
		target_fail("pipe");
	fds[0] = epoll_create1(0);
	fds[1] = dup(p[0]);	/* keeps the pipe alive */
	fds[2] = p[1];
	if (fds[0] < 0 || epoll_ctl(fds[0], EPOLL_CTL_ADD, p[0], &ev) < 0)
		target_fail("epoll_ctl");
	close(p[0]);
	fds[3] = open("/dev/null", O_RDONLY);	/* takes the closed number */
	if (fds[3] != p[0])
		target_fail("/dev/null is fd %d, not the closed %d", fds[3], p[0]);
}

static void epoll_verify(void)
{
	struct epoll_event ev;
	int n;

	char info[4096] = "", want[64];
	struct stat st;
	int fd;

	/* the watch is under the closed number, which names /dev/null again */
	snprintf(info, sizeof(info), "/proc/self/fdinfo/%d", fds[0]);
	fd = open(info, O_RDONLY);
	memset(info, 0, sizeof(info));
	if (fd < 0 || read(fd, info, sizeof(info) - 1) <= 0)
		target_fail("read the epoll's fdinfo");
	close(fd);
	snprintf(want, sizeof(want), "tfd: %8d events:", fds[3]);
	if (!strstr(info, want))
		target_fail("epoll: no watch under fd %d: %s", fds[3], info);
	if (fstat(fds[3], &st) < 0 || !S_ISCHR(st.st_mode))
		target_fail("fd %d is not /dev/null any more", fds[3]);
	if (epoll_wait(fds[0], &ev, 1, 0) != 0)
		target_fail("epoll: an event before the pipe has data");
	if (write(fds[2], "x", 1) != 1)
		target_fail("write the pipe");
	n = epoll_wait(fds[0], &ev, 1, 1000);
	if (n != 1 || ev.data.u64 != 0x1234567890ull || !(ev.events & EPOLLIN))
		target_fail("epoll: the watch of the closed fd did not fire (%d)", n);
}

static void child_sleep(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;)
		pause();
}

static void procfd_setup(bool outside)
{
	char p[64];

	if (!outside) {
		kid = fork();
		if (kid < 0)
			target_fail("fork");
		if (kid == 0)
			child_sleep();
	}
	snprintf(p, sizeof(p), "/proc/%d", outside ? getppid() : kid);
	fds[0] = open(p, O_RDONLY | O_DIRECTORY);
	fds[1] = open("/proc/self/status", O_RDONLY);
	if (fds[0] < 0 || fds[1] < 0)
		target_fail("open %s", p);
}

/* The pid in "stat" under dirfd. */
static long stat_pid(int dirfd)
{
	char buf[64] = "";
	int fd = openat(dirfd, "stat", O_RDONLY);
	long pid = -1;

	if (fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0)
		pid = strtol(buf, NULL, 10);
	if (fd >= 0)
		close(fd);
	return pid;
}

static void procfd_verify(void)
{
	char buf[4096] = "", want[64];

	if (stat_pid(fds[0]) != kid)
		target_fail("/proc/%d fd names pid %ld", kid, stat_pid(fds[0]));
	if (kill(kid, 0) < 0)
		target_fail("child %d is gone", kid);
	if (pread(fds[1], buf, sizeof(buf) - 1, 0) <= 0)
		target_fail("read /proc/self/status");
	snprintf(want, sizeof(want), "\nPid:\t%d\n", getpid());
	if (!strstr(buf, want))
		target_fail("/proc/self/status fd is not this process's");
}

static int files_child(void *arg)
{
	(void)arg;
	child_sleep();
	return 0;
}

static void sharedfiles_setup(void)
{
	static char stack[64 << 10];

	kid = clone(files_child, stack + sizeof(stack), CLONE_FILES | SIGCHLD, NULL);
	if (kid < 0)
		target_fail("clone(CLONE_FILES)");
}

static void sharedfiles_verify(void)
{
	long r = syscall(SYS_kcmp, getpid(), kid, KCMP_FILES, 0, 0);

	if (r != 0)
		target_fail("fd table of %d is not shared with %d any more (kcmp %ld)", kid,
			    getpid(), r);
}

static void aio_setup(void)
{
	aio_context_t ctx = 0;

	if (syscall(SYS_io_setup, 64, &ctx) < 0)
		target_fail("io_setup");
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	target_init();
	snprintf(path_a, sizeof(path_a), "%s/ftail-a", target_dir());
	snprintf(path_b, sizeof(path_b), "%s/ftail-b", target_dir());
	if (strcmp(mode, "ghostattr") == 0)
		ghostattr_setup();
	else if (strcmp(mode, "hardlink") == 0)
		hardlink_setup();
	else if (strcmp(mode, "delfifo") == 0)
		delfifo_setup();
	else if (strcmp(mode, "deldir") == 0)
		deldir_setup();
	else if (strcmp(mode, "epoll") == 0)
		epoll_setup();
	else if (strcmp(mode, "procfd") == 0 || strcmp(mode, "procout") == 0)
		procfd_setup(strcmp(mode, "procout") == 0);
	else if (strcmp(mode, "sharedfiles") == 0)
		sharedfiles_setup();
	else if (strcmp(mode, "aio") == 0)
		aio_setup();
	else
		target_fail("unknown mode '%s'", mode);
	target_ready();
	target_wait();
	if (strcmp(mode, "ghostattr") == 0)
		ghostattr_verify();
	else if (strcmp(mode, "hardlink") == 0)
		hardlink_verify();
	else if (strcmp(mode, "delfifo") == 0)
		delfifo_verify();
	else if (strcmp(mode, "deldir") == 0)
		deldir_verify();
	else if (strcmp(mode, "epoll") == 0)
		epoll_verify();
	else if (strcmp(mode, "procfd") == 0)
		procfd_verify();
	else if (strcmp(mode, "sharedfiles") == 0)
		sharedfiles_verify();
	if (kid > 0) {
		kill(kid, SIGKILL);
		waitpid(kid, NULL, 0);
	}
	target_pass();
}
