/* pidfd.c's fdinfo parser (its public face is the fd kind). */
#ifndef CKPT_FILES_PIDFD_H
#define CKPT_FILES_PIDFD_H

#include <stdbool.h>

/* The "Pid:" line of a pidfd's fdinfo into *ret_pid (-1: exited and
 * reaped, 0: outside our pid namespace). Returns whether l is that line. */
bool pidfd_parse_pid(const char *l, int *ret_pid);

#endif
