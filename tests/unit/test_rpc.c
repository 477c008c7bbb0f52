/* rpc_serve_conn(): one request over a socketpair, answered in the same
 * process (the request is queued first, then served, then the answers are
 * read). Covers the framing bounds, the fd rules, versions, check, and the
 * targets ckptd always refuses. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/kerndat.h"
#include "common/util.h"
#include "daemon/ops.h"
#include "daemon/rpc.h"
#include "rpc.pb-c.h"


static struct kerndat kd;
static struct rpc_server srv;
static int sv[2];

static void setup(void)
{
	cr_assert_eq(kerndat_probe(&kd), 0);
	srv = (struct rpc_server){ .listen_fd = -1, .kd = &kd, .pid = getpid(),
				   .parent = getppid(), .mode = "listen", .max_clients = 16,
				   .idle_timeout_s = 30, .started_us = now_us() };
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

static void teardown(void)
{
	close(sv[0]);
	close(sv[1]);
}

TestSuite(rpc, .init = setup, .fini = teardown);

static void send_raw(const void *buf, size_t len, const int *fds, int nfds)
{
	char ctl[CMSG_SPACE(sizeof(int) * (RPC_FDS_MAX + 1))] = { 0 };
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		struct cmsghdr *cm;

		mh.msg_control = ctl;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	cr_assert_eq(sendmsg(sv[0], &mh, 0), (ssize_t)len);
}

static void send_req(RpcRequest *req, int dirfd)
{
	size_t len = rpc_request__get_packed_size(req);
	uint8_t *buf = malloc(len);

	rpc_request__pack(req, buf);
	send_raw(buf, len, &dirfd, dirfd >= 0);
	free(buf);
}

/* Serve, then return the final answer (progress messages skipped). */
static RpcResponse *serve(void)
{
	static uint8_t buf[RPC_MSG_MAX];
	RpcResponse *resp = NULL;
	ssize_t n;

	cr_assert_eq(rpc_serve_conn(&srv, sv[1]), 0);
	for (;;) {
		n = recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT);
		cr_assert_gt(n, 0, "no final answer");
		resp = rpc_response__unpack(NULL, n, buf);
		cr_assert_not_null(resp);
		if (resp->type != RPC_TYPE__RPC_PROGRESS)
			break;
		rpc_response__free_unpacked(resp, NULL);
	}
	cr_expect_eq(recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT), 0, "one answer, then EOF");
	/* a fresh connection for the next request of the test */
	close(sv[0]);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	return resp;
}

Test(rpc, check_lists_the_probed_features)
{
	RpcRequest req = RPC_REQUEST__INIT;
	RpcResponse *resp;
	bool seen = false;

	req.type = RPC_TYPE__RPC_CHECK;
	send_req(&req, -1);
	resp = serve();
	cr_assert_eq(resp->err, 0);
	cr_assert_eq(resp->type, RPC_TYPE__RPC_CHECK);
	cr_assert_not_null(resp->check);
	for (size_t i = 0; i < resp->check->n_features; i++) {
		if (strcmp(resp->check->features[i]->name, "pagemap_scan"))
			continue;
		cr_expect_eq(resp->check->features[i]->available, kd.pagemap_scan);
		seen = true;
	}
	cr_expect(seen, "pagemap_scan is listed");
	rpc_response__free_unpacked(resp, NULL);
}

Test(rpc, malformed_request_is_ebadrqc)
{
	RpcResponse *resp;

	send_raw("\xff\xff\xff", 3, NULL, 0);
	resp = serve();
	cr_expect_eq(resp->err, -EBADRQC);
	cr_expect_not_null(strstr(resp->message, "malformed request"));
	rpc_response__free_unpacked(resp, NULL);
}

Test(rpc, oversized_request_is_refused)
{
	size_t len = RPC_MSG_MAX + 100;
	char *big = calloc(1, len);
	int sz = len * 2;
	RpcResponse *resp;

	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	send_raw(big, len, NULL, 0);
	free(big);
	resp = serve();
	cr_expect_eq(resp->err, -EBADRQC);
	cr_expect_not_null(strstr(resp->message, "exceeds the"), "%s", resp->message);
	rpc_response__free_unpacked(resp, NULL);
}

