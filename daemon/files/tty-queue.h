/* The bytes queued in a pty pair (tty-queue.c), for tty.c and dump.c. */
#ifndef CKPT_FILES_TTY_QUEUE_H
#define CKPT_FILES_TTY_QUEUE_H

#include <stdbool.h>

#include "files.pb-c.h"

struct dump_ctx;
struct fd_parms;
struct rst_ctx;

/* Dump, the tree frozen: read out both queues of the pair whose master is
 * p's fd into ti (queued_out, queued_in), and keep what it takes to write
 * them back. Refuses (before reading anything) what can't be written back. */
int ptyq_dump(struct dump_ctx *ctx, const struct fd_parms *p, TtyInfo *ti);

/* Before the tree runs on (killed false): every pair gets its bytes back,
 * as they were; a failure is a warning of the dump. Killed: dropped. */
void ptyq_dump_end(struct dump_ctx *ctx, bool killed);

/* Restore: the queues of ti (a master's) into the new pair of master m,
 * whose termios are set already; before packet mode and the lock. */
int ptyq_restore(struct rst_ctx *ctx, int m, const TtyInfo *ti);

#endif
