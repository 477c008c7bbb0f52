/* Restore, where the restored tree lives (restore-cgroup.c): each task
 * back in the cgroups it was dumped from where they exist, else in a
 * transient systemd scope or in the requester's own cgroup, never left
 * behind in ckptd's. */
#ifndef CKPT_RESTORE_CGROUP_H
#define CKPT_RESTORE_CGROUP_H

#include <stddef.h>

struct rst_ctx;
struct rst_task;

/* The path of hierarchy `controllers` ("" for cgroup2, "pids",
 * "cpu,cpuacct", "name=systemd") in a /proc/PID/cgroup text, into ret
 * (size len). -ENOENT: no such line; -EBADMSG: a path that is not
 * absolute; -ENAMETOOLONG. */
int rst_cgroup_path(const char *proc_cgroup, const char *controllers, char *ret, size_t len);

/* Where cgroup `path` of hierarchy `controllers` is in the file system, by
 * a /proc/self/mountinfo text: the mount point of that hierarchy (cgroup2,
 * or the cgroup v1 mount holding those controllers) whose root holds path,
 * followed by the rest of path. -ENOENT: not mounted here, or path lies
 * outside every mount of it. */
int rst_cgroup_dir(const char *mountinfo, const char *controllers, const char *path,
		   char *ret, size_t len);

/* The slice a cgroup2 path is in: its last component ending in ".slice"
 * ("/user.slice/user-1000.slice/session-2.scope" -> "user-1000.slice").
 * -ENOENT when there is none. */
int rst_cgroup_slice(const char *path, char *ret, size_t len);

/* Validation (load_core): t's recorded cgroups are lines
 * cgroup_line_parse takes, and not too many. 0 or a reported -EBADMSG. */
int rst_cgroup_check(struct rst_ctx *ctx, const struct rst_task *t);

/* Intermediate process, once every task exists and before any is let go
 * (so none can fork out of the move): put every task of the tree in a
 * transient scope (systemd is init, root requester) or in the requester's
 * cgroups; then, with --cgroup=dumped, each task in its dumped cgroups
 * where it can go (a note per task and hierarchy where not). Says where
 * in ctx->sh->cgroup. A refusal for a non-root requester is a warning
 * there; 0 or a reported -errno (root only, the requester's step). */
int rst_cgroup_place(struct rst_ctx *ctx);

#endif
