/* Finishing a dump's images and telling its progress (dump-io.h). */
#include "daemon/dump-io.h"

#include <errno.h>

#include "daemon/dump.h"
#include "images/img.h"

int dump_progress(struct dump_ctx *ctx, const char *stage, uint64_t done, uint64_t total)
{
	if (!ctx->progress || ctx->progress(ctx->progress_opaque, stage, done, total) == 0)
		return 0;
	return ckpt_fail(ctx->err, -ECANCELED, "cancelled at the %s stage: the tree runs on "
			 "as it was and no image set was written", stage);
}

int dump_img_close(struct dump_ctx *ctx, struct img *img)
{
	int r = img_finish(img);

	if (r < 0)
		ckpt_fail(ctx->err, r, "%s", img_errmsg(img));
	img_close(img);
	return r;
}
