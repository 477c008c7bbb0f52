/* General registers and the xsave area of a thread. The registers are the
 * raw ones caught at freeze: a thread inside an interrupted syscall keeps
 * orig_rax and rax = -ERESTART* here; restore applies the restart. */
#include "daemon/regs.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include "common/util.h"
#include "daemon/core.h"
#include "daemon/dump.h"

#define XSAVE_MAX (64u << 10)	/* far above any xsave area the kernel has */

void regs_to_entry(const struct user_regs_struct *r, X86Regs *e)
{
	*e = (X86Regs)X86_REGS__INIT;
	e->r15 = r->r15;
	e->r14 = r->r14;
	e->r13 = r->r13;
	e->r12 = r->r12;
	e->rbp = r->rbp;
	e->rbx = r->rbx;
	e->r11 = r->r11;
	e->r10 = r->r10;
	e->r9 = r->r9;
	e->r8 = r->r8;
	e->rax = r->rax;
	e->rcx = r->rcx;
	e->rdx = r->rdx;
	e->rsi = r->rsi;
	e->rdi = r->rdi;
	e->orig_rax = r->orig_rax;
	e->rip = r->rip;
	e->cs = r->cs;
	e->eflags = r->eflags;
	e->rsp = r->rsp;
	e->ss = r->ss;
	e->fs_base = r->fs_base;
	e->gs_base = r->gs_base;
	e->ds = r->ds;
	e->es = r->es;
	e->fs = r->fs;
	e->gs = r->gs;
}

int regs_dump_xsave(struct dump_ctx *ctx, pid_t tid, uint8_t **ret, size_t *ret_len,
		    uint64_t *ret_xcr0)
{
	_cleanup_free_ uint8_t *buf = malloc(XSAVE_MAX);
	struct iovec iov = { buf, XSAVE_MAX };
	uint64_t xcr0;

	if (!buf)
		return -ENOMEM;
	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &iov) < 0)
		return core_fail(ctx, tid, negerrno(), "PTRACE_GETREGSET NT_X86_XSTATE");
	if (iov.iov_len < XSAVE_XCR0_OFFSET + sizeof(xcr0))
		return ckpt_fail(ctx->err, -EPROTO,
				 "thread %d: the kernel gave a %zu-byte xsave area", tid, iov.iov_len);
	memcpy(&xcr0, buf + XSAVE_XCR0_OFFSET, sizeof(xcr0));
	*ret_xcr0 = xcr0;
	*ret_len = iov.iov_len;
	*ret = TAKE_PTR(buf);
	return 0;
}
