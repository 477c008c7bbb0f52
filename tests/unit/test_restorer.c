/* The restorer blob's pure parts, compiled for the host from the very
 * files that go into the blob: XXH64 against libxxhash, the syscall
 * restart fix-up, rt_sigframe building into a buffer (layout checked
 * against glibc's ucontext_t, which mirrors the kernel's), and the
 * message formatter. */
#include <criterion/criterion.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <xxhash.h>

#include "restorer/frame.c"
#include "restorer/lib.c"
#include "restorer/xxh64.c"

static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;

static uint8_t rnd8(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint8_t)rnd_state;
}

Test(xxh64, matches_libxxhash_every_short_length_and_alignment)
{
	static uint8_t buf[600];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = rnd8();
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off <= 300; len++)
			for (uint64_t seed = 0; seed < 3; seed++)
				cr_assert_eq(rst_xxh64(buf + off, len, seed * 0x1234567ULL),
					     XXH64(buf + off, len, seed * 0x1234567ULL),
					     "len %zu off %zu seed %lu", len, off, (unsigned long)seed);
}

Test(xxh64, matches_libxxhash_on_page_blocks)
{
	size_t len = 512 * 4096 + 4096;
	uint8_t *buf = malloc(len);

	cr_assert_not_null(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] = rnd8();
	for (size_t pages = 1; pages <= 512; pages = pages * 2 + 1)
		cr_assert_eq(rst_xxh64(buf, pages * 4096, 0), XXH64(buf, pages * 4096, 0),
			     "%zu pages", pages);
	memset(buf, 0, 4096);
	cr_assert_eq(rst_xxh64(buf, 4096, 0), XXH64(buf, 4096, 0), "zero page");
	free(buf);
}

static struct restore_regs regs_in_syscall(long rax, long orig_rax)
{
	struct restore_regs r = { .rax = (uint64_t)rax, .orig_rax = (uint64_t)orig_rax,
				  .rip = 0x401002 };

	return r;
}

Test(restart, erestart_codes_go_back_onto_the_syscall)
{
	long codes[] = { -512, -513, -514 };

	for (unsigned i = 0; i < 3; i++) {
		struct restore_regs r = regs_in_syscall(codes[i], SYS_read);

		rst_fix_restart(&r);
		cr_assert_eq(r.rax, (uint64_t)SYS_read, "code %ld", codes[i]);
		cr_assert_eq(r.rip, 0x401000);
	}
}

Test(restart, restart_block_becomes_restart_syscall)
{
	struct restore_regs r = regs_in_syscall(-516, SYS_nanosleep);

	rst_fix_restart(&r);
	cr_assert_eq(r.rax, (uint64_t)SYS_restart_syscall);
	cr_assert_eq(r.rip, 0x401000);
}

Test(restart, other_results_and_user_code_are_left_alone)
{
	struct restore_regs r = regs_in_syscall(-4 /* EINTR */, SYS_read);

	rst_fix_restart(&r);
	cr_assert_eq(r.rax, (uint64_t)-4);
	cr_assert_eq(r.rip, 0x401002);

	r = regs_in_syscall(-512, -1);	/* not in a syscall: rax is just data */
	rst_fix_restart(&r);
	cr_assert_eq(r.rax, (uint64_t)-512);
	cr_assert_eq(r.rip, 0x401002);
}

Test(frame, layout_matches_the_kernel_ucontext)
{
	cr_assert_eq(offsetof(struct rst_ucontext, uc_mcontext), offsetof(ucontext_t, uc_mcontext));
	cr_assert_eq(offsetof(struct rst_ucontext, uc_stack), offsetof(ucontext_t, uc_stack));
	cr_assert_eq(offsetof(struct rst_sigcontext, r8), REG_R8 * 8);
	cr_assert_eq(offsetof(struct rst_sigcontext, rdi), REG_RDI * 8);
	cr_assert_eq(offsetof(struct rst_sigcontext, rax), REG_RAX * 8);
	cr_assert_eq(offsetof(struct rst_sigcontext, rsp), REG_RSP * 8);
	cr_assert_eq(offsetof(struct rst_sigcontext, rip), REG_RIP * 8);
	cr_assert_eq(offsetof(struct rst_sigcontext, eflags), REG_EFL * 8);
	cr_assert_eq(offsetof(struct rst_sigcontext, cs), REG_CSGSFS * 8);
	cr_assert_eq(offsetof(struct rst_sigcontext, cr2), REG_CR2 * 8);
	cr_assert_eq(offsetof(struct rst_sigcontext, fpstate), offsetof(mcontext_t, fpregs));
	cr_assert_eq(sizeof(struct rst_sigcontext), sizeof(mcontext_t));
}

struct built {
	void *area;
	struct restore_thread t;
	uint8_t xsave[1024];
	struct rst_rt_sigframe *f;
	__u64 sp;
};

