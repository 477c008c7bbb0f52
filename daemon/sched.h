/* Scheduling policy, priority, nice (per thread) and oom_score_adj (per
 * process): dumped by ckptd from outside, set back by the restore's
 * intermediate process once every thread exists, before any runs. */
#ifndef CKPT_SCHED_H
#define CKPT_SCHED_H

#include <stdint.h>
#include <sys/types.h>

#include "core.pb-c.h"

struct rst_ctx;
struct rst_task;

/* Dump: tid's policy, RT priority, nice and reset-on-fork into *ret;
 * -EOPNOTSUPP for SCHED_DEADLINE (not saved). */
int sched_dump_thread(pid_t tid, SchedEntry *ret);
/* Dump: /proc/PID/oom_score_adj into *ret. */
int sched_dump_oom(pid_t pid, int32_t *ret);

/* Restore, before anything is forked: every value in range, and none that
 * this ckptd, or a non-root requester, could not set (reported). */
int rst_check_sched(struct rst_ctx *ctx, struct rst_task *t);
/* Restore, intermediate process, every thread waiting in the blob: set
 * each task's oom_score_adj and each thread's scheduling (reported). */
int rst_apply_sched(struct rst_ctx *ctx);

#endif
