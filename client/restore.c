/* ckptctl restore -D DIR [--json] [--pidfile FILE] [--file-validation MODE]
 *
 * ckptd rebuilds the tree from the image directory (passed as an open fd,
 * with its parent sets after it for an incremental set: opened and checked
 * here, client/chain-open.h) and answers with the root's PID once every
 * task runs; it is printed, and written to FILE (atomically: a reader never
 * sees half a number). */
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client/chain-open.h"
#include "client/commands.h"
#include "client/rpc-client.h"
#include "client/shell-job.h"
#include "common/escape.h"
#include "common/util.h"
#include "images/json.h"

struct restore_args {
	const char *dir;
	const char *pidfile;
	const char *file_validation;	/* NULL: ckptd's default */
	const char *cgroup;		/* --cgroup: NULL, "dumped" or "requester" */
	bool lazy;
	bool tcp_established;
	bool ext_unix_sk;
	bool shell_job;		/* on our terminal, in our foreground */
	bool detach;		/* with shell_job: return once it runs */
	bool json;
};

/* The modes of --file-validation, as ckptd knows them
 * (restore_file_validation_parse); ckptd checks again. */
static const char *const file_validation_modes[] = { "default", "strict", "path" };

static bool file_validation_known(const char *mode)
{
	for (size_t i = 0; i < ARRAY_SIZE(file_validation_modes); i++)
		if (strcmp(mode, file_validation_modes[i]) == 0)
			return true;
	return false;
}

static void restore_usage(FILE *f)
{
	fprintf(f,
		"Usage: ckptctl restore -D DIR [--pidfile FILE] [--file-validation MODE]\n"
		"                       [--lazy] [--tcp-established] [--ext-unix-sk]\n"
		"                       [--shell-job [-d]]\n"
		"                       [--cgroup=dumped|requester] [--json]\n"
		"\n"
		"Restore the process tree saved in the image directory DIR, with the\n"
		"same PIDs, and print the PID of its root; standard error says which\n"
		"cgroup or systemd scope it runs in. An incremental set (dumped with\n"
		"--prev) is restored through its chain: its parent sets must be where\n"
		"--prev named them (or merge the chain with 'ckptctl merge').\n"
		"\n"
		"  -D, --images-dir DIR    the image set to restore\n"
		"  -p, --pidfile FILE      also write the root PID to FILE\n"
		"      --file-validation MODE\n"
		"                          how closely the files the image refers to must\n"
		"                          match it:\n"
		"                            default  executable and mapped files unchanged;\n"
		"                                     an open file the same one, it may have\n"
		"                                     grown, its saved offset still inside it\n"
		"                            strict   every file unchanged (device, inode,\n"
		"                                     size, mtime)\n"
		"                            path     a file of the same type at the same\n"
		"                                     path will do (a copy, on another host);\n"
		"                                     mapped files keep their size\n"
		"      --lazy              return as soon as every thread runs: large\n"
		"                          anonymous memory is brought in on demand, and in\n"
		"                          the background, by a lazy server process (see\n"
		"                          'ckptctl status'); if it dies, the tree is killed\n"
		"      --cgroup=WHERE      where each task goes: dumped (the default) puts\n"
		"                          it back in the cgroups it was dumped from, where\n"
		"                          they exist (and it may go), else as requester;\n"
		"                          requester puts the tree where a program you run\n"
		"                          goes (your cgroup, or a systemd scope)\n"
		"      --tcp-established   bring back the established TCP connections a dump\n"
		"                          with --tcp-established saved, and unlock them\n"
		"                          (root only)\n"
		"      --ext-unix-sk       connect the unix sockets a dump --ext-unix-sk\n"
		"                          saved to the paths of their peers outside the\n"
		"                          tree again (a stream: a new connection)\n"
		"      --shell-job         a set dumped with --shell-job: the job comes back\n"
		"                          on this terminal (standard input), termios\n"
		"                          restored. As root, on this session's terminal:\n"
		"                          in this session, as ckptctl's child (ckptctl\n"
		"                          starts its own ckptd), in the terminal's\n"
		"                          foreground; ckptctl waits for it like a shell\n"
		"                          and exits with its status (128+N: killed by\n"
		"                          signal N); ^Z stops both, fg resumes both.\n"
		"                          Otherwise outside this session: ckptctl stays\n"
		"                          in the foreground, passes ^C, ^\\, a hang-up and\n"
		"                          SIGTERM to the job's process group, and exits 0\n"
		"                          once its root is gone\n"
		"  -d, --detach            with --shell-job: return once the job runs; it\n"
		"                          keeps the terminal, outside this session\n"
		"  -j, --json              print the result (or the error) as JSON\n"
		"  -h, --help              show this help\n");
}

