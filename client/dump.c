/* ckptctl dump -t PID -D DIR [--prev P] [--track T] [--leave-running] [--force] [--json]
 * ckptctl pre-dump -t PID -D DIR [--prev P] [--track T] [--force] [--json]
 *
 * The image directory is created here (0700) and handed to ckptd as an open
 * fd: the daemon writes only into what the user could open. With --prev,
 * the parent set (P relative to DIR, as CRIU's --prev-images-dir) and its
 * own parents are opened here too and follow it, nearest first: the daemon
 * never resolves a path. */
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>

#include "client/commands.h"
#include "client/rpc-client.h"
#include "common/protocol.h"
#include "common/util.h"
#include "images/chain.h"
#include "images/json.h"

struct dump_args {
	const char *cmd;	/* "dump" or "pre-dump" */
	long pid;
	const char *dir;
	const char *prev, *track;
	bool leave_running, force, json;
	bool tcp_established;
	bool ext_unix_sk;
	bool shell_job;
};

enum { OPT_TCP_ESTABLISHED = 1000, OPT_SHELL_JOB, OPT_EXT_UNIX_SK };

static void pre_dump_usage(FILE *f)
{
	fprintf(f,
		"Usage: ckptctl pre-dump -t PID -D DIR [--prev P] [--track T] [--force] [--json]\n"
		"\n"
		"Save the memory of the process tree rooted at PID into DIR (created if\n"
		"missing) and start tracking which pages it writes; the tree runs on. A\n"
		"later pre-dump or dump with --prev saves only the pages written since.\n"
		"A pre-dump cannot be restored by itself: restore the final dump.\n"
		"\n"
		"  -t, --tree PID        root of the process tree\n"
		"  -D, --images-dir DIR  where the image set goes\n"
		"  -p, --prev P          the previous round's set, relative to DIR (../1)\n"
		"  -T, --track T         auto (default: with --prev the parent's, else the\n"
		"                        best this kernel offers), soft-dirty, uffd-wp, hash\n"
		"  -f, --force           replace an image set already in DIR\n"
		"  -j, --json            print the result (or the error) as JSON\n"
		"  -h, --help            show this help\n");
}

static void dump_usage(FILE *f)
{
	fprintf(f,
		"Usage: ckptctl dump -t PID -D DIR [--prev P] [--track T] [--leave-running]\n"
		"                    [--tcp-established] [--ext-unix-sk] [--shell-job]\n"
		"                    [--force] [--json]\n"
		"\n"
		"Checkpoint the process tree rooted at PID into the image directory DIR\n"
		"(created if missing). The tree is killed afterwards unless\n"
		"--leave-running is given. What restore would refuse (a terminal, a\n"
		"socket, a pipe to outside the tree...) is refused before anything is\n"
		"killed (exit 8); ^C cancels the dump (exit 9). Either way the tree runs\n"
		"on and no image set is written.\n"
		"\n"
		"  -t, --tree PID        root of the process tree to dump\n"
		"  -D, --images-dir DIR  where the image set goes\n"
		"  -p, --prev P          incremental: the previous round's set, relative to\n"
		"                        DIR (../1); only pages written since are saved\n"
		"  -T, --track T         dirty-page tracker: auto (default: with --prev the\n"
		"                        parent's), soft-dirty, uffd-wp, hash; with\n"
		"                        --leave-running and no --prev, starts a chain\n"
		"  -R, --leave-running   let the tree run on after the dump\n"
		"      --tcp-established save established TCP connections (TCP_REPAIR),\n"
		"                        locked with nftables until a restore with\n"
		"                        --tcp-established (root only)\n"
		"      --ext-unix-sk     a unix socket connected to a peer outside the tree\n"
		"                        is saved with its peer's path, to be connected\n"
		"                        to it again by a restore --ext-unix-sk\n"
		"      --shell-job       the tree is a job of the user's shell: its\n"
		"                        terminal, outside the tree, is recorded for a\n"
		"                        restore --shell-job\n"
		"  -f, --force           replace an image set already in DIR\n"
		"  -j, --json            print the result (or the error) as JSON\n"
		"  -h, --help            show this help\n");
}

