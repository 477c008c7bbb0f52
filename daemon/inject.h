/* Run system calls inside a stopped target, for what /proc can't tell
 * (sigactions, sigaltstack, itimers, timer_gettime, PR_GET_TID_ADDRESS...).
 * The target's registers, signal mask and memory are exactly as before
 * once inject_finish() returns. */
#ifndef CKPT_INJECT_H
#define CKPT_INJECT_H

#include <stddef.h>
#include <sys/types.h>

struct task;
struct thread;
struct user_regs_struct;

/* The address of a `syscall` instruction (0f 05, also one straddling two
 * reads) in one of pid's executable mappings that does not overlap
 * [avoid_start, avoid_end) (0, 0: any mapping), in *ret_ip. -ENOEXEC when
 * there is none, -ESRCH when pid is gone. */
int inject_find_syscall(pid_t pid, unsigned long avoid_start, unsigned long avoid_end,
			unsigned long *ret_ip);
/* Find a syscall instruction (unless t->syscall_ip is set already) and map
 * a scratch area in the target. */
int inject_prepare(struct task *t);
/* Run syscall nr with args in thread th (seized and stopped, its registers
 * in th->regs: they and its signal mask are put back afterwards) at
 * t->syscall_ip, result in *ret (a raw return value: -errno on failure
 * inside the target). */
int inject_syscall(struct task *t, struct thread *th, long nr,
		   const unsigned long args[6], long *ret);
/* Copy from / to the scratch area. */
int inject_read(struct task *t, size_t off, void *buf, size_t len);
int inject_write(struct task *t, size_t off, const void *buf, size_t len);
/* Unmap the scratch area. */
int inject_finish(struct task *t);
/* The registers a thread caught inside an interrupted syscall (orig_rax =
 * nr, rax = -ERESTART*) must resume with when nothing will restart it (an
 * rt_sigreturn frame): rax = nr (restart_syscall for
 * -ERESTART_RESTARTBLOCK), rip -= 2, orig_rax = -1. Other registers are
 * left as they are. inject_syscall() itself puts back the raw registers. */
void inject_restart_fixup(struct user_regs_struct *r);

#endif