static int build(struct built *b, uint32_t xsave_len)
{
	b->area = aligned_alloc(4096, RESTORE_THREAD_STACK_SIZE);
	memset(b->area, 0xcc, RESTORE_THREAD_STACK_SIZE);
	memset(&b->t, 0, sizeof(b->t));
	for (size_t i = 0; i < sizeof(b->xsave); i++)
		b->xsave[i] = (uint8_t)i;
	memset(b->xsave + RST_FX_SW_OFFSET, 0, 48);	/* as XSAVE leaves it */
	memset(b->xsave + RST_XSAVE_HDR_OFFSET, 0, 64);
	b->xsave[RST_XSAVE_HDR_OFFSET] = 0x7;		/* x87 | SSE | AVX */
	b->xsave[RST_XSAVE_HDR_OFFSET + 8] = 0x80;	/* xcomp_bv must be cleared */
	b->t.tid = 1234;
	b->t.xsave_len = xsave_len;
	b->t.regs = regs_in_syscall(-514, SYS_poll);
	b->t.regs.rsp = 0x7ffd0000;
	b->t.regs.rbx = 0xb;
	b->t.regs.r15 = 0xf;
	b->t.regs.eflags = 0x246;
	b->t.regs.cs = 0x33;
	b->t.regs.ss = 0x2b;
	b->t.sigmask = 0x4001;
	b->t.altstack_sp = 0x600000;
	b->t.altstack_size = 65536;
	b->t.altstack_flags = 0;
	int r = rst_build_frame(b->area, RESTORE_THREAD_STACK_SIZE, &b->t, b->xsave, &b->sp);
	b->f = (struct rst_rt_sigframe *)(b->sp - 8);
	return r;
}

Test(frame, registers_mask_and_altstack)
{
	struct built b;

	cr_assert_eq(build(&b, 832), 0);
	cr_assert_eq(b.sp % 16, 0, "uc must be 16-byte aligned, as the kernel leaves it");
	cr_assert_geq(b.sp - 8, (uint64_t)b.area + RESTORE_THREAD_STACK_SIZE - RST_FRAME_RESERVE,
		      "the frame stays inside the reserve above the C stack");
	struct rst_ucontext *uc = &b.f->uc;

	cr_assert_eq(uc->uc_flags, RST_UC_FP_XSTATE | RST_UC_SIGCONTEXT_SS | RST_UC_STRICT_RESTORE_SS);
	cr_assert_eq(uc->uc_mcontext.rax, (uint64_t)SYS_poll, "restart fix-up applied");
	cr_assert_eq(uc->uc_mcontext.rip, 0x401000);
	cr_assert_eq(uc->uc_mcontext.rsp, 0x7ffd0000);
	cr_assert_eq(uc->uc_mcontext.rbx, 0xb);
	cr_assert_eq(uc->uc_mcontext.r15, 0xf);
	cr_assert_eq(uc->uc_mcontext.eflags, 0x246);
	cr_assert_eq(uc->uc_mcontext.cs, 0x33);
	cr_assert_eq(uc->uc_mcontext.ss, 0x2b);
	cr_assert_eq(uc->uc_sigmask, 0x4001);
	cr_assert_eq(uc->uc_stack.ss_sp, 0x600000);
	cr_assert_eq(uc->uc_stack.ss_size, 65536);
	cr_assert_eq(b.t.regs.rax, (uint64_t)-514, "the thread entry itself is untouched");
	free(b.area);
}

Test(frame, xsave_copy_has_the_signal_frame_markers)
{
	struct built b;

	cr_assert_eq(build(&b, 832), 0);
	uint8_t *fp = (uint8_t *)b.f->uc.uc_mcontext.fpstate;
	struct rst_fx_sw_bytes sw;
	uint32_t magic2;
	uint64_t xcomp;

	cr_assert_eq((uintptr_t)fp % 64, 0);
	cr_assert_geq((uintptr_t)fp, b.sp - 8 + sizeof(struct rst_rt_sigframe));
	cr_assert_leq((uintptr_t)fp + RESTORE_XSAVE_MAX + 4,
		      (uintptr_t)b.area + RESTORE_THREAD_STACK_SIZE);
	cr_assert_eq(memcmp(fp, b.xsave, RST_FX_SW_OFFSET), 0, "legacy area copied");
	memcpy(&sw, fp + RST_FX_SW_OFFSET, sizeof(sw));
	cr_assert_eq(sw.magic1, RST_FP_XSTATE_MAGIC1);
	cr_assert_eq(sw.xstate_size, 832);
	cr_assert_eq(sw.extended_size, 836);
	cr_assert_eq(sw.xfeatures, 0x7, "from the header's xstate_bv");
	memcpy(&magic2, fp + 832, 4);
	cr_assert_eq(magic2, RST_FP_XSTATE_MAGIC2);
	memcpy(&xcomp, fp + RST_XSAVE_HDR_OFFSET + 8, 8);
	cr_assert_eq(xcomp, 0, "standard format");
	cr_assert_eq(memcmp(fp + 576, b.xsave + 576, 832 - 576), 0, "extended state copied");
	free(b.area);
}

