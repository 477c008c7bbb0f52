/* ckptctl dump -t PID -D DIR [--leave-running] [--force] [--json]
 *
 * The image directory is created here (0700) and handed to ckptd as an open
 * fd: the daemon writes only into what the user could open. */
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>

#include "client/commands.h"
#include "client/rpc-client.h"
#include "common/util.h"
#include "images/json.h"

struct dump_args {
	long pid;
	const char *dir;
	bool leave_running, force, json;
};

static void dump_usage(FILE *f)
{
	fprintf(f,
		"Usage: ckptctl dump -t PID -D DIR [--leave-running] [--force] [--json]\n"
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
		"  -R, --leave-running   let the tree run on after the dump\n"
		"  -f, --force           replace an image set already in DIR\n"
		"  -j, --json            print the result (or the error) as JSON\n"
		"  -h, --help            show this help\n");
}

/* 1: go on; otherwise the exit code (help: EXIT_OK, bad usage: EXIT_USAGE). */
static int parse_dump_args(int argc, char **argv, struct dump_args *a)
{
	static const struct option opts[] = {
		{ "tree", required_argument, NULL, 't' },
		{ "images-dir", required_argument, NULL, 'D' },
		{ "leave-running", no_argument, NULL, 'R' },
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	char *end;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":t:D:Rfjh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			a->pid = strtol(optarg, &end, 10);
			if (!*optarg || *end || a->pid <= 0 || a->pid > INT32_MAX)
				return client_fail("dump", a->json, EINVAL, EXIT_USAGE,
						   "invalid pid '%s'", optarg);
			break;
		case 'D':
			a->dir = optarg;
			break;
		case 'R':
			a->leave_running = true;
			break;
		case 'f':
			a->force = true;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			dump_usage(stdout);
			return EXIT_OK;
		default:
			return client_bad_option("dump", a->json, c, argv);
		}
	}
	if (optind < argc)
		return client_fail("dump", a->json, EINVAL, EXIT_USAGE,
				   "unexpected argument '%s'", argv[optind]);
	if (!a->pid || !a->dir)
		return client_fail("dump", a->json, EINVAL, EXIT_USAGE,
				   "both -t PID and -D DIR are required (see 'ckptctl dump --help')");
	return 1;
}

static int open_images_dir(const struct dump_args *a, int *ret_fd)
{
	int fd;

	if (mkdir(a->dir, 0700) < 0 && errno != EEXIST)
		return client_fail("dump", a->json, errno, EXIT_FAIL,
				   "cannot create the image directory %s: %s", a->dir, strerror(errno));
	fd = open(a->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return client_fail("dump", a->json, errno, EXIT_FAIL,
				   "cannot open the image directory %s: %s", a->dir, strerror(errno));
	*ret_fd = fd;
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
	json_obj_end(&j);
	json_finish(&j);
}

static void print_result(const struct dump_args *a, const DumpResult *d)
{
	/* only a --leave-running dump keeps a set restore would refuse */
	if (d->unrestorable)
		fprintf(stderr, "ckptctl dump: warning: this image set cannot be restored: %s\n",
			d->unrestorable);
	if (a->json) {
		print_json(a, d);
		return;
	}
	printf("dumped pid %ld into %s: %u tasks, %u threads, %llu pages, %u vmas, %u fds; "
	       "frozen %.3f ms, total %.3f ms\n", a->pid, a->dir, d->tasks, d->threads,
	       (unsigned long long)d->pages, d->vmas, d->fds, d->freeze_us / 1000.0,
	       d->total_us / 1000.0);
}

int cmd_dump(int argc, char **argv)
{
	struct dump_args a = { .json = args_want_json(argc, argv) };
	DumpReq dreq = DUMP_REQ__INIT;
	RpcRequest req = RPC_REQUEST__INIT;
	_cleanup_close_ int dirfd = -EBADF;
	RpcResponse *resp;
	int r;

	r = parse_dump_args(argc, argv, &a);
	if (r != 1)
		return r;
	r = open_images_dir(&a, &dirfd);
	if (r)
		return r;

	dreq.pid = a.pid;
	dreq.has_leave_running = true;
	dreq.leave_running = a.leave_running;
	dreq.has_force = true;
	dreq.force = a.force;
	req.type = RPC_TYPE__RPC_DUMP;
	req.dump = &dreq;
	r = rpc_client_run("dump", a.json, &req, dirfd, &resp);
	if (r)
		return r;
	print_result(&a, resp->dump);
	rpc_response__free_unpacked(resp, NULL);
	return EXIT_OK;
}
