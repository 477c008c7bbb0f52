/* A chroot'd process with its cwd inside (issue 14): it chroots itself
 * into DIR (argv[1], which holds its status file, so the harness still
 * reads it), goes to /sub, and holds /sub/file open. After SIGUSR1 it
 * checks that "/" is still DIR (same device and inode as before the
 * chroot), that its cwd is /sub (getcwd and ".": the same inode), that
 * a path resolves inside the chroot (/sub/file opens, and reads what the
 * fd reads), that ".." at the root stays there, and the fd's offset. */
#include <limits.h>
#include <sys/stat.h>

#include "target.h"

static int same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int main(int argc, char **argv)
{
	struct stat root_before, sub_before, st;
	const char *status = getenv("CKPT_STATUS");
	size_t dl;
	char buf[64], cwd[PATH_MAX];
	ssize_t n;
	int fd, fd2;

	if (argc < 2 || !status)
		return 2;
	dl = strlen(argv[1]);
	if (strncmp(status, argv[1], dl) != 0 || status[dl] != '/')
		return 3;	/* the status file must lie inside DIR */
	target_init();
	if (stat(argv[1], &root_before) < 0 || chdir(argv[1]) < 0 || stat("sub", &sub_before) < 0)
		return 4;
	if (chroot(".") < 0 || chdir("/sub") < 0)
		return 5;
	setenv("CKPT_STATUS", status + dl, 1);
	fd = open("/sub/file", O_RDONLY);
	if (fd < 0 || read(fd, buf, 3) != 3)
		return 6;
	target_ready();
	target_wait();

	if (stat("/", &st) < 0 || !same(&st, &root_before))
		target_fail("/ is not the chroot directory after restore");
	if (stat("/..", &st) < 0 || !same(&st, &root_before))
		target_fail("/.. leads out of the chroot");
	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, "/sub") != 0)
		target_fail("cwd is '%s', not /sub", getcwd(cwd, sizeof(cwd)) ? cwd : "?");
	if (stat(".", &st) < 0 || !same(&st, &sub_before))
		target_fail("cwd is not the directory sub of the chroot");
	fd2 = open("/sub/file", O_RDONLY);
	if (fd2 < 0)
		target_fail("/sub/file does not open inside the chroot: %s", strerror(errno));
	n = pread(fd2, cwd, sizeof(cwd), 3);
	if (lseek(fd, 0, SEEK_CUR) != 3)
		target_fail("the fd's offset is not 3");
	if (read(fd, buf, sizeof(buf)) != n || memcmp(buf, cwd, n) != 0)
		target_fail("the fd and the path read different files");
	target_pass();
	return 0;
}
