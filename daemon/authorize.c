/* Who a request comes from, and what it may touch: the peer's credentials
 * (SO_PEERCRED), the dump target and its tree, the image directory, and
 * the file-system identity a handler takes for a non-root requester.
 * rpc.c's header comment states the policy. */
#include "daemon/authorize.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/fsuid.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/proc.h"
#include "daemon/rpc.h"

#define AUTH_TREE_MAX		65536	/* tasks walked when authorizing a tree */

int peer_creds(int fd, struct peer *p)
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

/* Whether the target exists and is a process (not a thread of one). */
static int check_is_process(pid_t pid, struct ckpt_err *err)
{
	_cleanup_(proc_status_free) struct proc_status st = { 0 };

	if (proc_read_status(pid, &st) < 0)
		return ckpt_fail(err, -ESRCH, "no process with pid %d", pid);
	if (st.tgid != pid)
		return ckpt_fail(err, -ESRCH, "pid %d is a thread of process %d; dump %d", pid,
				 st.tgid, st.tgid);
	return 0;
}

/* Every uid and gid (real, effective, saved, fs) is the peer's, and the
 * task is dumpable: the files in /proc/PID belong to root otherwise (the
 * directory itself keeps the task's euid on current kernels). */
static int check_owned(const struct peer *p, pid_t pid, struct ckpt_err *err)
{
	_cleanup_(proc_status_free) struct proc_status ps = { 0 };
	char path[32];
	struct stat st;

	if (proc_read_status(pid, &ps) < 0)
		return ckpt_fail(err, -ESRCH, "pid %d: cannot read its credentials", pid);
	for (int i = 0; i < 4; i++) {
		if (ps.uid[i] != p->uid)
			return ckpt_fail(err, -EPERM, "pid %d runs with uid %u; uid %u may only dump "
					 "its own processes", pid, ps.uid[i], p->uid);
		if (ps.gid[i] != p->gid)
			return ckpt_fail(err, -EPERM, "pid %d runs with gid %u; uid %u may only dump "
					 "processes of its own gid %u", pid, ps.gid[i], p->uid,
					 p->gid);
	}
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (stat(path, &st) < 0)
		return ckpt_fail(err, -ESRCH, "no process with pid %d", pid);
	if (st.st_uid != p->uid)
		return ckpt_fail(err, -EPERM, "pid %d is not dumpable (it changed credentials or "
				 "called prctl(PR_SET_DUMPABLE, 0))", pid);
	return 0;
}

/* Append pid's children (of every thread) to the list. */
static int add_children(pid_t pid, pid_t **list, size_t *n, size_t *cap)
{
	_cleanup_free_ pid_t *kids = NULL;
	unsigned nr;
	int r;

	r = proc_read_children(pid, &kids, &nr);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	for (unsigned i = 0; i < nr; i++) {
		if (*n == *cap) {
			pid_t *l;

			if (*cap >= AUTH_TREE_MAX)
				return -E2BIG;
			l = realloc(*list, (*cap = *cap * 2) * sizeof(pid_t));
			if (!l)
				return -ENOMEM;
			*list = l;
		}
		(*list)[(*n)++] = kids[i];
	}
	return 0;
}

/* A non-root requester must own the target and every descendant. freeze.c
 * checks again on the frozen tree (the tree may change until then). */
static int check_tree_owned(const struct peer *p, pid_t root, struct ckpt_err *err)
{
	size_t n = 1, cap = 64;
	_cleanup_free_ pid_t *list = malloc(cap * sizeof(pid_t));
	int r;

	if (!list)
		return -ENOMEM;
	list[0] = root;
	for (size_t i = 0; i < n; i++) {
		r = check_owned(p, list[i], err);
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
	struct proc_stat st;

	return proc_read_stat(pid, &st) < 0 ? 0 : st.ppid;
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

int authorize_target(const struct rpc_server *srv, const struct peer *p, pid_t pid, struct ckpt_err *err)
{
	int r;

	if (pid <= 0)
		return ckpt_fail(err, -ESRCH, "invalid pid %d", pid);
	if (pid == getpid() || pid == srv->pid)
		return ckpt_fail(err, -EPERM, "pid %d is ckptd itself", pid);
	if (pid == getppid() || pid == srv->parent)
		return ckpt_fail(err, -EPERM, "pid %d is ckptd's parent", pid);
	if (pid == p->pid)
		return ckpt_fail(err, -EPERM, "pid %d is the requesting process", pid);
	/* freezing an ancestor would freeze ckptd or its client with it */
	if (is_ancestor(pid, getpid()) || is_ancestor(pid, srv->pid))
		return ckpt_fail(err, -EPERM, "pid %d is an ancestor of ckptd", pid);
	if (is_ancestor(pid, p->pid))
		return ckpt_fail(err, -EPERM, "pid %d is an ancestor of the requesting process",
				 pid);
	r = check_is_process(pid, err);
	if (r < 0 || p->uid == 0)
		return r;
	return check_tree_owned(p, pid, err);
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

int authorize_dir(const struct peer *p, int dirfd, bool write, struct ckpt_err *err)
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
	if (p->uid == 0)
		return 0;
	if (st.st_uid == p->uid)
		bits = st.st_mode >> 6;
	else if (peer_in_group(p, st.st_gid))
		bits = st.st_mode >> 3;
	else
		bits = st.st_mode;
	if ((bits & need) != need)
		return ckpt_fail(err, -EACCES, "the image directory is not %s by uid %u",
				 write ? "writable" : "readable", p->uid);
	return 0;
}

/* For a non-root requester (when ckptd is not already running as them):
 * open, create and check files with the requester's identity. */
int take_peer_fs_identity(const struct peer *p, struct ckpt_err *err)
{
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
int limit_permitted_to_effective(struct ckpt_err *err)
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
