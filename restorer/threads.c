/* Threads: the main thread creates the others with clone3(set_tid) on
 * stacks in the args area; each restores its own state (fs/gs base,
 * rseq, robust list, clear_child_tid, name, pending signals, creds,
 * parent-death signal), builds its rt_sigframe, says it is ready and
 * waits on the go futex; once let go, its seccomp filters (seccomp.c)
 * are the last thing before its rt_sigreturn.
 * The main thread releases them only after the engine said go.
 * Once they all exist, the main thread puts the pidfds of its threads
 * over the stand-ins the engine left (blob_restore_pidfds). */
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/futex.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <asm/prctl.h>

#include "frame.h"
#include "blob.h"
#include "syscall.h"

#define ROBUST_LIST_HEAD_SIZE	24	/* struct robust_list_head */
#define SA_RESTART_FLAG	0x10000000ULL	/* SA_RESTART, asm-generic/signal-defs.h */

#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | \
		      CLONE_THREAD | CLONE_SYSVSEM)

struct k_clone_args {		/* struct clone_args, CLONE_ARGS_SIZE_VER2 */
	__u64 flags, pidfd, child_tid, parent_tid, exit_signal;
	__u64 stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

/* Lives at the bottom of each thread's stack region. */
struct thread_ctx {
	struct restore_args *a;
	unsigned idx;
};

static void futex_wake(__u32 *w)
{
	sys_futex(w, FUTEX_WAKE_PRIVATE, 0x7fffffff, 0);
}

static int set_thread_regs(struct restore_args *a, const struct restore_thread *t)
{
	long r = sys_arch_prctl(ARCH_SET_FS, t->regs.fs_base);

	if (r >= 0)
		r = sys_arch_prctl(ARCH_SET_GS, t->regs.gs_base);
	if (r < 0)
		return (int)blob_fail(a, RSTEP_THREADS, r, t->regs.fs_base,
				     "thread %d: arch_prctl(fs 0x%llx, gs 0x%llx)", t->tid,
				     (unsigned long long)t->regs.fs_base,
				     (unsigned long long)t->regs.gs_base);
	return 0;
}

/* What the kernel keeps per thread that user space relies on. */
static int set_thread_links(struct restore_args *a, const struct restore_thread *t)
{
	long r;

	if (t->rseq_len) {
		r = sys_rseq(t->rseq_ptr, t->rseq_len, 0, t->rseq_sig);
		if (r < 0)
			return (int)blob_fail(a, RSTEP_THREADS, r, t->rseq_ptr,
					     "thread %d: rseq(0x%llx, %u, sig 0x%x)", t->tid,
					     (unsigned long long)t->rseq_ptr, t->rseq_len, t->rseq_sig);
	}
	/* Always: the main thread still has the engine's list, which points
	 * into what is now the restored memory and would be walked at exit. */
	r = sys_set_robust_list(t->robust_list,
				t->robust_list ? t->robust_list_len : ROBUST_LIST_HEAD_SIZE);
	if (r < 0)
		return (int)blob_fail(a, RSTEP_THREADS, r, t->robust_list,
				     "thread %d: set_robust_list(0x%llx, %llu)", t->tid,
				     (unsigned long long)t->robust_list,
				     (unsigned long long)t->robust_list_len);
	sys_set_tid_address(t->clear_child_tid);	/* cannot fail */
	if (t->comm[0]) {
		char comm[17];

		blob_memcpy(comm, t->comm, 16);
		comm[16] = 0;
		sys_prctl(PR_SET_NAME, (unsigned long)comm, 0, 0, 0);
	}
	if (a->timerslack_ns) {
		r = sys_prctl(PR_SET_TIMERSLACK, a->timerslack_ns, 0, 0, 0);
		if (r < 0)
			return (int)blob_fail(a, RSTEP_THREADS, r, 0, "thread %d: PR_SET_TIMERSLACK(%llu)",
					     t->tid, (unsigned long long)a->timerslack_ns);
	}
	return 0;
}

/* After the credentials: a change of ids or capabilities clears it. */
static int set_thread_pdeathsig(struct restore_args *a, const struct restore_thread *t)
{
	long r;

	if (!t->pdeathsig)
		return 0;
	r = sys_prctl(PR_SET_PDEATHSIG, (unsigned long)t->pdeathsig, 0, 0, 0);
	if (r < 0)
		return (int)blob_fail(a, RSTEP_CREDS, r, 0, "thread %d: PR_SET_PDEATHSIG(%d)",
				     t->tid, t->pdeathsig);
	return 0;
}

int blob_restore_thread(struct restore_args *a, unsigned idx, __u64 *ret_sp)
{
	const struct restore_thread *t = blob_thread(a, idx);
	int r;

	r = blob_check_seccomp(a, t);
	if (!r)
		r = set_thread_regs(a, t);
	if (!r)
		r = set_thread_links(a, t);
	if (!r)
		r = blob_queue_thread_pending(a, t);
	if (!r)
		r = blob_restore_creds(a, t->own_creds ? &t->creds : &a->creds);
	if (!r)
		r = set_thread_pdeathsig(a, t);
	if (r)
		return r;
	r = blob_build_frame(blob_stack_base(a, idx), RESTORE_THREAD_STACK_SIZE, t,
			    blob_at(a, t->xsave_off), ret_sp);
	if (r)
		return (int)blob_fail(a, RSTEP_FRAME, r, 0,
				     "thread %d: xsave area of %u bytes unusable", t->tid, t->xsave_len);
	return 0;
}

/* The last moment before rt_sigreturn, every signal still blocked: a
 * signal that came while the thread waited here (the engine's go, the
 * other tasks of the tree) will be delivered as soon as the frame's mask
 * applies. Had it come before the dump, it would have interrupted the
 * system call the thread slept in; make it do so now, or a pause() or
 * sigsuspend() would sleep on after its handler ran. */
void blob_leave(struct restore_args *a, unsigned idx, __u64 sp)
{
	const struct restore_thread *t = blob_thread(a, idx);
	__u64 pending = 0;

	if (sys_rt_sigpending(&pending, sizeof(pending)) < 0)
		pending = 0;
	pending &= ~t->sigmask;
	for (unsigned sig = 1; sig <= RESTORE_NSIG; sig++) {
		const struct restore_sigaction *sa = &a->sigactions[sig - 1];

		if (!(pending & (1ULL << (sig - 1))) || sa->handler <= 1)
			continue;	/* not coming, or no handler to run */
		blob_interrupt_syscall((struct blob_rt_sigframe *)(sp - 8), &t->regs,
				      sa->flags & SA_RESTART_FLAG);
		break;
	}
	/* the very last step: its filters would deny the blob's own calls;
	 * unfiltered it must not run (checked before the go, so unlikely) */
	if (blob_install_seccomp(a, t))
		sys_exit_group(RESTORE_EXIT_FAILED);
	blob_sigreturn(sp);
}

static void thread_main(void *arg)
{
	struct thread_ctx *ctx = arg;
	struct restore_args *a = ctx->a;
	__u64 sp = 0;
	int r = blob_restore_thread(a, ctx->idx, &sp);

	__atomic_add_fetch(&a->sync.threads_ready, 1, __ATOMIC_ACQ_REL);
	futex_wake(&a->sync.threads_ready);
	if (r)
		return;	/* the main thread reports and exits the group */
	while (blob_load(&a->sync.go) == 0)
		sys_futex(&a->sync.go, FUTEX_WAIT_PRIVATE, 0, 0);
	if (blob_load(&a->sync.go) == 1)
		blob_leave(a, ctx->idx, sp);
}

int blob_create_threads(struct restore_args *a)
{
	for (unsigned i = 1; i < a->nr_threads; i++) {
		char *base = blob_stack_base(a, i);
		struct thread_ctx *ctx = (struct thread_ctx *)base;
		__s32 tid = blob_thread(a, i)->tid;
		struct k_clone_args ca;
		long r;

		ctx->a = a;
		ctx->idx = i;
		blob_memset(&ca, 0, sizeof(ca));
		ca.flags = THREAD_FLAGS;
		ca.stack = (__u64)base + 64;
		ca.stack_size = RESTORE_THREAD_STACK_SIZE - RST_FRAME_RESERVE - 64;
		ca.set_tid = (__u64)&tid;
		ca.set_tid_size = 1;
		r = blob_clone3_thread(&ca, sizeof(ca), thread_main, ctx);
		if (r >= 0 && r != tid)
			r = -ESRCH;
		if (r < 0)
			return (int)blob_fail(a, RSTEP_THREADS, r, 0, "clone3 thread %d of pid %d%s",
					     tid, a->pid, r == -EEXIST ? ": tid in use" : "");
	}
	return 0;
}

void blob_wait_threads(struct restore_args *a)
{
	__u32 want = a->nr_threads - 1, v;

	while ((v = blob_load(&a->sync.threads_ready)) < want)
		sys_futex(&a->sync.threads_ready, FUTEX_WAIT_PRIVATE, v, 0);
}

/* how: 1 = resume, 2 = give up (the threads exit). */
void blob_release_threads(struct restore_args *a, __u32 how)
{
	blob_store(&a->sync.go, how);
	futex_wake(&a->sync.go);
}

/* Every thread made (and waiting): each pidfd of one of them over the
 * stand-in at its fd; an fd sharing an earlier one's description gets a
 * dup of it. */
int blob_restore_pidfds(struct restore_args *a)
{
	const struct restore_pidfd *p = blob_at(a, a->pidfds_off);

	for (unsigned i = 0; i < a->nr_pidfds; i++) {
		bool open = p[i].same_as < 0;
		long fd = open ? sys_pidfd_open(p[i].tid, p[i].flags) : p[i].same_as;
		long r;

		if (fd < 0)
			return (int)blob_fail(a, RSTEP_PIDFDS, fd, 0,
					     "pid %d fd %d: pidfd_open(thread %d, flags 0x%x)",
					     a->pid, p[i].fd, p[i].tid, p[i].flags);
		r = sys_dup3((int)fd, p[i].fd, p[i].cloexec ? O_CLOEXEC : 0);
		if (open)
			sys_close((int)fd);
		if (r < 0)
			return (int)blob_fail(a, RSTEP_PIDFDS, r, 0,
					     "pid %d fd %d: cannot put the pidfd of thread %d there",
					     a->pid, p[i].fd, p[i].tid);
	}
	return 0;
}
