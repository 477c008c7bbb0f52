/* The blob's internal interface: one function per thing it rebuilds,
 * called in order by restorer.c. Every function returns 0 or -errno and
 * describes a failure once with rst_fail() (first failure wins, across
 * threads). Nothing here is visible outside the blob. */
#ifndef RST_RST_H
#define RST_RST_H

#include <linux/types.h>

#include "lib.h"
#include "restorer.h"

struct restore_args;

/* Record the first failure of any thread in a->sync and return err. */
long rst_fail(struct restore_args *a, unsigned step, long err, __u64 addr,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static inline void *rst_at(const struct restore_args *a, __u64 off)
{
	return (char *)a + off;
}

static inline struct restore_thread *rst_thread(const struct restore_args *a, unsigned i)
{
	return (struct restore_thread *)rst_at(a, a->threads_off) + i;
}

/* Thread i's region of the args area (RESTORE_THREAD_STACK_SIZE bytes). */
static inline char *rst_stack_base(const struct restore_args *a, unsigned i)
{
	return (char *)rst_at(a, a->stacks_off) + (unsigned long)i * RESTORE_THREAD_STACK_SIZE;
}

/* args.c */
int rst_check_args(struct restore_args *a);

/* mem.c */
int rst_forget_engine(struct restore_args *a);
int rst_seal_region(struct restore_args *a);
int rst_unmap_others(struct restore_args *a);
int rst_move_vdso(struct restore_args *a);
int rst_restore_vmas(struct restore_args *a);
int rst_set_mm(struct restore_args *a);
void rst_close_helper_fds(struct restore_args *a);

/* signals.c */
int rst_restore_sigactions(struct restore_args *a);
int rst_restore_posix_timers(struct restore_args *a);
int rst_restore_itimers(struct restore_args *a);
int rst_queue_shared_pending(struct restore_args *a);
int rst_queue_thread_pending(struct restore_args *a, const struct restore_thread *t);

/* creds.c */
int rst_restore_creds(struct restore_args *a);

/* threads.c */
int rst_restore_thread(struct restore_args *a, unsigned idx, __u64 *ret_sp);
int rst_create_threads(struct restore_args *a);
void rst_wait_threads(struct restore_args *a);
void rst_release_threads(struct restore_args *a, __u32 how);
RST_NORETURN void rst_leave(struct restore_args *a, unsigned idx, __u64 sp);

/* entry.S */
long rst_clone3_thread(void *clone_args, unsigned long size, void (*fn)(void *), void *arg);
RST_NORETURN void rst_sigreturn(__u64 sp);

#endif
