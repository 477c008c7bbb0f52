/* ckptd's requests: receive, authorize, run, answer.
 *
 * Trust: who may connect is the socket's business (ckptd.socket: root and
 * the group ckpt by default); whatever a request may do is decided here
 * (authorize.c) from the peer's SO_PEERCRED. Root may dump any process; anyone
 * else only processes (and their descendants) whose every uid and gid equals
 * theirs and that are dumpable, into a directory they may write, and restores
 * only under their own credentials. The tree may change until it is frozen,
 * so freeze.c checks its ownership again once nothing in it runs. For such a
 * requester the connection's handler also takes the requester's file-system
 * identity (fsuid, fsgid, groups), so images are created as the requester
 * and every file the engine opens is checked against the requester's rights,
 * not root's.
 *
 * A listening daemon serves each connection in a forked child: a crash in the
 * engine loses one request, never the daemon, and credentials taken for one
 * requester die with the child. */
#include "daemon/rpc.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/authorize.h"
#include "daemon/dump.h"
#include "daemon/files/socket-tcp.h"
#include "daemon/hold.h"
#include "daemon/journal.h"
#include "daemon/kerndat.h"
#include "daemon/lazy.h"
#include "daemon/ops.h"
#include "daemon/restore.h"
#include "daemon/track/track.h"
#include "rpc.pb-c.h"

#define RPC_REQUEST_TIMEOUT_S	30	/* a connection must send its request by then */
#define PROGRESS_INTERVAL_US	100000	/* at most ten progress messages a second */

/* The fds a request brought: [0] the image directory, then the parent sets
 * of its chain, nearest first (common/protocol.h). */
struct rpc_fds {
	int fd[RPC_FDS_MAX];
	unsigned nr;
};

struct conn {
	const struct rpc_server *srv;
	int fd;
	struct peer peer;
	int slot;		/* in srv->ops, or -1 (a one-shot daemon) */
	char stage[64];		/* last progress sent */
	uint64_t progress_us;
	bool gone;		/* the client stopped listening */
	/* the requester's account (rpc_request.verbosity, RPC_LOG) */
	unsigned verbosity;	/* 0: none asked for */
	uint64_t t0_us;		/* when the request came */
	char log_stage[64];	/* the stage under way, "" before the first */
	uint64_t log_stage_us, log_done, log_total;
};

/* Everything a final answer points into, so nothing is allocated. */
struct reply {
	RpcResponse resp;
	DumpResult dump;
	RestoreResult restore;
	CheckResult check;
	StatusResult status;
	Feature feat[24];
	Feature *featp[24];
	char detail[24][160];
	char unrestorable[1024];
	char warnings[2048];
	Operation op[RPC_OPS_MAX];
	Operation *opp[RPC_OPS_MAX];
	TrackedTask tracked[RPC_TRACKED_MAX];
	TrackedTask *trackedp[RPC_TRACKED_MAX];
	LazyRestore lazy[RPC_LAZY_MAX];
	LazyRestore *lazyp[RPC_LAZY_MAX];
	struct lazy_entry *lazye;	/* lazy_list's, what lazy[] points into;
					   freed once the answer is sent */
	struct op opc[RPC_OPS_MAX];	/* what op[] points into */
	CancelResult cancel;
	char what[256];
	char cancelled_by[96];
	char message[1200];
	char cgroup[2048];
};


/* ---- the wire ---------------------------------------------------------- */

static int send_response(struct conn *c, RpcResponse *resp)
{
	size_t len = rpc_response__get_packed_size(resp);
	_cleanup_free_ uint8_t *buf = NULL;

	if (len > RPC_MSG_MAX)
		return -EMSGSIZE;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	rpc_response__pack(resp, buf);
	if (send(c->fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len) {
		c->gone = true;
		return negerrno();
	}
	return 0;
}

static void close_passed_fds(struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		int *fds = (int *)CMSG_DATA(cm);
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < n; i++)
			close(fds[i]);
	}
}

/* The passed fds, if any, into fds (all of them: *nr says how many). One
 * SCM_RIGHTS message of at most RPC_FDS_MAX fds, nothing else. */
static int take_passed_fds(struct msghdr *mh, int *fds, unsigned *nr)
{
	struct cmsghdr *cm = CMSG_FIRSTHDR(mh);
	size_t n;

	*nr = 0;
	if (!cm)
		return 0;
	n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	if ((mh->msg_flags & MSG_CTRUNC) || CMSG_NXTHDR(mh, cm) ||
	    cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(n * sizeof(int)) || n == 0 || n > RPC_FDS_MAX) {
		close_passed_fds(mh);
		return -EBADMSG;
	}
	memcpy(fds, CMSG_DATA(cm), n * sizeof(int));
	*nr = n;
	return 0;
}

static void rpc_fds_close(struct rpc_fds *f)
{
	for (unsigned i = 0; i < f->nr; i++)
		close(f->fd[i]);
	f->nr = 0;
}

