/* One round of an incremental chain, as dump.c runs it: pick the tracker,
 * check that --prev is a set of this very process, and per task open the
 * tracking, collect what was written since the parent and say how mem.c
 * saves its pages (struct mm_incr); at the end keep the tracking for the
 * next round or stop it. A plain full dump passes through with kind
 * TRACK_NONE and nothing tracked.
 *
 * What a round keeps tracking (track_task_close(keep)): a pre-dump and a
 * --leave-running dump keep it for the next round; a dump that kills the
 * tree stops it, and so does any failure: a failed round has consumed the
 * written runs (collect re-arms), so the next round from the same parent
 * finds the tracking gone and saves those tasks whole, with a warning.
 * Live tracking is taken only from the round it was armed by: see
 * dump-rounds.h. */
#ifndef CKPT_DUMP_INCR_H
#define CKPT_DUMP_INCR_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/mem.h"
#include "daemon/track/track.h"
#include "images/chain.h"

struct dump_ctx;
struct task;

struct dump_incr {
	enum track_kind kind;		/* TRACK_NONE: no tracking at all */
	struct chain parents;		/* the parent chain (nr 0: none) */
	char set_id[CHAIN_SET_ID_LEN];
	char boot_id[40];
	uint64_t root_start_time;
	struct track_task **tt;		/* per task, in ctx->tree order */
	pid_t *pids;			/* ... the task's pid */
	uint64_t *starts;		/* ... and start time (dump-rounds.h) */
	unsigned nr_tt;
	struct run_list **dirty;	/* per task: written since the parent (kept
					   until the end: a pre-dump copies after
					   the tree runs again) */
	char warnings[2048];		/* one line per task saved whole */
};

/* Before the freeze: the tracker the round uses and the parent checked
 * against the process (root pid, start time, boot, tracker). A refusal
 * names --prev and what is wrong. */
int incr_prepare(struct dump_ctx *ctx, struct dump_incr *in);
/* Tree frozen, for task t (index i of ctx->tree): open its tracking
 * (attach, or get ready to arm) and fill *ret for dump_task_mm. */
int incr_task(struct dump_ctx *ctx, struct dump_incr *in, unsigned i, struct task *t,
	      struct mm_incr *ret);
/* Then, before t's pages are read: collect its written runs into
 * incr->dirty and re-arm, or arm (incr->whole). With the tree frozen, or
 * running again where track_scans_running(in->kind). */
int incr_collect(struct dump_ctx *ctx, struct dump_incr *in, unsigned i,
		 const struct mm_incr *incr);
/* One line for the dump's warnings (dump_result.warnings). */
void incr_warn(struct dump_incr *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* What inventory.img records of the round. */
void incr_inventory(const struct dump_ctx *ctx, const struct dump_incr *in,
		    InventoryEntry *e);
/* After the round: keep the tracking (the set is committed and the tree
 * runs on; this set is then the round it counts from) or stop it; frees
 * everything. */
void incr_finish(struct dump_incr *in, bool keep);

#endif
