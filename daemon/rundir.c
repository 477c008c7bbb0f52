/* ckptd's state under /run/ckpt: see rundir.h. */
#include "daemon/rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

int rundir_open(const char *path, bool create, int *ret_fd)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;

	if (create) {
		if (mkdir("/run", 0755) < 0 && errno != EEXIST)
			return negerrno();
		if (mkdir(RUNDIR_PARENT, 0755) < 0 && errno != EEXIST)
			return negerrno();
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return negerrno();
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return negerrno();
	if (fstat(fd, &st) < 0)
		return negerrno();
	if (st.st_uid != geteuid() || (st.st_mode & 077))
		return -EPERM;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int rundir_write(int dirfd, const char *name, const char *text, size_t len)
{
	_cleanup_close_ int fd = -EBADF;
	char tmp[256];
	int r;

	if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= sizeof(tmp))
		return -ENAMETOOLONG;
	unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return negerrno();
	r = write_full(fd, text, len);
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = negerrno();
	if (r < 0)
		unlinkat(dirfd, tmp, 0);
	return r;
}
