/* Reaching ckptd and talking to it.
 *
 * The daemon's socket is $CKPT_SOCKET or /run/ckpt/ckptd.sock. When nothing
 * answers there (no file, or a stale one) ckptctl starts a one-shot ckptd on
 * a socketpair: `ckptd --oneshot-fd 3`, found as $CKPTD or beside ckptctl's
 * own executable. An exec failure comes back through a close-on-exec pipe,
 * so "cannot start ckptd" is said before any request is sent. A caller may
 * ask for a one-shot ckptd first (in our session: restore --shell-job), or
 * for one in a session of its own (enum rpc_daemon). */
#include "client/rpc-client.h"

#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "client/commands.h"
#include "client/rate.h"
#include "common/escape.h"
#include "common/protocol.h"
#include "common/util.h"
#include "images/json.h"

#define ONESHOT_FD 3

struct rpc_client {
	int fd;
	pid_t daemon_pid;	/* a one-shot ckptd we started, else 0 */
	const char *cmd;	/* "dump", for messages and the progress line */
	bool json;		/* results and errors as JSON on stdout */
	bool progress_shown;	/* a progress line is on stderr */
	int cancel_signal;	/* the signal that asked to cancel, or 0 */
	const struct rpc_hold *hold;	/* a held dump's verdict, or NULL */
	bool held;		/* ckptd said "held" */
	struct rate rate;	/* of the "pages" stage, for the progress line */
};

/* What ckptctl's global options asked of every call to ckptd: -v/-vv and
 * --log-file. Set once by main (client_take_log_options) before the
 * command runs, only read afterwards; kept here rather than passed
 * through each of the commands' calls. */
static struct {
	unsigned verbosity;	/* lines shown on stderr: 1 info, 2 debug too */
	int fd;			/* --log-file (every line), or -1 */
} client_log = { .fd = -1 };

static void log_to_file(const char *cmd, double s, const char *text)
{
	if (client_log.fd >= 0)
		dprintf(client_log.fd, "ckptctl %s: [%7.3f s] %s\n", cmd, s, text);
}

int client_take_log_options(int *argc, char **argv)
{
	const char *file = NULL;
	int n = 1;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			while (i < *argc)
				argv[n++] = argv[i++];
			break;
		}
		if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
			client_log.verbosity++;
		else if (!strcmp(a, "-vv"))
			client_log.verbosity += 2;
		else if (!strncmp(a, "--log-file=", 11))
			file = a + 11;
		else if (!strcmp(a, "--log-file") && i + 1 < *argc)
			file = argv[++i];
		else if (!strcmp(a, "--log-file")) {
			fprintf(stderr, "ckptctl: --log-file needs an argument\n");
			return EXIT_USAGE;
		}
		else
			argv[n++] = argv[i];
	}
	argv[n] = NULL;
	*argc = n;
	if (client_log.verbosity > 2)
		client_log.verbosity = 2;
	if (!file)
		return 0;
	client_log.fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
	if (client_log.fd < 0) {
		fprintf(stderr, "ckptctl: --log-file %s: cannot open it: %s\n", file, strerror(errno));
		return EXIT_FAIL;
	}
	return 0;
}

int client_fail(const char *cmd, bool json, int err, int exit_code, const char *fmt, ...)
{
	char msg[1200], shown[1200];
	struct json j;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ckpt_escape(shown, sizeof(shown), msg);
	if (client_log.fd >= 0)
		dprintf(client_log.fd, "ckptctl %s: %s\n", cmd, shown);
	/* said once: a script asked for JSON reads it on stdout, a person
	 * reads stderr. ckptd's messages name what an image held: no control
	 * character reaches the terminal (JSON escapes them itself, and keeps
	 * the bytes) */
	if (!json) {
		fprintf(stderr, "ckptctl %s: %s\n", cmd, shown);
		return exit_code;
	}
	json_init(&j, stdout, false);
	json_obj_begin(&j, NULL);
	json_str(&j, "error", msg);
	json_i64(&j, "errno", err < 0 ? -err : err);
	json_obj_end(&j);
	json_finish(&j);
	return exit_code;
}

