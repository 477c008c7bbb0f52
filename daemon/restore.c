/* PLACEHOLDER: replaced by the restore helper. */
#include "daemon/restore.h"
#include <errno.h>
int restore_run(const struct restore_opts *opts, const struct kerndat *kd, int dirfd,
		progress_fn progress, void *opaque, struct restore_stats *stats,
		struct ckpt_err *err)
{
	return ckpt_fail(err, -EOPNOTSUPP, "restore is not built yet");
}
