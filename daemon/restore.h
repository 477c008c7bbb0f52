/* One restore, start to end: images -> validate -> fork the tree with the
 * saved PIDs -> per task files, cwd, creds -> restorer blob -> running. */
#ifndef CKPT_RESTORE_H
#define CKPT_RESTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "daemon/kerndat.h"
#include "daemon/progress.h"

/* How closely the files an image refers to must match it (ckptctl restore
 * --file-validation; Documentation/restore.md has the table). */
enum restore_file_validation {
	/* the executable and mapped files unchanged (device, inode, size,
	 * mtime); an open file the same one, which may have grown, with its
	 * saved offset still inside it */
	RESTORE_FV_DEFAULT = 0,
	/* every file unchanged: device, inode, size, mtime */
	RESTORE_FV_STRICT,
	/* a file of the same type at the same path will do (a copy on another
	 * host); mapped files keep their size, offsets stay inside */
	RESTORE_FV_PATH,
};

/* Where each task goes (ckptctl restore --cgroup, restore-cgroup.c). */
enum restore_cgroup_mode {
	RESTORE_CG_DUMPED,	/* its dumped cgroups where they exist here */
	RESTORE_CG_REQUESTER,	/* where a program the requester runs goes */
};

struct restore_opts {
	pid_t requester;	/* the client (SO_PEERCRED) */
	uid_t requester_uid;
	gid_t requester_gid;
	enum restore_file_validation file_validation;
	const int *parent_fds;	/* the set's chain, nearest parent first,
				   opened by the client */
	unsigned nr_parents;
	bool lazy;		/* ckptctl restore --lazy */
	bool tcp_established;	/* --tcp-established (files/socket-tcp.h) */
	bool ext_unix_sk;	/* --ext-unix-sk (files/socket-unix-ext.h) */
	bool shell_job;		/* --shell-job (files/tty.c): the outside terminal */
	int tty_fd;		/*   is this one (-1 when only validating a dump) */
	bool postcopy;		/* with lazy: the final round of a post-copy
				   migration, its pages files fed through
				   feed_fd (common/lazy-feed.h) */
	int feed_fd;
	enum restore_cgroup_mode cgroup;
};

/* "default", "strict", "path" -> *ret; -EINVAL for any other name. */
int restore_file_validation_parse(const char *name, enum restore_file_validation *ret);
const char *restore_file_validation_name(enum restore_file_validation fv);
/* "dumped", "requester" -> *ret; -EINVAL for any other name. */
int restore_cgroup_mode_parse(const char *name, enum restore_cgroup_mode *ret);

struct restore_stats {
	pid_t root_pid;
	unsigned tasks;
	uint64_t pages;
	uint64_t ms;
	/* where the tree runs: "scope ckpt-restore-N.scope ...", "cgroup
	 * 0::/PATH (the requester's)" or "ckptd's cgroup (why)", and which
	 * task did not go back to which dumped cgroup, and why */
	char cgroup[2048];
	pid_t lazy_server;	/* restore --lazy: the process serving its pages (0: none) */
	uint64_t lazy_pages;	/* pages it serves */
};

/* Check the image set in dirfd as restore_run would before it creates
 * anything, but for the pids being free; nothing is created. */
int restore_validate(const struct restore_opts *opts, const struct kerndat *kd, int dirfd,
		     struct ckpt_err *err);

/* Restore the image set in dirfd. Returns once every task runs, detached
 * from the daemon; on failure no task of the tree is left. */
int restore_run(const struct restore_opts *opts, const struct kerndat *kd, int dirfd,
		progress_fn progress, void *opaque, struct restore_stats *stats,
		struct ckpt_err *err);

#endif
