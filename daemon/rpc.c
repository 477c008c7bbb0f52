/* ckptd's requests: receive, authorize, run, answer.
 *
 * Trust: the socket is open to everyone (0666); whatever a request may do is
 * decided here from the peer's SO_PEERCRED. Root may dump any process; anyone
 * else only processes (and their descendants) whose every uid and gid equals
 * theirs and that are dumpable, into a directory they may write, and restores
 * only under their own credentials. For such a requester the connection's
 * handler also takes the requester's file-system identity (fsuid, fsgid,
 * groups), so images are created as the requester and every file the engine
 * opens is checked against the requester's rights, not root's.
 *
 * A listening daemon serves each connection in a forked child: a crash in the
 * engine loses one request, never the daemon, and credentials taken for one
 * requester die with the child. */
#include "daemon/rpc.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/fsuid.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>

#include "common/util.h"
#include "daemon/dump.h"
#include "daemon/kerndat.h"
#include "daemon/restore.h"
#include "rpc.pb-c.h"

#define RPC_REQUEST_TIMEOUT_S	30	/* a connection must send its request by then */
#define PROGRESS_INTERVAL_US	100000	/* at most ten progress messages a second */
#define PEER_GROUPS_MAX		256
#define AUTH_TREE_MAX		65536	/* tasks walked when authorizing a tree */

static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

struct peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	gid_t groups[PEER_GROUPS_MAX];
	int nr_groups;
};

struct conn {
	const struct rpc_server *srv;
	int fd;
	struct peer peer;
	char stage[64];		/* last progress sent */
	uint64_t progress_us;
	bool gone;		/* the client stopped listening */
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
};

static int peer_creds(int fd, struct peer *p)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	socklen_t glen = sizeof(p->groups);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return negerrno();
	p->pid = uc.pid;
	p->uid = uc.uid;
	p->gid = uc.gid;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, p->groups, &glen) == 0)
		p->nr_groups = glen / sizeof(gid_t);
	else if (errno == ERANGE)
		p->nr_groups = 0;	/* more than we hold: none can only grant less */
	else
		return negerrno();
	return 0;
}

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

/* The passed fds, if any: at most one is accepted. */
static int take_passed_fd(struct msghdr *mh, int *ret_fd)
{
	struct cmsghdr *cm = CMSG_FIRSTHDR(mh);

	*ret_fd = -EBADF;
	if (!cm)
		return 0;
	if ((mh->msg_flags & MSG_CTRUNC) || CMSG_NXTHDR(mh, cm) ||
	    cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int))) {
		close_passed_fds(mh);
		return -EBADMSG;
	}
	memcpy(ret_fd, CMSG_DATA(cm), sizeof(int));
	return 0;
}

/* One request and its fd; -ENODATA when the client left without asking. */
static int recv_request(struct conn *c, RpcRequest **ret_req, int *ret_fd, struct ckpt_err *err)
{
	_cleanup_free_ uint8_t *buf = malloc(RPC_MSG_MAX);
	_cleanup_close_ int fd = -EBADF;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(4 * sizeof(int))];
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
	r = take_passed_fd(&mh, &fd);
	if (r < 0)
		return ckpt_fail(err, -EBADRQC, "a request carries at most one file descriptor");
	if (n == 0)
		return -ENODATA;
	if ((size_t)n > RPC_MSG_MAX)
		return ckpt_fail(err, -EBADRQC, "request of %zd bytes exceeds the %u byte limit",
				 n, RPC_MSG_MAX);
	req = rpc_request__unpack(NULL, n, buf);
	if (!req)
		return ckpt_fail(err, -EBADRQC, "malformed request (%zd bytes)", n);
	*ret_req = req;
	*ret_fd = TAKE_FD(fd);
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

static int on_progress(void *opaque, const char *stage, uint64_t done, uint64_t total)
{
	struct conn *c = opaque;
	RpcResponse resp = RPC_RESPONSE__INIT;
	Progress p = PROGRESS__INIT;
	uint64_t now = now_us();
	bool same_stage = strncmp(c->stage, stage, sizeof(c->stage) - 1) == 0;

	if (client_gave_up(c))
		return -ECANCELED;
	if (same_stage && done != total && now - c->progress_us < PROGRESS_INTERVAL_US)
		return 0;
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

/* ---- authorization ----------------------------------------------------- */

static int read_status_ids(pid_t pid, const char *key, unsigned ids[4])
{
	char path[64];
	_cleanup_free_ char *buf = NULL;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_file_at(AT_FDCWD, path, &buf, NULL) < 0)
		return -ESRCH;
	p = strstr(buf, key);
	if (!p || sscanf(p + strlen(key), "%u %u %u %u", &ids[0], &ids[1], &ids[2], &ids[3]) != 4)
		return -EIO;
	return 0;
}

