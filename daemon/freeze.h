/* Seize and stop every thread of a tree (ptrace), and let it go again. */
#ifndef CKPT_FREEZE_H
#define CKPT_FREEZE_H

#include <stdbool.h>

struct dump_ctx;

/* Refuse bad targets, then seize and stop every thread of the tree rooted
 * at ctx->opts->pid into ctx->tree (catching threads and children that
 * appear meanwhile). On failure everything seized is released and left
 * running. */
int freeze_tree(struct dump_ctx *ctx);
/* Detach from every task; with kill, SIGKILL the tree first. */
void release_tree(struct dump_ctx *ctx, bool kill);

#endif
