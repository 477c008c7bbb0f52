/* A task's cgroups (cgroup.c): /proc/PID/cgroup read at dump into
 * task_core_entry.cgroups, and the one parser of such a line, which
 * restore uses on the untrusted lines of an image. */
#ifndef CKPT_DAEMON_CGROUP_H
#define CKPT_DAEMON_CGROUP_H

#include <stdbool.h>
#include <stddef.h>

struct dump_ctx;
struct task;

#define CGROUP_PATH_MAX		1024
#define CGROUP_CTL_MAX		256
#define CGROUP_MAX_LINES	64	/* hierarchies a task may name */

/* One line of /proc/PID/cgroup: "0::/PATH" (cgroup2) or
 * "ID:CONTROLLERS:/PATH" (a cgroup v1 hierarchy: "4:pids:/a",
 * "1:name=systemd:/a"). */
struct cgroup_line {
	char ctl[CGROUP_CTL_MAX];	/* "" for cgroup2 */
	char path[CGROUP_PATH_MAX];	/* absolute */
	bool outside;			/* "/../x": outside the reader's
					   cgroup namespace */
};

/* Parse line (no newline) into *ret. -EBADMSG: not "ID:CTL:PATH", a v2
 * line with controllers, a path that is not absolute or holds an empty,
 * "." or ".." component (but for leading ".." ones: ret->outside), or a
 * control character; -ENAMETOOLONG. */
int cgroup_line_parse(const char *line, struct cgroup_line *ret);

/* The cgroups of t (every line of /proc/PID/cgroup), into a NULL-ended
 * array of strings owned by *ret_text (free both with free()). A thread
 * in other cgroups than its process is refused (restore puts a process
 * in one place: its threads follow its main one), reported. */
int cgroup_dump(struct dump_ctx *ctx, struct task *t, char **ret_text, char ***ret_lines,
		size_t *ret_n);

#endif
