/* Restore's checks on file descriptions as a whole (daemon/restore-files.c):
 * a pipe must come back with both its ends, on a plan built in memory. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "daemon/restore-int.h"

#define NR 4

static FileDescEntry fe[NR];
static struct rst_desc descs[NR];
static FdEntry fds[NR];
static FdEntry *fdp[NR];
static PstreeEntry pe;
static struct rst_task task;
static struct ckpt_err err;
static struct rst_ctx ctx;

/* One task, pid 10, holding description i at fd i for each of n. */
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

static void desc(unsigned i, FdType type, uint64_t ino, int flags)
{
	file_desc_entry__init(&fe[i]);
	fe[i].id = 100 + i;
	fe[i].type = type;
	fe[i].flags = flags;
	if (type == FD_TYPE__FD_PIPE) {
		fe[i].has_pipe_ino = true;
		fe[i].pipe_ino = ino;
	}
}

Test(restore_files, pipe_with_both_ends)
{
	desc(0, FD_TYPE__FD_PIPE, 77, O_WRONLY);
	desc(1, FD_TYPE__FD_REG, 0, O_RDONLY);
	desc(2, FD_TYPE__FD_PIPE, 77, O_RDONLY);
	plan(3);
	cr_assert_eq(rst_check_pipes(&ctx), 0, "%s", err.msg);
}

Test(restore_files, pipe_whose_reader_stayed_outside)
{
	desc(0, FD_TYPE__FD_PIPE, 77, O_RDONLY);
	desc(1, FD_TYPE__FD_PIPE, 77, O_WRONLY);
	desc(2, FD_TYPE__FD_PIPE, 78, O_WRONLY | O_NONBLOCK);
	plan(3);
	cr_assert_eq(rst_check_pipes(&ctx), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 2: the read end of pipe:[78] is held only outside"),
		  "%s", err.msg);
	cr_assert(strstr(err.msg, "SIGPIPE"), "%s", err.msg);
}

Test(restore_files, pipe_whose_writer_stayed_outside)
{
	desc(0, FD_TYPE__FD_PIPE, 5, O_RDONLY);
	desc(1, FD_TYPE__FD_PIPE, 5, O_RDONLY);
	plan(2);
	cr_assert_eq(rst_check_pipes(&ctx), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 0: the write end of pipe:[5]"), "%s", err.msg);
	cr_assert(strstr(err.msg, "end-of-file"), "%s", err.msg);
}

Test(restore_files, no_pipes)
{
	desc(0, FD_TYPE__FD_REG, 0, O_WRONLY);
	desc(1, FD_TYPE__FD_FIFO, 0, O_WRONLY);
	plan(2);
	cr_assert_eq(rst_check_pipes(&ctx), 0, "%s", err.msg);
}
