/* PLACEHOLDER: replaced by the files helper. */
#include "daemon/dump.h"
#include <errno.h>
int dump_task_files(struct dump_ctx *ctx, struct task *t) { return -EOPNOTSUPP; }
int dump_files_finish(struct dump_ctx *ctx) { return -EOPNOTSUPP; }
void files_ctx_free(struct files_ctx *f) { }
int dump_ghost_file(struct dump_ctx *ctx, int fd, const struct stat *st, const char *name, uint32_t *ret_id) { return -EOPNOTSUPP; }