/* Whether the target exists and is a process (not a thread of one). */
static int check_is_process(pid_t pid, struct ckpt_err *err)
{
	unsigned tgid[4] = { 0 };
	char path[64];
	_cleanup_free_ char *buf = NULL;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_file_at(AT_FDCWD, path, &buf, NULL) < 0)
		return ckpt_fail(err, -ESRCH, "no process with pid %d", pid);
	p = strstr(buf, "\nTgid:");
	if (p && sscanf(p + 6, "%u", &tgid[0]) == 1 && (pid_t)tgid[0] != pid)
		return ckpt_fail(err, -ESRCH, "pid %d is a thread of process %u; dump %u", pid,
				 tgid[0], tgid[0]);
	return 0;
}

/* Every uid and gid (real, effective, saved, fs) is the peer's, and the
 * task is dumpable: the files in /proc/PID belong to root otherwise (the
 * directory itself keeps the task's euid on current kernels). */
static int check_owned(const struct conn *c, pid_t pid, struct ckpt_err *err)
{
	unsigned uid[4], gid[4];
	char path[32];
	struct stat st;

	if (read_status_ids(pid, "\nUid:", uid) < 0 || read_status_ids(pid, "\nGid:", gid) < 0)
		return ckpt_fail(err, -ESRCH, "pid %d: cannot read its credentials", pid);
	for (int i = 0; i < 4; i++) {
		if (uid[i] != c->peer.uid)
			return ckpt_fail(err, -EPERM, "pid %d runs with uid %u; uid %u may only dump "
					 "its own processes", pid, uid[i], c->peer.uid);
		if (gid[i] != c->peer.gid)
			return ckpt_fail(err, -EPERM, "pid %d runs with gid %u; uid %u may only dump "
					 "processes of its own gid %u", pid, gid[i], c->peer.uid,
					 c->peer.gid);
	}
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (stat(path, &st) < 0)
		return ckpt_fail(err, -ESRCH, "no process with pid %d", pid);
	if (st.st_uid != c->peer.uid)
		return ckpt_fail(err, -EPERM, "pid %d is not dumpable (it changed credentials or "
				 "called prctl(PR_SET_DUMPABLE, 0))", pid);
	return 0;
}

/* Append pid's children (of every thread) to the list. */
static int add_children(pid_t pid, pid_t **list, size_t *n, size_t *cap)
{
	char path[300];
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -ESRCH;
	while ((de = readdir(d))) {
		_cleanup_free_ char *buf = NULL;
		char *p, *end;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children", pid, de->d_name);
		if (read_file_at(AT_FDCWD, path, &buf, NULL) < 0)
			continue;	/* the thread exited */
		for (p = buf;; p = end) {
			long child = strtol(p, &end, 10);

			if (end == p)
				break;
			if (*n == *cap) {
				pid_t *l;

				if (*cap >= AUTH_TREE_MAX)
					return -E2BIG;
				l = realloc(*list, (*cap = *cap * 2) * sizeof(pid_t));
				if (!l)
					return -ENOMEM;
				*list = l;
			}
			(*list)[(*n)++] = child;
		}
	}
	return 0;
}

/* A non-root requester must own the target and every descendant. freeze.c
 * checks again on the frozen tree (the tree may change until then). */
static int check_tree_owned(const struct conn *c, pid_t root, struct ckpt_err *err)
{
	size_t n = 1, cap = 64;
	_cleanup_free_ pid_t *list = malloc(cap * sizeof(pid_t));
	int r;

	if (!list)
		return -ENOMEM;
	list[0] = root;
	for (size_t i = 0; i < n; i++) {
		r = check_owned(c, list[i], err);
		if (r < 0 && (r != -ESRCH || i == 0))
			return r;
		if (r < 0)
			continue;	/* a child that just exited */
		r = add_children(list[i], &list, &n, &cap);
		if (r == -E2BIG || r == -ENOMEM)
			return ckpt_fail(err, r, "pid %d: cannot walk its process tree", root);
	}
	return 0;
}

static pid_t parent_of(pid_t pid)
{
	_cleanup_free_ char *buf = NULL;
	char path[32], *p;
	int ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file_at(AT_FDCWD, path, &buf, NULL) < 0)
		return 0;
	p = strrchr(buf, ')');	/* comm may hold anything, even ") " */
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return 0;
	return ppid;
}