static int parse_restore_args(int argc, char **argv, struct restore_args *a)
{
	static const struct option opts[] = {
		{ "images-dir", required_argument, NULL, 'D' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "file-validation", required_argument, NULL, 'F' },
		{ "cgroup", required_argument, NULL, 'C' },
		{ "lazy", no_argument, NULL, 'L' },
		{ "tcp-established", no_argument, NULL, 'E' },
		{ "ext-unix-sk", no_argument, NULL, 'X' },
		{ "shell-job", no_argument, NULL, 'S' },
		{ "detach", no_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":D:p:djh", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			a->dir = optarg;
			break;
		case 'p':
			a->pidfile = optarg;
			break;
		case 'F':
			if (!file_validation_known(optarg))
				return client_fail("restore", a->json, EINVAL, EXIT_USAGE,
						   "unknown --file-validation mode '%s' (use "
						   "default, strict or path)", optarg);
			a->file_validation = optarg;
			break;
		case 'C':
			if (strcmp(optarg, "dumped") != 0 && strcmp(optarg, "requester") != 0)
				return client_fail("restore", a->json, EINVAL, EXIT_USAGE,
						   "unknown --cgroup '%s' (use dumped or requester)",
						   optarg);
			a->cgroup = optarg;
			break;
		case 'L':
			a->lazy = true;
			break;
		case 'X':
			a->ext_unix_sk = true;
			break;
		case 'E':
			a->tcp_established = true;
			break;
		case 'S':
			a->shell_job = true;
			break;
		case 'd':
			a->detach = true;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			restore_usage(stdout);
			return EXIT_OK;
		default:
			return client_bad_option("restore", a->json, c, argv);
		}
	}
	if (optind < argc)
		return client_fail("restore", a->json, EINVAL, EXIT_USAGE,
				   "unexpected argument '%s'", argv[optind]);
	if (!a->dir)
		return client_fail("restore", a->json, EINVAL, EXIT_USAGE,
				   "-D DIR is required (see 'ckptctl restore --help')");
	if (a->detach && !a->shell_job)
		return client_fail("restore", a->json, EINVAL, EXIT_USAGE,
				   "-d: a restore returns once the tree runs anyway; -d is for "
				   "--shell-job, which otherwise waits for the job");
	if (a->shell_job && shell_job_tty() < 0)
		return client_fail("restore", a->json, ENOTTY, EXIT_USAGE,
				   "--shell-job: standard input is not a terminal; run ckptctl "
				   "restore in the terminal the job should come back on");
	return 1;
}

/* Write "PID\n" to a temporary file beside path, then rename it over path.
 * The temporary gets a name no one can guess and is created with O_EXCL, so
 * a symlink or file planted beside path (in a directory someone else may
 * write) is never followed or reused; rename replaces path itself, never
 * what a symlink there points to. */
static int write_pidfile(const char *path, pid_t pid)
{
	char tmp[4096], line[32];
	_cleanup_close_ int fd = -EBADF;
	mode_t mask;
	int n, r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return negerrno();
	mask = umask(0);
	umask(mask);
	n = snprintf(line, sizeof(line), "%d\n", pid);
	r = fchmod(fd, 0644 & ~mask) < 0 ? negerrno() : 0;
	if (r == 0)
		r = write_full(fd, line, n);
	if (r == 0 && rename(tmp, path) < 0)
		r = negerrno();
	if (r < 0)
		unlink(tmp);
	return r;
}