/* One request and its fds; -ENODATA when the client left without asking. */
static int recv_request(struct conn *c, RpcRequest **ret_req, struct rpc_fds *ret_fds,
			struct ckpt_err *err)
{
	_cleanup_free_ uint8_t *buf = malloc(RPC_MSG_MAX);
	_cleanup_(rpc_fds_close) struct rpc_fds fds = { .nr = 0 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE((RPC_FDS_MAX + 1) * sizeof(int))];
	} ctl;
	struct iovec iov = { buf, RPC_MSG_MAX };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	RpcRequest *req;
	ssize_t n;
	int r;

	if (!buf)
		return -ENOMEM;
	do
		n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return ckpt_fail(err, negerrno(), "no request received");
	r = take_passed_fds(&mh, fds.fd, &fds.nr);
	if (r < 0)
		return ckpt_fail(err, -EBADRQC,
				 "a request carries at most %u file descriptors, in one message",
				 RPC_FDS_MAX);
	if (n == 0)
		return -ENODATA;
	if ((size_t)n > RPC_MSG_MAX)
		return ckpt_fail(err, -EBADRQC, "request of %zd bytes exceeds the %u byte limit",
				 n, RPC_MSG_MAX);
	req = rpc_request__unpack(NULL, n, buf);
	if (!req)
		return ckpt_fail(err, -EBADRQC, "malformed request (%zd bytes)", n);
	*ret_req = req;
	*ret_fds = fds;
	fds.nr = 0;
	return 0;
}

/* A client sends one request and then only listens: anything more from it,
 * a shutdown of its side (ckptctl's answer to ^C) or a hang-up means it gave
 * up on the request. */
static bool client_gave_up(struct conn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN | POLLRDHUP };

	if (!c->gone && poll(&p, 1, 0) > 0 && p.revents)
		c->gone = true;
	return c->gone;
}

/* ---- the requester's account ------------------------------------------- */

#define LOG_INFO	1u
#define LOG_DEBUG	2u

/* One line of ckptd's account, sent before the answer when the requester
 * asked for that level (ckptctl -v: info, -vv: debug too). Best effort:
 * a client that stopped listening gets nothing more. */
