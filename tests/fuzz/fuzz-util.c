/* The fuzz targets' shared harness: see fuzz.h. */
#include "tests/fuzz/fuzz.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"

static struct {
	char path[PATH_MAX];
	int fd;
} scratch = { .fd = -EBADF };

static void harness_fail(const char *what)
{
	fprintf(stderr, "fuzz harness: %s: %m\n", what);
	abort();
}

static void clear_at(int dirfd, int depth)
{
	DIR *d;
	struct dirent *de;
	int fd;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		harness_fail("cannot open the scratch directory");
	d = fdopendir(fd);
	if (!d)
		harness_fail("cannot read the scratch directory");
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dirfd, de->d_name, 0) == 0)
			continue;
		if ((errno == EISDIR || errno == EPERM) && depth == 0) {
			_cleanup_close_ int sub = openat(dirfd, de->d_name,
							 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0)
				clear_at(sub, 1);
			if (unlinkat(dirfd, de->d_name, AT_REMOVEDIR) == 0)
				continue;
		}
		harness_fail(de->d_name);
	}
	closedir(d);
}

static void remove_scratch(void)
{
	if (scratch.fd < 0)
		return;
	clear_at(scratch.fd, 0);
	close(scratch.fd);
	scratch.fd = -EBADF;
	rmdir(scratch.path);
}

static void make_scratch(void)
{
	const char *tmp = getenv("TMPDIR");

	if (scratch.fd >= 0)
		return;
	if (!tmp || !tmp[0])
		tmp = "/tmp";
	if ((size_t)snprintf(scratch.path, sizeof(scratch.path), "%s/ckpt-fuzz.XXXXXX", tmp) >=
	    sizeof(scratch.path))
		harness_fail("TMPDIR is too long");
	if (!mkdtemp(scratch.path))
		harness_fail("cannot create a scratch directory");
	scratch.fd = open(scratch.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (scratch.fd < 0)
		harness_fail(scratch.path);
	atexit(remove_scratch);
}

const char *fuzz_dir(void)
{
	make_scratch();
	return scratch.path;
}

int fuzz_dirfd(void)
{
	make_scratch();
	return scratch.fd;
}

void fuzz_dir_clear(void)
{
	clear_at(fuzz_dirfd(), 0);
}

void fuzz_write(const char *name, const void *data, size_t len)
{
	_cleanup_close_ int fd = -EBADF;

	fd = openat(fuzz_dirfd(), name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		    0600);
	if (fd < 0 || write_full(fd, data, len) < 0)
		harness_fail(name);
}

void fuzz_quiet(void)
{
	static bool done;
	FILE *null;

	if (done)
		return;
	null = fopen("/dev/null", "w");
	if (!null)
		harness_fail("/dev/null");
	stdout = null;
	stderr = null;
	done = true;
}

size_t fuzz_take(struct fuzz_in *in, size_t len, const uint8_t **ret)
{
	size_t n = MIN(len, in->left);

	*ret = in->p;
	in->p += n;
	in->left -= n;
	return n;
}

uint8_t fuzz_u8(struct fuzz_in *in)
{
	const uint8_t *p;

	return fuzz_take(in, 1, &p) ? p[0] : 0;
}

uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)fuzz_u8(in) << (8 * i);
	return v;
}