/* Whether pid is start or one of its ancestors (bounded, in case of a race
 * that makes the chain loop through recycled pids). */
static bool is_ancestor(pid_t pid, pid_t start)
{
	for (int depth = 0; start > 0 && depth < 4096; depth++, start = parent_of(start))
		if (start == pid)
			return true;
	return false;
}

static int authorize_target(const struct conn *c, pid_t pid, struct ckpt_err *err)
{
	int r;

	if (pid <= 0)
		return ckpt_fail(err, -ESRCH, "invalid pid %d", pid);
	if (pid == getpid() || pid == c->srv->pid)
		return ckpt_fail(err, -EPERM, "pid %d is ckptd itself", pid);
	if (pid == getppid() || pid == c->srv->parent)
		return ckpt_fail(err, -EPERM, "pid %d is ckptd's parent", pid);
	if (pid == c->peer.pid)
		return ckpt_fail(err, -EPERM, "pid %d is the requesting process", pid);
	/* freezing an ancestor would freeze ckptd or its client with it */
	if (is_ancestor(pid, getpid()) || is_ancestor(pid, c->srv->pid))
		return ckpt_fail(err, -EPERM, "pid %d is an ancestor of ckptd", pid);
	if (is_ancestor(pid, c->peer.pid))
		return ckpt_fail(err, -EPERM, "pid %d is an ancestor of the requesting process",
				 pid);
	r = check_is_process(pid, err);
	if (r < 0 || c->peer.uid == 0)
		return r;
	return check_tree_owned(c, pid, err);
}

/* The directory must be writable (and searchable) by the requester: mode
 * bits as access(2) would judge them for the peer's uid, gid and groups. */
static bool peer_in_group(const struct peer *p, gid_t gid)
{
	if (p->gid == gid)
		return true;
	for (int i = 0; i < p->nr_groups; i++)
		if (p->groups[i] == gid)
			return true;
	return false;
}

static int authorize_dir(const struct conn *c, int dirfd, bool write, struct ckpt_err *err)
{
	mode_t need = write ? 3 : 5;	/* -wx or r-x */
	mode_t bits;
	struct stat st;

	if (dirfd < 0)
		return ckpt_fail(err, -EBADRQC, "the request carries no image directory");
	if (fstat(dirfd, &st) < 0)
		return ckpt_fail(err, negerrno(), "cannot stat the image directory");
	if (!S_ISDIR(st.st_mode))
		return ckpt_fail(err, -ENOTDIR, "the passed image directory fd");
	if (c->peer.uid == 0)
		return 0;
	if (st.st_uid == c->peer.uid)
		bits = st.st_mode >> 6;
	else if (peer_in_group(&c->peer, st.st_gid))
		bits = st.st_mode >> 3;
	else
		bits = st.st_mode;
	if ((bits & need) != need)
		return ckpt_fail(err, -EACCES, "the image directory is not %s by uid %u",
				 write ? "writable" : "readable", c->peer.uid);
	return 0;
}

/* For a non-root requester (when ckptd is not already running as them):
 * open, create and check files with the requester's identity. */
static int take_peer_fs_identity(const struct conn *c, struct ckpt_err *err)
{
	const struct peer *p = &c->peer;

	if (p->uid == 0 || geteuid() == p->uid)
		return 0;
	if (setgroups(p->nr_groups, p->groups) < 0)
		return ckpt_fail(err, negerrno(), "cannot take the groups of uid %u", p->uid);
	setfsgid(p->gid);
	setfsuid(p->uid);
	if ((gid_t)setfsgid(-1) != p->gid || (uid_t)setfsuid(-1) != p->uid)
		return ckpt_fail(err, -EPERM, "cannot take the file-system identity of uid %u",
				 p->uid);
	return 0;
}

/* ckptd keeps every capability it was given permitted, because a restore
 * gives a restored task back its capabilities and capset can only take them
 * from there (main.c); its effective set is what dump and restore use. A
 * dump gives nothing back, so its handler lets go of the rest for good. */
static int limit_permitted_to_effective(struct ckpt_err *err)
{
	cap_t caps = cap_get_proc();
	cap_flag_value_t v;
	int r = 0;

	if (!caps)
		return ckpt_fail(err, negerrno(), "cannot read ckptd's capabilities");
	for (cap_value_t c = 0; CAP_IS_SUPPORTED(c); c++)
		if (cap_get_flag(caps, c, CAP_EFFECTIVE, &v) == 0)
			cap_set_flag(caps, CAP_PERMITTED, 1, &c, v);
	if (cap_set_proc(caps) < 0)
		r = ckpt_fail(err, negerrno(), "cannot drop ckptd's capabilities");
	cap_free(caps);
	return r;
}