Test(rpc, too_many_fds_are_refused)
{
	RpcRequest req = RPC_REQUEST__INIT;
	int fds[RPC_FDS_MAX + 1];
	size_t len;
	uint8_t buf[64];
	RpcResponse *resp;

	for (unsigned i = 0; i <= RPC_FDS_MAX; i++)
		fds[i] = 0;
	req.type = RPC_TYPE__RPC_CHECK;
	len = rpc_request__get_packed_size(&req);
	rpc_request__pack(&req, buf);
	send_raw(buf, len, fds, RPC_FDS_MAX + 1);
	resp = serve();
	cr_expect_eq(resp->err, -EBADRQC);
	cr_expect_not_null(strstr(resp->message, "at most 64 file descriptors"), "%s",
			   resp->message);
	rpc_response__free_unpacked(resp, NULL);
}

/* A dump with --prev brings the parent and the parent's own chain (the
 * client opened them): the finished set is checked as restore would, with
 * its whole chain. The fds are taken, not refused as a protocol error. */
Test(rpc, dump_takes_a_parent_chain)
{
	RpcRequest req = RPC_REQUEST__INIT;
	DumpReq d = DUMP_REQ__INIT;
	int fds[3] = { 0, 0, 0 };
	size_t len;
	uint8_t buf[64];
	RpcResponse *resp;

	req.type = RPC_TYPE__RPC_DUMP;
	req.dump = &d;
	d.pid = 1;
	len = rpc_request__get_packed_size(&req);
	rpc_request__pack(&req, buf);
	send_raw(buf, len, fds, 3);
	resp = serve();
	cr_expect_neq(resp->err, 0);
	cr_expect_neq(resp->err, -EBADRQC, "%s", resp->message);
	rpc_response__free_unpacked(resp, NULL);
}

Test(rpc, status_says_what_the_daemon_is)
{
	RpcRequest req = RPC_REQUEST__INIT;
	RpcResponse *resp;

	req.type = RPC_TYPE__RPC_STATUS;
	req.has_version = true;
	req.version = RPC_PROTO_VERSION;
	send_req(&req, -1);
	resp = serve();
	cr_assert_eq(resp->err, 0);
	cr_assert_not_null(resp->status);
	cr_expect_str_eq(resp->status->version, CKPT_VERSION);
	cr_expect_eq(resp->status->protocol, RPC_PROTO_VERSION);
	cr_expect_eq(resp->status->pid, getpid());
	cr_expect_str_eq(resp->status->mode, "listen");
	cr_expect_eq(resp->status->idle_timeout_s, 30);
	cr_expect_eq(resp->status->max_clients, 16);
	cr_expect_lt(resp->status->uptime_ms, 60000);
	rpc_response__free_unpacked(resp, NULL);
}

Test(rpc, newer_protocol_is_refused)
{
	RpcRequest req = RPC_REQUEST__INIT;
	RpcResponse *resp;

	req.type = RPC_TYPE__RPC_CHECK;
	req.has_version = true;
	req.version = RPC_PROTO_VERSION + 1;
	send_req(&req, -1);
	resp = serve();
	cr_expect_eq(resp->err, -EBADRQC);
	cr_expect_not_null(strstr(resp->message, "protocol version"), "%s", resp->message);
	rpc_response__free_unpacked(resp, NULL);
}

static RpcResponse *dump(pid_t pid, bool with_dir)
{
	RpcRequest req = RPC_REQUEST__INIT;
	DumpReq d = DUMP_REQ__INIT;
	int dirfd = with_dir ? open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	d.pid = pid;
	req.type = RPC_TYPE__RPC_DUMP;
	req.dump = &d;
	send_req(&req, dirfd);
	if (dirfd >= 0)
		close(dirfd);
	return serve();
}

Test(rpc, never_dumps_itself_its_parent_or_the_requester)
{
	RpcResponse *resp;

	resp = dump(getpid(), true);	/* ckptd and the requester, here */
	cr_expect_eq(resp->err, -EPERM);
	cr_expect_not_null(strstr(resp->message, "ckptd itself"), "%s", resp->message);
	rpc_response__free_unpacked(resp, NULL);

	resp = dump(getppid(), true);
	cr_expect_eq(resp->err, -EPERM);
	cr_expect_not_null(strstr(resp->message, "parent"), "%s", resp->message);
	rpc_response__free_unpacked(resp, NULL);

	resp = dump(1, true);
	cr_expect_eq(resp->err, -EPERM);
	cr_expect_not_null(strstr(resp->message, "ancestor"), "%s", resp->message);
	rpc_response__free_unpacked(resp, NULL);
}