static void conn_log(struct conn *c, unsigned level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void conn_log(struct conn *c, unsigned level, const char *fmt, ...)
{
	RpcResponse resp = RPC_RESPONSE__INIT;
	LogLine l = LOG_LINE__INIT;
	char text[1200];
	va_list ap;

	if (level > c->verbosity || c->gone)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	l.us = now_us() - c->t0_us;
	l.level = level;
	l.text = text;
	resp.type = RPC_TYPE__RPC_LOG;
	resp.log = &l;
	send_response(c, &resp);
}

/* The stage under way ended: its name and duration, and what it counted
 * ("pages: 72038 (281.4 MiB) in 0.612 s"). */
static void log_stage_end(struct conn *c)
{
	double s = (now_us() - c->log_stage_us) / 1e6;
	double mib = (double)c->log_done * sysconf(_SC_PAGESIZE) / (1024.0 * 1024);

	if (!c->log_stage[0])
		return;
	if (!strcmp(c->log_stage, "pages"))
		conn_log(c, LOG_INFO, "pages: %llu of %llu (%.1f MiB) in %.3f s",
			 (unsigned long long)c->log_done, (unsigned long long)c->log_total, mib, s);
	else if (c->log_total)
		conn_log(c, LOG_INFO, "%s: %llu of %llu in %.3f s", c->log_stage,
			 (unsigned long long)c->log_done, (unsigned long long)c->log_total, s);
	else
		conn_log(c, LOG_INFO, "%s: %.3f s", c->log_stage, s);
	c->log_stage[0] = '\0';
}

/* A progress report: a new stage ends the one before and begins. */
static void log_progress(struct conn *c, const char *stage, uint64_t done, uint64_t total)
{
	if (strncmp(c->log_stage, stage, sizeof(c->log_stage) - 1)) {
		log_stage_end(c);
		snprintf(c->log_stage, sizeof(c->log_stage), "%s", stage);
		c->log_stage_us = now_us();
		conn_log(c, LOG_DEBUG, "%s begins", stage);
	}
	c->log_done = done;
	c->log_total = total;
}

static int on_progress(void *opaque, const char *stage, uint64_t done, uint64_t total)
{
	struct conn *c = opaque;
	RpcResponse resp = RPC_RESPONSE__INIT;
	Progress p = PROGRESS__INIT;
	uint64_t now = now_us();
	bool same_stage = strncmp(c->stage, stage, sizeof(c->stage) - 1) == 0;

	if (client_gave_up(c) || ops_cancel_requested(c->srv->ops, c->slot))
		return -ECANCELED;
	log_progress(c, stage, done, total);
	if (same_stage && done != total && now - c->progress_us < PROGRESS_INTERVAL_US)
		return 0;
	ops_progress(c->srv->ops, c->slot, stage, done, total);
	snprintf(c->stage, sizeof(c->stage), "%s", stage);

	c->progress_us = now;
	p.stage = c->stage;
	p.done = done;
	p.total = total;
	resp.type = RPC_TYPE__RPC_PROGRESS;
	resp.progress = &p;
	send_response(c, &resp);
	return 0;
}

/* A held dump (dump_req.hold): say "held" at once, then wait for the
 * verdict on the connection (daemon/hold.h). 1: go. */
struct held {
	struct conn *c;
	unsigned timeout_ms;
};

static int on_hold(void *opaque, char *why, size_t len)
{
	struct held *h = opaque;
	struct conn *c = h->c;
	_cleanup_(rpc_fds_close) struct rpc_fds fds = { .nr = 0 };
	struct ckpt_err e = { 0 };
	RpcRequest *req = NULL;
	int r;

	c->stage[0] = '\0';	/* past the rate limit */
	if (on_progress(c, "held", 0, 0) < 0) {
		snprintf(why, len, "the client gave up or the dump was cancelled before the hold");
		return 0;
	}
	r = hold_wait(c->fd, c->srv->ops, c->slot, h->timeout_ms, why, len);
	if (r != 1)
		return r;
	if (recv_request(c, &req, &fds, &e) < 0)
		req = NULL;
	r = hold_verdict(req, why, len);
	if (req)
		rpc_request__free_unpacked(req, NULL);
	return r;
}

/* ---- requests ---------------------------------------------------------- */

static int do_dump(struct conn *c, const DumpReq *req, const struct rpc_fds *fds,
		   struct reply *rep, struct ckpt_err *err)
{
	int dirfd = fds->nr ? fds->fd[0] : -EBADF;
	struct dump_opts opts = {
		.pid = req->pid,
		.leave_running = req->has_leave_running && req->leave_running,
		.tcp_established = req->has_tcp_established && req->tcp_established,
		.ext_unix_sk = req->has_ext_unix_sk && req->ext_unix_sk,
		.shell_job = req->has_shell_job && req->shell_job,
		.force = req->has_force && req->force,
		.pre = req->has_pre && req->pre,
		.track = req->track,
		.prev = req->prev,
		.requester = c->peer.pid,
		.requester_uid = c->peer.uid,
		.requester_gid = c->peer.gid,
		.parent_fds = fds->nr > 1 ? fds->fd + 1 : NULL,
		.nr_parents = fds->nr > 1 ? fds->nr - 1 : 0,
	};
	struct held held = {
		.c = c,
		.timeout_ms = req->has_hold_timeout_ms ? req->hold_timeout_ms
						       : HOLD_TIMEOUT_DEFAULT_MS,
	};
	struct dump_stats st = { 0 };
	struct rusage ru;
	int r;

	if (req->has_hold && req->hold) {
		opts.hold = on_hold;
		opts.hold_opaque = &held;
	}
	if (opts.tcp_established && c->peer.uid != 0)
		return ckpt_fail(err, -EPERM, "--tcp-established is for root only: it repairs "
				 "connections and adds firewall rules (nftables) for them");
	r = authorize_target(c->srv, &c->peer, req->pid, err);
	if (r < 0)
		return r;
	r = authorize_dir(&c->peer, dirfd, true, err);
	if (r < 0)
		return r;
	r = limit_permitted_to_effective(err);
	if (r < 0)
		return r;
	r = take_peer_fs_identity(&c->peer, err);
	if (r < 0)
		return r;
	r = dump_run(&opts, c->srv->kd, dirfd, on_progress, c, &st, err);
	if (r < 0)
		return r;

	log_stage_end(c);
	conn_log(c, LOG_INFO, "dump of pid %d: %u tasks, %u threads, %u VMAs, %u fds, %llu pages "
		 "written%s; freeze %.3f s, %.3f s in all", req->pid, st.tasks, st.threads, st.vmas,
		 st.fds, (unsigned long long)st.pages_written, opts.leave_running ?
		 ", the tree runs on" : "", st.freeze_us / 1e6, st.total_us / 1e6);
	/* ckptctl prints these itself: -vv (and the log file) only */
	if (st.unrestorable[0])
		conn_log(c, LOG_DEBUG, "warning: restore would refuse this set: %s", st.unrestorable);
	if (st.warnings[0])
		conn_log(c, LOG_DEBUG, "warning: %s", st.warnings);
	rep->dump.tasks = st.tasks;
	rep->dump.threads = st.threads;
	rep->dump.pages = st.pages_written;
	rep->dump.freeze_us = st.freeze_us;
	rep->dump.total_us = st.total_us;
	rep->dump.vmas = st.vmas;
	rep->dump.fds = st.fds;
	if (st.unrestorable[0]) {
		snprintf(rep->unrestorable, sizeof(rep->unrestorable), "%s", st.unrestorable);
		rep->dump.unrestorable = rep->unrestorable;
	}
	if (st.warnings[0]) {
		snprintf(rep->warnings, sizeof(rep->warnings), "%s", st.warnings);
		rep->dump.warnings = rep->warnings;
	}
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		rep->dump.has_peak_rss_kb = true;
		rep->dump.peak_rss_kb = ru.ru_maxrss;
	}
	rep->resp.dump = &rep->dump;
	return 0;
}