/* ---- requests ---------------------------------------------------------- */

static int do_dump(struct conn *c, const DumpReq *req, int dirfd, struct reply *rep,
		   struct ckpt_err *err)
{
	struct dump_opts opts = {
		.pid = req->pid,
		.leave_running = req->has_leave_running && req->leave_running,
		.force = req->has_force && req->force,
		.requester = c->peer.pid,
		.requester_uid = c->peer.uid,
		.requester_gid = c->peer.gid,
	};
	struct dump_stats st = { 0 };
	struct rusage ru;
	int r;

	r = authorize_target(c, req->pid, err);
	if (r < 0)
		return r;
	r = authorize_dir(c, dirfd, true, err);
	if (r < 0)
		return r;
	r = limit_permitted_to_effective(err);
	if (r < 0)
		return r;
	r = take_peer_fs_identity(c, err);
	if (r < 0)
		return r;
	r = dump_run(&opts, c->srv->kd, dirfd, on_progress, c, &st, err);
	if (r < 0)
		return r;

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
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		rep->dump.has_peak_rss_kb = true;
		rep->dump.peak_rss_kb = ru.ru_maxrss;
	}
	rep->resp.dump = &rep->dump;
	return 0;
}

static int do_restore(struct conn *c, const RestoreReq *req, int dirfd, struct reply *rep,
		      struct ckpt_err *err)
{
	struct restore_opts opts = {
		.requester = c->peer.pid,
		.requester_uid = c->peer.uid,
		.requester_gid = c->peer.gid,
	};
	struct restore_stats st = { 0 };
	int r;

	/* a mode this ckptd does not know (a newer ckptctl's) is refused,
	 * never taken for a weaker one */
	if (req && req->file_validation &&
	    restore_file_validation_parse(req->file_validation, &opts.file_validation) < 0)
		return ckpt_fail(err, -EBADRQC,
				 "unknown file validation mode '%.64s' (this ckptd knows default, "
				 "strict and path)", req->file_validation);
	r = authorize_dir(c, dirfd, false, err);
	if (r < 0)
		return r;
	r = take_peer_fs_identity(c, err);
	if (r < 0)
		return r;
	r = restore_run(&opts, c->srv->kd, dirfd, on_progress, c, &st, err);
	if (r < 0)
		return r;
	rep->restore.pid = st.root_pid;
	rep->restore.tasks = st.tasks;
	rep->restore.pages = st.pages;
	rep->restore.ms = st.ms;
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

static void do_check(const struct kerndat *kd, struct reply *rep)
{
	bool uffd_wp = kd->uffd && kd->uffd_wp_async && kd->pagemap_scan && kd->pidfd_getfd;

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
	add_feature(rep, "tracker_soft_dirty", kd->soft_dirty, NULL);
	add_feature(rep, "tracker_uffd_wp", uffd_wp, uffd_wp ? NULL :
		    "needs uffd_wp_async, pagemap_scan and pidfd_getfd");
	add_feature(rep, "tracker_hash", true, NULL);
	rep->resp.check = &rep->check;
}

/* A request ckptd can't take as it is (another protocol version, malformed,
 * missing a part) fails with -EBADRQC, whatever the detail: ckptctl tells
 * that apart from a failed operation (its exit code 7). */
static void do_status(const struct rpc_server *srv, struct reply *rep)
{
	StatusResult *st = &rep->status;

	status_result__init(st);
	st->version = (char *)CKPT_VERSION;
	st->protocol = RPC_PROTO_VERSION;
	st->pid = srv->pid;
	st->mode = (char *)(srv->mode ? srv->mode : "unknown");
	st->uptime_ms = (now_us() - srv->started_us) / 1000;
	st->idle_timeout_s = srv->idle_timeout_s > 0 ? srv->idle_timeout_s : 0;
	st->max_clients = srv->max_clients;
	rep->resp.status = st;
}

static int dispatch(struct conn *c, const RpcRequest *req, int dirfd, struct reply *rep,
		    struct ckpt_err *err)
{
	if (req->has_version && req->version != RPC_PROTO_VERSION)
		return ckpt_fail(err, -EBADRQC, "protocol version %u (ckptd speaks %u)",
				 req->version, RPC_PROTO_VERSION);
	switch (req->type) {
	case RPC_TYPE__RPC_DUMP:
		if (!req->dump)
			return ckpt_fail(err, -EBADRQC, "dump request without its dump_req");
		return do_dump(c, req->dump, dirfd, rep, err);
	case RPC_TYPE__RPC_RESTORE:
		return do_restore(c, req->restore, dirfd, rep, err);
	case RPC_TYPE__RPC_CHECK:
		do_check(c->srv->kd, rep);
		return 0;
	case RPC_TYPE__RPC_STATUS:
		do_status(c->srv, rep);
		return 0;
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
	}
	if (r < 0)
		fprintf(stderr, "ckptd: %s for uid %u (pid %d) failed: %s\n", what, c->peer.uid,
			c->peer.pid, ckpt_err_msg(err, r));
	else
		fprintf(stderr, "ckptd: %s for uid %u (pid %d) done\n", what, c->peer.uid,
			c->peer.pid);
}

int rpc_serve_conn(const struct rpc_server *srv, int fd_)
{
	_cleanup_close_ int fd = fd_, dirfd = -EBADF;
	struct timeval tv = { .tv_sec = RPC_REQUEST_TIMEOUT_S };
	struct conn c = { .srv = srv, .fd = fd };
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

	r = recv_request(&c, &req, &dirfd, &err);
	if (r == -ENODATA)
		return 0;
	if (r == 0)
		r = dispatch(&c, req, dirfd, &rep, &err);
	log_request(&c, req, r, &err);

	rep.resp.type = req ? req->type : RPC_TYPE__RPC_STATUS;
	rep.resp.err = r < 0 ? r : 0;
	if (r < 0)
		rep.resp.message = (char *)ckpt_err_msg(&err, r);
	s = send_response(&c, &rep.resp);
	if (req)
		rpc_request__free_unpacked(req, NULL);
	return s;
}

/* ---- the listening loop ------------------------------------------------ */

static unsigned reap_children(const struct rpc_server *srv)
{
	unsigned reaped = 0;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		reaped++;
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM && srv->log)
			fprintf(stderr, "ckptd: connection handler %d killed: still running after "
				"%u s (--handler-timeout)\n", pid, srv->handler_timeout_s);
		else if (WIFSIGNALED(status) && srv->log)
			fprintf(stderr, "ckptd: connection handler %d killed by signal %d\n", pid,
				WTERMSIG(status));
	}
	return reaped;
}