Test(rpc, dump_of_nothing)
{
	RpcResponse *resp;

	resp = dump(0, true);
	cr_expect_eq(resp->err, -ESRCH);
	rpc_response__free_unpacked(resp, NULL);

	resp = dump(0x7ffffff0, true);
	cr_expect_eq(resp->err, -ESRCH);
	cr_expect_not_null(strstr(resp->message, "no process with pid"), "%s", resp->message);
	rpc_response__free_unpacked(resp, NULL);
}

Test(rpc, dump_needs_a_directory)
{
	pid_t child = fork();
	RpcResponse *resp;

	if (child == 0) {
		pause();
		_exit(0);
	}
	/* a connection the child does not hold: EOF must come when we close */
	close(sv[0]);
	close(sv[1]);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	resp = dump(child, false);
	cr_expect_eq(resp->err, -EBADRQC);
	cr_expect_not_null(strstr(resp->message, "no image directory"), "%s", resp->message);
	rpc_response__free_unpacked(resp, NULL);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

Test(rpc, client_leaving_without_a_request)
{
	close(sv[0]);
	sv[0] = -1;
	cr_expect_eq(rpc_serve_conn(&srv, sv[1]), 0);
}

static RpcResponse *cancel(uint32_t id)
{
	RpcRequest req = RPC_REQUEST__INIT;
	CancelReq creq = CANCEL_REQ__INIT;

	req.type = RPC_TYPE__RPC_CANCEL;
	creq.id = id;
	req.cancel = &creq;
	send_req(&req, -1);
	return serve();
}

Test(rpc, cancel_in_a_oneshot_daemon_finds_nothing)
{
	RpcResponse *resp = cancel(1);

	cr_expect_eq(resp->err, -ESRCH);
	cr_expect_not_null(strstr(resp->message, "one-shot"), "%s", resp->message);
	rpc_response__free_unpacked(resp, NULL);
}

/* A listening daemon's table: status lists what runs, cancel flags it. */
Test(rpc, status_lists_and_cancel_flags_an_operation)
{
	struct ops_table *ops;
	RpcRequest req = RPC_REQUEST__INIT;
	RpcResponse *resp;
	struct op op;
	int s, chk;

	cr_assert_eq(ops_table_new(4, &ops), 0);
	srv.ops = ops;
	srv.max_per_user = 4;
	s = ops_claim(ops, 1000, 77, true, now_us());
	ops_set_handler(ops, s, 78);
	ops_begin(ops, s, OP_DUMP, 4242, "/home/u/img");
	ops_progress(ops, s, "pages", 10, 40);
	chk = ops_claim(ops, 1000, 79, false, now_us());
	ops_begin(ops, chk, OP_CHECK, 0, NULL);

	req.type = RPC_TYPE__RPC_STATUS;
	send_req(&req, -1);
	resp = serve();
	cr_assert_eq(resp->err, 0);
	cr_assert_eq(resp->status->n_operations, 2, "root sees every operation");
	cr_expect_eq(resp->status->max_per_user, 4);
	cr_expect_eq(resp->status->others, 0);
	cr_expect_str_eq(resp->status->operations[0]->kind, "dump");
	cr_expect_eq(resp->status->operations[0]->target_pid, 4242);
	cr_expect_eq(resp->status->operations[0]->uid, 1000);
	cr_expect_str_eq(resp->status->operations[0]->stage, "pages");
	cr_expect_eq(resp->status->operations[0]->done, 10);
	cr_assert(ops_read(ops, s, &op));
	cr_expect_eq(resp->status->operations[0]->id, op.id);
	rpc_response__free_unpacked(resp, NULL);

	resp = cancel(op.id);
	cr_assert_eq(resp->err, 0, "%s", resp->message);
	cr_assert_not_null(resp->cancel);
	cr_expect_str_eq(resp->cancel->what, "dump of pid 4242 for uid 1000 (pages 25%)");
	cr_expect(ops_cancel_requested(ops, s));
	rpc_response__free_unpacked(resp, NULL);

	resp = cancel(op.id);
	cr_expect_eq(resp->err, -EALREADY, "cancelled once");
	rpc_response__free_unpacked(resp, NULL);
	cr_assert(ops_read(ops, chk, &op));
	resp = cancel(op.id);
	cr_expect_eq(resp->err, -EINVAL, "a check ends by itself");
	rpc_response__free_unpacked(resp, NULL);
	resp = cancel(op.id + 100);
	cr_expect_eq(resp->err, -ESRCH);
	cr_expect_not_null(strstr(resp->message, "ckptctl status"), "%s", resp->message);
	rpc_response__free_unpacked(resp, NULL);

	srv.ops = NULL;
	ops_table_free(ops);
}
