/* A live process tree read from /proc (client/proc-tree.h). */
#include "client/proc-tree.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/util.h"

#define IDS_MAX 65536u

struct ids {
	pid_t *v;
	size_t nr, cap;
};

static int ids_push(struct ids *l, pid_t id)
{
	for (size_t i = 0; i < l->nr; i++)
		if (l->v[i] == id)
			return 0;
	if (l->nr == IDS_MAX)
		return -E2BIG;
	if (l->nr == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		pid_t *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->nr++] = id;
	return 0;
}

/* The threads of pid into threads (if asked), its children into l. */
static int read_task(pid_t pid, bool threads, struct ids *l)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int r = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return 0;	/* gone meanwhile */
	while (r == 0 && (e = readdir(d))) {
		_cleanup_free_ char *kids = NULL;
		char *tok, *save = NULL;
		long tid = strtol(e->d_name, NULL, 10);

		if (tid <= 0)
			continue;
		if (threads)
			r = ids_push(l, tid);
		snprintf(path, sizeof(path), "/proc/%d/task/%ld/children", pid, tid);
		if (r < 0 || read_file_at(AT_FDCWD, path, &kids, NULL) < 0)
			continue;
		for (tok = strtok_r(kids, " \n", &save); tok && r == 0;
		     tok = strtok_r(NULL, " \n", &save))
			r = ids_push(l, strtol(tok, NULL, 10));
	}
	closedir(d);
	return r;
}

int proc_tree_ids(pid_t root, bool threads, pid_t **ret, size_t *ret_nr)
{
	struct ids l = { 0 };
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d", root);
	if (root <= 0 || access(path, F_OK) < 0)
		return -ESRCH;
	r = ids_push(&l, root);
	/* l grows as it is walked: every task's children (and threads) join
	 * the end; a thread's id lists its process's again, deduplicated */
	for (size_t i = 0; r == 0 && i < l.nr; i++)
		r = read_task(l.v[i], threads, &l);
	if (r < 0) {
		free(l.v);
		return r;
	}
	*ret = l.v;
	*ret_nr = l.nr;
	return 0;
}

int proc_tree_kill(pid_t root)
{
	_cleanup_free_ pid_t *ids = NULL;
	size_t nr;
	int r = proc_tree_ids(root, false, &ids, &nr);

	if (r < 0)
		return r;
	for (size_t i = nr; i-- > 0;)
		if (kill(ids[i], SIGKILL) < 0 && errno != ESRCH)
			r = negerrno();
	return r;
}
