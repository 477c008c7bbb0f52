/* ckptd: the privileged half of ckpt.
 *
 *   ckptd                      socket-activated (one SOCK_SEQPACKET socket)
 *   ckptd --listen PATH        standalone, on a socket it creates
 *   ckptd --oneshot-fd N       one connection on an inherited socket, then exit
 *
 * Set up (socket, capabilities, kernel probe), tell systemd we are ready,
 * serve, tell systemd we stop. Requests are rpc.c's business. */
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>

#include "common/util.h"
#include "daemon/kerndat.h"
#include "daemon/ops.h"
#include "daemon/rpc.h"

#define IDLE_TIMEOUT_DEFAULT_S	60
#define MAX_CLIENTS		16
#define MAX_PER_USER_DEFAULT	4	/* dumps and restores of one uid at once */
/* A backstop, not a budget: waiting for the request is bounded (30 s) and
 * no image open can block (images/img.c), so this only ends a handler
 * wedged on something else (an image directory on a file system that never
 * answers a read, a peer that never reads). Long enough for any dump or
 * restore that makes progress: an hour moves ~350 GiB at 100 MB/s. */
#define HANDLER_TIMEOUT_DEFAULT_S 3600

struct ckptd {
	const char *listen_path;	/* --listen: created, removed at exit */
	int oneshot_fd;			/* --oneshot-fd, else -1 */
	int idle_timeout_s;		/* -1: the mode's default */
	int handler_timeout_s;		/* --handler-timeout */
	int max_per_user;		/* --max-per-user */
	struct kerndat kd;
	struct rpc_server srv;
};

/* What dump and restore need; everything else is dropped. */
static const cap_value_t keep_caps[] = {
	CAP_SYS_PTRACE, CAP_CHECKPOINT_RESTORE, CAP_SYS_ADMIN, CAP_KILL, CAP_SETUID,
	CAP_SETGID, CAP_SETPCAP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
	CAP_CHOWN, CAP_SYS_CHROOT, CAP_NET_ADMIN, CAP_SYS_NICE, CAP_SYS_RESOURCE,
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ckptd [--idle-timeout SEC] [--handler-timeout SEC] [--max-per-user N]\n"
		"                                   (socket-activated)\n"
		"       ckptd --listen PATH [--idle-timeout SEC] [--handler-timeout SEC]\n"
		"             [--max-per-user N]\n"
		"       ckptd --oneshot-fd N\n"
		"\n"
		"The ckpt checkpoint/restore daemon; ckptctl(1) is its client.\n"
		"\n"
		"  -l, --listen PATH        listen on a SOCK_SEQPACKET unix socket at PATH\n"
		"      --oneshot-fd N       serve the one connection on inherited fd N\n"
		"  -i, --idle-timeout SEC   exit after SEC seconds without a client\n"
		"                           (0: never; default 60 when socket-activated)\n"
		"  -t, --handler-timeout SEC  kill a request still running SEC seconds after\n"
		"                           its connection came (0: never; default 3600)\n"
		"  -u, --max-per-user N     dumps and restores one uid runs at once; more\n"
		"                           wait their turn (0: no limit; default 4; root\n"
		"                           is held only by the limit of 16 in all)\n"
		"  -h, --help               show this help\n"
		"  -V, --version            show the version\n"
		"\nSee ckptd(8).\n");
}

