/* The table of operations in flight (see ops.h).
 *
 * Costs: a few hundred bytes a slot, one mapping for the daemon's life;
 * every lookup is a walk of all slots (O(slots), 20 by default), cheap
 * next to the request it serves. */
#include "daemon/ops.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "common/escape.h"

#define READ_TRIES	1000	/* a copy a writer keeps spoiling is given up */

struct ops_slot {
	unsigned seq;		/* odd while the slot is being written */
	uint64_t cancel;	/* 0, or (uid << 32 | pid) of the canceller */
	struct op op;
};

struct ops_table {
	size_t map_len;
	unsigned nr;
	uint32_t next_id;	/* the listener's alone */
	unsigned queued;
	struct ops_slot slot[];
};

int ops_table_new(unsigned nr, struct ops_table **ret)
{
	size_t len = sizeof(struct ops_table) + nr * sizeof(struct ops_slot);
	struct ops_table *t;

	if (nr == 0)
		return -EINVAL;
	t = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return errno > 0 ? -errno : -ENOMEM;
	t->map_len = len;
	t->nr = nr;
	t->next_id = 1;
	*ret = t;
	return 0;
}

void ops_table_free(struct ops_table *t)
{
	if (t)
		munmap(t, t->map_len);
}

unsigned ops_size(const struct ops_table *t)
{
	return t ? t->nr : 0;
}

static void write_begin(struct ops_slot *s)
{
	__atomic_add_fetch(&s->seq, 1, __ATOMIC_ACQ_REL);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void write_end(struct ops_slot *s)
{
	__atomic_add_fetch(&s->seq, 1, __ATOMIC_RELEASE);
}

int ops_claim(struct ops_table *t, uid_t uid, pid_t requester, bool heavy, uint64_t now)
{
	for (unsigned i = 0; i < t->nr; i++) {
		struct ops_slot *s = &t->slot[i];

		if (__atomic_load_n(&s->op.id, __ATOMIC_ACQUIRE))
			continue;
		write_begin(s);
		memset(&s->op, 0, sizeof(s->op));
		s->op.uid = uid;
		s->op.requester = requester;
		s->op.heavy = heavy;
		s->op.kind = OP_WAITING;
		s->op.started_us = now;
		__atomic_store_n(&s->cancel, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s->op.id, t->next_id, __ATOMIC_RELEASE);
		write_end(s);
		if (++t->next_id == 0)
			t->next_id = 1;
		return i;
	}
	return -EBUSY;
}

void ops_set_handler(struct ops_table *t, int slot, pid_t handler)
{
	struct ops_slot *s = &t->slot[slot];

	write_begin(s);
	s->op.handler = handler;
	write_end(s);
}

void ops_release_slot(struct ops_table *t, int slot)
{
	struct ops_slot *s = &t->slot[slot];

	/* the handler is gone: whatever it left half written, the slot is
	 * made even (readable) and free again */
	__atomic_store_n(&s->op.id, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->seq, (s->seq + 1) & ~1u, __ATOMIC_RELEASE);
}

bool ops_release(struct ops_table *t, pid_t handler)
{
	for (unsigned i = 0; i < t->nr; i++)
		if (t->slot[i].op.id && t->slot[i].op.handler == handler) {
			ops_release_slot(t, i);
			return true;
		}
	return false;
}

unsigned ops_count(const struct ops_table *t, bool heavy_only, bool of_uid, uid_t uid)
{
	unsigned n = 0;

	for (unsigned i = 0; t && i < t->nr; i++) {
		const struct op *op = &t->slot[i].op;

		if (op->id && (!heavy_only || op->heavy) && (!of_uid || op->uid == uid))
			n++;
	}
	return n;
}

void ops_set_queued(struct ops_table *t, unsigned queued)
{
	__atomic_store_n(&t->queued, queued, __ATOMIC_RELAXED);
}

unsigned ops_queued(const struct ops_table *t)
{
	return t ? __atomic_load_n(&t->queued, __ATOMIC_RELAXED) : 0;
}

void ops_begin(struct ops_table *t, int slot, enum op_kind kind, pid_t target, const char *dir)
{
	struct ops_slot *s;

	if (!t || slot < 0)
		return;
	s = &t->slot[slot];
	write_begin(s);
	s->op.kind = kind;
	s->op.target = target;
	snprintf(s->op.dir, sizeof(s->op.dir), "%s", dir ? dir : "");
	write_end(s);
}

void ops_progress(struct ops_table *t, int slot, const char *stage, uint64_t done,
		  uint64_t total)
{
	struct ops_slot *s;

	if (!t || slot < 0)
		return;
	s = &t->slot[slot];
	write_begin(s);
	snprintf(s->op.stage, sizeof(s->op.stage), "%s", stage);
	s->op.done = done;
	s->op.total = total;
	write_end(s);
}

bool ops_read(const struct ops_table *t, int slot, struct op *ret)
{
	const struct ops_slot *s;
	uint64_t cancel;

	if (!t || slot < 0 || (unsigned)slot >= t->nr)
		return false;
	s = &t->slot[slot];
	for (int i = 0; i < READ_TRIES; i++) {
		unsigned seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);

		if (seq & 1)
			continue;
		memcpy(ret, &s->op, sizeof(*ret));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != seq)
			continue;
		if (!ret->id)
			return false;
		ret->dir[sizeof(ret->dir) - 1] = '\0';
		ret->stage[sizeof(ret->stage) - 1] = '\0';
		cancel = __atomic_load_n(&s->cancel, __ATOMIC_ACQUIRE);
		ret->cancelled = cancel != 0;
		ret->cancel_uid = cancel >> 32;
		ret->cancel_pid = (pid_t)(cancel & 0xffffffffu);
		return true;
	}
	return false;
}

