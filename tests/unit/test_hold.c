/* daemon/hold.c: what a held dump takes for a verdict, and its wait on the
 * client's connection (a socketpair here). */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/hold.h"
#include "daemon/ops.h"

Test(hold, verdict_go_only_on_a_go)
{
	RpcRequest req = RPC_REQUEST__INIT;
	VerdictReq v = VERDICT_REQ__INIT;
	char why[128] = "";

	req.type = RPC_TYPE__RPC_VERDICT;
	req.verdict = &v;
	v.go = true;
	cr_assert_eq(hold_verdict(&req, why, sizeof(why)), 1);

	v.go = false;
	cr_assert_eq(hold_verdict(&req, why, sizeof(why)), 0);
	cr_assert_str_eq(why, "the client said no-go");
}

Test(hold, verdict_anything_else_resumes)
{
	RpcRequest req = RPC_REQUEST__INIT;
	VerdictReq v = VERDICT_REQ__INIT;
	char why[128] = "";

	cr_assert_eq(hold_verdict(NULL, why, sizeof(why)), 0);
	cr_assert(strstr(why, "hung up"), "%s", why);

	req.type = RPC_TYPE__RPC_VERDICT;	/* a verdict without its verdict_req */
	cr_assert_eq(hold_verdict(&req, why, sizeof(why)), 0);

	req.type = RPC_TYPE__RPC_DUMP;		/* a go on another request */
	v.go = true;
	req.verdict = &v;
	cr_assert_eq(hold_verdict(&req, why, sizeof(why)), 0);
	cr_assert(strstr(why, "type 1 came instead of a verdict"), "%s", why);
}

Test(hold, wait_times_out)
{
	int sv[2];
	char why[128] = "";
	uint64_t t0;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	t0 = now_us();
	cr_assert_eq(hold_wait(sv[0], NULL, -1, 150, why, sizeof(why)), 0);
	cr_assert_geq(now_us() - t0, 150000);
	cr_assert_lt(now_us() - t0, 2000000);
	cr_assert_str_eq(why, "no verdict within 150 ms");
	close(sv[0]);
	close(sv[1]);
}

Test(hold, wait_sees_a_message_or_the_end)
{
	int sv[2];
	char why[128] = "";

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	cr_assert_eq(send(sv[1], "x", 1, 0), 1);
	cr_assert_eq(hold_wait(sv[0], NULL, -1, 10000, why, sizeof(why)), 1);
	close(sv[0]);
	close(sv[1]);

	/* a hang-up reads as the end of the stream: hold_verdict(NULL) then */
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[1]);
	cr_assert_eq(hold_wait(sv[0], NULL, -1, 10000, why, sizeof(why)), 1);
	close(sv[0]);
}

Test(hold, wait_ends_on_a_cancel)
{
	struct ops_table *t;
	int sv[2], slot;
	char why[128] = "";

	cr_assert_eq(ops_table_new(2, &t), 0);
	slot = ops_claim(t, 0, getpid(), true, now_us());
	cr_assert_geq(slot, 0);
	ops_begin(t, slot, OP_DUMP, 1, "");
	cr_assert_eq(ops_cancel(t, slot, 0, getpid()), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	cr_assert_eq(hold_wait(sv[0], t, slot, 10000, why, sizeof(why)), 0);
	cr_assert_str_eq(why, "the dump was cancelled while held");
	close(sv[0]);
	close(sv[1]);
	ops_table_free(t);
}
