#include "daemon/pstree.h"

#include <stdlib.h>
#include <unistd.h>

struct task *pstree_find(const struct pstree *t, pid_t pid)
{
	for (unsigned i = 0; i < t->nr_tasks; i++)
		if (t->tasks[i]->pid == pid)
			return t->tasks[i];
	return NULL;
}

void pstree_free(struct pstree *t)
{
	for (unsigned i = 0; i < t->nr_tasks; i++) {
		struct task *k = t->tasks[i];

		if (k->pidfd >= 0)
			close(k->pidfd);
		free(k->threads);
		free(k);
	}
	free(t->tasks);
	t->tasks = NULL;
	t->nr_tasks = 0;
}