int client_bad_option(const char *cmd, bool json, int opt, char **argv)
{
	if (opt == ':')
		return client_fail(cmd, json, EINVAL, EXIT_USAGE, "%s needs an argument",
				   argv[optind - 1]);
	return client_fail(cmd, json, EINVAL, EXIT_USAGE,
			   "unknown option '%s' (see 'ckptctl %s --help')", argv[optind - 1], cmd);
}

/* The exit code for a daemon's answer err (negative errno) to request type. */
static int rpc_exit_code(RpcType type, int err)
{
	switch (err) {
	case 0:
		return EXIT_OK;
	case -EEXIST:
		return EXIT_EXISTS;
	case -ESRCH:
		return EXIT_NOTARGET;
	case -EPERM:	/* ckptd refuses the target (not the requester's, ckptd...) */
		return type == RPC_TYPE__RPC_DUMP ? EXIT_NOTARGET : EXIT_FAIL;
	/* a bad set (-ENODATA: an image file is missing from it); a file the
	 * set refers to being gone (-ENOENT) is a plain failure */
	case -EBADMSG:
	case -EPROTO:
	case -ENODATA:
	case -EPROTONOSUPPORT:
		return EXIT_BADIMAGE;
	case -EBADRQC:	/* ckptd could not take the request as it was */
		return EXIT_PROTOCOL;
	case -ENOTRECOVERABLE:	/* a dump restore would refuse, refused */
		return EXIT_UNRESTORABLE;
	case -ECANCELED:
		return EXIT_CANCELLED;
	default:
		return EXIT_FAIL;
	}
}

/* Report the daemon's error answer; returns its exit code. */
static int client_fail_resp(const struct rpc_client *c, const RpcResponse *resp)
{
	const char *msg = resp->message && resp->message[0] ? resp->message : strerror(-resp->err);

	return client_fail(c->cmd, c->json, resp->err, rpc_exit_code(resp->type, resp->err),
			   "%s", msg);
}

int client_parse_json_only(const char *cmd, int argc, char **argv, bool *json,
			   void (*usage)(FILE *))
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return client_bad_option(cmd, *json, c, argv);
		}
	}
	if (optind < argc)
		return client_fail(cmd, *json, EINVAL, EXIT_USAGE, "unexpected argument '%s'",
				   argv[optind]);
	return 1;
}

bool args_want_json(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--json"))
			return true;
	return false;
}

/* ---- reaching the daemon ----------------------------------------------- */

