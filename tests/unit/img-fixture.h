/* Shared by the image unit tests: a temporary directory under /tmp per test,
 * ways to damage a file in place, a way to craft a record file byte by byte,
 * and a JSON check through python3. Header-only, since every test file
 * is a program of its own. */
#ifndef CKPT_TEST_IMG_FIXTURE_H
#define CKPT_TEST_IMG_FIXTURE_H

#include <criterion/criterion.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xxhash.h>

#include "common/util.h"
#include "images/img.h"

static char fx_dir[64];
static int fx_dirfd = -1;

static inline void fx_setup(void)
{
	strcpy(fx_dir, "/tmp/ckpt-unit-XXXXXX");
	cr_assert_not_null(mkdtemp(fx_dir));
	fx_dirfd = open(fx_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(fx_dirfd, 0);
}

static inline int fx_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static inline void fx_teardown(void)
{
	if (fx_dirfd >= 0)
		close(fx_dirfd);
	fx_dirfd = -1;
	if (fx_dir[0])
		nftw(fx_dir, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static inline off_t fx_size(const char *name)
{
	struct stat st;

	cr_assert_eq(fstatat(fx_dirfd, name, &st, 0), 0, "stat %s", name);
	return st.st_size;
}

static inline void fx_truncate(const char *name, off_t len)
{
	int fd = openat(fx_dirfd, name, O_WRONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, len), 0);
	close(fd);
}

static inline void fx_pwrite(const char *name, off_t off, const void *p, size_t len)
{
	int fd = openat(fx_dirfd, name, O_WRONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, p, len, off), (ssize_t)len);
	close(fd);
}

static inline void fx_put32(const char *name, off_t off, uint32_t v)
{
	uint32_t le = htole32(v);

	fx_pwrite(name, off, &le, sizeof(le));
}

static inline void fx_flip(const char *name, off_t off, uint8_t mask)
{
	int fd = openat(fx_dirfd, name, O_RDWR | O_CLOEXEC);
	uint8_t b;

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &b, 1, off), 1);
	b ^= mask;
	cr_assert_eq(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

static inline void fx_append(const char *name, const void *p, size_t len)
{
	fx_pwrite(name, fx_size(name), p, len);
}

/* A record file written by hand: the header, each payload with a correct
 * length and checksum, then an end marker counting `count` records. */
static inline void fx_craft(const char *name, uint32_t kind_magic, const void *const *payloads,
		     const uint32_t *lens, unsigned n, uint32_t count)
{
	FILE *f;
	uint32_t w[4] = { htole32(IMG_SET_MAGIC), htole32(kind_magic),
			  htole32(IMG_FORMAT_VERSION), 0 };
	int fd = openat(fx_dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	fwrite(w, 4, 4, f);
	for (unsigned i = 0; i < n; i++) {
		w[0] = htole32(lens[i]);
		w[1] = htole32(XXH32(payloads[i], lens[i], 0));
		fwrite(w, 4, 2, f);
		fwrite(payloads[i], 1, lens[i], f);
	}
	w[0] = htole32(IMG_EOF_MARK);
	w[1] = htole32(count);
	fwrite(w, 4, 2, f);
	cr_assert_eq(fclose(f), 0);
}

/* Write msgs as the records of (kind, id). */
static inline void fx_write(enum img_kind kind, unsigned id, const ProtobufCMessage *const *msgs,
		     unsigned n)
{
	struct img *img;

	cr_assert_eq(img_create(fx_dirfd, kind, id, &img), 0);
	for (unsigned i = 0; i < n; i++)
		cr_assert_eq(img_write_msg(img, msgs[i]), 0, "%s", img_errmsg(img));
	cr_assert_eq(img_close(img), 0);
}

/* Read every record of (kind, id); the first failure's code, its message
 * into msg (if given), the number of records read into *nr (if given). */
static inline int fx_read_all(enum img_kind kind, unsigned id, char *msg, size_t len, unsigned *nr)
{
	struct img *img = NULL;
	ProtobufCMessage *m;
	unsigned n = 0;
	int r;

	r = img_open(fx_dirfd, kind, id, &img);
	while (r == 0) {
		r = img_read_next(img, &m);
		if (r < 0 || !m)
			break;
		protobuf_c_message_free_unpacked(m, NULL);
		n++;
	}
	if (msg)
		snprintf(msg, len, "%s", img_errmsg(img));
	if (nr)
		*nr = n;
	img_abort(img);
	return r;
}

/* Run python3 on a JSON file: it must parse, and `check` (a Python
 * expression over the parsed value d) must hold. */
static inline bool fx_json_ok(const char *path, const char *check)
{
	char prog[2048];
	pid_t pid;
	int st;

	snprintf(prog, sizeof(prog),
		 "import json,sys\nd=json.load(open(sys.argv[1], encoding='utf-8'))\n"
		 "sys.exit(0 if (%s) else 3)\n", check ? check : "True");
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		execlp("python3", "python3", "-c", prog, path, (char *)NULL);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

#endif
