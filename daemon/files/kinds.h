/* The kinds of open files ckpt knows, one file each under daemon/files/,
 * each with one ops table holding both halves of its resource: how a dump
 * describes it into files.img, how a restore checks and recreates it.
 * kinds.c holds the table (FD_KINDS); a new kind is one new file and one
 * line there.
 *
 * Dump: the first kind (table order) whose match() takes the fd describes
 * it. Restore: a description goes to the kind of its type (and, for
 * FD_ANON, of its anon_name); a kind that cannot restore it (no open, or
 * restorable() says no) is refused when the images are checked. */
#ifndef CKPT_FILES_KINDS_H
#define CKPT_FILES_KINDS_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "daemon/files.h"
#include "files.pb-c.h"

struct dump_ctx;
struct rst_ctx;
struct rst_task;

/* State of one rst_open_descs pass (intermediate process): the pipes
 * made so far, so both ends of one pipe come from one pipe2(); the unix
 * sockets made ahead of their description (a peer, a pending client). */
struct pipe_slot;
struct unix_slot;
struct pty_slot;
struct fd_open_state {
	struct pipe_slot *pipes;
	unsigned nr_pipes;
	struct unix_slot *unix_socks;
	unsigned nr_unix_socks;
	struct pty_slot *ptys;		/* tty.c: the new pty pairs */
	unsigned nr_ptys;
};

/* What a restore calls the anon-inode files it can't bring back. */
#define FD_ANON_REFUSED \
	"anonymous-inode files other than eventfd, epoll, signalfd, timerfd, inotify and pidfd"

struct fd_kind_ops {
	FdType type;
	const char *anon_name;	/* FD_ANON: the link /proc shows; NULL: any */
	const char *name;	/* in "pid P fd N: <name> can't be restored yet" */
	mode_t mode;		/* the file type the kind implies (0: none) */
	bool by_path;		/* restore opens its file by path (absolute) */

	/* dump: does fd p belong to this kind; fill e (type and flags set) */
	bool (*match)(const struct fd_parms *p);
	int (*describe)(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e);

	/* restore. A kind with no open can't come back; restorable (NULL:
	 * always) says whether a description holds what open needs. check: the description's fields,
	 * for fd f of t. check_task: once every fd of t passed check. open:
	 * a new description, reported on failure. post_open: in task t, its
	 * fds in place. */
	bool (*restorable)(const FileDescEntry *fe);
	int (*check)(struct rst_ctx *ctx, const FileDescEntry *fe);
	int (*check_task)(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
			  const FileDescEntry *fe);
	int (*open)(struct rst_ctx *ctx, FileDescEntry *fe, struct fd_open_state *st);
	int (*post_open)(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
			 const FileDescEntry *fe);
};

/* kinds.c */
const struct fd_kind_ops *fd_kind_of_fd(const struct fd_parms *p);
/* NULL: a type files.img may not hold (checked at load). */
const struct fd_kind_ops *fd_kind_of_desc(const FileDescEntry *fe);
bool fd_kind_restorable(const struct fd_kind_ops *k, const FileDescEntry *fe);
/* "can't be restored yet", naming pid, fd and the kind. */
int fd_kind_refuse(struct rst_ctx *ctx, const struct rst_task *t, const FdEntry *f,
		   const FileDescEntry *fe, const struct fd_kind_ops *k);
bool fd_str_starts(const char *s, const char *prefix);
bool fd_is_anon(const struct fd_parms *p, const char *name);
/* p's /proc/PID/fdinfo/N in *text: p->fdinfo, as the dump read it once,
 * else read now into *buf (the caller frees it). A read failure is
 * reported. */
int fd_fdinfo_text(struct dump_ctx *ctx, const struct fd_parms *p, const char **text,
		   char **buf);
/* Call fn on every line of /proc/PID/fdinfo/N: p->fdinfo, as the dump
 * read it once, else read now (the caller's failure is reported by fn; a
 * read failure here). */
int fd_fdinfo_each(struct dump_ctx *ctx, const struct fd_parms *p,
		   int (*fn)(const struct fd_parms *p, FileDescEntry *e, const char *l),
		   FileDescEntry *e);
/* The fdinfo of p lacks the state of its kind. */
int fd_fdinfo_lacks(struct dump_ctx *ctx, const struct fd_parms *p);
/* anon.c: record an anon-inode file by its name (e->anon_name). */
int fd_anon_describe(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e);

/* Flags open() may take again; O_CREAT and friends were for the first open. */
#define FD_REOPEN_MASK (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_SYNC | \
			O_DSYNC | O_LARGEFILE)
/* A new description of the file of our fd with other flags (kinds.c). */
int fd_reopen_self(int fd, int flags);
/* Flags F_SETFL sets, which a description opened by path gets if its open
 * did not give it them (a memfd shared with its ghost, O_ASYNC). */
#define FD_SETFL_MASK (O_APPEND | O_ASYNC | O_DIRECT | O_NOATIME | O_NONBLOCK)
/* Give fd the F_SETFL flags of flags (kinds.c). */
int fd_restore_fl(int fd, uint32_t flags);

/* fown.c: the owner (F_GETOWN_EX) and signal (F_GETSIG) of a description
 * of any kind (files.c); an owner outside the tree is refused. Restore:
 * checked with files.img, set in task t once its fds are in place. */
int fd_fown_describe(struct dump_ctx *ctx, const struct fd_parms *p, FileDescEntry *e);
int fd_fown_check(struct rst_ctx *ctx, const FileDescEntry *fe);
int fd_fown_restore(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
		    const FileDescEntry *fe);

/* regfile.c: the file's identity (path, dev, ino, size, mtime, mode) */
int fd_set_identity(FileDescEntry *e, const struct stat *st, const char *path);
/* Whether the file was unlinked (" (deleted)" cut off p->link). */
bool fd_strip_deleted(char *path, const struct stat *st);
/* Restore: a description opened by path names its file (and a ghost if
 * the file was deleted). */
int fd_check_file(struct rst_ctx *ctx, const FileDescEntry *fe);
/* regfile.c: refuse what a by-path kind can't reopen (a file unlinked once
 * with other hard links, /proc/PID entries), naming pid and fd. */
int fd_check_path(struct rst_ctx *ctx, struct rst_task *t, const FdEntry *f,
		  const FileDescEntry *fe);
/* regfile.c: a deleted directory or FIFO made again at its path, opened
 * with flags and removed, as the requester; the fd or a reported -errno. */
int fd_deleted_node(struct rst_ctx *ctx, const FileDescEntry *fe, const char *path,
		    int flags);
/* regfile.c: an entry of /proc/PID of a task of the tree, reopened by
 * its holders once every task exists (not checked on disk before). */
bool fd_proc_deferred(struct rst_ctx *ctx, const FileDescEntry *fe);

/* pipe.c: close the pipes an open pass made. */
void fd_open_state_release(struct fd_open_state *st);
/* tty.c: close the pty masters an open pass kept. */
void fd_pty_release(struct fd_open_state *st);

#endif
