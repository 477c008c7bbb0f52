/* ckptctl check [--json]: what this kernel and CPU offer, as ckptd probed it.
 *
 * JSON: one member per feature, true or false, and "details" mapping a
 * feature to the text that qualifies it:
 *	{"kernel":true,...,"soft_dirty":false,"pagemap_scan":true,...,
 *	 "details":{"kernel":"6.18.0","soft_dirty":"pagemap bit 55 ...",...}} */
#include <string.h>

#include "client/commands.h"
#include "client/rpc-client.h"
#include "common/util.h"
#include "images/json.h"

static void check_usage(FILE *f)
{
	fprintf(f,
		"Usage: ckptctl check [--json]\n"
		"\n"
		"Show which kernel and CPU features ckpt can use on this machine, and\n"
		"which dirty-page trackers this kernel offers for incremental dumps\n"
		"(tracker_*: yes, or why not) and which one --track auto picks\n"
		"(tracker_auto).\n"
		"\n"
		"  -j, --json  print the features as one JSON object\n"
		"  -h, --help  show this help\n");
}

static int print_json(const CheckResult *res)
{
	struct json j;

	json_init(&j, stdout, false);
	json_obj_begin(&j, NULL);
	for (size_t i = 0; i < res->n_features; i++)
		json_bool(&j, res->features[i]->name, res->features[i]->available);
	json_obj_begin(&j, "details");
	for (size_t i = 0; i < res->n_features; i++)
		if (res->features[i]->detail)
			json_str(&j, res->features[i]->name, res->features[i]->detail);
	json_obj_end(&j);
	json_obj_end(&j);
	return json_finish(&j) < 0 ? EXIT_FAIL : EXIT_OK;
}

static void print_table(const CheckResult *res)
{
	printf("%-20s %-9s %s\n", "FEATURE", "AVAILABLE", "DETAIL");
	for (size_t i = 0; i < res->n_features; i++) {
		const Feature *f = res->features[i];

		if (f->detail)
			printf("%-20s %-9s %s\n", f->name, f->available ? "yes" : "no", f->detail);
		else
			printf("%-20s %s\n", f->name, f->available ? "yes" : "no");
	}
}

int cmd_check(int argc, char **argv)
{
	RpcRequest req = RPC_REQUEST__INIT;
	bool json = args_want_json(argc, argv);
	RpcResponse *resp;
	int r;

	r = client_parse_json_only("check", argc, argv, &json, check_usage);
	if (r != 1)
		return r;
	req.type = RPC_TYPE__RPC_CHECK;
	r = rpc_client_run("check", json, &req, -1, &resp);
	if (r)
		return r;
	if (json)
		r = print_json(resp->check);
	else
		print_table(resp->check);
	rpc_response__free_unpacked(resp, NULL);
	return r;
}
