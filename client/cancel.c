/* ckptctl cancel ID [--json]: ask the listening ckptd to stop operation ID
 * (ckptctl status lists them). Root may cancel any operation, anyone else
 * their own. The operation stops at its next stage: a dump leaves its tree
 * running and writes no set; a restore is stopped only before it starts
 * building the tree. Its own ckptctl says who cancelled it. Like status,
 * cancel starts no one-shot daemon.
 *
 * JSON: {"id":3,"cancelled":"dump of pid 123 for uid 1000 (pages 40%)"} */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/commands.h"
#include "client/rpc-client.h"
#include "common/escape.h"
#include "images/json.h"

static void cancel_usage(FILE *f)
{
	fprintf(f,
		"Usage: ckptctl cancel ID [--json]\n"
		"\n"
		"Ask ckptd to stop operation ID, as 'ckptctl status' lists it. Root may\n"
		"cancel any operation, any other user only their own. A dump stops at its\n"
		"next stage, leaving the tree running and writing no image set; a restore\n"
		"can be stopped only before it starts building the process tree. The\n"
		"cancelled request's own ckptctl exits with status 9 and says who\n"
		"cancelled it. No one-shot daemon is started: exit status 6 when no\n"
		"ckptd answers, 4 when it has no operation ID of yours.\n"
		"\n"
		"  -j, --json  print the answer as one JSON object\n"
		"  -h, --help  show this help\n");
}

static int parse_id(const char *s, bool json, uint32_t *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || *s == '-' || errno || v == 0 || v > UINT32_MAX)
		return client_fail("cancel", json, EINVAL, EXIT_USAGE,
				   "invalid operation id '%s' (a number from 'ckptctl status')", s);
	*ret = v;
	return 0;
}

int cmd_cancel(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	RpcRequest req = RPC_REQUEST__INIT;
	CancelReq creq = CANCEL_REQ__INIT;
	bool json = args_want_json(argc, argv);
	char shown[600];
	RpcResponse *resp;
	struct json j;
	int c, r;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			cancel_usage(stdout);
			return EXIT_OK;
		default:
			return client_bad_option("cancel", json, c, argv);
		}
	}
	if (optind != argc - 1)
		return client_fail("cancel", json, EINVAL, EXIT_USAGE, optind < argc ?
				   "give one operation id" : "which operation? give its id "
				   "(ckptctl status lists them)");
	r = parse_id(argv[optind], json, &creq.id);
	if (r)
		return r;
	req.type = RPC_TYPE__RPC_CANCEL;
	req.cancel = &creq;
	r = rpc_client_ask_service("cancel", json, &req, &resp);
	if (r)
		return r;
	if (json) {
		json_init(&j, stdout, false);
		json_obj_begin(&j, NULL);
		json_u64(&j, "id", resp->cancel->id);
		json_str(&j, "cancelled", resp->cancel->what);
		json_obj_end(&j);
		r = json_finish(&j) < 0 ? EXIT_FAIL : EXIT_OK;
	} else {
		printf("cancelling operation %u: %s\n", resp->cancel->id,
		       ckpt_escape(shown, sizeof(shown), resp->cancel->what));
	}
	rpc_response__free_unpacked(resp, NULL);
	return r;
}
