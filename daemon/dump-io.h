/* What dump.c and its workers (core, mem, files, ghost...) share to give
 * out what they made: an image finished with its failure described, and
 * progress told to the requester. Below all of them: it calls none. */
#ifndef CKPT_DUMP_IO_H
#define CKPT_DUMP_IO_H

#include <stdint.h>

struct dump_ctx;
struct img;

/* Tell the requester; -ECANCELED (described in ctx->err) when it gave up. */
int dump_progress(struct dump_ctx *ctx, const char *stage, uint64_t done, uint64_t total);

/* Finish and free an image a dump wrote. A failure (a full disk often
 * shows only here) is described with the file and the offset. */
int dump_img_close(struct dump_ctx *ctx, struct img *img);

#endif