/* 1: go on; otherwise the exit code (help: EXIT_OK, bad usage: EXIT_USAGE). */
/* One option of dump or pre-dump (not -h): 0, or the exit code. */
static int dump_option(struct dump_args *a, int c, char **argv)
{
	char *end;

	switch (c) {
	case 't':
		a->pid = strtol(optarg, &end, 10);
		if (!*optarg || *end || a->pid <= 0 || a->pid > INT32_MAX)
			return client_fail(a->cmd, a->json, EINVAL, EXIT_USAGE,
					   "invalid pid '%s'", optarg);
		return 0;
	case 'D':
		a->dir = optarg;
		return 0;
	case 'R':
		if (!strcmp(a->cmd, "pre-dump"))
			return client_fail(a->cmd, a->json, EINVAL, EXIT_USAGE,
					   "--leave-running: a pre-dump always leaves the "
					   "tree running");
		a->leave_running = true;
		return 0;
	case 'p':
		if (!*optarg)
			return client_fail(a->cmd, a->json, EINVAL, EXIT_USAGE,
					   "--prev needs a directory");
		a->prev = optarg;
		return 0;
	case 'T':
		if (strcmp(optarg, "auto") && strcmp(optarg, "soft-dirty") &&
		    strcmp(optarg, "uffd-wp") && strcmp(optarg, "hash"))
			return client_fail(a->cmd, a->json, EINVAL, EXIT_USAGE,
					   "--track %s: no such tracker; use auto, "
					   "soft-dirty, uffd-wp or hash", optarg);
		a->track = optarg;
		return 0;
	case 'f':
		a->force = true;
		return 0;
	case OPT_TCP_ESTABLISHED:
		if (!strcmp(a->cmd, "pre-dump"))
			return client_fail(a->cmd, a->json, EINVAL, EXIT_USAGE,
					   "--tcp-established: a pre-dump saves memory only; "
					   "give it to the final dump");
		a->tcp_established = true;
		return 0;
	case OPT_EXT_UNIX_SK:
		if (!strcmp(a->cmd, "pre-dump"))
			return client_fail(a->cmd, a->json, EINVAL, EXIT_USAGE,
					   "--ext-unix-sk: a pre-dump saves memory only; "
					   "give it to the final dump");
		a->ext_unix_sk = true;
		return 0;
	case OPT_SHELL_JOB:
		a->shell_job = true;
		return 0;
	case 'j':
		a->json = true;
		return 0;
	default:
		return client_bad_option(a->cmd, a->json, c, argv);
	}
}

static int parse_dump_args(int argc, char **argv, struct dump_args *a)
{
	static const struct option opts[] = {
		{ "tree", required_argument, NULL, 't' },
		{ "images-dir", required_argument, NULL, 'D' },
		{ "leave-running", no_argument, NULL, 'R' },
		{ "prev", required_argument, NULL, 'p' },
		{ "track", required_argument, NULL, 'T' },
		{ "force", no_argument, NULL, 'f' },
		{ "tcp-established", no_argument, NULL, OPT_TCP_ESTABLISHED },
		{ "ext-unix-sk", no_argument, NULL, OPT_EXT_UNIX_SK },
		{ "shell-job", no_argument, NULL, OPT_SHELL_JOB },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c, r;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":t:D:Rp:T:fjh", opts, NULL)) != -1) {
		if (c == 'h') {
			if (!strcmp(a->cmd, "pre-dump"))
				pre_dump_usage(stdout);
			else
				dump_usage(stdout);
			return EXIT_OK;
		}
		r = dump_option(a, c, argv);
		if (r)
			return r;
	}
	if (optind < argc)
		return client_fail(a->cmd, a->json, EINVAL, EXIT_USAGE,
				   "unexpected argument '%s'", argv[optind]);
	if (!a->pid || !a->dir)
		return client_fail(a->cmd, a->json, EINVAL, EXIT_USAGE,
				   "both -t PID and -D DIR are required (see 'ckptctl %s --help')",
				   a->cmd);
	return 1;
}

