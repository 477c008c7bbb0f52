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
 *	  "tracked":[{"pid":123,"tracker":"uffd-wp","keeper_pid":130}],
 *	  "lazy":[{"root":200,"server":201,"uid":0,"state":"serving",
 *	  "pages":262144,"left":1000,"faults":12,"ms":800,"dir":"/img"}]}
 * (a listening ckptd only: a one-shot one has no operations but ours).
 *
 * Tracked tasks (incremental dumps' live trackers, each held by a
 * ckpt-keeper process) and lazy restores (each served by a ckpt-lazy
 * process) exist with or without a listening ckptd: when none answers, a
 * one-shot ckptd is asked for them alone, and the exit status stays 6
 * (JSON: {"socket":...,"error":...,"errno":...,"tracked":[...],"lazy":[...]}). */
#include <errno.h>
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
		"holds their tracking; and the lazy restores in progress (restore\n"
		"--lazy): the restored root, the ckpt-lazy process serving its pages,\n"
		"how many are not in yet and how many faults it served, or why it\n"
		"failed. No daemon is started for the status; exit status 6 when none\n"
		"answers (tracked tasks and lazy restores are still listed, asked of a\n"
		"one-shot ckptd). A socket-activated ckptd is started by the request\n"
		"itself.\n"
		"\n"
		"  -j, --json  print the status as one JSON object\n"
		"  -h, --help  show this help\n",
		CKPT_SOCKET_DEFAULT);
}

/* What exists with or without a listening ckptd. */
static void print_json_lists(struct json *j, const StatusResult *st)
{
	json_arr_begin(j, "tracked");
	for (size_t i = 0; st && i < st->n_tracked; i++)
		json_msg(j, NULL, &st->tracked[i]->base);
	json_arr_end(j);
	json_arr_begin(j, "lazy");
	for (size_t i = 0; st && i < st->n_lazy; i++)
		json_msg(j, NULL, &st->lazy[i]->base);
	json_arr_end(j);
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
	print_json_lists(&j, st);
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

/* "lazy restore of pid 200: 1000 of 262144 pages left, 12 faults served,
 * by pid 201 (0.8 s)", or why it failed. */
static void print_lazy(const StatusResult *st)
{
	char shown[600];

	for (size_t i = 0; i < st->n_lazy; i++) {
		const LazyRestore *l = st->lazy[i];

		if (l->error) {
			printf("lazy restore of pid %d failed: %s\n", l->root,
			       ckpt_escape(shown, sizeof(shown), l->error));
			continue;
		}
		printf("lazy restore of pid %d: %llu of %llu pages left, %llu faults served, "
		       "by pid %d (%llu.%01llu s)\n", l->root, (unsigned long long)l->left,
		       (unsigned long long)l->pages, (unsigned long long)l->faults, l->server,
		       (unsigned long long)l->ms / 1000, (unsigned long long)l->ms % 1000 / 100);
	}
}

/* A status that failed, as one JSON object: with the lists a one-shot
 * ckptd gave (st; NULL: empty) when no ckptd listens. */
static void print_json_error(const char *msg, int err, bool lists, const StatusResult *st)
{
	struct json j;

	json_init(&j, stdout, false);
	json_obj_begin(&j, NULL);
	json_str(&j, "socket", client_socket_path());
	json_str(&j, "error", msg);
	json_i64(&j, "errno", err);
	if (lists)
		print_json_lists(&j, st);
	json_obj_end(&j);
	json_finish(&j);
}

/* No ckptd listens: the tracked tasks and lazy restores, from a one-shot
 * ckptd (quietly: the missing service was reported already). */
static void print_lists_oneshot(bool json)
{
	RpcRequest req = RPC_REQUEST__INIT;
	RpcResponse *resp = NULL;
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
	if (json) {
		char msg[600];
		int e = rpc_client_probe();

		e = e < 0 ? -e : ECONNREFUSED;
		snprintf(msg, sizeof(msg), "no ckptd answers at %s: %s", client_socket_path(),
			 strerror(e));
		print_json_error(msg, e, true, r == 0 ? resp->status : NULL);
	} else if (r == 0) {
		print_tracked(resp->status);
		print_lazy(resp->status);
	}
	if (r == 0)
		rpc_response__free_unpacked(resp, NULL);
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
	/* errors to standard error only: in JSON, one object is printed
	 * below, with the lists a one-shot ckptd gives when none listens */
	r = rpc_client_ask_service("status", false, &req, &resp);
	if (r == EXIT_NODAEMON)
		print_lists_oneshot(json);
	else if (r && json)
		print_json_error("ckptd's status failed (see standard error)", EPROTO, false, NULL);
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
		print_lazy(st);
	}
	rpc_response__free_unpacked(resp, NULL);
	return r;
}