static int do_restore(struct conn *c, const RestoreReq *req, const struct rpc_fds *fds,
		      struct reply *rep, struct ckpt_err *err)
{
	bool postcopy = req && req->has_postcopy && req->postcopy;
	bool shell_job = req && req->has_shell_job && req->shell_job;
	/* the feed or the terminal is last */
	unsigned nr = fds->nr - ((postcopy || shell_job) && fds->nr > 1);
	int dirfd = fds->nr ? fds->fd[0] : -EBADF;
	struct restore_opts opts = {
		.requester = c->peer.pid,
		.requester_uid = c->peer.uid,
		.requester_gid = c->peer.gid,
		.parent_fds = nr > 1 ? fds->fd + 1 : NULL,
		.nr_parents = nr > 1 ? nr - 1 : 0,
		.lazy = req && req->has_lazy && req->lazy,
		.tcp_established = req && req->has_tcp_established && req->tcp_established,
		.ext_unix_sk = req && req->has_ext_unix_sk && req->ext_unix_sk,
		.postcopy = postcopy,
		.feed_fd = postcopy && fds->nr > 1 ? fds->fd[fds->nr - 1] : -EBADF,
		.shell_job = shell_job,
		.tty_fd = shell_job && fds->nr > 1 ? fds->fd[fds->nr - 1] : -EBADF,
	};
	struct restore_stats st = { 0 };
	struct stat fst;
	int r;

	if (opts.tcp_established && c->peer.uid != 0)
		return ckpt_fail(err, -EPERM, "--tcp-established is for root only: it repairs "
				 "connections and adds firewall rules (nftables) for them");

	if (shell_job && (postcopy || opts.tty_fd < 0 || !isatty(opts.tty_fd)))
		return ckpt_fail(err, -EINVAL, "--shell-job needs the caller's terminal as the "
				 "last fd (and is not for a post-copy restore)");
	if (postcopy && (!opts.lazy || opts.feed_fd < 0 || fstat(opts.feed_fd, &fst) < 0 ||
			 !S_ISSOCK(fst.st_mode)))
		return ckpt_fail(err, -EINVAL, "a post-copy restore needs lazy and a feed socket "
				 "as its last fd");

	/* a mode this ckptd does not know (a newer ckptctl's) is refused,
	 * never taken for a weaker one */
	if (req && req->file_validation &&
	    restore_file_validation_parse(req->file_validation, &opts.file_validation) < 0)
		return ckpt_fail(err, -EBADRQC,
				 "unknown file validation mode '%.64s' (this ckptd knows default, "
				 "strict and path)", req->file_validation);
	if (req && req->cgroup && restore_cgroup_mode_parse(req->cgroup, &opts.cgroup) < 0)
		return ckpt_fail(err, -EBADRQC, "unknown --cgroup mode '%.64s' (this ckptd knows "
				 "dumped and requester)", req->cgroup);
	r = authorize_dir(&c->peer, dirfd, false, err);
	if (r < 0)
		return r;
	r = take_peer_fs_identity(&c->peer, err);
	if (r < 0)
		return r;
	r = restore_run(&opts, c->srv->kd, dirfd, on_progress, c, &st, err);
	if (r < 0)
		return r;
	/* committed: these lines (with -v only) come before the answer, a
	 * few sends more in the window restore_run's end speaks of */
	log_stage_end(c);
	conn_log(c, LOG_INFO, "restore: pid %d, %u tasks, %llu pages%s in %llu ms", st.root_pid,
		 st.tasks, (unsigned long long)st.pages, st.lazy_server > 0 ? " (some lazily)" : "",
		 (unsigned long long)st.ms);
	if (st.cgroup[0])	/* ckptctl prints it itself */
		conn_log(c, LOG_DEBUG, "the tree runs in %s", st.cgroup);
	rep->restore.pid = st.root_pid;
	rep->restore.tasks = st.tasks;
	rep->restore.pages = st.pages;
	rep->restore.ms = st.ms;
	if (st.cgroup[0]) {
		snprintf(rep->cgroup, sizeof(rep->cgroup), "%s", st.cgroup);
		rep->restore.cgroup = rep->cgroup;
	}
	if (st.lazy_server > 0) {
		rep->restore.has_lazy_server = rep->restore.has_lazy_pages = true;
		rep->restore.lazy_server = st.lazy_server;
		rep->restore.lazy_pages = st.lazy_pages;
	}
	rep->resp.restore = &rep->restore;
	return 0;
}

static void add_feature(struct reply *rep, const char *name, bool available,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void add_feature(struct reply *rep, const char *name, bool available, const char *fmt, ...)
{
	size_t i = rep->check.n_features;
	Feature *f = &rep->feat[i];
	va_list ap;

	if (i >= ARRAY_SIZE(rep->feat))
		return;
	feature__init(f);
	f->name = (char *)name;
	f->available = available;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(rep->detail[i], sizeof(rep->detail[i]), fmt, ap);
		va_end(ap);
		f->detail = rep->detail[i];
	}
	rep->featp[i] = f;
	rep->check.n_features = i + 1;
}

