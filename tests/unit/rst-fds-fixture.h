/* A restore plan built in memory for the fd checks (shared by
 * test_fd_kinds.c and test_restore_files.c): one task, pid 10, holding
 * description i (fe[i], id 100 + i, filled by the test) at fd i. The
 * includer defines NR, the most descriptions a test uses. */
#ifndef CKPT_TEST_RST_FDS_FIXTURE_H
#define CKPT_TEST_RST_FDS_FIXTURE_H

#include <string.h>

#include "daemon/restore-int.h"

static FileDescEntry fe[NR];
static struct rst_desc descs[NR];
static FdEntry fds[NR];
static FdEntry *fdp[NR];
static PstreeEntry pe;
static struct rst_task task;
static struct ckpt_err err;
static struct rst_ctx ctx;

/* The task and context for descriptions 0..n-1. */
static void plan(unsigned n)
{
	memset(&err, 0, sizeof(err));
	pstree_entry__init(&pe);
	pe.pid = 10;
	for (unsigned i = 0; i < n; i++) {
		fd_entry__init(&fds[i]);
		fds[i].fd = i;
		fds[i].desc_id = fe[i].id;
		fdp[i] = &fds[i];
		descs[i] = (struct rst_desc){ .fe = &fe[i], .fd = -1 };
	}
	task = (struct rst_task){ .pe = &pe, .fds = fdp, .nr_fds = n };
	ctx = (struct rst_ctx){ .err = &err, .tasks = &task, .nr_tasks = 1, .descs = descs,
				.nr_descs = n };
}

#endif
