/* PLACEHOLDER: replaced by the mem helper. */
#include "daemon/dump.h"
#include <errno.h>
int dump_task_mm(struct dump_ctx *ctx, struct task *t) { return -EOPNOTSUPP; }
