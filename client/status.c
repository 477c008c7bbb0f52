/* ckptctl status [--json]: whether a ckptd serves the socket ($CKPT_SOCKET
 * or the default), and what it says of itself. Unlike the other commands it
 * starts no one-shot daemon: it asks about the service.
 *
 * JSON: {"socket":"/run/ckpt/ckptd.sock","version":"0.1","protocol":1,
 *	  "pid":123,"mode":"socket-activated","uptime_ms":4567,
 *	  "idle_timeout_s":0,"max_clients":16,"max_per_user":4,
 *	  "operations":[{"id":3,"kind":"dump","uid":1000,"requester_pid":77,
 *	  "target_pid":123,"dir":"/home/u/img","stage":"pages","done":40,
 *	  "total":100,"age_ms":2100,"cancelling":false}],"others":0,"queued":0,
 *	  "tracked":[{"pid":123,"tracker":"uffd-wp","keeper_pid":130}]}
 * (a listening ckptd only: a one-shot one has no operations but ours).
 *
 * Tracked tasks (incremental dumps' live trackers, each held by a
 * ckpt-keeper process) exist with or without a listening ckptd: when none
 * answers, a one-shot ckptd is asked for them alone, and the exit status
 * stays 6. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "client/commands.h"
#include "client/rpc-client.h"
#include "common/escape.h"
#include "common/protocol.h"
#include "images/json.h"

static void status_usage(FILE *f)
{
	fprintf(f,
		"Usage: ckptctl status [--json]\n"
		"\n"
		"Say whether ckptd answers at $CKPT_SOCKET (default %s):\n"
		"its version, protocol, pid, how it was started and for how long it\n"
		"has run, and the operations in flight (root sees every one, anyone\n"
		"else their own): their id for 'ckptctl cancel', kind, uid, target,\n"
		"stage, progress and age; and the tasks a live dirty-page tracker\n"
		"follows for incremental dumps, with the ckpt-keeper process that\n"
		"holds their tracking. No daemon is started for the status; exit\n"
		"status 6 when none answers (tracked tasks are still listed, asked\n"
		"of a one-shot ckptd). A socket-activated ckptd is started by the\n"
		"request itself.\n"
		"\n"
		"  -j, --json  print the status as one JSON object\n"
		"  -h, --help  show this help\n",
		CKPT_SOCKET_DEFAULT);
}

static int print_json(const StatusResult *st)
{
	struct json j;

	json_init(&j, stdout, false);
	json_obj_begin(&j, NULL);
	json_str(&j, "socket", client_socket_path());
	json_str(&j, "version", st->version);
	json_u64(&j, "protocol", st->protocol);
	json_i64(&j, "pid", st->pid);
	json_str(&j, "mode", st->mode);
	json_u64(&j, "uptime_ms", st->uptime_ms);
	json_u64(&j, "idle_timeout_s", st->idle_timeout_s);
	json_u64(&j, "max_clients", st->max_clients);
	if (st->has_max_per_user)
		json_u64(&j, "max_per_user", st->max_per_user);
	if (st->has_others) {
		json_arr_begin(&j, "operations");
		for (size_t i = 0; i < st->n_operations; i++)
			json_msg(&j, NULL, &st->operations[i]->base);
		json_arr_end(&j);
		json_u64(&j, "others", st->others);
		json_u64(&j, "queued", st->queued);
	}
	json_arr_begin(&j, "tracked");
	for (size_t i = 0; i < st->n_tracked; i++)
		json_msg(&j, NULL, &st->tracked[i]->base);
	json_arr_end(&j);
	json_obj_end(&j);
	return json_finish(&j) < 0 ? EXIT_FAIL : EXIT_OK;
}

static void print_operation(const Operation *o)
{
	char target[200], shown[200], progress[32] = "-";

	if (o->has_target_pid)
		snprintf(target, sizeof(target), "pid %d", o->target_pid);
	else
		snprintf(target, sizeof(target), "%s", o->dir ? o->dir : "-");
	if (o->has_total && o->total)
		snprintf(progress, sizeof(progress), "%llu%%", (unsigned long long)
			 (o->done >= o->total ? 100 : o->done * 100 / o->total));
	printf("%5u  %-8s %6u  %-24s %-14s %8s %6llu.%01llu s%s\n", o->id, o->kind, o->uid,
	       ckpt_escape(shown, sizeof(shown), target), o->stage ? o->stage : "-", progress,
	       (unsigned long long)o->age_ms / 1000,
	       (unsigned long long)o->age_ms % 1000 / 100, o->cancelling ? "  cancelling" : "");
}

/* The operations part of the human output (a listening ckptd only). */
static void print_operations(const StatusResult *st)
{
	if (!st->has_others)
		return;
	printf("operations: %zu in flight", st->n_operations);

	if (st->others)
		printf(" (and %u of other users)", st->others);
	if (st->queued)
		printf(", %u waiting for their turn", st->queued);
	printf("; at most %u at once", st->max_clients);
	if (st->has_max_per_user && st->max_per_user)
		printf(", %u per user", st->max_per_user);
	printf("\n");
	if (!st->n_operations)
		return;
	printf("%5s  %-8s %6s  %-24s %-14s %8s %8s\n", "ID", "KIND", "UID", "TARGET", "STAGE",
	       "PROGRESS", "AGE");
	for (size_t i = 0; i < st->n_operations; i++)
		print_operation(st->operations[i]);
}

