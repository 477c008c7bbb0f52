/* Which round a task's live tracking (soft-dirty, uffd-wp) counts from.
 *
 * A live tracker says what was written since it was last armed, and it is
 * armed at the end of every round; so it answers for --prev only if --prev
 * is that last round. A user who goes back to an older set (--prev ../1
 * after ../2 was made), or a round that failed after re-arming, would get
 * pages written in between recorded as unchanged: a silently wrong image.
 * So each round that keeps tracking records, per task, the set id it made,
 * in ROUNDS_DIR/<pid>-<starttime>; the next round takes the tracker's
 * answer only when that record names its --prev, and otherwise saves the
 * task whole, saying why. The hash tracker needs none of this: its state
 * is the parent set itself. */
#ifndef CKPT_DUMP_ROUNDS_H
#define CKPT_DUMP_ROUNDS_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#define ROUNDS_DIR	"/run/ckpt/rounds"

/* The set id recorded for pid (started at start) into buf; -ENOENT if none. */
int rounds_get(pid_t pid, uint64_t start, char *buf, size_t len);
/* Record set_id for pid; stale records (their process gone) are removed. */
int rounds_set(pid_t pid, uint64_t start, const char *set_id);
/* Forget pid's record (tracking stopped). */
void rounds_forget(pid_t pid, uint64_t start);

#endif
