/* Small helpers shared by every part of ckpt except restorer/ (which has no
 * libc): scope-bound cleanup in the manner of systemd, array sizes, and
 * conversions to -errno at the syscall. */
#ifndef CKPT_UTIL_H
#define CKPT_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hand ownership out of a cleanup-managed variable. */
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -EBADF; _fd; })
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })

/* -errno of the last failed call, never 0 (a caller must not mistake a
 * failure whose errno was lost for success). */
static inline int negerrno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* Write/read all of buf; 0 or -errno (-EIO on a short read at EOF). */
int write_full(int fd, const void *buf, size_t len);
int pwrite_full(int fd, const void *buf, size_t len, off_t off);
int read_full(int fd, void *buf, size_t len);
int pread_full(int fd, void *buf, size_t len, off_t off);

/* Read a whole small file (e.g. under /proc) into a NUL-terminated buffer. */
int read_file_at(int dirfd, const char *path, char **ret_buf, size_t *ret_len);

uint64_t now_us(void);

/* The path of what this process's fd is open on, as /proc/self/fd shows
 * it, into buf (NUL-ended); 0, or -errno with buf "". */
int fd_path(int fd, char *buf, size_t len);
/* A directory stream over a description of its own of dirfd's directory
 * (dirfd is left as it was, its offset too); NULL with errno set. */
DIR *fd_opendir(int dirfd);

/* The first n bytes of s, NUL-terminated, into ret of len bytes: 0, or
 * -ENAMETOOLONG when they don't fit. */
int str_copy_n(char *ret, size_t len, const char *s, size_t n);

/* The kernel shows an unlinked file's name with " (deleted)" appended
 * (/proc/PID/maps, fd links, exe). Whether path ends so; and cutting it
 * off in place (whether it was there). */
#define PATH_DELETED_SUFFIX " (deleted)"
bool path_is_deleted(const char *path);
bool path_strip_deleted(char *path);

#endif
