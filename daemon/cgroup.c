/* A task's cgroups, recorded at dump: every line of /proc/PID/cgroup as
 * ckptd reads it ("0::/PATH" for cgroup2, one "ID:CONTROLLERS:/PATH" per
 * cgroup v1 hierarchy), so restore can put each task back
 * (restore-cgroup.c). Paths are relative to ckptd's cgroup namespace; one
 * outside it reads "/../x" and is recorded as it is (restore says it
 * cannot go there).
 *
 * Threads: restore moves a process as a whole (cgroup.procs), and its
 * threads, made later by the blob, follow its main thread. A thread in
 * another cgroup (cgroup v1 "tasks", cgroup2 threaded mode) is therefore
 * refused at dump, by name, rather than silently merged.
 *
 * Cost: one small /proc read per thread. */
#include "daemon/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"
#include "daemon/core.h"
#include "daemon/dump.h"
#include "daemon/pstree.h"

/* An absolute path of plain components; leading ".." ones set *outside. */
static int check_path(const char *p, bool *outside)
{
	bool plain_seen = false;

	*outside = false;
	if (p[0] != '/')
		return -EBADMSG;
	if (strcmp(p, "/") == 0)
		return 0;
	for (const char *c = p + 1;;) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.'))
			return -EBADMSG;
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			if (plain_seen)
				return -EBADMSG;
			*outside = true;
		} else {
			plain_seen = true;
		}
		if (!c[n])
			return 0;
		c += n + 1;
	}
}

int cgroup_line_parse(const char *line, struct cgroup_line *ret)
{
	const char *c = strchr(line, ':'), *p = c ? strchr(c + 1, ':') : NULL;
	struct cgroup_line l = { 0 };
	int r;

	if (!p || c == line || strspn(line, "0123456789") != (size_t)(c - line))
		return -EBADMSG;
	for (const char *s = line; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return -EBADMSG;
	r = str_copy_n(l.ctl, sizeof(l.ctl), c + 1, p - c - 1);
	if (r == 0)
		r = str_copy_n(l.path, sizeof(l.path), p + 1, strlen(p + 1));
	if (r < 0)
		return r;
	/* cgroup2 is hierarchy 0 with no controllers, and only it */
	if ((strncmp(line, "0:", 2) == 0) != !l.ctl[0])
		return -EBADMSG;
	r = check_path(l.path, &l.outside);
	if (r < 0)
		return r;
	*ret = l;
	return 0;
}

/* The first line of a that b lacks. */
static const char *first_missing(const char *a, const char *b, char *buf, size_t len)
{
	for (const char *l = a; *l;) {
		size_t n = strcspn(l, "\n");
		bool found = false;

		for (const char *m = b; *m && !found;) {
			size_t k = strcspn(m, "\n");

			found = k == n && memcmp(l, m, n) == 0;
			m += k + (m[k] == '\n');
		}
		if (!found) {
			snprintf(buf, len, "%.*s", (int)n, l);
			return buf;
		}
		l += n + (l[n] == '\n');
	}
	snprintf(buf, len, "?");
	return buf;
}

static int check_threads(struct dump_ctx *ctx, struct task *t, const char *main)
{
	char path[96], mine[512], theirs[512];

	for (unsigned i = 1; i < t->nr_threads; i++) {
		_cleanup_free_ char *s = NULL;
		pid_t tid = t->threads[i].tid;
		int r;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/cgroup", t->pid, tid);
		r = read_file_at(AT_FDCWD, path, &s, NULL);
		if (r < 0)
			return core_fail(ctx, t->pid, r, "cannot read %s", path);
		if (strcmp(s, main) == 0)
			continue;
		first_missing(s, main, theirs, sizeof(theirs));
		first_missing(main, s, mine, sizeof(mine));
		return core_fail(ctx, t->pid, -EOPNOTSUPP,
				 "thread %d is in cgroup %s, its process in %s: a restore puts "
				 "a process's threads in its own cgroup; move the thread there "
				 "(write %d to the process's cgroup's \"tasks\" in cgroup v1, "
				 "\"cgroup.threads\" in cgroup2) and dump again", tid, theirs, mine,
				 tid);
	}
	return 0;
}

int cgroup_dump(struct dump_ctx *ctx, struct task *t, char **ret_text, char ***ret_lines,
		size_t *ret_n)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char **lines = NULL;
	struct cgroup_line cl;
	char path[64];
	size_t n = 0;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", t->pid);
	r = read_file_at(AT_FDCWD, path, &text, NULL);
	if (r < 0)
		return core_fail(ctx, t->pid, r, "cannot read %s", path);
	r = check_threads(ctx, t, text);
	if (r < 0)
		return r;
	lines = calloc(CGROUP_MAX_LINES + 1, sizeof(*lines));
	if (!lines)
		return core_fail(ctx, t->pid, -ENOMEM, "no memory for its cgroups");
	for (char *l = text, *eol; *l; l = eol) {
		eol = l + strcspn(l, "\n");
		if (*eol)
			*eol++ = '\0';
		if (cgroup_line_parse(l, &cl) < 0 || n == CGROUP_MAX_LINES)
			return core_fail(ctx, t->pid, -EBADMSG, "cannot record its cgroup \"%s\" "
					 "(%s, line %zu): not a path ckpt can restore", l, path,
					 n + 1);
		lines[n++] = l;
	}
	*ret_text = TAKE_PTR(text);
	*ret_lines = TAKE_PTR(lines);
	*ret_n = n;
	return 0;
}
