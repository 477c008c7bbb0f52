/* rt_sigframe building; see frame.h. The kernel checks, in order:
 * uc_sigmask -> blocked set; sigcontext -> registers (ss taken as is with
 * UC_STRICT_RESTORE_SS); fpstate: sw_reserved.magic1, xstate_size within
 * [576, this kernel's user_size] and <= extended_size, MAGIC2 right after
 * xstate_size bytes, else only the legacy part is restored; then
 * uc_stack -> sigaltstack. */
#include <asm/unistd.h>
#include <linux/errno.h>

#include "frame.h"
#include "lib.h"

#define ERESTARTSYS		512
#define ERESTARTNOINTR		513
#define ERESTARTNOHAND		514
#define ERESTART_RESTARTBLOCK	516

void blob_fix_restart(struct restore_regs *r)
{
	if ((__s64)r->orig_rax < 0)
		return;	/* not stopped inside a system call */

	switch ((__s64)r->rax) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
		r->rax = r->orig_rax;
		r->rip -= 2;	/* back onto the 2-byte syscall instruction */
		break;
	case -ERESTART_RESTARTBLOCK:
		r->rax = __NR_restart_syscall;
		r->rip -= 2;
		break;
	}
}

void blob_interrupt_syscall(struct blob_rt_sigframe *f, const struct restore_regs *raw,
			   bool sa_restart)
{
	struct blob_sigcontext *sc = &f->uc.uc_mcontext;

	if ((__s64)raw->orig_rax < 0)
		return;
	switch ((__s64)raw->rax) {
	case -ERESTARTSYS:
		if (sa_restart)
			break;
		/* fall through */
	case -ERESTARTNOHAND:
	case -ERESTART_RESTARTBLOCK:
		sc->rax = (__u64)-EINTR;
		sc->rip = raw->rip;
		break;
	}
}

static void fill_sigcontext(struct blob_sigcontext *sc, const struct restore_regs *r)
{
	sc->r8 = r->r8;
	sc->r9 = r->r9;
	sc->r10 = r->r10;
	sc->r11 = r->r11;
	sc->r12 = r->r12;
	sc->r13 = r->r13;
	sc->r14 = r->r14;
	sc->r15 = r->r15;
	sc->rdi = r->rdi;
	sc->rsi = r->rsi;
	sc->rbp = r->rbp;
	sc->rbx = r->rbx;
	sc->rdx = r->rdx;
	sc->rax = r->rax;
	sc->rcx = r->rcx;
	sc->rsp = r->rsp;
	sc->rip = r->rip;
	sc->eflags = r->eflags;
	sc->cs = (__u16)r->cs;
	sc->ss = (__u16)r->ss;
}

/* Copy the dumped xsave area to fp (64-byte aligned) and give it the
 * software bytes and trailing magic of a kernel-written signal frame. */
static int fill_fpstate(unsigned char *fp, const void *xsave, __u32 size)
{
	struct blob_fx_sw_bytes sw;
	__u64 xfeatures;
	__u32 magic2 = RST_FP_XSTATE_MAGIC2;

	if (size < RST_XSAVE_MIN || size > RESTORE_XSAVE_MAX || (size & 7))
		return -EINVAL;
	blob_memcpy(fp, xsave, size);
	blob_memcpy(&sw, fp + RST_FX_SW_OFFSET, sizeof(sw));
	if (sw.magic1 == RST_FP_XSTATE_MAGIC1 && sw.xfeatures) {
		xfeatures = sw.xfeatures;
	} else {	/* the header's xstate_bv, plus x87 and SSE */
		blob_memcpy(&xfeatures, fp + RST_XSAVE_HDR_OFFSET, 8);
		xfeatures |= 3;
	}

	blob_memset(&sw, 0, sizeof(sw));
	sw.magic1 = RST_FP_XSTATE_MAGIC1;
	sw.extended_size = size + sizeof(magic2);
	sw.xfeatures = xfeatures;
	sw.xstate_size = size;
	blob_memcpy(fp + RST_FX_SW_OFFSET, &sw, sizeof(sw));
	/* standard (non-compacted) format: xcomp_bv and the rest of the
	 * header must be zero or XRSTOR faults */
	blob_memset(fp + RST_XSAVE_HDR_OFFSET + 8, 0, 56);
	blob_memcpy(fp + size, &magic2, sizeof(magic2));
	return 0;
}

int blob_build_frame(void *base, unsigned long len, const struct restore_thread *t,
		    const void *xsave, __u64 *ret_sp)
{
	unsigned long top = (unsigned long)base + len;
	unsigned long fp = (top - RESTORE_XSAVE_MAX - 64) & ~63UL;
	unsigned long sp = ((fp - sizeof(struct blob_rt_sigframe)) & ~15UL) - 8;
	struct blob_rt_sigframe *f = (struct blob_rt_sigframe *)sp;
	struct restore_regs r;
	int ret;

	if (len < RST_FRAME_RESERVE)
		return -EINVAL;
	blob_memset(f, 0, sizeof(*f));
	blob_memcpy(&r, &t->regs, sizeof(r));
	blob_fix_restart(&r);
	fill_sigcontext(&f->uc.uc_mcontext, &r);

	f->uc.uc_flags = RST_UC_SIGCONTEXT_SS | RST_UC_STRICT_RESTORE_SS;
	if (t->xsave_len) {
		ret = fill_fpstate((unsigned char *)fp, xsave, t->xsave_len);
		if (ret)
			return ret;
		f->uc.uc_flags |= RST_UC_FP_XSTATE;
		f->uc.uc_mcontext.fpstate = fp;
	}
	f->uc.uc_stack.ss_sp = t->altstack_sp;
	f->uc.uc_stack.ss_flags = (__s32)t->altstack_flags;
	f->uc.uc_stack.ss_size = t->altstack_size;
	f->uc.uc_sigmask = t->sigmask;
	*ret_sp = (__u64)&f->uc;	/* the kernel reads the frame at rsp - 8 */
	return 0;
}
