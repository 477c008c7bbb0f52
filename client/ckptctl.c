/* ckptctl: the command line of ckpt. Finds the command and hands it its
 * arguments (argv[0] = the command's name); each command is a file of its
 * own and returns the exit code (client/commands.h, ckptctl(1)). */
#include <stdio.h>
#include <string.h>

#include "client/commands.h"
#include "client/rpc-client.h"
#include "common/protocol.h"
#include "common/version.h"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "dump", cmd_dump, "checkpoint a process tree into an image directory" },
	{ "pre-dump", cmd_pre_dump, "save a tree's memory and track its writes (incremental)" },
	{ "restore", cmd_restore, "restore a process tree from an image directory" },
	{ "show", cmd_show, "decode an image set (JSON)" },
	{ "merge", cmd_merge, "write one self-contained image set from an incremental chain" },
	{ "migrate", cmd_migrate, "move a running process tree to another host (pre-copy)" },
	{ "receive", cmd_receive, "take a migrated tree at the destination and restore it" },
	{ "check", cmd_check, "show the kernel features ckpt can use here" },
	{ "status", cmd_status, "say whether ckptd serves its socket, and what it does" },
	{ "cancel", cmd_cancel, "stop an operation ckptd is running (by its id)" },

};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ckptctl COMMAND [OPTIONS]\n"
		"       ckptctl COMMAND --help\n"
		"\n"
		"Checkpoint and restore Linux process trees, through ckptd(8).\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\n"
		"  -h, --help     show this help\n"
		"  -V, --version  show the version\n"
		"\n"
		"With every command:\n"
		"  -v, --verbose  show ckptd's account of the operation: its stages, with\n"
		"                 their times (-vv: its debug lines too)\n"
		"  --log-file FILE\n"
		"                 append every line of that account, and the failure,\n"
		"                 to FILE (created 0600)\n"
		"\n"
		"ckptctl talks to ckptd at $CKPT_SOCKET (default %s) and starts a\n"
		"one-shot ckptd when none answers there. See ckptctl(1).\n",
		CKPT_SOCKET_DEFAULT);
}

int main(int argc, char **argv)
{
	const char *name;
	int r = client_take_log_options(&argc, argv);

	if (r)
		return r;
	name = argc > 1 ? argv[1] : NULL;
	if (!name) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(name, "-V") || !strcmp(name, "--version")) {
		printf("ckptctl %s\n", CKPT_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(name, commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "ckptctl: unknown command '%s'\nTry 'ckptctl --help'.\n", name);
	return EXIT_USAGE;
}
