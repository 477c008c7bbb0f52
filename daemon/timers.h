/* Timers of a task for core-PID.img: itimers (injected getitimer) and POSIX
 * timers (/proc/PID/timers, injected timer_gettime/timer_getoverrun). */
#ifndef CKPT_TIMERS_H
#define CKPT_TIMERS_H

#include <stddef.h>

#include "core.pb-c.h"

struct dump_ctx;
struct task;

#define TIMERS_NR_ITIMERS 3

int timers_dump_itimers(struct dump_ctx *ctx, struct task *t, ItimerEntry it[TIMERS_NR_ITIMERS]);

/* *ret: an array of n entries (free with free()). */
int timers_dump_posix(struct dump_ctx *ctx, struct task *t, PosixTimerEntry **ret, size_t *ret_n);

#endif
