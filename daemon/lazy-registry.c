/* The lazy servers' registry: one small file per lazy restore, named after
 * the tree's root pid, in LAZY_DIR (lazy.h gives the format). The server
 * rewrites its own entry whole every 100 ms or so (rundir_write: a reader
 * sees the old text or the new, never half); lazy_list() reads them all.
 *
 * An entry is trusted only as far as the directory is root's own
 * (rundir_open checks it); a "serving" entry whose server is gone, or
 * whose pid now belongs to another process (checked by its comm, as the
 * keepers are), reads as failed: nothing else would ever say so. */
#include "daemon/lazy-registry.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/escape.h"
#include "common/util.h"
#include "daemon/lazy.h"

int lazy_entry_format(const struct lazy_entry *e, char *buf, size_t len)
{
	char dir[sizeof(e->dir)], error[sizeof(e->error)];
	int n;

	/* escaped: no newline of a path or a message breaks the lines */
	ckpt_escape(dir, sizeof(dir), e->dir);
	ckpt_escape(error, sizeof(error), e->error);
	n = snprintf(buf, len,
		     "root %d server %d uid %u state %s\n"
		     "pages %" PRIu64 " left %" PRIu64 " faults %" PRIu64 " ms %" PRIu64 "\n"
		     "dir %s\n%s%s%s",
		     e->root, e->server, (unsigned)e->uid, e->state, e->pages, e->left, e->faults,
		     e->ms, dir, error[0] ? "error " : "", error, error[0] ? "\n" : "");
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

/* The text of the line "KEY rest\n" at *p into buf; *p moves past it. */
static int parse_rest(const char **p, const char *key, char *buf, size_t len)
{
	size_t k = strlen(key), n;
	const char *nl;

	if (strncmp(*p, key, k) != 0 || (*p)[k] != ' ')
		return -EBADMSG;
	nl = strchr(*p + k + 1, '\n');
	if (!nl)
		return -EBADMSG;
	n = nl - (*p + k + 1);
	if (n >= len)
		return -EBADMSG;
	memcpy(buf, *p + k + 1, n);
	buf[n] = '\0';
	*p = nl + 1;
	return 0;
}

int lazy_entry_parse(const char *text, struct lazy_entry *ret)
{
	unsigned long long pages, left, faults, ms;
	struct lazy_entry e = { 0 };
	const char *p = text;
	unsigned uid;
	int n = 0;

	if (sscanf(p, "root %d server %d uid %u state %15s%n", &e.root, &e.server, &uid, e.state,
		   &n) != 4 || n == 0 || p[n] != '\n')
		return -EBADMSG;
	p += n + 1;
	n = 0;
	if (sscanf(p, "pages %llu left %llu faults %llu ms %llu%n", &pages, &left, &faults, &ms,
		   &n) != 4 || n == 0 || p[n] != '\n')
		return -EBADMSG;
	p += n + 1;
	if (parse_rest(&p, "dir", e.dir, sizeof(e.dir)) < 0)
		return -EBADMSG;
	if (*p && parse_rest(&p, "error", e.error, sizeof(e.error)) < 0)
		return -EBADMSG;
	if (*p || e.root <= 0 || e.server <= 0)
		return -EBADMSG;
	if (strcmp(e.state, "serving") && strcmp(e.state, "done") && strcmp(e.state, "failed"))
		return -EBADMSG;
	e.uid = uid;
	e.pages = pages;
	e.left = left;
	e.faults = faults;
	e.ms = ms;
	*ret = e;
	return 0;
}

int lazy_registry_write(int dirfd, const struct lazy_entry *e)
{
	char name[16], text[sizeof(e->dir) * 4 + sizeof(e->error) * 4 + 256];
	int n = lazy_entry_format(e, text, sizeof(text));

	if (n < 0)
		return n;
	snprintf(name, sizeof(name), "%d", e->root);
	return rundir_write(dirfd, name, text, n);
}

int lazy_registry_remove(int dirfd, pid_t root)
{
	char name[16];

	snprintf(name, sizeof(name), "%d", root);
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return negerrno();
	return 0;
}

static bool server_alive(pid_t pid)
{
	_cleanup_free_ char *comm = NULL;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (read_file_at(AT_FDCWD, path, &comm, NULL) < 0)
		return false;
	comm[strcspn(comm, "\n")] = '\0';
	return strcmp(comm, LAZY_COMM) == 0;
}

static int list_add(struct lazy_entry **v, size_t *nr, size_t *cap, const struct lazy_entry *e)
{
	if (*nr == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		struct lazy_entry *nv = realloc(*v, c * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*nr)++] = *e;
	return 0;
}

/* An entry no server writes any more, older than LAZY_KEEP_S: it has
 * been on show long enough. */
static bool stale(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       st.st_mtime + LAZY_KEEP_S < time(NULL);
}

int lazy_list(struct lazy_entry **ret, size_t *ret_nr)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ struct lazy_entry *v = NULL;
	size_t nr = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int r = rundir_open(LAZY_DIR, false, &fd);

	if (r == -ENOENT) {
		*ret = NULL;
		*ret_nr = 0;
		return 0;
	}
	if (r < 0)
		return r;
	d = fdopendir(fd);
	if (!d)
		return negerrno();
	fd = -EBADF;	/* closedir closes it */
	while (r == 0 && (de = readdir(d))) {
		_cleanup_free_ char *text = NULL;
		struct lazy_entry e;
		char name[16];

		if (de->d_name[0] == '.')
			continue;
		if (read_file_at(dirfd(d), de->d_name, &text, NULL) < 0 ||
		    lazy_entry_parse(text, &e) < 0)
			continue;	/* not an entry (or gone meanwhile) */
		snprintf(name, sizeof(name), "%d", e.root);
		if (strcmp(name, de->d_name) != 0)
			continue;
		if (strcmp(e.state, "serving") == 0 && !server_alive(e.server)) {
			strcpy(e.state, "failed");
			snprintf(e.error, sizeof(e.error), "the lazy server (pid %d) died", e.server);
		}
		if (strcmp(e.state, "serving") != 0 && stale(dirfd(d), de->d_name)) {
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		r = list_add(&v, &nr, &cap, &e);
	}
	closedir(d);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(v);
	*ret_nr = nr;
	return 0;
}
