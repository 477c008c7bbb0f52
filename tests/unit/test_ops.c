/* daemon/ops.c: the table of operations in flight, shared by a listening
 * ckptd and its handlers: slots claimed and freed, ids never reused, one
 * canceller remembered, counts for the per-uid limit, and what a handler
 * writes seen whole by another process. */
#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/ops.h"

static struct ops_table *t;

static void setup(void)
{
	cr_assert_eq(ops_table_new(4, &t), 0);
}

static void teardown(void)
{
	ops_table_free(t);
}

TestSuite(ops, .init = setup, .fini = teardown);

Test(ops, claim_until_full_and_release)
{
	struct op op;
	int s[4];

	for (int i = 0; i < 4; i++) {
		s[i] = ops_claim(t, 1000 + i, 50 + i, true, 123);
		cr_assert_geq(s[i], 0);
		ops_set_handler(t, s[i], 700 + i);
	}
	cr_expect_eq(ops_claim(t, 1, 1, true, 0), -EBUSY, "a full table refuses");
	cr_assert(ops_read(t, s[2], &op));
	cr_expect_eq(op.uid, 1002);
	cr_expect_eq(op.requester, 52);
	cr_expect_eq(op.handler, 702);
	cr_expect_eq(op.kind, OP_WAITING);
	cr_expect_eq(op.started_us, 123);
	cr_expect(ops_release(t, 702));
	cr_expect_not(ops_release(t, 702), "a reaped handler's slot is freed once");
	cr_expect_not(ops_release(t, 999), "not a handler");
	cr_expect_not(ops_read(t, s[2], &op), "a free slot reads as free");
	cr_expect_eq(ops_claim(t, 1, 1, true, 0), s[2], "the freed slot is taken again");
}

Test(ops, ids_are_never_reused)
{
	struct op a, b;
	int s = ops_claim(t, 0, 1, true, 0);

	cr_assert(ops_read(t, s, &a));
	ops_release_slot(t, s);
	s = ops_claim(t, 0, 1, true, 0);
	cr_assert(ops_read(t, s, &b));
	cr_expect_neq(a.id, b.id);
	cr_expect_eq(ops_find(t, b.id), s);
	cr_expect_eq(ops_find(t, a.id), -ESRCH, "a finished operation is not found");
	cr_expect_eq(ops_find(t, 0), -ESRCH);
}

Test(ops, counts_for_the_limits)
{
	ops_claim(t, 1000, 1, true, 0);
	ops_claim(t, 1000, 2, false, 0);
	ops_claim(t, 1001, 3, true, 0);
	cr_expect_eq(ops_count(t, false, false, 0), 3);
	cr_expect_eq(ops_count(t, true, false, 0), 2, "quick requests are not counted");
	cr_expect_eq(ops_count(t, true, true, 1000), 1);
	cr_expect_eq(ops_count(t, false, true, 1000), 2);
	cr_expect_eq(ops_count(t, true, true, 0), 0);
}

Test(ops, the_first_canceller_is_remembered)
{
	int s = ops_claim(t, 1000, 1, true, 0);
	struct op op;

	cr_expect_not(ops_cancel_requested(t, s));
	cr_expect_eq(ops_cancel(t, s, 1000, 4242), 0);
	cr_expect_eq(ops_cancel(t, s, 0, 1), -EALREADY);
	cr_expect(ops_cancel_requested(t, s));
	cr_assert(ops_read(t, s, &op));
	cr_expect(op.cancelled);
	cr_expect_eq(op.cancel_uid, 1000);
	cr_expect_eq(op.cancel_pid, 4242);
	/* a new operation in the slot starts uncancelled */
	ops_release_slot(t, s);
	s = ops_claim(t, 1000, 1, true, 0);
	cr_expect_not(ops_cancel_requested(t, s));
	cr_expect_not(ops_cancel_requested(NULL, 0), "no table (one-shot): never");
	cr_expect_not(ops_cancel_requested(t, -1));
}

Test(ops, describe_says_what_and_escapes_the_directory)
{
	int s = ops_claim(t, 1000, 1, true, 0);
	struct op op;
	char buf[256];

	ops_begin(t, s, OP_DUMP, 123, "/home/u/img");
	ops_progress(t, s, "pages", 40, 100);
	cr_assert(ops_read(t, s, &op));
	op_describe(&op, buf, sizeof(buf));
	cr_expect_str_eq(buf, "dump of pid 123 for uid 1000 (pages 40%)");
	ops_begin(t, s, OP_RESTORE, 0, "/tmp/a\nb\033[2J");
	ops_progress(t, s, "read images", 0, 0);
	ops_cancel(t, s, 0, 1);
	cr_assert(ops_read(t, s, &op));
	op_describe(&op, buf, sizeof(buf));
	cr_expect_str_eq(buf, "restore of /tmp/a\\nb\\e[2J for uid 1000 (read images), cancelling");
	cr_expect_str_eq(op_kind_name(OP_CHECK), "check");
}

/* A handler (another process) writes progress; the listener reads it. */
Test(ops, another_process_sees_the_progress)
{
	int s = ops_claim(t, 1000, 1, true, 0);
	struct op op;
	pid_t pid;
	int st;

	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		for (uint64_t i = 0; i <= 10000; i++)
			ops_progress(t, s, i & 1 ? "pages" : "tasks", i, 10000);
		_exit(0);
	}
	/* every copy taken meanwhile is whole: stage and count agree */
	for (int i = 0; i < 2000; i++)
		if (ops_read(t, s, &op) && op.stage[0])
			cr_assert_str_eq(op.stage, op.done & 1 ? "pages" : "tasks");
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(ops_read(t, s, &op));
	cr_expect_eq(op.done, 10000);
	cr_expect_str_eq(op.stage, "tasks");
}
