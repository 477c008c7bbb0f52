/* ckptd's listening loop: accept, queue, fork a handler per connection,
 * reap, and stop cleanly (daemon/rpc.h). The requests themselves are
 * rpc.c's.
 *
 * The listener accepts every connection at once and reads its SO_PEERCRED;
 * the connection then waits in the queue (waitq.h) until the limits let it
 * through: max_clients dumps and restores at once, max_per_user of them
 * for one uid (root is held only by max_clients: it is the administrator,
 * who may have to act while users fill their share). A request peeked at
 * and found quick (check, status, cancel) skips the per-uid limit and has
 * RPC_LIGHT_EXTRA slots of its own, so a user at the limit can still
 * cancel, and root can always look. A waiting client that hangs up is
 * dropped without running. The loop also pats the watchdog and tells
 * systemd what is in flight (STATUS=). */
#include "daemon/rpc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/util.h"
#include "daemon/ops.h"
#include "daemon/waitq.h"
#include "rpc.pb-c.h"

/* Read pending signals: true when asked to stop. */
static bool read_signals(int sfd, bool *child)
{
	struct signalfd_siginfo si;
	bool stop = false;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			*child = true;
		else
			stop = true;
	}
	return stop;
}

#define STOP_GRACE_S		10	/* SIGTERM: handlers get this long to stop */
#define STATUS_REFRESH_US	1000000	/* STATUS= looked at once a second */

struct listener {
	const struct rpc_server *srv;
	int sfd;
	const sigset_t *oldmask;
	unsigned active;		/* handlers running */
	uint64_t idle_since;
	uint64_t watchdog_due;		/* 0: no watchdog */
	uint8_t *peek;			/* RPC_MSG_MAX bytes for peeking at requests */
	char status[1024];		/* the last STATUS= sent */
	struct waitq q;
};

/* An answer from the listener itself, to a connection it will not serve. */
static void answer_unserved(int fd, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void answer_unserved(int fd, int err, const char *fmt, ...)
{
	RpcResponse resp = RPC_RESPONSE__INIT;
	uint8_t buf[1400];
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* the request, if it came, is read and dropped first: closing a unix
	 * socket with unread data resets the connection, and the peer would
	 * never read the answer */
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC) > 0)
		;
	resp.type = RPC_TYPE__RPC_STATUS;
	resp.err = err;
	resp.message = msg;

	if (rpc_response__get_packed_size(&resp) <= sizeof(buf))
		send(fd, buf, rpc_response__pack(&resp, buf), MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void reap_one(struct listener *l, pid_t pid, int status)
{
	const struct rpc_server *srv = l->srv;

	if (!ops_release(srv->ops, pid))
		return;		/* not a handler */
	l->active--;
	if (l->active == 0)
		l->idle_since = now_us();
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM && srv->log)
		fprintf(stderr, "ckptd: connection handler %d killed: still running after "
			"%u s (--handler-timeout)\n", pid, srv->handler_timeout_s);
	else if (WIFSIGNALED(status) && srv->log)
		fprintf(stderr, "ckptd: connection handler %d killed by signal %d\n", pid,
			WTERMSIG(status));
}

static void reap_children(struct listener *l, bool block)
{
	int status;
	pid_t pid;

	while (l->active > 0 && (pid = waitpid(-1, &status, block ? 0 : WNOHANG)) != 0) {
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			l->active = 0;	/* ECHILD: none left, whatever we counted */
			break;
		}
		reap_one(l, pid, status);
	}
}

/* Whether a waiting request is a quick one, once it has arrived. The peek
 * leaves it (and its fd) in the socket for the handler. */