static int connect_socket(const char *path, int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -EBADF;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negerrno();
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return negerrno();
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int ckptd_path(char *buf, size_t len)
{
	const char *env = getenv("CKPTD");
	char self[PATH_MAX];
	ssize_t n;

	if (env && env[0]) {
		snprintf(buf, len, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return negerrno();
	self[n] = '\0';
	/* beside ckptctl (the build tree), else ../sbin (installed: bin/ckptctl
	 * and sbin/ckptd under one prefix) */
	if ((size_t)snprintf(buf, len, "%s/ckptd", dirname(self)) >= len)
		return -ENAMETOOLONG;
	if (access(buf, X_OK) == 0)
		return 0;
	if ((size_t)snprintf(buf, len, "%s/../sbin/ckptd", self) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static void exec_oneshot(const char *path, int sock, int errpipe, bool apart)
{
	char fdarg[16];
	int e;

	/* Out of the terminal's process group: a ^C meant for ckptctl must not
	 * kill the daemon half way through freezing or restoring a tree. Apart:
	 * out of our session too, and so is what it restores. */
	if (apart)
		setsid();
	else
		setpgid(0, 0);
	if (errpipe == ONESHOT_FD) {
		errpipe = fcntl(errpipe, F_DUPFD_CLOEXEC, ONESHOT_FD + 1);
		if (errpipe < 0)
			_exit(127);
	}
	/* dup2 onto fd 3 drops close-on-exec; if sock already is 3, drop it here */
	if (sock == ONESHOT_FD ? fcntl(sock, F_SETFD, 0) < 0 : dup2(sock, ONESHOT_FD) < 0)
		goto fail;
	snprintf(fdarg, sizeof(fdarg), "%d", ONESHOT_FD);
	execl(path, "ckptd", "--oneshot-fd", fdarg, (char *)NULL);
fail:
	e = errno;
	write(errpipe, &e, sizeof(e));
	_exit(127);
}

static int spawn_oneshot(struct rpc_client *c, const char *path, bool apart)
{
	int sv[2], pipefd[2], e;
	ssize_t n;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return negerrno();
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		e = negerrno();
		goto out_close_pair;
	}
	pid = fork();
	if (pid < 0) {
		e = negerrno();
		goto out_close_pipe;
	}
	if (pid == 0) {
		close(sv[0]);
		close(pipefd[0]);
		exec_oneshot(path, sv[1], pipefd[1], apart);
	}
	close(sv[1]);
	close(pipefd[1]);
	do
		n = read(pipefd[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n == sizeof(e)) {
		waitpid(pid, NULL, 0);
		close(sv[0]);
		return -e;
	}
	c->fd = sv[0];
	c->daemon_pid = pid;
	return 0;

out_close_pipe:
	close(pipefd[0]);
	close(pipefd[1]);
out_close_pair:
	close(sv[0]);
	close(sv[1]);
	return e;
}

const char *client_socket_path(void)
{
	const char *sock = getenv("CKPT_SOCKET");

	return sock && sock[0] ? sock : CKPT_SOCKET_DEFAULT;
}

int rpc_client_probe(void)
{
	int fd = -EBADF;
	int r = connect_socket(client_socket_path(), &fd);

	if (fd >= 0)
		close(fd);
	return r;
}

/* A one-shot ckptd of ours before the socket: the socket only if it can't
 * be started. 0, or the exit code of a failure, reported. */
static int open_ours_first(struct rpc_client *c, const char *cmd, bool json)
{
	const char *sock = client_socket_path();
	char path[PATH_MAX] = "ckptd";
	int r;

	r = ckptd_path(path, sizeof(path));
	if (r == 0)
		r = spawn_oneshot(c, path, false);
	if (r == 0)
		return 0;
	if (connect_socket(sock, &c->fd) == 0)
		return 0;
	return client_fail(cmd, json, r, EXIT_NODAEMON, "cannot start %s (%s), and no ckptd "
			   "answers at %s", path, strerror(-r), sock);
}

/* Connect to $CKPT_SOCKET (or the default socket); when nothing answers
 * there, start a one-shot ckptd ($CKPTD, or the one beside ckptctl) if
 * how allows (RPC_DAEMON_OURS: that one first). On failure the error is
 * reported and EXIT_NODAEMON returned; 0 on success. */
static int rpc_client_open(struct rpc_client *c, const char *cmd, bool json,
			   enum rpc_daemon how)
{
	const char *sock = client_socket_path();
	char path[PATH_MAX];
	int r;

	*c = (struct rpc_client){ .fd = -EBADF, .cmd = cmd, .json = json };
	if (how == RPC_DAEMON_OURS)
		return open_ours_first(c, cmd, json);
	r = connect_socket(sock, &c->fd);
	if (r == 0)
		return 0;
	if (how == RPC_DAEMON_SERVICE)
		return client_fail(cmd, json, r, EXIT_NODAEMON, "no ckptd answers at %s: %s", sock,
				   strerror(-r));
	if (r != -ENOENT && r != -ECONNREFUSED && r != -ENOTDIR)
		return client_fail(cmd, json, r, EXIT_NODAEMON, "cannot connect to ckptd at %s: %s",
				   sock, strerror(-r));
	r = ckptd_path(path, sizeof(path));
	if (r < 0)
		return client_fail(cmd, json, r, EXIT_NODAEMON, "cannot find ckptd: %s",
				   strerror(-r));
	r = spawn_oneshot(c, path, how == RPC_DAEMON_APART);
	if (r < 0)
		return client_fail(cmd, json, r, EXIT_NODAEMON, "no ckptd answers at %s, and "
				   "cannot start %s: %s", sock, path, strerror(-r));
	return 0;
}

/* Close the connection and reap a one-shot daemon. */
static void rpc_client_close(struct rpc_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -EBADF;
	if (c->daemon_pid > 0)
		while (waitpid(c->daemon_pid, NULL, 0) < 0 && errno == EINTR)
			;
	c->daemon_pid = 0;
}

/* ---- one call ---------------------------------------------------------- */

static int send_request(struct rpc_client *c, RpcRequest *req, const int *fds, unsigned nr_fds)
{
	size_t len = rpc_request__get_packed_size(req);
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(RPC_FDS_MAX * sizeof(int))];
	} ctl;
	uint8_t buf[RPC_MSG_MAX];
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (len > RPC_MSG_MAX || nr_fds > RPC_FDS_MAX)
		return -EMSGSIZE;
	rpc_request__pack(req, buf);
	if (nr_fds) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(nr_fds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nr_fds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nr_fds * sizeof(int));
	}
	if (sendmsg(c->fd, &mh, MSG_NOSIGNAL) != (ssize_t)len)
		return negerrno();
	return 0;
}

/* "dump: pages 12345/67890 (18%), 48.2 MiB of 265.2 MiB, 85.1 MiB/s,
 * 3 s left", redrawn in place, on a terminal only. The rate is the pages'
 * as they arrive here (client/rate.h); other stages show their count, or
 * only their name. */
static void show_progress(struct rpc_client *c, const Progress *p)
{
	char extra[128] = "";

	if (!isatty(STDERR_FILENO))
		return;
	if (p->total && !strcmp(p->stage, "pages")) {
		rate_add(&c->rate, now_us(), p->done, p->total);
		rate_format(&c->rate, sysconf(_SC_PAGESIZE), extra, sizeof(extra));
	}
	if (p->total)
		fprintf(stderr, "\r%s: %s %llu/%llu (%llu%%)%s\033[K", c->cmd, p->stage,
			(unsigned long long)p->done, (unsigned long long)p->total,
			(unsigned long long)(p->done >= p->total ? 100 : p->done * 100 / p->total),
			extra);
	else
		fprintf(stderr, "\r%s: %s\033[K", c->cmd, p->stage);
	c->progress_shown = true;
}

static void clear_progress(struct rpc_client *c)
{
	if (c->progress_shown)
		fputs("\r\033[K", stderr);
	c->progress_shown = false;
}

/* A line of ckptd's account: "ckptctl dump: [  0.012 s] freeze: 0.010 s"
 * on stderr at the verbosity asked for (above the progress line, which
 * the next progress redraws), and every line into the log file. */
static void show_log(struct rpc_client *c, const LogLine *l)
{
	char shown[1300];

	ckpt_escape(shown, sizeof(shown), l->text);
	log_to_file(c->cmd, l->us / 1e6, shown);
	if (l->level > client_log.verbosity)
		return;
	clear_progress(c);
	fprintf(stderr, "ckptctl %s: [%7.3f s] %s\n", c->cmd, l->us / 1e6, shown);
}

/* ---- cancelling a dump ------------------------------------------------ */

/* ^C, a kill or a hang-up while ckptd works on a dump cancels it: ckptctl
 * shuts down its side of the connection, which ckptd takes as "give up" at
 * its next stage (the tree then runs on and no set is written), and waits
 * on for the answer, which says what really happened: a dump already past
 * its last stage has finished. The signals are blocked but while waiting
 * in ppoll, so none is lost between a check and the wait. The flag is set
 * by the handler, hence global. */
static volatile sig_atomic_t cancel_requested;
static const int cancel_signals[] = { SIGINT, SIGTERM, SIGHUP };

struct cancel_guard {
	bool on;
	sigset_t waitmask;			/* the mask to wait with */
	sigset_t oldmask;
	struct sigaction old[ARRAY_SIZE(cancel_signals)];
};

static void on_cancel_signal(int sig)
{
	cancel_requested = sig;
}

static void cancel_guard_begin(struct cancel_guard *g, bool on)
{
	struct sigaction sa = { .sa_handler = on_cancel_signal };
	sigset_t block;

	g->on = on;
	sigprocmask(SIG_SETMASK, NULL, &g->oldmask);
	g->waitmask = g->oldmask;
	if (!on)
		return;
	cancel_requested = 0;
	sigemptyset(&block);
	for (size_t i = 0; i < ARRAY_SIZE(cancel_signals); i++) {
		sigaddset(&block, cancel_signals[i]);
		sigdelset(&g->waitmask, cancel_signals[i]);
	}
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigemptyset(&sa.sa_mask);
	/* a signal ignored from the start (nohup) stays ignored */
	for (size_t i = 0; i < ARRAY_SIZE(cancel_signals); i++)
		if (sigaction(cancel_signals[i], NULL, &g->old[i]) == 0 &&
		    g->old[i].sa_handler != SIG_IGN)
			sigaction(cancel_signals[i], &sa, NULL);
}

static void cancel_guard_end(struct cancel_guard *g)
{
	if (!g->on)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(cancel_signals); i++)
		sigaction(cancel_signals[i], &g->old[i], NULL);
	sigprocmask(SIG_SETMASK, &g->oldmask, NULL);
}

/* Wait until an answer can be read; a cancel signal meanwhile shuts down
 * our side of the connection once. */
static int wait_answer(struct rpc_client *c, struct cancel_guard *g)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	for (;;) {
		if (cancel_requested && !c->cancel_signal) {
			c->cancel_signal = cancel_requested;
			clear_progress(c);
			if (!strcmp(c->cmd, "restore"))
				fprintf(stderr, "ckptctl restore: %s: cancelling; nothing is restored "
					"unless the restore is already building the tree\n",
					strsignal(c->cancel_signal));
			else
				fprintf(stderr, "ckptctl %s: %s: cancelling; the tree is left running "
					"unless the dump has already finished\n", c->cmd,
					strsignal(c->cancel_signal));
			if (shutdown(c->fd, SHUT_WR) < 0)
				return negerrno();
		}
		if (ppoll(&p, 1, NULL, &g->waitmask) > 0)
			return 0;
		if (errno != EINTR)
			return negerrno();
	}
}