/* A tracker's line: available or not, and why not (track_available). */
static void add_tracker(struct reply *rep, const char *name, enum track_kind k,
			const struct kerndat *kd)
{
	const char *why = NULL;
	bool ok = track_available(k, kd, &why);

	add_feature(rep, name, ok, ok ? NULL : "%s", why);
}

static void do_check(const struct kerndat *kd, struct reply *rep)
{
	rep->check.features = rep->featp;
	add_feature(rep, "kernel", true, "%s", kd->release);
	add_feature(rep, "page_size", true, "%ld", kd->page_size);
	add_feature(rep, "soft_dirty", kd->soft_dirty, kd->soft_dirty ? NULL :
		    "pagemap bit 55 stays clear after a write (CONFIG_MEM_SOFT_DIRTY off)");
	add_feature(rep, "pagemap_scan", kd->pagemap_scan, kd->pagemap_scan ? NULL :
		    "the PAGEMAP_SCAN ioctl is refused (Linux < 6.7)");
	add_feature(rep, "uffd", kd->uffd, kd->uffd ? NULL :
		    "userfaultfd() refused (no CONFIG_USERFAULTFD, or no CAP_SYS_PTRACE "
		    "with vm.unprivileged_userfaultfd=0)");
	add_feature(rep, "uffd_wp_async", kd->uffd_wp_async, kd->uffd_wp_async ? NULL :
		    kd->uffd ? "UFFD_FEATURE_WP_ASYNC refused (Linux < 6.7)" : "needs uffd");
	add_feature(rep, "uffd_wp_unpopulated", kd->uffd_wp_unpopulated,
		    kd->uffd_wp_unpopulated ? NULL : kd->uffd ?
		    "UFFD_FEATURE_WP_UNPOPULATED refused (Linux < 6.4)" : "needs uffd");
	add_feature(rep, "clone3_set_tid", kd->clone3_set_tid, kd->clone3_set_tid ? NULL :
		    "clone3 set_tid refused (no CAP_CHECKPOINT_RESTORE, or Linux < 5.5): "
		    "PIDs cannot be restored");
	add_feature(rep, "pidfd_getfd", kd->pidfd_getfd, NULL);
	add_feature(rep, "ptrace_rseq", kd->ptrace_rseq, NULL);
	add_feature(rep, "ptrace_xstate", kd->ptrace_xstate, NULL);
	add_feature(rep, "process_vm_readv", kd->process_vm_readv, NULL);
	add_feature(rep, "sock_diag", kd->sock_diag, NULL);
	add_feature(rep, "xsave", kd->xfeatures != 0, "xfeatures 0x%llx, %u bytes",
		    (unsigned long long)kd->xfeatures, kd->xsave_size);
	add_feature(rep, "vdso", kd->vdso_size != 0,
		    "[vdso] %llu KiB, [vvar] %llu KiB, [vvar_vclock] %llu KiB",
		    (unsigned long long)kd->vdso_size >> 10, (unsigned long long)kd->vvar_size >> 10,
		    (unsigned long long)kd->vvar_vclock_size >> 10);
	add_tracker(rep, "tracker_soft_dirty", TRACK_SOFT_DIRTY, kd);
	add_tracker(rep, "tracker_uffd_wp", TRACK_UFFD_WP, kd);
	add_tracker(rep, "tracker_hash", TRACK_HASH, kd);
	add_feature(rep, "tracker_auto", true, "%s", track_name(track_auto(kd)));
	{
		char why[160];
		bool ok = sock_tcp_probe(why, sizeof(why)) == 0;

		add_feature(rep, "tcp_established", ok, "%s", ok ? "TCP_REPAIR permitted, "
			    "nftables network lock usable" : why);
	}
	add_feature(rep, "ext_unix_sk", kd->sock_diag, "%s", kd->sock_diag ?
		    "unix sockets connected outside the tree: peers found by sock_diag" :
		    "no unix_diag: a unix socket's peer can't be found");
	rep->resp.check = &rep->check;
}

/* The operations in flight the requester may see: root every one, anyone
 * else their own (the others only counted); the status request itself is
 * left out. A connection whose request has not arrived is "waiting". */
static void list_operations(const struct conn *c, struct reply *rep)
{
	struct ops_table *ops = c->srv->ops;
	StatusResult *st = &rep->status;
	uint64_t now = now_us();
	unsigned others = 0;

	st->operations = rep->opp;
	for (int i = 0; i < (int)ops_size(ops) && st->n_operations < RPC_OPS_MAX; i++) {
		struct op *op = &rep->opc[st->n_operations];
		Operation *o = &rep->op[st->n_operations];

		if (i == c->slot || !ops_read(ops, i, op))
			continue;

		if (c->peer.uid != 0 && op->uid != c->peer.uid) {
			others++;
			continue;
		}
		operation__init(o);
		o->id = op->id;
		o->kind = (char *)op_kind_name(op->kind);
		o->uid = op->uid;
		o->has_requester_pid = true;
		o->requester_pid = op->requester;
		o->has_target_pid = op->kind == OP_DUMP;
		o->target_pid = op->target;
		o->dir = op->dir[0] ? op->dir : NULL;
		o->stage = op->stage[0] ? op->stage : NULL;
		o->has_done = o->has_total = op->stage[0] != '\0';
		o->done = op->done;
		o->total = op->total;
		o->age_ms = (now - op->started_us) / 1000;
		o->has_cancelling = op->cancelled;
		o->cancelling = op->cancelled;
		o->has_handler_pid = op->handler > 0;
		o->handler_pid = op->handler;

		rep->opp[st->n_operations++] = o;
	}
	st->has_others = true;
	st->others = others;
	st->has_queued = true;
	st->queued = ops_queued(ops);
}

