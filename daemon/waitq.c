/* The queue of waiting connections (see waitq.h): a plain array, O(n) to
 * take from the middle, with n at most WAITQ_MAX. */
#include "daemon/waitq.h"

#include <errno.h>
#include <string.h>

int waitq_push(struct waitq *q, const struct waiting *w)
{
	if (q->n >= WAITQ_MAX)
		return -ENOSPC;
	q->w[q->n++] = *w;
	return 0;
}

struct waiting waitq_take(struct waitq *q, unsigned i)
{
	struct waiting w = q->w[i];

	memmove(&q->w[i], &q->w[i + 1], (q->n - i - 1) * sizeof(q->w[0]));
	q->n--;
	return w;
}

unsigned waitq_count_uid(const struct waitq *q, uid_t uid)
{
	unsigned n = 0;

	for (unsigned i = 0; i < q->n; i++)
		n += q->w[i].uid == uid;
	return n;
}
