/* The blob's internal interface: one function per thing it rebuilds,
 * called in order by restorer.c. Every function returns 0 or -errno and
 * describes a failure once with blob_fail() (first failure wins, across
 * threads). Nothing here is visible outside the blob. */
#ifndef RST_BLOB_H
#define RST_BLOB_H

#include <linux/types.h>
#include <stdbool.h>

#include "lib.h"
#include "restorer.h"

struct restore_args;

/* Record the first failure of any thread in a->sync and return err. */
long blob_fail(struct restore_args *a, unsigned step, long err, __u64 addr,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* nr items of size bytes at off lie inside the argument area (args.c). */
bool blob_inside(const struct restore_args *a, __u64 off, __u64 nr, __u64 size);

static inline void *blob_at(const struct restore_args *a, __u64 off)
{
	return (char *)a + off;
}

static inline struct restore_thread *blob_thread(const struct restore_args *a, unsigned i)
{
	return (struct restore_thread *)blob_at(a, a->threads_off) + i;
}

/* Thread i's region of the args area (RESTORE_THREAD_STACK_SIZE bytes). */
static inline char *blob_stack_base(const struct restore_args *a, unsigned i)
{
	return (char *)blob_at(a, a->stacks_off) + (unsigned long)i * RESTORE_THREAD_STACK_SIZE;
}

/* args.c */
int blob_check_args(struct restore_args *a);

/* mem.c */
int blob_forget_engine(struct restore_args *a);
int blob_seal_region(struct restore_args *a);
int blob_unmap_others(struct restore_args *a);
int blob_move_vdso(struct restore_args *a);
int blob_restore_vmas(struct restore_args *a);
int blob_set_mm(struct restore_args *a);
/* lazy.c */
int blob_lazy_register(struct restore_args *a);
void blob_close_helper_fds(struct restore_args *a);

/* signals.c */
int blob_restore_sigactions(struct restore_args *a);
int blob_restore_posix_timers(struct restore_args *a);
int blob_restore_itimers(struct restore_args *a);
int blob_queue_shared_pending(struct restore_args *a);
int blob_queue_thread_pending(struct restore_args *a, const struct restore_thread *t);

/* creds.c */
int blob_restore_creds(struct restore_args *a, const struct restore_creds *c);

/* threads.c */
int blob_restore_thread(struct restore_args *a, unsigned idx, __u64 *ret_sp);
int blob_create_threads(struct restore_args *a);
void blob_wait_threads(struct restore_args *a);
void blob_release_threads(struct restore_args *a, __u32 how);
RST_NORETURN void blob_leave(struct restore_args *a, unsigned idx, __u64 sp);
int blob_restore_pidfds(struct restore_args *a);

/* seccomp.c */
int blob_check_seccomp(struct restore_args *a, const struct restore_thread *t);
int blob_install_seccomp(const struct restore_args *a, const struct restore_thread *t);

/* entry.S */
long blob_clone3_thread(void *clone_args, unsigned long size, void (*fn)(void *), void *arg);
RST_NORETURN void blob_sigreturn(__u64 sp);

#endif