/* The tasks a live tracker follows, those the requester may see (root:
 * all; anyone else: the ones it owns). At most RPC_TRACKED_MAX listed. */
static void list_tracked(const struct conn *c, struct reply *rep)
{
	_cleanup_free_ struct track_entry *e = NULL;
	StatusResult *st = &rep->status;
	size_t nr = 0;

	if (track_list(&e, &nr) < 0)
		return;
	for (size_t i = 0; i < nr && st->n_tracked < RPC_TRACKED_MAX; i++) {
		TrackedTask *t = &rep->tracked[st->n_tracked];
		char path[32];
		struct stat sb;

		snprintf(path, sizeof(path), "/proc/%d", e[i].pid);
		if (c->peer.uid != 0 && (stat(path, &sb) < 0 || sb.st_uid != c->peer.uid))
			continue;
		tracked_task__init(t);
		t->pid = e[i].pid;
		t->tracker = (char *)track_name(e[i].kind);
		t->has_keeper_pid = e[i].keeper > 0;
		t->keeper_pid = e[i].keeper;
		rep->trackedp[st->n_tracked++] = t;
	}
	st->tracked = rep->trackedp;
}

/* Lazy restores (daemon/lazy.h's registry), those the requester may see. */
static void list_lazy(const struct conn *c, struct reply *rep)
{
	StatusResult *st = &rep->status;
	size_t nr = 0;

	if (lazy_list(&rep->lazye, &nr) < 0)
		return;
	for (size_t i = 0; i < nr && st->n_lazy < RPC_LAZY_MAX; i++) {
		LazyRestore *l = &rep->lazy[st->n_lazy];
		const struct lazy_entry *k = &rep->lazye[i];

		if (c->peer.uid != 0 && k->uid != c->peer.uid)
			continue;
		lazy_restore__init(l);
		l->root = k->root;
		l->server = k->server;
		l->uid = k->uid;
		l->state = (char *)k->state;
		l->pages = k->pages;
		l->left = k->left;
		l->faults = k->faults;
		l->ms = k->ms;
		l->dir = k->dir[0] ? (char *)k->dir : NULL;
		l->error = k->error[0] ? (char *)k->error : NULL;
		rep->lazyp[st->n_lazy++] = l;
	}
	st->lazy = rep->lazyp;
}

static void do_status(const struct conn *c, struct reply *rep)
{
	const struct rpc_server *srv = c->srv;
	StatusResult *st = &rep->status;

	status_result__init(st);
	st->version = (char *)CKPT_VERSION;
	st->protocol = RPC_PROTO_VERSION;
	st->pid = srv->pid;
	st->mode = (char *)(srv->mode ? srv->mode : "unknown");
	st->uptime_ms = (now_us() - srv->started_us) / 1000;
	st->idle_timeout_s = srv->idle_timeout_s > 0 ? srv->idle_timeout_s : 0;
	st->max_clients = srv->max_clients;
	if (srv->ops) {
		st->has_max_per_user = true;
		st->max_per_user = srv->max_per_user;
		list_operations(c, rep);
	}
	list_tracked(c, rep);
	list_lazy(c, rep);
	rep->resp.status = st;
}

/* ckptctl cancel ID: root may cancel any operation, anyone else only their
 * own; another uid's operation is answered as if it did not exist, as
 * status does not show it either. The operation stops at its next
 * progress report (a dump: the tree runs on, no set is written); its own
 * ckptctl is told who cancelled it. */
static int do_cancel(struct conn *c, const CancelReq *req, struct reply *rep,
		     struct ckpt_err *err)
{
	struct ops_table *ops = c->srv->ops;
	struct op op;
	int slot, r;

