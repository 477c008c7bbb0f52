/* images/img.c: an image is opened only if it is a regular file: a FIFO is
 * refused without blocking, a symlink is not followed. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/img.h"

static int tmpdir(char *path)
{
	strcpy(path, "/tmp/ckpt-img-open.XXXXXX");
	cr_assert_not_null(mkdtemp(path));
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void cleanup(int dirfd, const char *path, const char *name)
{
	unlinkat(dirfd, name, 0);
	close(dirfd);
	rmdir(path);
}

Test(img_open, fifo_refused_at_once)
{
	char path[64], msg[256];
	int dirfd = tmpdir(path);
	struct img *img = NULL;

	cr_assert_eq(mkfifoat(dirfd, "inventory.img", 0600), 0);
	alarm(10);	/* a blocking open fails the test */
	cr_assert_eq(img_open(dirfd, IMG_INVENTORY, 0, &img), -EINVAL);
	cr_assert(strstr(img_errmsg(img), "inventory.img: is a FIFO"), "%s", img_errmsg(img));
	img_abort(img);
	cr_assert_eq(img_open_any(dirfd, "inventory.img", &img, msg, sizeof(msg)), -EINVAL);
	cr_assert(strstr(msg, "is a FIFO"), "%s", msg);
	alarm(0);
	cleanup(dirfd, path, "inventory.img");
}

Test(img_open, symlink_not_followed)
{
	char path[64];
	int dirfd = tmpdir(path);
	struct img *img = NULL;

	cr_assert_eq(symlinkat("/etc/passwd", dirfd, "inventory.img"), 0);
	cr_assert_eq(img_open(dirfd, IMG_INVENTORY, 0, &img), -ELOOP);
	cr_assert(strstr(img_errmsg(img), "is a symbolic link"), "%s", img_errmsg(img));
	img_abort(img);
	cleanup(dirfd, path, "inventory.img");
}

Test(img_open, regular_file_blocks_as_usual)
{
	char path[64];
	const char *why = NULL;
	int dirfd = tmpdir(path), fd, fl;

	fd = openat(dirfd, "x.img", O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(img_open_regular(dirfd, "x.img", &fd, &why), 0);
	fl = fcntl(fd, F_GETFL);
	cr_assert_eq(fl & O_NONBLOCK, 0);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	cr_assert_eq(mkdirat(dirfd, "d.img", 0700), 0);
	cr_assert_lt(img_open_regular(dirfd, "d.img", &fd, &why), 0);
	cr_assert_eq(fd, -EBADF);
	unlinkat(dirfd, "d.img", AT_REMOVEDIR);
	cleanup(dirfd, path, "x.img");
}
