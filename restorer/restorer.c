/* The blob's main thread, start to end. The engine jumped here from
 * inside the new process with every signal blocked; the order matters:
 * the address space first (nothing else can work before it), then what
 * the kernel checks against it (PR_SET_MM_MAP), signal dispositions
 * before anything is queued, threads before timers that target them,
 * credentials last in every thread, and only when the engine has heard
 * that all of it worked do the threads leave through rt_sigreturn.
 * Any failure: one status report, then exit_group() - nothing runs on. */
#include <asm/unistd.h>
#include <linux/errno.h>
#include <linux/prctl.h>
#include <linux/signal.h>

#include "frame.h"
#include "blob.h"
#include "syscall.h"

long blob_fail(struct restore_args *a, unsigned step, long err, __u64 addr,
	      const char *fmt, ...)
{
	struct restore_status *st = &a->sync.failure;
	__u32 zero = 0;
	va_list ap;

	if (!__atomic_compare_exchange_n(&a->sync.failed, &zero, 1, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return err;	/* someone failed first; theirs is the story */
	st->step = step;
	st->tid = (__s32)sys_gettid();
	st->err = (__s32)err;
	st->addr = addr;
	va_start(ap, fmt);
	blob_vfmt(st->msg, sizeof(st->msg), fmt, ap);
	va_end(ap);
	return err;
}

/* Called by blob_entry on the engine's stack: where the main thread's own
 * stack starts (below the frame reserve of thread 0's region). */
RST_HIDDEN __u64 blob_main_stack_top(struct restore_args *a)
{
	return ((__u64)blob_stack_base(a, 0) + RESTORE_THREAD_STACK_SIZE - RST_FRAME_RESERVE) & ~15ULL;
}

static void fill_status(struct restore_args *a, struct restore_status *st)
{
	__u64 args_end = (__u64)a + ((a->args_len + RESTORE_PAGE_SIZE - 1) & ~(__u64)(RESTORE_PAGE_SIZE - 1));
	__u64 blob_end = a->blob_start + a->blob_len;

	st->magic = RESTORE_STATUS_MAGIC;
	st->pid = a->pid;
	st->region_start = a->blob_start < (__u64)a ? a->blob_start : (__u64)a;
	st->region_end = blob_end > args_end ? blob_end : args_end;
}

static RST_NORETURN void die(struct restore_args *a, int code)
{
	struct restore_status *st = &a->sync.failure;

	if (!blob_load(&a->sync.failed)) {	/* a step forgot to say why */
		st->step = RSTEP_ARGS;
		st->err = -EPROTO;
		blob_fmt(st->msg, sizeof(st->msg), "restore failed without a report");
	}
	if (!st->tid)
		st->tid = a->pid;
	fill_status(a, st);
	blob_release_threads(a, 2);
	sys_write(a->status_fd, st, sizeof(*st));
	sys_exit_group(code);
	for (;;)
		;
}

/* Everything of the process that is not a thread's own. */
static int restore_process(struct restore_args *a)
{
	int r;

	r = blob_check_args(a);
	if (!r)
		r = blob_seal_region(a);
	if (!r)
		r = blob_forget_engine(a);
	if (!r)
		r = blob_unmap_others(a);
	if (!r)
		r = blob_move_vdso(a);
	if (!r)
		r = blob_restore_vmas(a);
	if (!r)
		r = blob_lazy_register(a);
	if (!r)
		r = blob_set_mm(a);
	if (r)
		return r;
	blob_close_helper_fds(a);
	return blob_restore_sigactions(a);
}

/* With every thread waiting: the pidfds of the threads, what may target
 * them, then the main thread's own state and credentials. */
static int restore_finish(struct restore_args *a, __u64 *ret_sp)
{
	int r;

	r = blob_restore_pidfds(a);
	if (!r)
		r = blob_restore_posix_timers(a);
	if (!r)
		r = blob_restore_itimers(a);
	if (!r)
		r = blob_queue_shared_pending(a);
	if (!r)
		r = blob_restore_thread(a, 0, ret_sp);
	/* 2 (suid_dumpable "root only") cannot be set with prctl; the kernel
	 * chose it again when the ids changed, if the sysctl says so */
	if (r || a->creds.dumpable < 0 || a->creds.dumpable > 1)
		return r;
	r = (int)sys_prctl(PR_SET_DUMPABLE, (unsigned long)a->creds.dumpable, 0, 0, 0);
	if (r < 0)
		return (int)blob_fail(a, RSTEP_CREDS, r, 0, "prctl(PR_SET_DUMPABLE, %d)",
				     a->creds.dumpable);
	return 0;
}

/* Tell the engine it worked and wait for its word. */
static int report_and_wait(struct restore_args *a)
{
	struct restore_status st;
	char go = 0;
	long n;

	blob_memset(&st, 0, sizeof(st));
	fill_status(a, &st);
	st.step = RSTEP_DONE;
	st.tid = a->pid;
	blob_fmt(st.msg, sizeof(st.msg), "pid %d: restored, %u threads waiting",
		a->pid, a->nr_threads);
	n = sys_write(a->status_fd, &st, sizeof(st));
	if (n != (long)sizeof(st) && !(a->flags & RARGS_NO_GO_WAIT))
		return -EPIPE;
	if (a->flags & RARGS_NO_GO_WAIT)
		return 0;
	do
		n = sys_read(a->status_fd, &go, 1);
	while (n == -EINTR);
	return n == 1 && go == RESTORE_GO ? 0 : -ECANCELED;
}

RST_HIDDEN RST_NORETURN void restore_main(struct restore_args *a)
{
	__u64 all = ~0ULL, sp = 0;

	sys_rt_sigprocmask(SIG_SETMASK, &all, 0, sizeof(all));
	if (restore_process(a))
		die(a, RESTORE_EXIT_FAILED);
	if (blob_create_threads(a))
		die(a, RESTORE_EXIT_FAILED);	/* exit_group takes the created ones */
	blob_wait_threads(a);
	if (blob_load(&a->sync.failed) || restore_finish(a, &sp))
		die(a, RESTORE_EXIT_FAILED);
	if (report_and_wait(a)) {
		blob_release_threads(a, 2);
		sys_exit_group(RESTORE_EXIT_ABORTED);
	}
	sys_close(a->status_fd);
	blob_release_threads(a, 1);
	blob_leave(a, 0, sp);
}
