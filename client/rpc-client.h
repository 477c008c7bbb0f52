/* ckptctl's side of the RPC: reach ckptd (its socket, or a one-shot daemon
 * of our own on a socketpair), send one request, follow the progress, take
 * the final answer; and the output every command shares (error lines and
 * their exit codes, the progress line). */
#ifndef CKPT_RPC_CLIENT_H
#define CKPT_RPC_CLIENT_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "rpc.pb-c.h"

/* One whole call: open, send req, close. On success (the daemon answered
 * err 0 with the result req->type calls for) *ret_resp is the answer, to
 * free with rpc_response__free_unpacked, and 0 is returned; otherwise the
 * failure is reported and its exit code returned. */
int rpc_client_run(const char *cmd, bool json, RpcRequest *req, int dirfd,
		   RpcResponse **ret_resp);
/* The same with several fds: the image directory, then its parent sets,
 * nearest first (common/protocol.h; at most RPC_FDS_MAX in all). */
int rpc_client_run_fds(const char *cmd, bool json, RpcRequest *req, const int *fds,
		       unsigned nr_fds, RpcResponse **ret_resp);
/* Which ckptd a call goes to. */
enum rpc_daemon {
	RPC_DAEMON_ANY,		/* the socket's, else a one-shot ckptd of ours */
	RPC_DAEMON_SERVICE,	/* the socket's only */
	RPC_DAEMON_OURS,	/* a one-shot ckptd of ours, our child in our session
				 * (own process group), first; else the socket's */
	RPC_DAEMON_APART,	/* the socket's, else a one-shot ckptd of ours in a
				 * session of its own */
};
/* As rpc_client_run_fds, with the ckptd how says; *ret_ours (if not NULL)
 * tells whether the call went to a one-shot ckptd of ours. */
int rpc_client_run_how(const char *cmd, bool json, RpcRequest *req, const int *fds,
		       unsigned nr_fds, enum rpc_daemon how, bool *ret_ours,
		       RpcResponse **ret_resp);
/* ckptctl migrate's final round: a dump with dump_req.hold keeps the tree
 * frozen once its set is in place, sends a progress with stage "held",
 * and waits for a verdict (RPC_VERDICT). held(opaque) is called then; its
 * answer is sent back: 1, the tree goes (killed, as by a dump without
 * --leave-running) and the dump answers as usual; 0 or < 0, the tree runs
 * on and the dump answers -ECANCELED ("not confirmed"). If this process
 * dies or the connection drops meanwhile, or no verdict comes within
 * dump_req.hold_timeout_ms, the tree runs on as well: it never goes
 * without a 1 from held(). Otherwise as rpc_client_run_fds. */
struct rpc_hold {
	int (*held)(void *opaque);
	void *opaque;
};
int rpc_client_run_hold(const char *cmd, bool json, RpcRequest *req, const int *fds,
			unsigned nr_fds, const struct rpc_hold *hold, RpcResponse **ret_resp);
/* As rpc_client_run_fds; when ckptd answers with a failure, its message
 * also goes into why (len bytes; ckptctl receive passes it on). */
int rpc_client_run_why(const char *cmd, bool json, RpcRequest *req, const int *fds,
		       unsigned nr_fds, char *why, size_t len, RpcResponse **ret_resp);
/* The daemon's socket: $CKPT_SOCKET, or CKPT_SOCKET_DEFAULT. */
const char *client_socket_path(void);
/* The same with the daemon at the socket only: no one-shot ckptd is
 * started when none answers there (EXIT_NODAEMON). */
int rpc_client_ask_service(const char *cmd, bool json, RpcRequest *req, RpcResponse **ret_resp);
/* 0 when something accepts a connection at the service's socket (closed
 * at once), else the -errno of connecting: what status says when none does. */
int rpc_client_probe(void);

/* Report a failure once: "ckptctl CMD: message" on stderr or, with json,
 * only {"error":"message","errno":N} on stdout. Returns exit_code. */
int client_fail(const char *cmd, bool json, int err, int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* ckptctl's global options, valid with every command and wherever they
 * stand before "--": -v (ckptd's account of the operation, its stages
 * with their times, on stderr), -vv (its debug lines too), --verbose (as
 * -v, twice as -vv) and --log-file FILE (every line, as with -vv, and the
 * failure, appended to FILE, created 0600). Taken out of argv (*argc
 * shrinks) and kept for every call to ckptd of this process. 0, or the
 * exit code of a failure, reported. */
int client_take_log_options(int *argc, char **argv);

/* Report a getopt failure (opt is ':' for a missing argument, anything else
 * for an unknown option); returns EXIT_USAGE. */
int client_bad_option(const char *cmd, bool json, int opt, char **argv);

/* Parse a command that takes only --json and --help: 1 to go on, else the
 * exit code (EXIT_OK after --help, EXIT_USAGE reported). */
int client_parse_json_only(const char *cmd, int argc, char **argv, bool *json,
			   void (*usage)(FILE *));

/* True when argv holds --json (seen before parsing, so that even a usage
 * error can answer in JSON). */
bool args_want_json(int argc, char **argv);

#endif