static void classify(struct listener *l, struct waiting *w)
{
	RpcRequest *req;
	ssize_t n;

	if (w->class != WAITQ_UNKNOWN)
		return;
	n = recv(w->fd, l->peek, RPC_MSG_MAX, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
	if (n <= 0 || (size_t)n > RPC_MSG_MAX) {
		if (n >= 0)
			w->class = WAITQ_HEAVY;	/* the handler will refuse it */
		return;
	}

	req = rpc_request__unpack(NULL, n, l->peek);
	w->class = req && (req->type == RPC_TYPE__RPC_CHECK || req->type == RPC_TYPE__RPC_STATUS ||
			   req->type == RPC_TYPE__RPC_CANCEL) ? WAITQ_LIGHT : WAITQ_HEAVY;
	if (req)
		rpc_request__free_unpacked(req, NULL);
}

static bool may_start(const struct listener *l, const struct waiting *w)
{
	const struct rpc_server *srv = l->srv;

	if (l->active >= ops_size(srv->ops))
		return false;
	if (w->class == WAITQ_LIGHT)
		return true;
	if (ops_count(srv->ops, true, false, 0) >= srv->max_clients)
		return false;
	if (w->uid == 0 || srv->max_per_user == 0)
		return true;
	return ops_count(srv->ops, true, true, w->uid) < srv->max_per_user;
}

/* Fork the handler of waiting connection i. */
static int start_handler(struct listener *l, unsigned i)
{
	const struct rpc_server *srv = l->srv;
	struct waiting w = waitq_take(&l->q, i);
	int slot, r;
	pid_t pid;

	slot = ops_claim(srv->ops, w.uid, w.pid, w.class != WAITQ_LIGHT, now_us());
	if (slot < 0) {
		r = slot;
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		r = negerrno();
		ops_release_slot(srv->ops, slot);
		goto fail;
	}
	if (pid == 0) {
		close(l->sfd);
		close(srv->listen_fd);
		for (unsigned k = 0; k < l->q.n; k++)
			close(l->q.w[k].fd);	/* other clients' hang-ups stay theirs */
		sigprocmask(SIG_SETMASK, l->oldmask, NULL);
		_exit(rpc_serve_handler(srv, w.fd, slot) < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
	}
	ops_set_handler(srv->ops, slot, pid);
	close(w.fd);
	l->active++;
	return 0;
fail:
	answer_unserved(w.fd, r, "ckptd cannot start a handler for the request: %s", strerror(-r));
	close(w.fd);
	return r;
}

/* Start every waiting request the limits let through, in arrival order. */
static void pump(struct listener *l)
{
	for (unsigned i = 0; i < l->q.n;) {
		classify(l, &l->q.w[i]);
		if (may_start(l, &l->q.w[i]))
			start_handler(l, i);
		else
			i++;
	}
	ops_set_queued(l->srv->ops, l->q.n);
}

static void accept_one(struct listener *l)
{
	const struct rpc_server *srv = l->srv;
	struct waiting w = { .fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC) };
	struct ucred uc;
	socklen_t len = sizeof(uc);
	unsigned running;

	if (w.fd < 0) {
		if (errno != EAGAIN && errno != ECONNABORTED && errno != EINTR && srv->log)
			fprintf(stderr, "ckptd: cannot accept a connection: %s\n", strerror(errno));
		return;
	}
	if (getsockopt(w.fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0) {
		close(w.fd);
		return;
	}
	w.uid = uc.uid;
	w.pid = uc.pid;
	w.since_us = now_us();
	if (waitq_count_uid(&l->q, w.uid) >= WAITQ_PER_UID || waitq_push(&l->q, &w) < 0) {
		answer_unserved(w.fd, -EAGAIN, "uid %u already has %u requests waiting for ckptd; "
				"try again once some have ended", w.uid, WAITQ_PER_UID);
		close(w.fd);
		return;
	}
	pump(l);
	if (l->q.n && l->q.w[l->q.n - 1].fd == w.fd && srv->log) {
		running = ops_count(srv->ops, true, true, w.uid);
		if (running >= srv->max_per_user && w.uid != 0 && srv->max_per_user)
			fprintf(stderr, "ckptd: request of uid %u (pid %d) waits: uid %u has %u "
				"requests running (--max-per-user %u)\n", w.uid, w.pid, w.uid,
				running, srv->max_per_user);
		else
			fprintf(stderr, "ckptd: request of uid %u (pid %d) waits: %u requests "
				"running (at most %u)\n", w.uid, w.pid,
				ops_count(srv->ops, true, false, 0), srv->max_clients);
	}
}

/* A waiting client that hung up, or shut down its side (ckptctl's ^C),
 * gave up: it is dropped, its request never runs. */
static void drop_waiting(struct listener *l, unsigned i, int err, const char *why)
{
	struct waiting w = waitq_take(&l->q, i);

	answer_unserved(w.fd, err, "%s", why);
	close(w.fd);
	if (l->srv->log)
		fprintf(stderr, "ckptd: request of uid %u (pid %d) dropped: %s\n", w.uid, w.pid,
			why);
	ops_set_queued(l->srv->ops, l->q.n);
}

/* "2 operations: dump of pid 123 for uid 1000 (pages 40%), ...; 1 waiting"
 * or "idle", to systemd when it changed. */
static void notify_status(struct listener *l, const char *prefix)
{
	char buf[sizeof(l->status)], one[512];
	size_t len = 0;
	unsigned n = 0;
	struct op op;

	for (int i = 0; i < (int)ops_size(l->srv->ops); i++)
		if (ops_read(l->srv->ops, i, &op) && op.kind != OP_WAITING &&
		    op.kind != OP_STATUS && op.kind != OP_CANCEL)
			n++;
	len = snprintf(buf, sizeof(buf), "%s", prefix);
	if (n == 0 && l->q.n == 0)
		len += snprintf(buf + len, sizeof(buf) - len, "idle");
	else
		len += snprintf(buf + len, sizeof(buf) - len, "%u operation%s", n,
				n == 1 ? "" : "s");
	for (int i = 0, k = 0; i < (int)ops_size(l->srv->ops) && len < sizeof(buf); i++) {
		if (!ops_read(l->srv->ops, i, &op) || op.kind == OP_WAITING ||
		    op.kind == OP_STATUS || op.kind == OP_CANCEL)
			continue;
		op_describe(&op, one, sizeof(one));
		len += snprintf(buf + len, sizeof(buf) - len, "%s%s", k++ ? ", " : ": ", one);
	}
	if (l->q.n && len < sizeof(buf))
		snprintf(buf + len, sizeof(buf) - len, "; %u waiting", l->q.n);
	if (strcmp(buf, l->status)) {
		memcpy(l->status, buf, sizeof(buf));
		sd_notifyf(0, "STATUS=%s", buf);
	}
}

static void pat_watchdog(struct listener *l)
{
	uint64_t now = now_us();

	if (l->watchdog_due && now >= l->watchdog_due) {
		sd_notify(0, "WATCHDOG=1");
		l->watchdog_due = now + l->srv->watchdog_us / 2;
	}
}

/* Milliseconds until the earliest of the deadline (0: none), the watchdog
 * and, with work in flight, the next look at STATUS=; -1: none. */
static int next_timeout(const struct listener *l, uint64_t deadline)
{
	uint64_t now = now_us(), due = deadline;

	if (l->watchdog_due && (!due || l->watchdog_due < due))
		due = l->watchdog_due;
	if ((l->active || l->q.n) && (!due || now + STATUS_REFRESH_US < due))
		due = now + STATUS_REFRESH_US;
	if (!due)
		return -1;
	return due <= now ? 0 : (int)MIN((due - now + 999) / 1000, (uint64_t)INT32_MAX);
}

/* SIGTERM: serve no one more, cancel everything in flight, give the
 * handlers STOP_GRACE_S to stop (a cancelled dump releases its tree
 * running), then kill the rest (a killed dump handler's tree is detached
 * by the kernel and runs on). */
static void stop(struct listener *l)
{
	const struct rpc_server *srv = l->srv;
	uint64_t deadline = now_us() + STOP_GRACE_S * 1000000ull;
	unsigned n = 0;
	struct op op;

	while (l->q.n)
		drop_waiting(l, l->q.n - 1, -ECANCELED,
			     "ckptd is stopping: the request was not served, nothing was done");
	/* a handler still waiting for its request has done nothing: it goes
	 * at once; the others are asked to stop */
	for (int i = 0; i < (int)ops_size(srv->ops); i++) {
		if (!ops_read(srv->ops, i, &op))
			continue;
		if (op.kind == OP_WAITING && op.handler > 0)
			kill(op.handler, SIGKILL);
		else if (ops_cancel(srv->ops, i, 0, srv->pid) == 0)
			n++;
	}

	if (srv->log && l->active)
		fprintf(stderr, "ckptd: stopping: %u operations cancelled, waiting up to %d s "
			"for %u handlers\n", n, STOP_GRACE_S, l->active);
	while (l->active && now_us() < deadline) {
		struct pollfd p = { .fd = l->sfd, .events = POLLIN };
		bool child = false;

		notify_status(l, "stopping: ");
		if (poll(&p, 1, next_timeout(l, deadline)) > 0)
			read_signals(l->sfd, &child);
		reap_children(l, false);
		pat_watchdog(l);
	}
	for (int i = 0; l->active && i < (int)ops_size(srv->ops); i++)
		if (ops_read(srv->ops, i, &op) && op.handler > 0) {
			if (srv->log)
				fprintf(stderr, "ckptd: stopping: handler %d still runs after %d s, "
					"killing it\n", op.handler, STOP_GRACE_S);
			kill(op.handler, SIGKILL);
		}
	reap_children(l, true);
}

static int serve_loop(struct listener *l)
{
	const struct rpc_server *srv = l->srv;
	struct pollfd p[2 + WAITQ_MAX];

	for (;;) {
		uint64_t deadline = 0;
		unsigned np = 0;
		bool child = false;
		int r;

		if (srv->idle_timeout_s > 0 && l->active == 0 && l->q.n == 0) {
			deadline = l->idle_since + (uint64_t)srv->idle_timeout_s * 1000000;
			if (now_us() >= deadline)
				return 0;
		}
		p[np++] = (struct pollfd){ .fd = l->sfd, .events = POLLIN };
		if (l->q.n < WAITQ_MAX)
			p[np++] = (struct pollfd){ .fd = srv->listen_fd, .events = POLLIN };
		else
			p[np++] = (struct pollfd){ .fd = -1 };
		/* a waiting request's arrival (POLLIN) matters only until it is
		 * classified: it then stays readable for its handler */
		for (unsigned i = 0; i < l->q.n; i++)
			p[np++] = (struct pollfd){ .fd = l->q.w[i].fd, .events = POLLRDHUP |
				(l->q.w[i].class == WAITQ_UNKNOWN ? POLLIN : 0) };
		r = poll(p, np, next_timeout(l, deadline));
		if (r < 0 && errno != EINTR)
			return negerrno();
		pat_watchdog(l);
		if (r > 0 && (p[0].revents & POLLIN) && read_signals(l->sfd, &child)) {
			stop(l);
			return 0;
		}
		reap_children(l, false);
		for (unsigned i = np - 2; r > 0 && i-- > 0;) {
			if (p[2 + i].revents & (POLLHUP | POLLERR | POLLRDHUP))
				drop_waiting(l, i, -ECANCELED, "cancelled while waiting for its turn: "
					     "the client hung up, nothing was done");
		}
		if (r > 0 && (p[1].revents & POLLIN))
			accept_one(l);
		pump(l);
		notify_status(l, "");
	}
}

int rpc_serve_listener(const struct rpc_server *srv)
{
	_cleanup_free_ struct listener *l = calloc(1, sizeof(*l));
	_cleanup_free_ uint8_t *peek = malloc(RPC_MSG_MAX);
	_cleanup_close_ int sfd = -EBADF;
	sigset_t mask, oldmask;
	int flags, r;

	if (!l || !peek)
		return -ENOMEM;
	flags = fcntl(srv->listen_fd, F_GETFL);
	if (flags < 0 || fcntl(srv->listen_fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return negerrno();
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, &oldmask) < 0)
		return negerrno();
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		r = negerrno();
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		return r;
	}
	*l = (struct listener){
		.srv = srv, .sfd = sfd, .oldmask = &oldmask, .peek = peek,
		.idle_since = now_us(),
		.watchdog_due = srv->watchdog_us ? now_us() : 0,
	};
	r = serve_loop(l);
	while (l->q.n)
		close(waitq_take(&l->q, l->q.n - 1).fd);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	return r;
}
