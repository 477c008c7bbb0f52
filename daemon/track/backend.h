/* Inside daemon/track/: what track.c dispatches to, one table per live
 * tracker (soft-dirty.c, uffd-wp.c), and the helpers they share. */
#ifndef CKPT_TRACK_BACKEND_H
#define CKPT_TRACK_BACKEND_H

#include "daemon/track/keeper.h"
#include "daemon/track/track.h"

struct vma_list;

struct track_backend {
	enum track_kind kind;
	/* collect and arm are atomic per page (track_scans_running()) */
	bool scans_running;
	/* first: get ready to arm (the caller arms). Else attach; tracking
	 * that is gone is not an error: return 0 with lost filled in
	 * (non-empty). */
	int (*open)(struct track_task *tt, bool first, char *lost, size_t lostlen,
		    struct ckpt_err *err);
	int (*collect)(struct track_task *tt, struct run_list *out, struct ckpt_err *err);
	int (*arm)(struct track_task *tt, struct ckpt_err *err);
	void (*close)(struct track_task *tt, bool keep);
};

extern const struct track_backend track_soft_dirty_backend;
extern const struct track_backend track_uffd_wp_backend;

struct track_task {
	const struct track_backend *be;
	const struct kerndat *kd;	/* valid for the round */
	pid_t pid;
	int pagemap;			/* /proc/PID/pagemap, -1 until opened */
	int uffd;			/* uffd-wp: our copy of the keeper's, else -1 */
	struct keeper keeper;		/* uffd-wp: who holds the uffd between rounds */
};

/* The VMAs of pid whose pages a dump saves (vma_wants_pages: private
 * anonymous, heap, stack, private file mappings), ascending, from
 * /proc/PID/maps (cheap: no page walk, unlike smaps). */
int track_read_vmas(pid_t pid, struct vma_list *ret);
/* /proc/PID/pagemap of tt, opened once. */
int track_pagemap(struct track_task *tt);
/* PAGEMAP_SCAN of tt's [start, end) with how's flags and masks (the rest
 * of how is filled in here), TRACK_SCAN_REGIONS runs a call, until the
 * walk reaches end; every run returned goes into out (NULL: ask for none,
 * e.g. to write-protect only). -EIO when a call makes no progress. */
#define TRACK_SCAN_REGIONS	512u
struct pm_scan_arg;
int track_pagemap_scan(struct track_task *tt, const struct pm_scan_arg *how, uint64_t start,
		       uint64_t end, struct run_list *out);
/* Both of the above for a scan of every VMA, failures described. */
int track_scan_begin(struct track_task *tt, struct vma_list *ret, struct ckpt_err *err);

/* soft-dirty: whether a /proc/PID/pagemap word says written since the last
 * clear_refs (bit 55); exposed for the unit tests. */
bool soft_dirty_word(uint64_t word);

#endif
