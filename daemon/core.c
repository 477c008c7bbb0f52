/* PLACEHOLDER: replaced by the core helper. */
#include "daemon/dump.h"
#include <errno.h>
int dump_pstree(struct dump_ctx *ctx) { return -EOPNOTSUPP; }
int dump_task_core(struct dump_ctx *ctx, struct task *t) { return -EOPNOTSUPP; }
