/* Terminals, recorded (not yet restored: a restore refuses them): which
 * tty (index), which side of a pty pair (master or slave), and its name.
 *
 * A device is a terminal if it is a pty slave (majors 136..143, which have
 * no sysfs entry) or its sysfs class is "tty" (/dev/ptmx, /dev/tty, vts,
 * serial lines). A master's index comes from TIOCGPTN on a duplicate of the
 * target's own description (pidfd_getfd): opening /dev/ptmx again would
 * make a new pair. */
#include "daemon/files/kinds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/dump.h"
#include "files.pb-c.h"

#define PTY_SLAVE_MAJOR_FIRST	136u
#define PTY_SLAVE_MAJOR_LAST	143u
#define TTYAUX_MAJOR		5u
#define PTMX_MINOR		2u

static bool is_pty_slave(dev_t rdev)
{
	return major(rdev) >= PTY_SLAVE_MAJOR_FIRST && major(rdev) <= PTY_SLAVE_MAJOR_LAST;
}

static bool is_ptmx(dev_t rdev)
{
	return major(rdev) == TTYAUX_MAJOR && minor(rdev) == PTMX_MINOR;
}

static bool tty_match(const struct fd_parms *p)
{
	char path[64], link[256];
	ssize_t n;
	const char *base;
	dev_t rdev = p->st.st_rdev;

	if (!S_ISCHR(p->st.st_mode))
		return false;
	if (is_pty_slave(rdev))
		return true;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/subsystem", major(rdev), minor(rdev));
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	base = strrchr(link, '/');
	return base && strcmp(base + 1, "tty") == 0;
}

/* The pty index behind a master fd of the target. */
static int ptmx_index(struct dump_ctx *ctx, const struct fd_parms *p, uint32_t *ret)
{
	_cleanup_close_ int fd = -EBADF;
	unsigned idx;

	fd = fd_take_shared(ctx, p->pid, p->fd);
	if (fd < 0)
		return ckpt_fail(ctx->err, fd, "pid %d fd %d: cannot take the pty "
				 "master to read its index", p->pid, p->fd);
	if (ioctl(fd, TIOCGPTN, &idx) < 0)
		return ckpt_fail(ctx->err, negerrno(), "pid %d fd %d: TIOCGPTN", p->pid, p->fd);
	*ret = idx;
	return 0;
}

static int tty_describe(struct dump_ctx *ctx, struct fd_parms *p, FileDescEntry *e)
{
	dev_t rdev = p->st.st_rdev;
	TtyInfo *ti;
	int r;

	e->has_rdev = true;
	e->rdev = rdev;
	ti = malloc(sizeof(*ti));
	if (!ti)
		return -ENOMEM;
	tty_info__init(ti);
	e->tty = ti;
	ti->name = strdup(p->link);
	if (!ti->name)
		return -ENOMEM;
	ti->has_master = true;
	ti->has_index = true;
	if (is_ptmx(rdev)) {
		ti->master = true;
		r = ptmx_index(ctx, p, &ti->index);
		if (r < 0)
			return r;
	} else {
		/* pty slaves: one major with 20-bit minors, the minor is the index */
		ti->index = minor(rdev);
	}
	return fd_set_identity(e, &p->st, p->link);
}

const struct fd_kind_ops fd_kind_tty = {
	.type = FD_TYPE__FD_TTY,
	.name = "terminals",
	.match = tty_match,
	.describe = tty_describe,
};
