/* Connections a listening ckptd accepted but does not serve yet: their
 * requester is at the per-uid limit (--max-per-user), or every handler
 * slot is taken. They wait in arrival order, in the listener's own memory;
 * the listener picks the first one the limits let through. */
#ifndef CKPT_WAITQ_H
#define CKPT_WAITQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define WAITQ_MAX	128	/* waiting connections, all uids together */
#define WAITQ_PER_UID	64	/* waiting connections of one uid */

enum waitq_class {
	WAITQ_UNKNOWN = 0,	/* its request has not arrived yet */
	WAITQ_HEAVY,		/* dump, restore: counts against the limits */
	WAITQ_LIGHT,		/* check, status, cancel: quick, never held back
				   by the per-uid limit */
};

struct waiting {
	int fd;			/* the connection (the queue owns it) */
	uid_t uid;
	pid_t pid;
	enum waitq_class class;
	uint64_t since_us;
};

struct waitq {
	unsigned n;
	struct waiting w[WAITQ_MAX];
};

/* Append a connection; -ENOSPC when the queue is full. */
int waitq_push(struct waitq *q, const struct waiting *w);
/* Remove entry i (order kept) and return it; the caller owns its fd. */
struct waiting waitq_take(struct waitq *q, unsigned i);
unsigned waitq_count_uid(const struct waitq *q, uid_t uid);

#endif