/* "tracking pid 123 (uffd-wp, keeper pid 130)" per tracked task. */
static void print_tracked(const StatusResult *st)
{
	for (size_t i = 0; i < st->n_tracked; i++) {
		const TrackedTask *t = st->tracked[i];

		printf("tracking pid %d (%s", t->pid, t->tracker);
		if (t->has_keeper_pid)
			printf(", keeper pid %d", t->keeper_pid);
		printf(")\n");
	}
}

/* No ckptd listens: the tracked tasks, from a one-shot ckptd (quietly:
 * the missing service was reported already). */
static void print_tracked_oneshot(void)
{
	RpcRequest req = RPC_REQUEST__INIT;
	RpcResponse *resp;
	int null, saved, r;

	req.type = RPC_TYPE__RPC_STATUS;
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (null < 0 || saved < 0 || dup2(null, STDERR_FILENO) < 0) {
		if (null >= 0)
			close(null);
		if (saved >= 0)
			close(saved);
		return;
	}
	close(null);
	r = rpc_client_run("status", false, &req, -1, &resp);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	if (r == 0) {
		print_tracked(resp->status);
		rpc_response__free_unpacked(resp, NULL);
	}
}

int cmd_status(int argc, char **argv)
{
	RpcRequest req = RPC_REQUEST__INIT;
	bool json = args_want_json(argc, argv);
	const StatusResult *st;
	RpcResponse *resp;
	int r;

	r = client_parse_json_only("status", argc, argv, &json, status_usage);
	if (r != 1)
		return r;
	req.type = RPC_TYPE__RPC_STATUS;
	r = rpc_client_ask_service("status", json, &req, &resp);
	if (r == EXIT_NODAEMON && !json)
		print_tracked_oneshot();
	if (r)
		return r;
	st = resp->status;
	if (json) {
		r = print_json(st);
	} else {
		printf("ckptd %s (protocol %u) pid %d at %s: %s, up %llu.%03llu s", st->version,
		       st->protocol, st->pid, client_socket_path(), st->mode,
		       (unsigned long long)st->uptime_ms / 1000,
		       (unsigned long long)st->uptime_ms % 1000);
		if (st->idle_timeout_s)
			printf(", exits after %u s idle", st->idle_timeout_s);
		printf("\n");
		print_operations(st);
		print_tracked(st);

	}
	rpc_response__free_unpacked(resp, NULL);
	return r;
}