Test(frame, kernel_written_sw_bytes_keep_their_features)
{
	struct built b;
	struct rst_fx_sw_bytes sw = { .magic1 = RST_FP_XSTATE_MAGIC1, .xfeatures = 0x207 };

	b.area = NULL;
	cr_assert_eq(build(&b, 832), 0);
	free(b.area);
	memcpy(b.xsave + RST_FX_SW_OFFSET, &sw, sizeof(sw));
	b.area = aligned_alloc(4096, RESTORE_THREAD_STACK_SIZE);
	cr_assert_eq(rst_build_frame(b.area, RESTORE_THREAD_STACK_SIZE, &b.t, b.xsave, &b.sp), 0);
	b.f = (struct rst_rt_sigframe *)(b.sp - 8);
	memcpy(&sw, (uint8_t *)b.f->uc.uc_mcontext.fpstate + RST_FX_SW_OFFSET, sizeof(sw));
	cr_assert_eq(sw.xfeatures, 0x207);
	free(b.area);
}

Test(frame, unusable_xsave_is_refused_and_none_means_no_fpstate)
{
	struct built b;

	cr_assert_eq(build(&b, 100), -EINVAL, "shorter than legacy area + header");
	free(b.area);
	cr_assert_eq(build(&b, 0), 0);
	cr_assert_eq(b.f->uc.uc_mcontext.fpstate, 0);
	cr_assert_eq(b.f->uc.uc_flags & RST_UC_FP_XSTATE, 0);
	free(b.area);
}

Test(fmt, conversions_and_truncation)
{
	char buf[64];

	rst_fmt(buf, sizeof(buf), "mmap 0x%llx-0x%llx (%s, fd %d) %u%%",
		0x7f0000001000ULL, 0x7f0000002000ULL, "file private", -1, 42u);
	cr_assert_str_eq(buf, "mmap 0x7f0000001000-0x7f0000002000 (file private, fd -1) 42%");
	cr_assert_eq(rst_fmt(buf, 8, "%s", "a long message"), 7);
	cr_assert_str_eq(buf, "a long ");
	rst_fmt(buf, sizeof(buf), "%d %ld %x", -2147483647 - 1, -5L, 0xabcu);
	cr_assert_str_eq(buf, "-2147483648 -5 abc");
}

static struct rst_rt_sigframe *frame_for(struct built *b, long rax, long orig_rax)
{
	build(b, 0);
	b->t.regs = regs_in_syscall(rax, orig_rax);
	cr_assert_eq(rst_build_frame(b->area, RESTORE_THREAD_STACK_SIZE, &b->t, NULL, &b->sp), 0);
	return (struct rst_rt_sigframe *)(b->sp - 8);
}

Test(restart, a_signal_at_the_sigreturn_interrupts_like_the_kernel)
{
	struct built b;
	struct rst_rt_sigframe *f;

	f = frame_for(&b, -514, SYS_pause);	/* ERESTARTNOHAND: always EINTR */
	rst_interrupt_syscall(f, &b.t.regs, true);
	cr_assert_eq(f->uc.uc_mcontext.rax, (uint64_t)-EINTR);
	cr_assert_eq(f->uc.uc_mcontext.rip, 0x401002, "returns past the syscall");
	free(b.area);

	f = frame_for(&b, -512, SYS_read);	/* ERESTARTSYS + SA_RESTART: restart */
	rst_interrupt_syscall(f, &b.t.regs, true);
	cr_assert_eq(f->uc.uc_mcontext.rax, (uint64_t)SYS_read);
	cr_assert_eq(f->uc.uc_mcontext.rip, 0x401000);
	rst_interrupt_syscall(f, &b.t.regs, false);	/* without: EINTR */
	cr_assert_eq(f->uc.uc_mcontext.rax, (uint64_t)-EINTR);
	cr_assert_eq(f->uc.uc_mcontext.rip, 0x401002);
	free(b.area);

	f = frame_for(&b, -513, SYS_read);	/* ERESTARTNOINTR: always restart */
	rst_interrupt_syscall(f, &b.t.regs, false);
	cr_assert_eq(f->uc.uc_mcontext.rax, (uint64_t)SYS_read);
	cr_assert_eq(f->uc.uc_mcontext.rip, 0x401000);
	free(b.area);

	f = frame_for(&b, -516, SYS_nanosleep);	/* restart block: EINTR */
	rst_interrupt_syscall(f, &b.t.regs, true);
	cr_assert_eq(f->uc.uc_mcontext.rax, (uint64_t)-EINTR);
	free(b.area);
}