static int recv_response(struct rpc_client *c, uint8_t *buf, RpcResponse **ret_resp)
{
	ssize_t n;

	do
		n = recv(c->fd, buf, RPC_MSG_MAX, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return negerrno();
	if (n == 0)
		return -ECONNRESET;
	if ((size_t)n > RPC_MSG_MAX)
		return -EMSGSIZE;
	*ret_resp = rpc_response__unpack(NULL, n, buf);
	return *ret_resp ? 0 : -EBADMSG;
}

/* What a connection that closed without an answer means. A restore's
 * handler killed before the restore was committed takes the tree with it,
 * and the connection closes only once it is gone (daemon/restore-tree.c);
 * only a handler killed in the few system calls between the commit and
 * its answer leaves a tree running. */
static const char *lost_answer(RpcType type, bool held)
{
	if (held)
		return "ckptd died while it held the tree (the connection closed without an "
		       "answer); the kernel let the tree run on";
	if (type == RPC_TYPE__RPC_RESTORE)
		return "ckptd's handler died mid-restore (the connection closed without an "
		       "answer); nothing restored is left running";
	return "ckptd closed the connection without an answer";
}

/* Whether a cancel signal came. One still blocked is taken here, as if
 * its handler had run: left pending, it would be lost when a ppoll finds
 * the answer ready at once, and kill us when the guard ends. */
static bool cancel_pending(void)
{
	struct timespec zero = { 0 };
	sigset_t set;
	int sig;

	if (cancel_requested)
		return true;
	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(cancel_signals); i++)
		sigaddset(&set, cancel_signals[i]);
	sig = sigtimedwait(&set, NULL, &zero);
	if (sig > 0)
		cancel_requested = sig;
	return sig > 0;
}