static int finish(const struct restore_args *a, const RestoreResult *res)
{
	char where[4096];
	int r;

	if (a->pidfile) {
		r = write_pidfile(a->pidfile, res->pid);
		if (r < 0)
			return client_fail("restore", a->json, r, EXIT_FAIL,
					   "restored pid %d, but cannot write %s: %s", res->pid,
					   a->pidfile, strerror(-r));
	}
	if (a->json) {
		printf("{\"pid\":%d,\"tasks\":%u,\"pages\":%llu,\"ms\":%llu", res->pid,
		       res->tasks, (unsigned long long)res->pages, (unsigned long long)res->ms);
		if (res->cgroup) {
			fputs(",\"cgroup\":", stdout);
			json_write_string(stdout, res->cgroup, strlen(res->cgroup));
		}
		if (res->has_lazy_server)
			printf(",\"lazy_server\":%d,\"lazy_pages\":%llu", res->lazy_server,
			       (unsigned long long)res->lazy_pages);
		puts("}");
		return EXIT_OK;
	}
	printf("%d\n", res->pid);
	/* stdout stays the PID alone, for $(ckptctl restore ...) */
	if (res->cgroup)
		fprintf(stderr, "ckptctl restore: pid %d runs in %s\n", res->pid,
			ckpt_escape(where, sizeof(where), res->cgroup));
	if (res->has_lazy_server)
		fprintf(stderr, "ckptctl restore: %llu MiB arrive lazily, served by pid %d "
			"('ckptctl status' shows how far)\n",
			(unsigned long long)(res->lazy_pages * 4096 >> 20), res->lazy_server);
	else if (a->lazy)
		fprintf(stderr, "ckptctl restore: nothing was large enough to restore lazily: "
			"pid %d is whole already\n", res->pid);
	return EXIT_OK;
}

int cmd_restore(int argc, char **argv)
{
	struct restore_args a = { .json = args_want_json(argc, argv) };
	RestoreReq rreq = RESTORE_REQ__INIT;
	RpcRequest req = RPC_REQUEST__INIT;
	int fds[CHAIN_MAX + 1];
	struct chain chain;
	enum rpc_daemon how = RPC_DAEMON_ANY;
	bool ours = false;
	RpcResponse *resp;
	int r;

	r = parse_restore_args(argc, argv, &a);
	if (r != 1)
		return r;
	/* a missing, foreign or cyclic link, or a pre-dump, is refused here,
	 * before ckptd starts anything */
	r = client_open_chain("restore", a.json, a.dir, true, fds, &chain);
	if (r)
		return r;
	rreq.has_detach = true;
	rreq.detach = true;
	rreq.file_validation = (char *)a.file_validation;
	rreq.cgroup = (char *)a.cgroup;
	rreq.has_lazy = a.lazy;
	rreq.lazy = a.lazy;
	rreq.has_tcp_established = a.tcp_established;
	rreq.tcp_established = a.tcp_established;
	rreq.has_ext_unix_sk = a.ext_unix_sk;
	rreq.ext_unix_sk = a.ext_unix_sk;
	rreq.has_shell_job = a.shell_job;
	rreq.shell_job = a.shell_job;
	req.type = RPC_TYPE__RPC_RESTORE;
	req.restore = &rreq;
	if (a.shell_job) {	/* the terminal goes last */
		fds[chain.nr] = shell_job_tty();
		/* into our session (client/shell-job.c), or apart from it */
		how = RPC_DAEMON_APART;
		r = a.detach ? 0 : shell_job_adopt(fds[chain.nr]);
		if (r < 0) {
			client_close_chain(&chain);
			return client_fail("restore", a.json, r, EXIT_FAIL, "--shell-job: cannot "
					   "become a child subreaper: %s", strerror(-r));
		}
		if (r > 0)
			how = RPC_DAEMON_OURS;
	}
	r = rpc_client_run_how("restore", a.json, &req, fds, chain.nr + a.shell_job, how, &ours,
			       &resp);
	client_close_chain(&chain);
	if (r && how == RPC_DAEMON_OURS)	/* ckptd may have given the job the terminal */
		shell_job_take_tty(shell_job_tty(), 0);
	if (r)
		return r;
	r = finish(&a, resp->restore);
	if (r == EXIT_OK && a.shell_job && !a.detach) {
		pid_t pid = resp->restore->pid;

		fflush(stdout);
		r = ours ? shell_job_run(pid, shell_job_tty()) : shell_job_wait(pid);
		if (r < 0)
			r = client_fail("restore", a.json, -r, EXIT_FAIL, "restored pid %d, but "
					"cannot wait for it: %s", pid, strerror(-r));
	}
	rpc_response__free_unpacked(resp, NULL);
	return r;
}