static int open_images_dir(const struct dump_args *a, int *ret_fd)
{
	int fd;

	if (mkdir(a->dir, 0700) < 0 && errno != EEXIST)
		return client_fail(a->cmd, a->json, errno, EXIT_FAIL,
				   "cannot create the image directory %s: %s", a->dir, strerror(errno));
	fd = open(a->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return client_fail(a->cmd, a->json, errno, EXIT_FAIL,
				   "cannot open the image directory %s: %s", a->dir, strerror(errno));
	*ret_fd = fd;
	return 0;
}

/* fds[0] is the image directory; open --prev (relative to it) into fds[1]
 * and the parents it names after it. *nr: how many fds in all. */
static int open_prev(const struct dump_args *a, int *fds, unsigned *nr)
{
	struct ckpt_err err = { 0 };
	unsigned n = 0;
	int r;

	*nr = 1;
	if (!a->prev)
		return 0;
	fds[1] = openat(fds[0], a->prev, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fds[1] < 0)
		return client_fail(a->cmd, a->json, errno, EXIT_FAIL,
				   "--prev %s: cannot open it (relative to %s): %s", a->prev,
				   a->dir, strerror(errno));
	r = chain_open_parents(fds[1], fds + 2, RPC_FDS_MAX - 2, &n, &err);
	if (r < 0) {
		close(fds[1]);
		return client_fail(a->cmd, a->json, -r, r == -EBADMSG ? EXIT_BADIMAGE : EXIT_FAIL,
				   "--prev %s: %s", a->prev, ckpt_err_msg(&err, r));
	}
	*nr = 2 + n;
	return 0;
}

static void print_json(const struct dump_args *a, const DumpResult *d)
{
	struct json j;

	json_init(&j, stdout, false);
	json_obj_begin(&j, NULL);
	json_i64(&j, "pid", a->pid);
	json_u64(&j, "tasks", d->tasks);
	json_u64(&j, "threads", d->threads);
	json_u64(&j, "pages", d->pages);
	json_u64(&j, "vmas", d->vmas);
	json_u64(&j, "fds", d->fds);
	json_u64(&j, "freeze_us", d->freeze_us);
	json_u64(&j, "total_us", d->total_us);
	json_u64(&j, "peak_rss_kb", d->peak_rss_kb);
	json_bool(&j, "restorable", !d->unrestorable);
	if (d->unrestorable)
		json_str(&j, "unrestorable", d->unrestorable);
	if (d->warnings)
		json_str(&j, "warnings", d->warnings);
	json_obj_end(&j);
	json_finish(&j);
}

static void print_result(const struct dump_args *a, const DumpResult *d)
{
	/* only a --leave-running dump keeps a set restore would refuse */
	if (d->unrestorable)
		fprintf(stderr, "ckptctl dump: warning: this image set cannot be restored: %s\n",
			d->unrestorable);
	if (d->warnings)
		fprintf(stderr, "ckptctl %s: warning: %s\n", a->cmd, d->warnings);
	if (a->json) {
		print_json(a, d);
		return;
	}
	printf("%s pid %ld into %s: %u tasks, %u threads, %llu pages, %u vmas, %u fds; "
	       "frozen %.3f ms, total %.3f ms\n",
	       strcmp(a->cmd, "pre-dump") ? "dumped" : "pre-dumped", a->pid, a->dir, d->tasks,
	       d->threads,
	       (unsigned long long)d->pages, d->vmas, d->fds, d->freeze_us / 1000.0,
	       d->total_us / 1000.0);
}

static int run_dump(const char *cmd, int argc, char **argv)
{
	struct dump_args a = { .cmd = cmd, .json = args_want_json(argc, argv) };
	DumpReq dreq = DUMP_REQ__INIT;
	RpcRequest req = RPC_REQUEST__INIT;
	_cleanup_close_ int dirfd = -EBADF;
	int fds[RPC_FDS_MAX];
	unsigned nr = 0;
	RpcResponse *resp;
	int r;

	r = parse_dump_args(argc, argv, &a);
	if (r != 1)
		return r;
	r = open_images_dir(&a, &dirfd);
	if (r)
		return r;
	fds[0] = dirfd;
	r = open_prev(&a, fds, &nr);
	if (r)
		return r;

	dreq.pid = a.pid;
	dreq.has_pre = true;
	dreq.pre = !strcmp(cmd, "pre-dump");
	dreq.track = (char *)a.track;
	dreq.prev = (char *)a.prev;
	dreq.has_leave_running = true;
	dreq.leave_running = a.leave_running;
	dreq.has_tcp_established = a.tcp_established;
	dreq.tcp_established = a.tcp_established;
	dreq.has_ext_unix_sk = a.ext_unix_sk;
	dreq.ext_unix_sk = a.ext_unix_sk;
	dreq.has_shell_job = a.shell_job;
	dreq.shell_job = a.shell_job;
	dreq.has_force = true;
	dreq.force = a.force;
	req.type = RPC_TYPE__RPC_DUMP;
	req.dump = &dreq;
	r = rpc_client_run_fds(cmd, a.json, &req, fds, nr, &resp);
	for (unsigned i = 1; i < nr; i++)
		close(fds[i]);
	if (r)
		return r;
	print_result(&a, resp->dump);
	rpc_response__free_unpacked(resp, NULL);
	return EXIT_OK;
}

int cmd_dump(int argc, char **argv)
{
	return run_dump("dump", argc, argv);
}

int cmd_pre_dump(int argc, char **argv)
{
	return run_dump("pre-dump", argc, argv);
}