/* A held dump waits for our verdict: held() decides, with the cancel
 * signals blocked; one of them arriving before the verdict is sent makes
 * it a no-go (the tree runs on). After a cancel already sent (our side
 * shut down) there is nothing to answer: ckptd lets the tree run on. A
 * verdict that cannot be sent is no go either: ckptd takes the hang-up
 * so. The final answer says what came of it. */
static void answer_hold(struct rpc_client *c)
{
	RpcRequest req = RPC_REQUEST__INIT;
	VerdictReq v = VERDICT_REQ__INIT;
	int ret;

	clear_progress(c);
	c->held = true;
	if (c->cancel_signal)
		return;
	ret = c->hold->held(c->hold->opaque);
	v.go = ret == 1 && !cancel_pending();
	req.type = RPC_TYPE__RPC_VERDICT;
	req.verdict = &v;
	req.has_version = true;
	req.version = RPC_PROTO_VERSION;
	send_request(c, &req, NULL, 0);
}

/* Send req (with its nr_fds fds attached) and wait for the final answer,
 * drawing progress on a terminal. On success *ret_resp is the answer (free
 * with rpc_response__free_unpacked), whatever its err. Failures of the
 * transport are reported; the return value is then an exit code > 0. */
static int rpc_client_call(struct rpc_client *c, RpcRequest *req, const int *fds,
			   unsigned nr_fds, RpcResponse **ret_resp)
{
	_cleanup_free_ uint8_t *buf = malloc(RPC_MSG_MAX);
	RpcResponse *resp = NULL;
	struct cancel_guard g;
	int r;

	if (!buf)
		return client_fail(c->cmd, c->json, -ENOMEM, EXIT_FAIL, "out of memory");
	req->has_version = true;
	req->version = RPC_PROTO_VERSION;
	/* the log file takes every line */
	req->verbosity = client_log.fd >= 0 ? 2 : client_log.verbosity;
	req->has_verbosity = req->verbosity > 0;
	cancel_guard_begin(&g, req->type == RPC_TYPE__RPC_DUMP ||
			   req->type == RPC_TYPE__RPC_RESTORE);
	r = send_request(c, req, fds, nr_fds);
	if (r < 0) {
		cancel_guard_end(&g);
		return client_fail(c->cmd, c->json, r, EXIT_NODAEMON,
				   "cannot send the request to ckptd: %s", strerror(-r));
	}
	for (;;) {
		r = wait_answer(c, &g);
		if (r == 0)
			r = recv_response(c, buf, &resp);
		if (r < 0)
			break;
		if (resp->type == RPC_TYPE__RPC_LOG && resp->log) {
			show_log(c, resp->log);
			rpc_response__free_unpacked(resp, NULL);
			continue;
		}
		if (resp->type != RPC_TYPE__RPC_PROGRESS)
			break;
		if (resp->progress && c->hold && !strcmp(resp->progress->stage, "held"))
			answer_hold(c);
		else if (resp->progress)
			show_progress(c, resp->progress);
		rpc_response__free_unpacked(resp, NULL);
	}
	cancel_guard_end(&g);
	clear_progress(c);
	if (r == -ECONNRESET)
		return client_fail(c->cmd, c->json, r, EXIT_FAIL, "%s",
				   lost_answer(req->type, c->held));
	if (r < 0)
		return client_fail(c->cmd, c->json, r, EXIT_PROTOCOL, "bad answer from ckptd: %s",
				   strerror(-r));
	*ret_resp = resp;
	return 0;
}

