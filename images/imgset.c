/* Image sets as directories: see imgset.h for the commit protocol. */
#include "images/imgset.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

static bool is_img_name(const char *n)
{
	size_t l = strlen(n);

	return n[0] != '.' && l > 4 && strcmp(n + l - 4, ".img") == 0;
}

/* Call fn on every image file name in dirfd; stops at the first error. */
static int for_each_img(int dirfd, int (*fn)(int dirfd, const char *name, void *arg), void *arg)
{
	DIR *d;
	struct dirent *de;
	int fd, r = 0;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return negerrno();
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return negerrno();
	}
	while ((de = readdir(d))) {
		if (!is_img_name(de->d_name))
			continue;
		r = fn(dirfd, de->d_name, arg);
		if (r)
			break;
	}
	closedir(d);
	return r;
}

static int found(int dirfd, const char *name, void *arg)
{
	return 1;
}

int imgset_probe(int dirfd)
{
	if (faccessat(dirfd, "inventory.img", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	return for_each_img(dirfd, found, NULL);
}

/* The pid in a temporary directory's name ".ckpt-tmp-PID-X", or 0. */
static pid_t tmp_owner(const char *name)
{
	const char *p = name + strlen(IMGSET_TMP_PREFIX);
	char *end;
	long pid;

	if (strncmp(name, IMGSET_TMP_PREFIX, strlen(IMGSET_TMP_PREFIX)))
		return 0;
	pid = strtol(p, &end, 10);
	if (end == p || *end != '-' || pid <= 0 || pid > INT32_MAX)
		return 0;
	return pid;
}

/* Whether no process has that pid (one that exists under another uid
 * answers EPERM: it stays). A reused pid keeps a stale directory a while
 * longer, which only costs space. */
static bool pid_gone(pid_t pid)
{
	return kill(pid, 0) < 0 && errno == ESRCH;
}

void imgset_sweep(int dirfd)
{
	DIR *d;
	struct dirent *de;
	int fd;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		pid_t pid = tmp_owner(de->d_name);

		if (pid && pid != getpid() && pid_gone(pid))
			imgset_discard(dirfd, de->d_name);
	}
	closedir(d);
}

int imgset_begin(int dirfd, char *name, size_t len, int *ret_fd)
{
	struct timespec ts;
	int fd;

	imgset_sweep(dirfd);
	for (int tries = 0; tries < 16; tries++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		snprintf(name, len, IMGSET_TMP_PREFIX "%d-%lx", getpid(),
			 (unsigned long)(ts.tv_nsec ^ (tries * 7919)));
		if (mkdirat(dirfd, name, 0700) < 0) {
			if (errno == EEXIST)
				continue;
			return negerrno();
		}
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			int r = negerrno();
			unlinkat(dirfd, name, AT_REMOVEDIR);
			return r;
		}
		*ret_fd = fd;
		return 0;
	}
	return -EEXIST;
}

static int unlink_one(int dirfd, const char *name, void *arg)
{
	return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? negerrno() : 0;
}

struct move_arg {
	int to;
};

static int move_one(int dirfd, const char *name, void *arg)
{
	struct move_arg *m = arg;

	if (strcmp(name, "inventory.img") == 0)
		return 0;
	return renameat(dirfd, name, m->to, name) < 0 ? negerrno() : 0;
}

/* fsync a directory even when dirfd was opened O_PATH. */
static int sync_dir(int dirfd)
{
	_cleanup_close_ int fd = -EBADF;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		return negerrno();
	return 0;
}

int imgset_commit(int dirfd, const char *tmp, bool replace)
{
	_cleanup_close_ int tfd = -EBADF;
	struct move_arg m = { .to = dirfd };
	int r;

	r = imgset_probe(dirfd);
	if (r < 0)
		return r;
	if (r > 0) {
		if (!replace)
			return -EEXIST;
		/* The old set stops being a set before any of its files goes. */
		if (unlinkat(dirfd, "inventory.img", 0) < 0 && errno != ENOENT)
			return negerrno();
		r = for_each_img(dirfd, unlink_one, NULL);
		if (r < 0)
			return r;
	}
	tfd = openat(dirfd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0)
		return negerrno();
	r = for_each_img(tfd, move_one, &m);
	if (r < 0)
		return r;
	/* Every other file is in place (and its entry durable) before the
	 * inventory makes the set a set. */
	r = sync_dir(dirfd);
	if (r < 0)
		return r;
	if (renameat(tfd, "inventory.img", dirfd, "inventory.img") < 0)
		return negerrno();
	r = sync_dir(dirfd);
	imgset_discard(dirfd, tmp);
	return r;
}

void imgset_discard(int dirfd, const char *tmp)
{
	DIR *d;
	struct dirent *de;
	int fd;

	fd = openat(dirfd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		d = fdopendir(fd);
		if (d) {
			while ((de = readdir(d)))
				if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
					unlinkat(fd, de->d_name, 0);
			closedir(d);
		} else {
			close(fd);
		}
	}
	unlinkat(dirfd, tmp, AT_REMOVEDIR);
}