	if (!req)
		return ckpt_fail(err, -EBADRQC, "cancel request without its cancel_req");
	if (!ops)
		return ckpt_fail(err, -ESRCH, "no operation %u: a one-shot ckptd serves only "
				 "the request that started it", req->id);
	slot = ops_find(ops, req->id);
	if (slot < 0 || !ops_read(ops, slot, &op) || (c->peer.uid != 0 && op.uid != c->peer.uid)) {
		if (c->peer.uid != 0)
			return ckpt_fail(err, -ESRCH, "no operation %u of uid %u in flight "
					 "(ckptctl status lists them)", req->id, c->peer.uid);
		return ckpt_fail(err, -ESRCH, "no operation %u in flight (ckptctl status lists "
				 "them)", req->id);
	}
	op_describe(&op, rep->what, sizeof(rep->what));
	if (op.kind != OP_DUMP && op.kind != OP_RESTORE)
		return ckpt_fail(err, -EINVAL, "operation %u (%s) is not a dump or a restore: "
				 "it ends by itself", req->id, rep->what);
	/* a restore is never stopped half way: once it builds the tree (its
	 * "pages" are read then) it completes, or fails and removes what it
	 * built */
	if (op.kind == OP_RESTORE && (!strcmp(op.stage, "restore tree") ||
				      !strcmp(op.stage, "pages")))
		return ckpt_fail(err, -EBUSY, "operation %u (%s) is building the process tree: "
				 "too late to cancel, it completes or fails whole", req->id,
				 rep->what);
	r = ops_cancel(ops, slot, c->peer.uid, c->peer.pid);
	if (r < 0)
		return ckpt_fail(err, r, "operation %u (%s) is already being cancelled", req->id,
				 rep->what);
	cancel_result__init(&rep->cancel);
	rep->cancel.id = op.id;
	rep->cancel.what = rep->what;
	rep->resp.cancel = &rep->cancel;
	return 0;
}

/* A request ckptd can't take as it is (another protocol version, malformed,
 * missing a part) fails with -EBADRQC, whatever the detail: ckptctl tells
 * that apart from a failed operation (its exit code 7). */
static int dispatch(struct conn *c, const RpcRequest *req, const struct rpc_fds *fds,
		    struct reply *rep, struct ckpt_err *err)
{
	if (req->has_version && req->version != RPC_PROTO_VERSION)
		return ckpt_fail(err, -EBADRQC, "protocol version %u (ckptd speaks %u)",
				 req->version, RPC_PROTO_VERSION);
	switch (req->type) {
	case RPC_TYPE__RPC_DUMP:
		if (!req->dump)
			return ckpt_fail(err, -EBADRQC, "dump request without its dump_req");
		return do_dump(c, req->dump, fds, rep, err);
	case RPC_TYPE__RPC_RESTORE:
		return do_restore(c, req->restore, fds, rep, err);
	case RPC_TYPE__RPC_CHECK:
		do_check(c->srv->kd, rep);
		return 0;
	case RPC_TYPE__RPC_STATUS:
		do_status(c, rep);
		return 0;
	case RPC_TYPE__RPC_CANCEL:
		return do_cancel(c, req->cancel, rep, err);

	default:
		return ckpt_fail(err, -EBADRQC, "unknown request type %d", req->type);
	}
}

static void log_request(const struct conn *c, const RpcRequest *req, int r, struct ckpt_err *err)
{
	const char *what = "request";
	char dump[32];

	if (!c->srv->log)
		return;
	if (req && req->type == RPC_TYPE__RPC_DUMP && req->dump) {
		snprintf(dump, sizeof(dump), "dump of pid %d", req->dump->pid);
		what = dump;
	} else if (req && req->type == RPC_TYPE__RPC_RESTORE) {
		what = "restore";
	} else if (req && req->type == RPC_TYPE__RPC_CHECK) {
		what = "check";
	} else if (req && req->type == RPC_TYPE__RPC_CANCEL && req->cancel) {
		snprintf(dump, sizeof(dump), "cancel of operation %u", req->cancel->id);
		what = dump;
	}

	if (r < 0)
		fprintf(stderr, "ckptd: %s for uid %u (pid %d) failed: %s\n", what, c->peer.uid,
			c->peer.pid, ckpt_err_msg(err, r));
	else
		fprintf(stderr, "ckptd: %s for uid %u (pid %d) done\n", what, c->peer.uid,
			c->peer.pid);
}

/* Tell the ops table what the request is, for status and STATUS=. */
static void begin_op(const struct conn *c, const RpcRequest *req, int dirfd)
{
	static const enum op_kind kinds[] = {
		[RPC_TYPE__RPC_DUMP] = OP_DUMP, [RPC_TYPE__RPC_RESTORE] = OP_RESTORE,
		[RPC_TYPE__RPC_CHECK] = OP_CHECK, [RPC_TYPE__RPC_STATUS] = OP_STATUS,
		[RPC_TYPE__RPC_CANCEL] = OP_CANCEL,
	};
	char dir[OP_DIR_MAX];

	if (!c->srv->ops || (unsigned)req->type >= ARRAY_SIZE(kinds) || !kinds[req->type])
		return;
	fd_path(dirfd, dir, sizeof(dir));
	ops_begin(c->srv->ops, c->slot, kinds[req->type],
		  req->type == RPC_TYPE__RPC_DUMP && req->dump ? req->dump->pid : 0, dir);
}

/* ckptd run by systemd: a dump's, restore's, check's or cancel's begin
 * (r > 0) or end (0 or -errno) in the journal, with its fields. */