/* Whether the answer carries the result its request type calls for. */
static bool has_result(RpcType type, const RpcResponse *resp)
{
	switch (type) {
	case RPC_TYPE__RPC_DUMP:
		return resp->dump;
	case RPC_TYPE__RPC_RESTORE:
		return resp->restore;
	case RPC_TYPE__RPC_CHECK:
		return resp->check;
	case RPC_TYPE__RPC_STATUS:
		return resp->status;
	case RPC_TYPE__RPC_CANCEL:
		return resp->cancel;
	default:
		return true;
	}
}

static int run(const char *cmd, bool json, enum rpc_daemon how, RpcRequest *req,
	       const int *fds, unsigned nr_fds, const struct rpc_hold *hold, char *why,
	       size_t whylen, bool *ret_ours, RpcResponse **ret_resp)
{
	struct rpc_client c;
	RpcResponse *resp = NULL;
	int r;

	r = rpc_client_open(&c, cmd, json, how);
	if (r)
		return r;
	if (ret_ours)
		*ret_ours = c.daemon_pid > 0;
	c.hold = hold;
	r = rpc_client_call(&c, req, fds, nr_fds, &resp);
	rpc_client_close(&c);
	if (r)
		return r;
	/* an errno is 1..4095: anything else is no answer ckptd gives */
	if (resp->err > 0 || resp->err < -4095) {
		int bad = resp->err;

		rpc_response__free_unpacked(resp, NULL);
		return client_fail(cmd, json, EBADMSG, EXIT_PROTOCOL,
				   "bad answer from ckptd: error code %d", bad);
	}
	if (c.cancel_signal && resp->err == 0)
		fprintf(stderr, "ckptctl %s: the cancel came too late: the %s had already "
			"gone too far to stop, and succeeded\n", cmd, cmd);
	else if (resp->cancelled_by && resp->err == 0)
		fprintf(stderr, "ckptctl %s: %s asked to cancel it, too late: the %s had "
			"already gone too far to stop, and succeeded\n", cmd, resp->cancelled_by,
			cmd);

	if (resp->err < 0 && why)
		snprintf(why, whylen, "%s", resp->message && resp->message[0] ?
			 resp->message : strerror(-resp->err));
	if (resp->err < 0)
		r = client_fail_resp(&c, resp);
	else if (!has_result(req->type, resp))
		r = client_fail(cmd, json, EBADMSG, EXIT_PROTOCOL, "ckptd's answer lacks the result");
	if (r) {
		rpc_response__free_unpacked(resp, NULL);
		return r;
	}
	*ret_resp = resp;
	return 0;
}

