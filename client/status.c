/* ckptctl status [--json]: whether a ckptd serves the socket ($CKPT_SOCKET
 * or the default), and what it says of itself. Unlike the other commands it
 * starts no one-shot daemon: it asks about the service.
 *
 * JSON: {"socket":"/run/ckpt/ckptd.sock","version":"0.1","protocol":1,
 *	  "pid":123,"mode":"socket-activated","uptime_ms":4567,
 *	  "idle_timeout_s":0,"max_clients":16} */
#include "client/commands.h"
#include "client/rpc-client.h"
#include "daemon/rpc.h"
#include "images/json.h"

static void status_usage(FILE *f)
{
	fprintf(f,
		"Usage: ckptctl status [--json]\n"
		"\n"
		"Say whether ckptd answers at $CKPT_SOCKET (default %s):\n"
		"its version, protocol, pid, how it was started and for how long it\n"
		"has run. No one-shot daemon is started; exit status 6 when none\n"
		"answers. A socket-activated ckptd is started by the request itself.\n"
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
	json_obj_end(&j);
	return json_finish(&j) < 0 ? EXIT_FAIL : EXIT_OK;
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
	}
	rpc_response__free_unpacked(resp, NULL);
	return r;
}
