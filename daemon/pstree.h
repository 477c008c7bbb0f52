/* The frozen process tree as the engine holds it during a dump. */
#ifndef CKPT_PSTREE_H
#define CKPT_PSTREE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

enum task_state {
	TS_ALIVE = 1,		/* values match pstree.proto's task_state */
	TS_STOPPED = 2,
	TS_ZOMBIE = 3,
};

struct thread {
	pid_t tid;
	bool seized;			/* attached and held in a ptrace stop */
	struct user_regs_struct regs;	/* as caught at freeze (freeze.c) */
};

struct task {
	pid_t pid, ppid, pgid, sid;
	enum task_state state;
	int exit_code;			/* zombies: wait status */
	int stop_signal;		/* stopped tasks */
	struct task *parent;		/* NULL for the root */
	struct thread *threads;		/* main thread first */
	unsigned nr_threads;
	int pidfd;			/* -1 for zombies */
	unsigned pages_id;		/* N of this task's pages-N.img */

	/* set up by inject_prepare(), torn down by inject_finish() */
	unsigned long syscall_ip;	/* address of a `syscall` instruction */
	unsigned long scratch;		/* scratch page mapped in the target */
	size_t scratch_len;
};

struct pstree {
	struct task **tasks;	/* root first; a parent precedes its children */
	unsigned nr_tasks;
};

struct task *pstree_find(const struct pstree *t, pid_t pid);
void pstree_free(struct pstree *t);

#endif
