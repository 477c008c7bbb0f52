/* Restore's checks on file descriptions as a whole (daemon/restore-files.c):
 * a pipe must come back with both its ends, on a plan built in memory. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "daemon/restore-int.h"

#define NR 4

#include "tests/unit/rst-fds-fixture.h"

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
