/* The files part of a dump, shared by files.c (fds, descriptions, fs-PID.img,
 * files.img), ghost.c and the fd kinds of daemon/files/ (kinds.h). Nothing
 * here is used outside the dump but struct fd_parms, which a kind's match
 * and describe take. */
#ifndef CKPT_FILES_H
#define CKPT_FILES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct dump_ctx;
struct sock_table;
struct FileDescEntry;

/* One open fd of a task, as /proc tells it (nothing opened yet). */
struct fd_parms {
	pid_t pid;
	int fd;
	struct stat st;		/* stat() of /proc/PID/fd/N: the file itself */
	char *link;		/* readlink of /proc/PID/fd/N */
	uint32_t flags;		/* fdinfo "flags", O_CLOEXEC taken out */
	bool cloexec;
	uint64_t pos;		/* fdinfo "pos" */
	char *fdinfo;		/* /proc/PID/fdinfo/N as read once (NULL: not
				   read; fd_fdinfo_each reads it then) */
};

/* A file a dump saved already (ghost files), by identity. */
struct ghost_ref {
	dev_t dev;
	ino_t ino;
	uint32_t id;
	struct ghost_ref *next;
};

struct desc_ref;	/* files.c's description table */
struct pipe_ref;

struct files_ctx {
	struct desc_ref **buckets;	/* by (dev, ino): trees ordered by kcmp */
	struct desc_ref *first, *last;	/* every description, in id order */
	unsigned nr_descs;
	struct pipe_ref *pipes;		/* the data holder of each pipe */
	struct ghost_ref *ghosts;
	struct sock_table *socks;	/* sock_diag answers, built on first use */
	uint64_t socks_netns;		/* ino of the netns socks came from */
	pid_t *posix_holders;		/* pids /proc/locks shows holding a POSIX
					   lock, read on first use (files/lock.c) */
	size_t nr_posix_holders;
	bool posix_read;
};

/* The files context of a dump, created on first use. NULL: out of memory. */
struct files_ctx *files_ctx_get(struct dump_ctx *ctx);

/* Open our own description of the target's fd N through /proc/PID/fd/N.
 * Never shares an offset with the target, so reading it moves nothing; but
 * the open checks the file's permissions against the requester's fsuid. */
int fd_reopen(pid_t pid, int fd, int flags);

/* The target's own open file description of fd N of a task of the tree
 * (pidfd_getfd on its pidfd): no path walk, no permission check on the
 * file. It shares the target's offset and flags: never read(), write() or
 * lseek() it; pread, tee and ioctls that only look are fine. */
int fd_take_shared(struct dump_ctx *ctx, pid_t pid, int fd);

/* files/pipe.c: the bytes buffered in the target's pipe (or FIFO), read
 * without consuming them. *ret_data is NULL when the pipe is empty. ret_size
 * gets the pipe's capacity (F_GETPIPE_SZ). */
int pipe_peek(struct dump_ctx *ctx, const struct fd_parms *p, uint8_t **ret_data,
	      size_t *ret_len, uint32_t *ret_size);

/* files/socket.c */
void sock_table_free(struct sock_table *t);

/* ghost.c */
void ghosts_free(struct ghost_ref *g);

#endif
