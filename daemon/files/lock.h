/* File locks held by the tree (lock.c): flock and OFD locks and leases,
 * which belong to an open file description, and POSIX locks, which belong
 * to the process that took them. */
#ifndef CKPT_FILES_LOCK_H
#define CKPT_FILES_LOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "files.pb-c.h"

struct dump_ctx;
struct fd_parms;
struct rst_ctx;
struct rst_task;

/* One "lock:" line of /proc/PID/fdinfo/N (or a line of /proc/locks
 * without the prefix). */
struct fd_lock {
	FileLockKind kind;
	bool write;
	bool mandatory;
	bool breaking;		/* a lease being broken */
	uint64_t start;
	uint64_t len;		/* 0: up to EOF */
	pid_t pid;		/* as the kernel shows it (-1 for OFD locks) */
	unsigned dev_major, dev_minor;
	uint64_t ino;
};

/* l, a line of fdinfo: 1 and *ret when it is a "lock:" line, 0 when it is
 * another line, -EBADMSG when it is a lock line this parser can't read,
 * -EOPNOTSUPP when it is a lock of a kind ckpt can't save (a delegation,
 * a transient ACCESS lock). */
int fd_lock_parse(const char *l, struct fd_lock *ret);
/* The same for a line of /proc/locks ("1: POSIX  ADVISORY ..."); waiters
 * ("1: -> POSIX ...") are -EOPNOTSUPP. */
int fd_lock_parse_entry(const char *l, struct fd_lock *ret);
/* "POSIX write lock 0-99", "flock read lock", "read lease". */
void fd_lock_name(const FileLockEntry *lk, char *buf, size_t len);

/* Dump: the flock and OFD locks and the lease of the description of p
 * into e->locks; the POSIX locks of task pid into fs->posix_locks. */
int fd_lock_describe(struct dump_ctx *ctx, const struct fd_parms *p, FileDescEntry *e);
int fd_lock_dump_posix(struct dump_ctx *ctx, pid_t pid, FsEntry *fs);
void fd_lock_free_posix(FsEntry *fs);

/* Restore: the locks of t's descriptions and its POSIX locks can be taken
 * again (run when t's fds are checked, before anything is created). */
int fd_lock_check_task(struct rst_ctx *ctx, struct rst_task *t);
/* Intermediate process: take the locks of fe on fd, its new description,
 * never blocking. */
int fd_lock_take_desc(struct rst_ctx *ctx, const FileDescEntry *fe, int fd);
/* In task t, its fds in place and every other fd closed: its POSIX locks. */
int fd_lock_take_posix(struct rst_ctx *ctx, struct rst_task *t);

#endif
