/* The table of fd kinds (see kinds.h) and what every kind shares: lookups
 * on both sides, the refusal of a kind that can't come back, fdinfo
 * reading. A new kind is one new file beside this one and one line in
 * fd_kinds[]. */
#include "daemon/files/kinds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/dump.h"
#include "daemon/proc.h"
#include "daemon/restore-int.h"

/* Every kind, one line each: fd_kind_NAME, defined in NAME.c. Dump looks
 * in this order: the anon-inode kinds by name before the catch-all anon
 * kind, O_PATH fds before the kinds by file type, a terminal before other
 * character devices; "other" takes whatever is left. */
#define FD_KINDS(X)	\
	X(eventfd)	\
	X(epoll)	\
	X(signalfd)	\
	X(timerfd)	\
	X(inotify)	\
	X(fanotify)	\
	X(pidfd)	\
	X(anon)		\
	X(opath)	\
	X(regfile)	\
	X(memfd)	\
	X(dir)		\
	X(pipe)		\
	X(fifo)		\
	X(tty)		\
	X(chr)		\
	X(socket)	\
	X(other)

#define FD_KIND_DECLARE(k)	extern const struct fd_kind_ops fd_kind_##k;
#define FD_KIND_ENTRY(k)	&fd_kind_##k,

FD_KINDS(FD_KIND_DECLARE)

static const struct fd_kind_ops *const fd_kinds[] = { FD_KINDS(FD_KIND_ENTRY) };

const struct fd_kind_ops *fd_kind_of_fd(const struct fd_parms *p)
{
	for (size_t i = 0; i < ARRAY_SIZE(fd_kinds); i++)
		if (fd_kinds[i]->match && fd_kinds[i]->match(p))
			return fd_kinds[i];
	return &fd_kind_other;
}

const struct fd_kind_ops *fd_kind_of_desc(const FileDescEntry *fe)
{
	for (size_t i = 0; i < ARRAY_SIZE(fd_kinds); i++) {
		const struct fd_kind_ops *k = fd_kinds[i];

		if (k->type != fe->type)
			continue;
		if (!k->anon_name || (fe->anon_name && !strcmp(fe->anon_name, k->anon_name)))
			return k;
	}
	return NULL;
}

bool fd_kind_restorable(const struct fd_kind_ops *k, const FileDescEntry *fe)
{
	return k && k->open && (!k->restorable || k->restorable(fe));
}

int fd_kind_refuse(struct rst_ctx *ctx, const struct rst_task *t, const FdEntry *f,
		   const FileDescEntry *fe, const struct fd_kind_ops *k)
{
	return ckpt_fail(ctx->err, -EOPNOTSUPP, "pid %d fd %u: %s can't be restored yet%s%s%s",
			 t->pe->pid, f->fd, k ? k->name : "files of this kind",
			 fe->anon_name ? " (" : "", fe->anon_name ? fe->anon_name : "",
			 fe->anon_name ? ")" : "");
}

bool fd_str_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool fd_is_anon(const struct fd_parms *p, const char *name)
{
	return !strcmp(p->link, name);
}

int fd_fdinfo_text(struct dump_ctx *ctx, const struct fd_parms *p, const char **text,
		   char **buf)
{
	int r;

	*buf = NULL;
	*text = p->fdinfo;
	if (*text)
		return 0;
	r = proc_read_fdinfo(p->pid, p->fd, buf);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "pid %d fd %d: cannot read its fdinfo", p->pid, p->fd);
	*text = *buf;
	return 0;
}

int fd_fdinfo_each(struct dump_ctx *ctx, const struct fd_parms *p,
		   int (*fn)(const struct fd_parms *p, FileDescEntry *e, const char *l),
		   FileDescEntry *e)
{
	_cleanup_free_ char *buf = NULL;
	const char *text;
	int r;

	r = fd_fdinfo_text(ctx, p, &text, &buf);
	if (r < 0)
		return r;
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		r = fn(p, e, l);
		if (r < 0)
			return r;
	}
	return 0;
}

int fd_fdinfo_lacks(struct dump_ctx *ctx, const struct fd_parms *p)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", p->pid, p->fd);
	return ckpt_fail(ctx->err, -EBADMSG, "pid %d fd %d: %s lacks the state of %s",
			 p->pid, p->fd, path, p->link);
}

int fd_reopen_self(int fd, int flags)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	fd = open(p, (flags & FD_REOPEN_MASK) | O_CLOEXEC);
	return fd < 0 ? negerrno() : fd;
}

int fd_restore_fl(int fd, uint32_t flags)
{
	int cur = fcntl(fd, F_GETFL);

	if (cur < 0)
		return negerrno();
	if (((uint32_t)cur & FD_SETFL_MASK) == (flags & FD_SETFL_MASK))
		return 0;
	cur = (cur & ~FD_SETFL_MASK) | (flags & FD_SETFL_MASK);
	return fcntl(fd, F_SETFL, cur) < 0 ? negerrno() : 0;
}
