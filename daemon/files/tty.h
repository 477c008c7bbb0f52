/* Terminals (tty.c): what the process tree code needs of them. */
#ifndef CKPT_FILES_TTY_H
#define CKPT_FILES_TTY_H

#include <sys/types.h>

#include "core.pb-c.h"

struct ckpt_err;
struct rst_ctx;
struct rst_task;

/* Dump: the controlling tty of pid and its foreground group, into c. */
int tty_dump_ctty(struct ckpt_err *err, pid_t pid, TaskCoreEntry *c);
/* Restore checks: every pty slave and controlling tty has its master in
 * the images. */
int rst_check_ttys(struct rst_ctx *ctx);
/* In session leader t, right after setsid: take its controlling tty. */
int rst_tty_ctty(struct rst_ctx *ctx, struct rst_task *t);
/* In session leader t once every group exists: the foreground group. */
int rst_tty_fg(struct rst_ctx *ctx, struct rst_task *t);

#endif
