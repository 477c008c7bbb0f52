/* eventfd: its counter and EFD_SEMAPHORE from fdinfo; a restore makes a
 * new one (O_NONBLOCK kept) and adds the counter back. */
#include "daemon/files/kinds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/restore-int.h"

#define EVENTFD_NAME	"anon_inode:[eventfd]"

static bool eventfd_match(const struct fd_parms *p)
{
	return fd_is_anon(p, EVENTFD_NAME);
}

static int parse_line(const struct fd_parms *p, FileDescEntry *e, const char *l)
{
	unsigned long long cnt;
	int v;

	if (sscanf(l, "eventfd-count: %llx", &cnt) == 1) {
		e->has_eventfd_count = true;
		e->eventfd_count = cnt;
	} else if (sscanf(l, "eventfd-semaphore: %d", &v) == 1) {
		e->has_eventfd_semaphore = true;
		e->eventfd_semaphore = v;
	}
	return 0;
}

static int eventfd_describe(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e)
{
	int r = fd_anon_describe(ctx, p, e);

	if (r == 0)
		r = fd_fdinfo_each(ctx, p, parse_line, e);
	if (r == 0 && !e->has_eventfd_count)
		r = fd_fdinfo_lacks(ctx, p);
	return r;
}

static bool eventfd_restorable(const FileDescEntry *fe)
{
	return fe->has_eventfd_count;
}

static int open_eventfd(const FileDescEntry *fe)
{
	int flags = EFD_CLOEXEC | (fe->flags & O_NONBLOCK ? EFD_NONBLOCK : 0) |
		    (fe->eventfd_semaphore ? EFD_SEMAPHORE : 0);
	uint64_t cnt = fe->eventfd_count;
	_cleanup_close_ int fd = eventfd(0, flags);

	if (fd < 0)
		return negerrno();
	/* the counter may exceed eventfd()'s unsigned int: add it */
	if (cnt && write(fd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return negerrno();
	return TAKE_FD(fd);
}

static int eventfd_open(struct rst_ctx *ctx, FileDescEntry *fe, struct fd_open_state *st)
{
	int fd = open_eventfd(fe);

	if (fd < 0)
		return ckpt_fail(ctx->err, fd, "file description %u: cannot create %s", fe->id,
				 fe->anon_name);
	return fd;
}

const struct fd_kind_ops fd_kind_eventfd = {
	.type = FD_TYPE__FD_ANON,
	.anon_name = EVENTFD_NAME,
	.name = FD_ANON_REFUSED,
	.match = eventfd_match,
	.describe = eventfd_describe,
	.restorable = eventfd_restorable,
	.open = eventfd_open,
};
