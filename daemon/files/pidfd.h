/* pidfd.c's fdinfo parser and the blob's thread pidfds (its public face
 * is the fd kind). */
#ifndef CKPT_FILES_PIDFD_H
#define CKPT_FILES_PIDFD_H

#include <stdbool.h>

/* The "Pid:" line of a pidfd's fdinfo into *ret_pid (-1: exited and
 * reaped, 0: outside our pid namespace). Returns whether l is that line. */
bool pidfd_parse_pid(const char *l, int *ret_pid);

struct rst_ctx;
struct rst_task;
struct restore_pidfd;

/* Restore: the pidfds task t holds of its own threads other than the main
 * one (checked by the kind), which its blob makes over their stand-ins,
 * into out[] in the order of t->fds (NULL: only count them). Returns how many. */
unsigned rst_pidfd_threads(struct rst_ctx *ctx, struct rst_task *t, struct restore_pidfd *out);

#endif
