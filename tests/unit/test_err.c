/* common/err.c: the first description wins, and stays whole, even when
 * several processes describe their failures into one shared slot at once
 * (the restored tasks of a tree all failing the same chdir, say). */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"

Test(err, first_message_wins)
{
	struct ckpt_err e = { 0 };

	cr_assert_eq(ckpt_fail(&e, -ENOENT, "pid %d: cannot change directory to %s", 7, "/x"),
		     -ENOENT);
	cr_assert_eq(ckpt_fail(&e, -EIO, "a later, outer description"), -EIO);
	cr_assert_str_eq(e.msg, "pid 7: cannot change directory to /x: No such file or directory");
	cr_assert_eq(e.code, -ENOENT);
	cr_assert_str_eq(ckpt_err_msg(&e, -EIO), e.msg);
}

Test(err, nothing_said_gives_strerror)
{
	struct ckpt_err e = { 0 };

	cr_assert_str_eq(ckpt_err_msg(&e, -EPERM), "Operation not permitted");
}

struct shared {
	atomic_int go;
	struct ckpt_err err;
};

/* Eight processes fail at the same moment into one MAP_SHARED slot: what
 * is left must be exactly one of their messages, with its errno text. */
Test(err, concurrent_writers_leave_one_whole_message)
{
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(sh, MAP_FAILED);
	for (int round = 0; round < 300; round++) {
		pid_t kids[8];
		char want[256];
		int pid;

		memset(sh, 0, sizeof(*sh));
		for (int i = 0; i < 8; i++) {
			kids[i] = fork();
			cr_assert_geq(kids[i], 0);
			if (kids[i] == 0) {
				while (!atomic_load(&sh->go))
					;
				ckpt_fail(&sh->err, -ENOENT, "pid %d: cannot change directory to /gone",
					  getpid());
				_exit(0);
			}
		}
		atomic_store(&sh->go, 1);
		for (int i = 0; i < 8; i++)
			cr_assert_eq(waitpid(kids[i], NULL, 0), kids[i]);
		cr_assert_eq(sscanf(sh->err.msg, "pid %d:", &pid), 1, "round %d: '%s'", round,
			     sh->err.msg);
		snprintf(want, sizeof(want), "pid %d: cannot change directory to /gone: %s", pid,
			 strerror(ENOENT));
		cr_assert_str_eq(sh->err.msg, want, "round %d", round);
		cr_assert_eq(sh->err.code, -ENOENT);
	}
	munmap(sh, sizeof(*sh));
}