/* 1: run; 0: done (help, version); -EINVAL: bad usage (already said). */
static int parse_args(int argc, char **argv, struct ckptd *d)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "oneshot-fd", required_argument, NULL, 'o' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "handler-timeout", required_argument, NULL, 't' },
		{ "max-per-user", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	char *end;
	long v;
	int c;

	while ((c = getopt_long(argc, argv, "l:i:t:u:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			d->listen_path = optarg;
			break;
		case 'o':
		case 'i':
		case 't':
		case 'u':
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || v < 0 || v > 86400 * 365) {
				fprintf(stderr, "ckptd: invalid number '%s'\n", optarg);
				return -EINVAL;
			}
			if (c == 'o')
				d->oneshot_fd = v;
			else if (c == 't')
				d->handler_timeout_s = v;
			else if (c == 'u')
				d->max_per_user = v;
			else
				d->idle_timeout_s = v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("ckptd %s\n", CKPT_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'ckptd --help'.\n");
			return -EINVAL;
		}
	}
	if (optind < argc || (d->listen_path && d->oneshot_fd >= 0)) {
		fprintf(stderr, "ckptd: give at most one of --listen and --oneshot-fd, "
			"and no other arguments\nTry 'ckptd --help'.\n");
		return -EINVAL;
	}
	return 1;
}

static int drop_capabilities(void)
{
	cap_t have = cap_get_proc(), keep = cap_init();
	cap_flag_value_t v;
	int r = 0;

	if (!have || !keep) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(keep_caps); i++) {
		if (!CAP_IS_SUPPORTED(keep_caps[i]) ||
		    cap_get_flag(have, keep_caps[i], CAP_PERMITTED, &v) < 0 || v != CAP_SET)
			continue;	/* not ours to keep (CAP_SYS_RESOURCE here) */
		cap_set_flag(keep, CAP_PERMITTED, 1, &keep_caps[i], CAP_SET);
		cap_set_flag(keep, CAP_EFFECTIVE, 1, &keep_caps[i], CAP_SET);
	}
	/* Restore gives a process back the capabilities it had (capset in the
	 * blob needs them permitted here): keep every permitted capability,
	 * effective only the ones above. */
	for (cap_value_t c = 0; CAP_IS_SUPPORTED(c); c++)
		if (cap_get_flag(have, c, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
			cap_set_flag(keep, CAP_PERMITTED, 1, &c, CAP_SET);
	if (cap_set_proc(keep) < 0 || (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() < 0))
		r = negerrno();
out:
	cap_free(have);
	cap_free(keep);
	return r;
}

/* A stale socket file (nobody answers) is replaced; a live one is not. */
static int remove_stale_socket(const struct sockaddr_un *sa)
{
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct stat st;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : negerrno();
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	if (fd < 0)
		return negerrno();
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return -EADDRINUSE;
	if (errno != ECONNREFUSED)
		return negerrno();
	return unlink(sa->sun_path) < 0 ? negerrno() : 0;
}

static int listen_on(const char *path, int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -EBADF;
	char dir[sizeof(sa.sun_path)];
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST)
		return negerrno();
	r = remove_stale_socket(&sa);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negerrno();
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return negerrno();
	/* Anyone may connect: rpc.c decides what each peer may do. */
	if (chmod(path, 0666) < 0 || listen(fd, SOMAXCONN) < 0) {
		r = negerrno();
		unlink(path);
		return r;
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int activated_socket(int *ret_fd)
{
	int n = sd_listen_fds(1);
	int fd = SD_LISTEN_FDS_START;

	if (n < 0)
		return n;
	if (n != 1) {
		fprintf(stderr, "ckptd: expected one socket from systemd, got %d "
			"(use --listen PATH to run standalone)\n", n);
		return -EBADF;
	}
	if (sd_is_socket_unix(fd, SOCK_SEQPACKET, 1, NULL, 0) <= 0) {
		fprintf(stderr, "ckptd: the socket from systemd is not a listening "
			"SOCK_SEQPACKET unix socket\n");
		return -ENOTSOCK;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return negerrno();
	*ret_fd = fd;
	return 0;
}

static int oneshot_socket(int fd)
{
	if (sd_is_socket_unix(fd, SOCK_SEQPACKET, 0, NULL, 0) <= 0) {
		fprintf(stderr, "ckptd: fd %d is not a connected SOCK_SEQPACKET unix socket\n", fd);
		return -ENOTSOCK;
	}
	return fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ? negerrno() : 0;
}

static int setup(struct ckptd *d)
{
	int r;

	umask(0077);	/* images hold process memory: private by default */
	/* Started from a shell, ckptd sits in a background process group (the
	 * one-shot daemon leaves ckptctl's group): restoring a task onto the
	 * terminal must not stop the daemon with SIGTTOU. Restored tasks get
	 * every disposition from their image. */
	signal(SIGTTOU, SIG_IGN);
	signal(SIGTTIN, SIG_IGN);
	if (chdir("/") < 0)
		return negerrno();
	if (d->oneshot_fd >= 0)
		r = oneshot_socket(d->oneshot_fd);
	else if (d->listen_path)
		r = listen_on(d->listen_path, &d->srv.listen_fd);
	else
		r = activated_socket(&d->srv.listen_fd);
	if (r < 0) {
		if (d->listen_path)
			fprintf(stderr, "ckptd: cannot listen on %s: %s\n", d->listen_path,
				strerror(-r));
		return r;
	}
	r = drop_capabilities();
	if (r < 0) {
		fprintf(stderr, "ckptd: cannot drop capabilities: %s\n", strerror(-r));
		return r;
	}
	r = kerndat_probe(&d->kd);
	if (r < 0) {
		fprintf(stderr, "ckptd: cannot probe the kernel: %s\n", strerror(-r));
		return r;
	}
	if (d->idle_timeout_s < 0)
		d->idle_timeout_s = d->listen_path ? 0 : IDLE_TIMEOUT_DEFAULT_S;
	d->srv.idle_timeout_s = d->idle_timeout_s;
	d->srv.max_clients = MAX_CLIENTS;
	d->srv.max_per_user = d->max_per_user;
	if (d->oneshot_fd < 0) {
		r = ops_table_new(MAX_CLIENTS + RPC_LIGHT_EXTRA, &d->srv.ops);
		if (r < 0) {
			fprintf(stderr, "ckptd: cannot map the operations table: %s\n",
				strerror(-r));
			return r;
		}
	}
	/* WatchdogSec= in ckptd.service: the listener pats it (a one-shot
	 * ckptd is no service) */
	if (d->oneshot_fd < 0 && sd_watchdog_enabled(0, &d->srv.watchdog_us) <= 0)
		d->srv.watchdog_us = 0;
	d->srv.handler_timeout_s = d->handler_timeout_s;
	d->srv.log = d->oneshot_fd < 0;
	d->srv.kd = &d->kd;
	d->srv.pid = getpid();
	d->srv.parent = getppid();
	d->srv.mode = d->oneshot_fd >= 0 ? "oneshot" : d->listen_path ? "listen" :
		      "socket-activated";
	d->srv.started_us = now_us();
	return 0;
}

static int run(struct ckptd *d)
{
	int r;

	if (d->oneshot_fd >= 0)
		return rpc_serve_conn(&d->srv, d->oneshot_fd);
	r = rpc_serve_listener(&d->srv);
	if (r < 0)
		fprintf(stderr, "ckptd: %s\n", strerror(-r));
	if (d->listen_path)
		unlink(d->listen_path);
	return r;
}

int main(int argc, char **argv)
{
	struct ckptd d = { .oneshot_fd = -1, .idle_timeout_s = -1,
			   .handler_timeout_s = HANDLER_TIMEOUT_DEFAULT_S,
			   .max_per_user = MAX_PER_USER_DEFAULT, .srv.listen_fd = -1 };
	int r;

	r = parse_args(argc, argv, &d);
	if (r <= 0)
		return r < 0 ? 2 : EXIT_SUCCESS;
	r = setup(&d);
	if (r < 0)
		return EXIT_FAILURE;
	sd_notify(0, "READY=1");
	r = run(&d);
	sd_notify(0, "STOPPING=1");
	ops_table_free(d.srv.ops);

	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
