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

struct rpc_client {
	int fd;
	pid_t daemon_pid;	/* a one-shot ckptd we started, else 0 */
	const char *cmd;	/* "dump", for messages and the progress line */
	bool json;		/* results and errors as JSON on stdout */
	bool progress_shown;	/* a progress line is on stderr */
};

/* Connect to $CKPT_SOCKET (or the default socket); when nothing answers
 * there, start a one-shot ckptd ($CKPTD, or the one beside ckptctl). On
 * failure the error is reported and EXIT_NODAEMON returned; 0 on success. */
int rpc_client_open(struct rpc_client *c, const char *cmd, bool json);

/* Send req (with dirfd attached when >= 0) and wait for the final answer,
 * drawing progress on a terminal. On success *ret_resp is the answer (free
 * with rpc_response__free_unpacked), whatever its err. Failures of the
 * transport are reported; the return value is then an exit code > 0. */
int rpc_client_call(struct rpc_client *c, RpcRequest *req, int dirfd, RpcResponse **ret_resp);

/* Close the connection and reap a one-shot daemon. */
void rpc_client_close(struct rpc_client *c);

/* One whole call: open, send req, close. On success (the daemon answered
 * err 0 with the result req->type calls for) *ret_resp is the answer, to
 * free with rpc_response__free_unpacked, and 0 is returned; otherwise the
 * failure is reported and its exit code returned. */
int rpc_client_run(const char *cmd, bool json, RpcRequest *req, int dirfd,
		   RpcResponse **ret_resp);

/* The exit code for a daemon's answer err (negative errno) to request type. */
int rpc_exit_code(RpcType type, int err);

/* Report a failure once: "ckptctl CMD: message" on stderr and, with json,
 * {"error":"message","errno":N} on stdout. Returns exit_code. */
int client_fail(const char *cmd, bool json, int err, int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Report the daemon's error answer; returns its exit code. */
int client_fail_resp(const struct rpc_client *c, const RpcResponse *resp);

/* Report a getopt failure (opt is ':' for a missing argument, anything else
 * for an unknown option); returns EXIT_USAGE. */
int client_bad_option(const char *cmd, bool json, int opt, char **argv);

/* True when argv holds --json (seen before parsing, so that even a usage
 * error can answer in JSON). */
bool args_want_json(int argc, char **argv);

#endif