static int spawn_handler(const struct rpc_server *srv, int sfd, const sigset_t *oldmask)
{
	_cleanup_close_ int conn = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	pid_t pid;

	if (conn < 0)
		return negerrno();
	pid = fork();
	if (pid < 0)
		return negerrno();
	if (pid == 0) {
		close(sfd);
		close(srv->listen_fd);
		sigprocmask(SIG_SETMASK, oldmask, NULL);
		_exit(rpc_serve_conn(srv, TAKE_FD(conn)) < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
	}
	return 0;
}

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

static int serve_loop(const struct rpc_server *srv, int sfd, const sigset_t *oldmask)
{
	uint64_t idle_since = now_us();
	unsigned active = 0;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = srv->listen_fd, .events = POLLIN },
		};
		int timeout = -1;
		bool child = false;
		int r;

		if (srv->idle_timeout_s > 0 && active == 0) {
			uint64_t left_us = (uint64_t)srv->idle_timeout_s * 1000000;
			uint64_t idle_us = now_us() - idle_since;

			if (idle_us >= left_us)
				return 0;
			timeout = (left_us - idle_us + 999) / 1000;
		}
		r = poll(p, active < srv->max_clients ? 2 : 1, timeout);
		if (r < 0 && errno != EINTR)
			return negerrno();
		if (r <= 0)
			continue;
		if ((p[0].revents & POLLIN) && read_signals(sfd, &child))
			return 0;
		if (child) {
			unsigned n = reap_children(srv);

			active = n > active ? 0 : active - n;
			if (active == 0)
				idle_since = now_us();
		}
		if (p[1].revents & POLLIN) {
			r = spawn_handler(srv, sfd, oldmask);
			if (r == 0)
				active++;
			else if (r != -EAGAIN && r != -ECONNABORTED && r != -EINTR && srv->log)
				fprintf(stderr, "ckptd: cannot serve a connection: %s\n", strerror(-r));
		}
	}
}

int rpc_serve_listener(const struct rpc_server *srv)
{
	_cleanup_close_ int sfd = -EBADF;
	sigset_t mask, oldmask;
	int flags, r;

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
	r = serve_loop(srv, sfd, &oldmask);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	return r;
}
