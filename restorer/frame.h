/* The x86-64 rt_sigframe the kernel reads back on rt_sigreturn
 * (arch/x86/kernel/signal_64.c, fpu/signal.c), spelt out with fixed-size
 * types so the blob needs no libc or kernel-internal header. Pure
 * functions: the unit test builds frames into a buffer on the host. */
#ifndef RST_FRAME_H
#define RST_FRAME_H

#include <linux/types.h>
#include <stdbool.h>

#include "restorer.h"

/* uapi asm/sigcontext.h, 64-bit struct sigcontext */
struct blob_sigcontext {
	__u64 r8, r9, r10, r11, r12, r13, r14, r15;
	__u64 rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip;
	__u64 eflags;
	__u16 cs, gs, fs, ss;
	__u64 err, trapno, oldmask, cr2;
	__u64 fpstate;		/* 64-byte aligned xsave area, 0 = none */
	__u64 reserved1[8];
};

struct blob_stack {		/* stack_t */
	__u64 ss_sp;
	__s32 ss_flags;
	__u32 pad;
	__u64 ss_size;
};

struct blob_ucontext {		/* uapi asm-generic/ucontext.h */
	__u64 uc_flags;
	__u64 uc_link;
	struct blob_stack uc_stack;
	struct blob_sigcontext uc_mcontext;
	__u64 uc_sigmask;
};

struct blob_rt_sigframe {	/* arch/x86/include/asm/sigframe.h */
	__u64 pretcode;
	struct blob_ucontext uc;
	__u8 info[128];
};

_Static_assert(sizeof(struct blob_sigcontext) == 256, "struct sigcontext");
_Static_assert(sizeof(struct blob_ucontext) == 304, "struct ucontext");
_Static_assert(sizeof(struct blob_rt_sigframe) == 440, "struct rt_sigframe");

#define RST_UC_FP_XSTATE		0x1
#define RST_UC_SIGCONTEXT_SS		0x2
#define RST_UC_STRICT_RESTORE_SS	0x4

#define RST_FP_XSTATE_MAGIC1	0x46505853u
#define RST_FP_XSTATE_MAGIC2	0x46505845u
#define RST_FX_SW_OFFSET	464	/* sw_reserved in the legacy fxsave area */
#define RST_XSAVE_HDR_OFFSET	512	/* xstate header: xfeatures, xcomp_bv */
#define RST_XSAVE_MIN		576	/* legacy area + header */

struct blob_fx_sw_bytes {	/* uapi struct _fpx_sw_bytes */
	__u32 magic1;
	__u32 extended_size;	/* xstate_size + FP_XSTATE_MAGIC2 size */
	__u64 xfeatures;
	__u32 xstate_size;
	__u32 padding[7];
};

/* The top of every thread's stack region holds its frame and xsave copy;
 * the blob's C stack starts below this reserve. */
#define RST_FRAME_RESERVE	(RESTORE_XSAVE_MAX + 4096u)

/* The syscall restart fix-up: a thread stopped inside an interrupted
 * system call has orig_rax = nr and rax = -ERESTART*; rt_sigreturn never
 * restarts, so point it back at the syscall instruction. */
void blob_fix_restart(struct restore_regs *r);

/* A signal with a handler will be delivered right at the rt_sigreturn
 * (it came while the thread waited in the blob): do to the interrupted
 * system call what the kernel's handle_signal() would have done had it
 * come while the thread slept in it - -EINTR instead of a restart, unless
 * -ERESTARTNOINTR, or -ERESTARTSYS with SA_RESTART. raw is the thread's
 * registers as dumped; f was built from them by blob_build_frame(). */
void blob_interrupt_syscall(struct blob_rt_sigframe *f, const struct restore_regs *raw,
			   bool sa_restart);

/* Build t's frame at the top of the stack region [base, base + len)
 * (base as the thread will see it: frames hold absolute addresses).
 * xsave is t->xsave_len bytes. Returns 0 and the rsp for rt_sigreturn in
 * *ret_sp (the address of uc), or -EINVAL when the xsave area is not
 * usable. */
int blob_build_frame(void *base, unsigned long len, const struct restore_thread *t,
		    const void *xsave, __u64 *ret_sp);

#endif
