/* signalfd: its mask from fdinfo; a restore makes a new one with it. */
#include "daemon/files/kinds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/restore-int.h"

#define SIGNALFD_NAME	"anon_inode:[signalfd]"

static bool signalfd_match(const struct fd_parms *p)
{
	return fd_is_anon(p, SIGNALFD_NAME);
}

static int parse_line(const struct fd_parms *p, FileDescEntry *e, const char *l)
{
	unsigned long long mask;

	if (sscanf(l, "sigmask: %llx", &mask) == 1) {
		e->has_signalfd_mask = true;
		e->signalfd_mask = mask;
	}
	return 0;
}

static int signalfd_describe(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e)
{
	int r = fd_anon_describe(ctx, p, e);

	if (r == 0)
		r = fd_fdinfo_each(ctx, p, parse_line, e);
	if (r == 0 && !e->has_signalfd_mask)
		r = fd_fdinfo_lacks(ctx, p);
	return r;
}

static bool signalfd_restorable(const FileDescEntry *fe)
{
	return fe->has_signalfd_mask;
}

static int signalfd_open(struct rst_ctx *ctx, FileDescEntry *fe, struct fd_open_state *st)
{
	uint64_t mask = fe->signalfd_mask;
	int flags = O_CLOEXEC | (fe->flags & O_NONBLOCK ? O_NONBLOCK : 0);
	int fd = (int)syscall(SYS_signalfd4, -1, &mask, sizeof(mask), flags);

	if (fd < 0)
		return ckpt_fail(ctx->err, negerrno(), "file description %u: cannot create %s",
				 fe->id, fe->anon_name);
	return fd;
}

const struct fd_kind_ops fd_kind_signalfd = {
	.type = FD_TYPE__FD_ANON,
	.anon_name = SIGNALFD_NAME,
	.name = FD_ANON_REFUSED,
	.match = signalfd_match,
	.describe = signalfd_describe,
	.restorable = signalfd_restorable,
	.open = signalfd_open,
};
