/* One restore, start to end: images -> validate -> fork the tree with the
 * saved PIDs -> per task files, cwd, creds -> restorer blob -> running. */
#ifndef CKPT_RESTORE_H
#define CKPT_RESTORE_H

#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "daemon/dump.h"	/* progress_fn */
#include "daemon/kerndat.h"

struct restore_opts {
	pid_t requester;	/* the client (SO_PEERCRED) */
	uid_t requester_uid;
	gid_t requester_gid;
};

struct restore_stats {
	pid_t root_pid;
	unsigned tasks;
	uint64_t pages;
	uint64_t ms;
};

/* Restore the image set in dirfd. Returns once every task runs, detached
 * from the daemon; on failure no task of the tree is left. */
int restore_run(const struct restore_opts *opts, const struct kerndat *kd, int dirfd,
		progress_fn progress, void *opaque, struct restore_stats *stats,
		struct ckpt_err *err);

#endif