int ops_find(const struct ops_table *t, uint32_t id)
{
	for (unsigned i = 0; id && t && i < t->nr; i++)
		if (__atomic_load_n(&t->slot[i].op.id, __ATOMIC_ACQUIRE) == id)
			return i;
	return -ESRCH;
}

int ops_cancel(struct ops_table *t, int slot, uid_t by_uid, pid_t by_pid)
{
	uint64_t want = 0;
	/* a pid is never 0, so neither is the word of a canceller */
	uint64_t v = (uint64_t)by_uid << 32 | (uint32_t)(by_pid > 0 ? by_pid : 1);

	if (__atomic_compare_exchange_n(&t->slot[slot].cancel, &want, v, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return 0;
	return -EALREADY;
}

bool ops_cancel_requested(const struct ops_table *t, int slot)
{
	if (!t || slot < 0)
		return false;
	return __atomic_load_n(&t->slot[slot].cancel, __ATOMIC_ACQUIRE) != 0;
}

const char *op_kind_name(enum op_kind kind)
{
	static const char *const names[] = {
		[OP_WAITING] = "waiting", [OP_DUMP] = "dump", [OP_RESTORE] = "restore",
		[OP_CHECK] = "check", [OP_STATUS] = "status", [OP_CANCEL] = "cancel",
	};

	return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

void op_describe(const struct op *op, char *buf, size_t len)
{
	char what[4 * OP_DIR_MAX + 32], how[OP_STAGE_MAX + 32] = "", dir[4 * OP_DIR_MAX];

	/* the directory is the requester's to name: no control character
	 * of it reaches a log line or STATUS= */
	if (op->kind == OP_DUMP)
		snprintf(what, sizeof(what), "dump of pid %d", op->target);
	else if (op->kind == OP_RESTORE && op->dir[0])
		snprintf(what, sizeof(what), "restore of %s", ckpt_escape(dir, sizeof(dir), op->dir));
	else
		snprintf(what, sizeof(what), "%s", op_kind_name(op->kind));
	if (op->stage[0] && op->total)
		snprintf(how, sizeof(how), " (%s %llu%%)", op->stage,
			 (unsigned long long)(op->done >= op->total ? 100 :
					      op->done * 100 / op->total));
	else if (op->stage[0])
		snprintf(how, sizeof(how), " (%s)", op->stage);
	snprintf(buf, len, "%s for uid %u%s%s", what, op->uid, how,
		 op->cancelled ? ", cancelling" : "");
}