int rpc_client_run(const char *cmd, bool json, RpcRequest *req, int dirfd,
		   RpcResponse **ret_resp)
{
	return run(cmd, json, RPC_DAEMON_ANY, req, &dirfd, dirfd >= 0, NULL, NULL, 0, NULL,
		   ret_resp);
}

int rpc_client_run_fds(const char *cmd, bool json, RpcRequest *req, const int *fds,
		       unsigned nr_fds, RpcResponse **ret_resp)
{
	return run(cmd, json, RPC_DAEMON_ANY, req, fds, nr_fds, NULL, NULL, 0, NULL, ret_resp);
}

int rpc_client_run_how(const char *cmd, bool json, RpcRequest *req, const int *fds,
		       unsigned nr_fds, enum rpc_daemon how, bool *ret_ours, RpcResponse **ret_resp)
{
	return run(cmd, json, how, req, fds, nr_fds, NULL, NULL, 0, ret_ours, ret_resp);
}

int rpc_client_run_hold(const char *cmd, bool json, RpcRequest *req, const int *fds,
			unsigned nr_fds, const struct rpc_hold *hold, RpcResponse **ret_resp)
{
	return run(cmd, json, RPC_DAEMON_ANY, req, fds, nr_fds, hold, NULL, 0, NULL, ret_resp);
}

int rpc_client_ask_service(const char *cmd, bool json, RpcRequest *req, RpcResponse **ret_resp)
{
	return run(cmd, json, RPC_DAEMON_SERVICE, req, NULL, 0, NULL, NULL, 0, NULL, ret_resp);
}

int rpc_client_run_why(const char *cmd, bool json, RpcRequest *req, const int *fds,
		       unsigned nr_fds, char *why, size_t len, RpcResponse **ret_resp)
{
	return run(cmd, json, RPC_DAEMON_ANY, req, fds, nr_fds, NULL, why, len, NULL, ret_resp);
}
