/* The operations in flight in a listening ckptd: one slot per connection
 * handler, in memory the listener maps shared before it forks, so that
 * every handler can see them all (ckptctl status, ckptctl cancel) and the
 * listener can report them (sd_notify STATUS=).
 *
 * Who writes what: the listener claims a slot for a connection (uid,
 * requester, id, start) and frees it when it reaps the handler; the
 * handler alone writes what it does (kind, target, stage, progress);
 * anyone allowed may set the slot's cancel word, once, and the handler
 * polls it at each progress report. Readers take a consistent copy
 * (a sequence count per slot); a handler killed half way through an
 * update leaves its slot unreadable only until the listener reaps it. */
#ifndef CKPT_OPS_H
#define CKPT_OPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum op_kind {
	OP_WAITING = 0,		/* handler started, request not read yet */
	OP_DUMP,
	OP_RESTORE,
	OP_CHECK,
	OP_STATUS,
	OP_CANCEL,
};

#define OP_DIR_MAX	160
#define OP_STAGE_MAX	32

/* A copy of one slot (ops_read). */
struct op {
	uint32_t id;		/* unique for the daemon's life; 0: free slot */
	pid_t handler;		/* the connection's handler process */
	uid_t uid;		/* the requester (SO_PEERCRED) */
	pid_t requester;
	bool heavy;		/* counts against the per-uid limit */
	enum op_kind kind;
	pid_t target;		/* dump: the tree's root */
	char dir[OP_DIR_MAX];	/* dump, restore: the image directory */
	char stage[OP_STAGE_MAX];
	uint64_t done, total;
	uint64_t started_us;	/* now_us() when the connection came */
	bool cancelled;
	uid_t cancel_uid;	/* who cancelled it */
	pid_t cancel_pid;
};

struct ops_table;

/* A shared table of nr slots (MAP_SHARED anonymous): 0 or -errno. */
int ops_table_new(unsigned nr, struct ops_table **ret);
void ops_table_free(struct ops_table *t);
unsigned ops_size(const struct ops_table *t);

/* Listener: claim a free slot for a new connection; its index, or -EBUSY. */
int ops_claim(struct ops_table *t, uid_t uid, pid_t requester, bool heavy, uint64_t now);
void ops_set_handler(struct ops_table *t, int slot, pid_t handler);
/* Listener: free the slot of a reaped handler; false if it had none. */
bool ops_release(struct ops_table *t, pid_t handler);
/* Listener: release a slot whose handler never started. */
void ops_release_slot(struct ops_table *t, int slot);
/* Listener: slots in use (of uid only, heavy ones only, when asked). */
unsigned ops_count(const struct ops_table *t, bool heavy_only, bool of_uid, uid_t uid);
/* Listener: connections waiting for a slot, for status to show. */
void ops_set_queued(struct ops_table *t, unsigned queued);
unsigned ops_queued(const struct ops_table *t);

/* Handler: what its request is, once read (dir may be NULL). */
void ops_begin(struct ops_table *t, int slot, enum op_kind kind, pid_t target, const char *dir);
void ops_progress(struct ops_table *t, int slot, const char *stage, uint64_t done,
		  uint64_t total);

/* A consistent copy of a slot in use; false for a free (or, for the
 * moment, unreadable) slot. */
bool ops_read(const struct ops_table *t, int slot, struct op *ret);
/* The slot holding operation id, or -ESRCH. */
int ops_find(const struct ops_table *t, uint32_t id);
/* Ask the operation in slot to stop: 0, or -EALREADY when someone
 * already did (the first canceller is the one remembered). */
int ops_cancel(struct ops_table *t, int slot, uid_t by_uid, pid_t by_pid);
bool ops_cancel_requested(const struct ops_table *t, int slot);

const char *op_kind_name(enum op_kind kind);

/* "dump of pid 123 for uid 1000 (pages 40%)": one operation, for logs and
 * sd_notify STATUS=. */
void op_describe(const struct op *op, char *buf, size_t len);

#endif
