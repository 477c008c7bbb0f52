/* ckptctl's view of a live process tree, from /proc (the daemon has its
 * own, daemon/pstree.c, under ptrace): migrate names the PIDs a tree will
 * need on the destination; receive ends a tree it restored when the
 * source did not confirm. */
#ifndef CKPT_CLIENT_PROC_TREE_H
#define CKPT_CLIENT_PROC_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* root and every descendant (/proc/PID/task/TID/children), and with
 * threads every thread id too, root first; *ret malloc'ed. -ESRCH: no
 * root. At most 65536 ids (-E2BIG). */
int proc_tree_ids(pid_t root, bool threads, pid_t **ret, size_t *ret_nr);
/* SIGKILL root and its descendants, children first; 0 or -errno. */
int proc_tree_kill(pid_t root);

#endif