static void journal_request(const struct conn *c, const RpcRequest *req, int dirfd,
			    const struct reply *rep, int r, struct ckpt_err *err)
{
	static const char *const names[] = {
		[RPC_TYPE__RPC_DUMP] = "dump", [RPC_TYPE__RPC_RESTORE] = "restore",
		[RPC_TYPE__RPC_CHECK] = "check", [RPC_TYPE__RPC_CANCEL] = "cancel",
	};
	char dir[OP_DIR_MAX], msg[1400], of[32] = "";
	struct journal_op o = { .uid = c->peer.uid, .dir = dir, .message = msg, .err = r };

	if (!req || (unsigned)req->type >= ARRAY_SIZE(names) || !names[req->type] ||
	    !journal_wanted())
		return;
	o.op = names[req->type];
	o.result = r > 0 ? "started" : r == 0 ? "done" : "failed";
	if (req->type == RPC_TYPE__RPC_DUMP && req->dump)
		o.pid = req->dump->pid;
	else if (req->type == RPC_TYPE__RPC_RESTORE && r == 0)
		o.pid = rep->restore.pid;
	fd_path(dirfd, dir, sizeof(dir));
	if (o.pid > 0)
		snprintf(of, sizeof(of), " of pid %d", o.pid);
	snprintf(msg, sizeof(msg), "%s%s for uid %u (pid %d)%s%s: %s%s%s", o.op, of, c->peer.uid,
		 c->peer.pid, dir[0] ? " in " : "", dir, o.result, r < 0 ? ": " : "",
		 r < 0 ? ckpt_err_msg(err, r) : "");
	journal_send_op(&o);
}

/* A request that a ckptctl cancel (or ckptd's SIGTERM) asked to stop says
 * so in its answer: who asked, and, when it ended anyway, that the cancel
 * came too late. */
static void note_cancel(const struct conn *c, struct reply *rep, int r, struct ckpt_err *err)
{
	struct op op;

	if (!ops_read(c->srv->ops, c->slot, &op) || !op.cancelled)
		return;
	if (op.cancel_pid == c->srv->pid)
		snprintf(rep->cancelled_by, sizeof(rep->cancelled_by), "ckptd, which is stopping");
	else
		snprintf(rep->cancelled_by, sizeof(rep->cancelled_by), "uid %u (pid %d)",
			 op.cancel_uid, op.cancel_pid);
	rep->resp.cancelled_by = rep->cancelled_by;
	if (r == -ECANCELED) {
		snprintf(rep->message, sizeof(rep->message), "operation %u cancelled by %s: %s",
			 op.id, rep->cancelled_by, ckpt_err_msg(err, r));
		rep->resp.message = rep->message;
	}
}

static int serve_conn(const struct rpc_server *srv, int fd_, int slot)
{
	_cleanup_close_ int fd = fd_;
	_cleanup_(rpc_fds_close) struct rpc_fds fds = { .nr = 0 };
	struct timeval tv = { .tv_sec = RPC_REQUEST_TIMEOUT_S };
	struct conn c = { .srv = srv, .fd = fd, .slot = srv->ops ? slot : -1 };
	struct ckpt_err err = { 0 };
	RpcRequest *req = NULL;
	struct reply rep;
	int r, s;

	/* the deadline: SIGALRM's default action ends the handler (a dump's
	 * tree is detached by the kernel and runs on) */
	if (srv->handler_timeout_s) {
		signal(SIGALRM, SIG_DFL);
		alarm(srv->handler_timeout_s);
	}
	r = peer_creds(fd, &c.peer);
	if (r < 0)
		return r;
	/* a peer that sends nothing, or stops reading, blocks no one long */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&rep, 0, sizeof(rep));
	rpc_response__init(&rep.resp);
	dump_result__init(&rep.dump);
	restore_result__init(&rep.restore);
	check_result__init(&rep.check);

	r = recv_request(&c, &req, &fds, &err);
	if (r == -ENODATA)
		return 0;
	if (r == 0) {
		c.t0_us = now_us();
		c.verbosity = req->has_verbosity ? req->verbosity : 0;
		begin_op(&c, req, fds.nr ? fds.fd[0] : -EBADF);
		journal_request(&c, req, fds.nr ? fds.fd[0] : -EBADF, &rep, 1, &err);
		r = dispatch(&c, req, &fds, &rep, &err);
		journal_request(&c, req, fds.nr ? fds.fd[0] : -EBADF, &rep, r, &err);
		/* a failure ends the stage it happened in; its message is the
		 * answer's, said once by ckptctl */
		log_stage_end(&c);
	}
	log_request(&c, req, r, &err);

	rep.resp.type = req ? req->type : RPC_TYPE__RPC_STATUS;
	rep.resp.err = r < 0 ? r : 0;
	if (r < 0)
		rep.resp.message = (char *)ckpt_err_msg(&err, r);
	note_cancel(&c, &rep, r, &err);
	s = send_response(&c, &rep.resp);
	free(rep.lazye);

	if (req)
		rpc_request__free_unpacked(req, NULL);
	return s;
}

int rpc_serve_conn(const struct rpc_server *srv, int fd)
{
	return serve_conn(srv, fd, -1);
}

int rpc_serve_handler(const struct rpc_server *srv, int fd, int slot)
{
	return serve_conn(srv, fd, slot);
}
