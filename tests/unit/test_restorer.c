/* The restorer blob's pure parts, compiled for the host from the very
 * files that go into the blob: XXH3-64 against libxxhash, the syscall
 * restart fix-up, rt_sigframe building into a buffer (layout checked
 * against glibc's ucontext_t, which mirrors the kernel's), and the
 * message formatter. Then the real blob (restorer.bin, linked in) run in a
 * child on a tiny hand-made image: see "blob" at the end. */
#include <criterion/criterion.h>

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "restorer/frame.c"
#include "restorer/lib.c"
#include "restorer/xxh3.c"

static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;

static uint8_t rnd8(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint8_t)rnd_state;
}

/* Every length the long-input path takes (over 240 bytes) up to a few
 * blocks of the secret (1024 bytes each), at every alignment: the block
 * loop, the partial block, and the last stripe overlapping it. */
Test(xxh3, matches_libxxhash_every_length_and_alignment)
{
	static uint8_t buf[3200];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = rnd8();
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 241; len + off <= sizeof(buf); len++)
			cr_assert_eq(blob_xxh3(buf + off, len), XXH3_64bits(buf + off, len),
				     "len %zu off %zu", len, off);
}

Test(xxh3, matches_libxxhash_on_page_blocks)
{
	size_t len = 512 * 4096 + 4096;
	uint8_t *buf = malloc(len);

	cr_assert_not_null(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] = rnd8();
	for (size_t pages = 1; pages <= 512; pages = pages * 2 + 1)
		cr_assert_eq(blob_xxh3(buf, pages * 4096), XXH3_64bits(buf, pages * 4096),
			     "%zu pages", pages);
	cr_assert_eq(blob_xxh3(buf, 512 * 4096), XXH3_64bits(buf, 512 * 4096), "a whole block");
	memset(buf, 0, 4096);
	cr_assert_eq(blob_xxh3(buf, 4096), XXH3_64bits(buf, 4096), "zero page");
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

		blob_fix_restart(&r);
		cr_assert_eq(r.rax, (uint64_t)SYS_read, "code %ld", codes[i]);
		cr_assert_eq(r.rip, 0x401000);
	}
}

Test(restart, restart_block_becomes_restart_syscall)
{
	struct restore_regs r = regs_in_syscall(-516, SYS_nanosleep);

	blob_fix_restart(&r);
	cr_assert_eq(r.rax, (uint64_t)SYS_restart_syscall);
	cr_assert_eq(r.rip, 0x401000);
}

Test(restart, other_results_and_user_code_are_left_alone)
{
	struct restore_regs r = regs_in_syscall(-4 /* EINTR */, SYS_read);

	blob_fix_restart(&r);
	cr_assert_eq(r.rax, (uint64_t)-4);
	cr_assert_eq(r.rip, 0x401002);

	r = regs_in_syscall(-512, -1);	/* not in a syscall: rax is just data */
	blob_fix_restart(&r);
	cr_assert_eq(r.rax, (uint64_t)-512);
	cr_assert_eq(r.rip, 0x401002);
}

Test(frame, layout_matches_the_kernel_ucontext)
{
	cr_assert_eq(offsetof(struct blob_ucontext, uc_mcontext), offsetof(ucontext_t, uc_mcontext));
	cr_assert_eq(offsetof(struct blob_ucontext, uc_stack), offsetof(ucontext_t, uc_stack));
	cr_assert_eq(offsetof(struct blob_sigcontext, r8), REG_R8 * 8);
	cr_assert_eq(offsetof(struct blob_sigcontext, rdi), REG_RDI * 8);
	cr_assert_eq(offsetof(struct blob_sigcontext, rax), REG_RAX * 8);
	cr_assert_eq(offsetof(struct blob_sigcontext, rsp), REG_RSP * 8);
	cr_assert_eq(offsetof(struct blob_sigcontext, rip), REG_RIP * 8);
	cr_assert_eq(offsetof(struct blob_sigcontext, eflags), REG_EFL * 8);
	cr_assert_eq(offsetof(struct blob_sigcontext, cs), REG_CSGSFS * 8);
	cr_assert_eq(offsetof(struct blob_sigcontext, cr2), REG_CR2 * 8);
	cr_assert_eq(offsetof(struct blob_sigcontext, fpstate), offsetof(mcontext_t, fpregs));
	cr_assert_eq(sizeof(struct blob_sigcontext), sizeof(mcontext_t));
}

struct built {
	void *area;
	struct restore_thread t;
	uint8_t xsave[1024];
	struct blob_rt_sigframe *f;
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
	int r = blob_build_frame(b->area, RESTORE_THREAD_STACK_SIZE, &b->t, b->xsave, &b->sp);
	b->f = (struct blob_rt_sigframe *)(b->sp - 8);
	return r;
}

Test(frame, registers_mask_and_altstack)
{
	struct built b;

	cr_assert_eq(build(&b, 832), 0);
	cr_assert_eq(b.sp % 16, 0, "uc must be 16-byte aligned, as the kernel leaves it");
	cr_assert_geq(b.sp - 8, (uint64_t)b.area + RESTORE_THREAD_STACK_SIZE - RST_FRAME_RESERVE,
		      "the frame stays inside the reserve above the C stack");
	struct blob_ucontext *uc = &b.f->uc;

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
	struct blob_fx_sw_bytes sw;
	uint32_t magic2;
	uint64_t xcomp;

	cr_assert_eq((uintptr_t)fp % 64, 0);
	cr_assert_geq((uintptr_t)fp, b.sp - 8 + sizeof(struct blob_rt_sigframe));
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
	struct blob_fx_sw_bytes sw = { .magic1 = RST_FP_XSTATE_MAGIC1, .xfeatures = 0x207 };

	b.area = NULL;
	cr_assert_eq(build(&b, 832), 0);
	free(b.area);
	memcpy(b.xsave + RST_FX_SW_OFFSET, &sw, sizeof(sw));
	b.area = aligned_alloc(4096, RESTORE_THREAD_STACK_SIZE);
	cr_assert_eq(blob_build_frame(b.area, RESTORE_THREAD_STACK_SIZE, &b.t, b.xsave, &b.sp), 0);
	b.f = (struct blob_rt_sigframe *)(b.sp - 8);
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

	blob_fmt(buf, sizeof(buf), "mmap 0x%llx-0x%llx (%s, fd %d) %u%%",
		0x7f0000001000ULL, 0x7f0000002000ULL, "file private", -1, 42u);
	cr_assert_str_eq(buf, "mmap 0x7f0000001000-0x7f0000002000 (file private, fd -1) 42%");
	cr_assert_eq(blob_fmt(buf, 8, "%s", "a long message"), 7);
	cr_assert_str_eq(buf, "a long ");
	blob_fmt(buf, sizeof(buf), "%d %ld %x", -2147483647 - 1, -5L, 0xabcu);
	cr_assert_str_eq(buf, "-2147483648 -5 abc");
}

static struct blob_rt_sigframe *frame_for(struct built *b, long rax, long orig_rax)
{
	build(b, 0);
	b->t.regs = regs_in_syscall(rax, orig_rax);
	cr_assert_eq(blob_build_frame(b->area, RESTORE_THREAD_STACK_SIZE, &b->t, NULL, &b->sp), 0);
	return (struct blob_rt_sigframe *)(b->sp - 8);
}

Test(restart, a_signal_at_the_sigreturn_interrupts_like_the_kernel)
{
	struct built b;
	struct blob_rt_sigframe *f;

	f = frame_for(&b, -514, SYS_pause);	/* ERESTARTNOHAND: always EINTR */
	blob_interrupt_syscall(f, &b.t.regs, true);
	cr_assert_eq(f->uc.uc_mcontext.rax, (uint64_t)-EINTR);
	cr_assert_eq(f->uc.uc_mcontext.rip, 0x401002, "returns past the syscall");
	free(b.area);

	f = frame_for(&b, -512, SYS_read);	/* ERESTARTSYS + SA_RESTART: restart */
	blob_interrupt_syscall(f, &b.t.regs, true);
	cr_assert_eq(f->uc.uc_mcontext.rax, (uint64_t)SYS_read);
	cr_assert_eq(f->uc.uc_mcontext.rip, 0x401000);
	blob_interrupt_syscall(f, &b.t.regs, false);	/* without: EINTR */
	cr_assert_eq(f->uc.uc_mcontext.rax, (uint64_t)-EINTR);
	cr_assert_eq(f->uc.uc_mcontext.rip, 0x401002);
	free(b.area);

	f = frame_for(&b, -513, SYS_read);	/* ERESTARTNOINTR: always restart */
	blob_interrupt_syscall(f, &b.t.regs, false);
	cr_assert_eq(f->uc.uc_mcontext.rax, (uint64_t)SYS_read);
	cr_assert_eq(f->uc.uc_mcontext.rip, 0x401000);
	free(b.area);

	f = frame_for(&b, -516, SYS_nanosleep);	/* restart block: EINTR */
	blob_interrupt_syscall(f, &b.t.regs, true);
	cr_assert_eq(f->uc.uc_mcontext.rax, (uint64_t)-EINTR);
	free(b.area);
}

/* ---- the blob itself, on a tiny hand-made process ---------------------
 *
 * A forked child plays the engine: it maps restorer.bin and an argument
 * area, describes three VMAs (code, data, a growsdown stack) whose first
 * pages come from a pages file, moves the vdso to another address, and
 * jumps. The restored main thread starts 2 bytes past a syscall with
 * rax = -ERESTARTNOHAND, orig_rax = getpid (the restart fix-up must run
 * it), then checks its pid, its signal mask, the upper half of ymm0 (the
 * xsave area), the data page and its POSIX timers (ids 3 and 9), waits for the second thread (created
 * with its own tid) to check its fs base, and exits 42. */

extern const char _binary_restorer_bin_start[], _binary_restorer_bin_end[];
extern const char tiny_main[], tiny_thread[], tiny_end[];

__asm__(".pushsection .text.tiny, \"ax\"\n"
	"tiny_main:\n"
	"	syscall\n"			/* getpid, after the fix-up */
	"	cmp %rax, %r15\n"
	"	jne 1f\n"
	"	mov $14, %eax\n"		/* rt_sigprocmask(0, NULL, rbx+0x100, 8) */
	"	xor %edi, %edi\n"
	"	xor %esi, %esi\n"
	"	lea 0x100(%rbx), %rdx\n"
	"	mov $8, %r10d\n"
	"	syscall\n"
	"	cmp 0x100(%rbx), %r14\n"
	"	jne 2f\n"
	"	vextractf128 $1, %ymm0, %xmm1\n"
	"	vmovq %xmm1, %rax\n"
	"	cmp %rax, %r13\n"
	"	jne 3f\n"
	"	cmp (%rbx), %r12\n"
	"	jne 4f\n"
	"	mov $224, %eax\n"		/* timer_gettime(9, rbx+0x500): exists */
	"	mov $9, %edi\n"
	"	lea 0x500(%rbx), %rsi\n"
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jne 8f\n"
	"	mov $224, %eax\n"		/* timer 4 must not (no placeholders left) */
	"	mov $4, %edi\n"
	"	syscall\n"
	"	cmp $-22, %rax\n"
	"	jne 8f\n"
	"5:	cmpl $0, 0x200(%rbx)\n"	/* wait for the thread */
	"	jne 6f\n"
	"	mov $24, %eax\n"		/* sched_yield */
	"	syscall\n"
	"	jmp 5b\n"
	"6:	mov 0x204(%rbx), %edi\n"	/* the thread's verdict: 0 = fine */
	"	add $42, %edi\n"
	"	jmp 9f\n"
	"1:	mov $1, %edi\n"
	"	jmp 9f\n"
	"2:	mov $2, %edi\n"
	"	jmp 9f\n"
	"3:	mov $3, %edi\n"
	"	jmp 9f\n"
	"4:	mov $4, %edi\n"
	"	jmp 9f\n"
	"8:	mov $5, %edi\n"
	"9:	mov $231, %eax\n"		/* exit_group */
	"	syscall\n"
	"tiny_thread:\n"
	"	mov $158, %eax\n"		/* arch_prctl(ARCH_GET_FS, rbx+0x300) */
	"	mov $0x1003, %edi\n"
	"	lea 0x300(%rbx), %rsi\n"
	"	syscall\n"
	"	cmp 0x300(%rbx), %r12\n"
	"	je 7f\n"
	"	movl $10, 0x204(%rbx)\n"
	"7:	movl $1, 0x200(%rbx)\n"
	"	mov $60, %eax\n"		/* exit */
	"	xor %edi, %edi\n"
	"	syscall\n"
	"tiny_end:\n"
	".popsection\n");

#define T_CODE		0x10000000UL
#define T_DATA		0x10010000UL
#define T_STACK		0x10100000UL
#define T_STACK_END	0x10104000UL
#define T_VDSO		0x20000000UL
#define T_REGION	0x30000000UL
#define T_PG		4096UL
#define T_DATA_WORD	0xdeadbeefcafef00dULL
#define T_YMM_HIGH	0x1122334455667788ULL
#define T_FS		0x12345000ULL

struct tiny {
	struct restore_args *a;
	unsigned long used;
	int pages_fd;
	uint8_t page[2][4096] __attribute__((aligned(4096)));
	uint8_t xsave[16384] __attribute__((aligned(64)));
};

static unsigned long tiny_put(struct tiny *t, const void *src, unsigned long len)
{
	unsigned long off = (t->used + 63) & ~63UL;

	memcpy((char *)t->a + off, src, len);
	t->used = off + len;
	return off;
}

static void tiny_vdso(struct restore_vdso *v)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	uint64_t base = 0;

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		int i = strstr(line, "[vvar]") ? RVDSO_VVAR :
			strstr(line, "[vvar_vclock]") ? RVDSO_VVAR_VCLOCK :
			strstr(line, "[vdso]") ? RVDSO_VDSO : -1;

		if (i >= 0 && sscanf(line, "%lx-%lx", &s, &e) == 2) {
			v->cur[i].start = s;
			v->cur[i].end = e;
			if (!base || s < base)
				base = s;
		}
	}
	if (f)
		fclose(f);
	for (int i = 0; i < RVDSO_NR; i++)
		if (v->cur[i].end) {
			v->img[i].start = v->cur[i].start - base + T_VDSO;
			v->img[i].end = v->cur[i].end - base + T_VDSO;
		}
}

static void tiny_memory(struct tiny *t, bool corrupt)
{
	struct restore_args *a = t->a;
	char path[] = "/tmp/test_restorer.XXXXXX";
	struct restore_vma vmas[3] = {
		{ T_CODE, T_CODE + T_PG, 0, 0, PROT_READ | PROT_EXEC, MAP_PRIVATE, RVMA_ANON_PRIVATE, -1 },
		{ T_DATA, T_DATA + 2 * T_PG, 0, 1ULL << MADV_DONTFORK, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE, RVMA_HEAP, -1 },
		{ T_STACK, T_STACK_END, 0, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_GROWSDOWN,
		  RVMA_STACK, -1 },
	};
	struct restore_page pages[2];
	int32_t close_fds[1];

	t->pages_fd = mkstemp(path);
	unlink(path);
	memcpy(t->page[0], tiny_main, (size_t)(tiny_end - tiny_main));
	*(uint64_t *)t->page[1] = T_DATA_WORD;
	strcpy((char *)t->page[1] + 0x400, "argv0");
	strcpy((char *)t->page[1] + 0x406, "ENV=1");
	if (pwrite(t->pages_fd, t->page[0], T_PG, 0) != (ssize_t)T_PG ||
	    pwrite(t->pages_fd, t->page[1], T_PG, T_PG) != (ssize_t)T_PG)
		_exit(90);
	if (corrupt)
		t->page[1][5] ^= 1;
	pages[0] = (struct restore_page){ T_CODE, 1, RPAGE_DATA, 0, XXH3_64bits(t->page[0], T_PG),
					  t->pages_fd, 0 };
	pages[1] = (struct restore_page){ T_DATA, 1, RPAGE_DATA, T_PG, XXH3_64bits(t->page[1], T_PG),
					  t->pages_fd, 0 };
	close_fds[0] = t->pages_fd;
	a->vmas_off = tiny_put(t, vmas, sizeof(vmas));
	a->nr_vmas = 3;
	a->pages_off = tiny_put(t, pages, sizeof(pages));
	a->nr_pages = 2;
	a->close_fds_off = tiny_put(t, close_fds, sizeof(close_fds));
	a->nr_close_fds = 1;
	a->mm = (struct restore_mm){
		.start_code = T_CODE, .end_code = T_CODE + T_PG,
		.start_data = T_DATA, .end_data = T_DATA + T_PG,
		.start_brk = T_DATA + 2 * T_PG, .brk = T_DATA + 2 * T_PG,
		.start_stack = T_STACK_END - 256,
		.arg_start = T_DATA + 0x400, .arg_end = T_DATA + 0x406,
		.env_start = T_DATA + 0x406, .env_end = T_DATA + 0x40c,
		.exe_fd = -1,
	};
}

static void tiny_creds(struct tiny *t)
{
	struct restore_creds *c = &t->a->creds;
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	gid_t groups[64];
	int n = getgroups(64, groups);

	getresuid(&c->uid, &c->euid, &c->suid);
	getresgid(&c->gid, &c->egid, &c->sgid);
	c->fsuid = c->euid;
	c->fsgid = c->egid;
	c->groups_off = tiny_put(t, groups, (unsigned long)(n > 0 ? n : 0) * 4);
	c->nr_groups = n > 0 ? (uint32_t)n : 0;
	syscall(SYS_capget, &h, d);
	c->cap_eff = d[0].effective | (uint64_t)d[1].effective << 32;
	c->cap_prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	c->cap_inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_READ, cap) == 1)
			c->cap_bnd |= 1ULL << cap;
	c->secbits = (uint32_t)prctl(PR_GET_SECUREBITS);
	c->dumpable = 1;
}

static void tiny_threads(struct tiny *t, pid_t tid2)
{
	struct restore_args *a = t->a;
	uint64_t ymm[4] = { 1, 2, T_YMM_HIGH, 4 };
	struct restore_thread th[2];
	unsigned eax, ebx, ecx, edx;

	__cpuid_count(0xd, 0, eax, ebx, ecx, edx);
	__asm__ volatile("vmovdqu %0, %%ymm0" : : "m"(ymm) : "xmm0");
	__asm__ volatile("xsave64 %0" : "=m"(t->xsave) : "a"(-1), "d"(-1) : "memory");
	memset(th, 0, sizeof(th));
	for (int i = 0; i < 2; i++) {
		th[i].xsave_len = ebx;
		th[i].xsave_off = tiny_put(t, t->xsave, ebx);
		th[i].regs.cs = 0x33;
		th[i].regs.ss = 0x2b;
		th[i].regs.eflags = 0x246;
		th[i].regs.rbx = T_DATA;
		th[i].regs.rsp = T_STACK_END - 512;
		th[i].regs.orig_rax = (uint64_t)-1;
		th[i].altstack_flags = 2;	/* SS_DISABLE */
	}
	th[0].tid = getpid();
	th[0].regs.rip = T_CODE + 2;
	th[0].regs.rax = (uint64_t)-514;
	th[0].regs.orig_rax = SYS_getpid;
	th[0].regs.r15 = (uint64_t)getpid();
	th[0].regs.r14 = th[0].sigmask = 1ULL << (SIGUSR2 - 1) | 1ULL << (SIGHUP - 1);
	th[0].regs.r13 = T_YMM_HIGH;
	th[0].regs.r12 = T_DATA_WORD;
	strcpy(th[0].comm, "tiny-main");
	th[1].tid = tid2;
	th[1].regs.rip = T_CODE + (uint64_t)(tiny_thread - tiny_main);
	th[1].regs.fs_base = th[1].regs.r12 = T_FS;
	th[1].sigmask = ~0ULL;
	a->threads_off = tiny_put(t, th, sizeof(th));
	a->nr_threads = 2;
}

/* The child: build the arguments for itself and jump into the blob. */
static void tiny_engine(int status_fd, pid_t tid2, bool corrupt)
{
	size_t blen = (size_t)(_binary_restorer_bin_end - _binary_restorer_bin_start);
	unsigned long blob_len = (blen + T_PG - 1) & ~(T_PG - 1), args_len = 1 << 20;
	static struct tiny t;
	struct restore_posix_timer timers[2] = {	/* ids with gaps */
		{ .id = 3, .clock_id = CLOCK_MONOTONIC, .notify = SIGEV_NONE, .value_ns = 100000000000ULL },
		{ .id = 9, .clock_id = CLOCK_REALTIME, .notify = SIGEV_SIGNAL, .signo = SIGUSR2,
		  .interval_ns = 1000000000ULL, .value_ns = 200000000000ULL },
	};
	sigset_t all;
	char *reg = mmap((void *)T_REGION, blob_len + args_len, PROT_READ | PROT_WRITE | PROT_EXEC,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (reg == MAP_FAILED)
		_exit(91);
	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlive the test */
	memcpy(reg, _binary_restorer_bin_start, blen);
	t.a = (struct restore_args *)(reg + blob_len);
	t.used = sizeof(*t.a);
	*t.a = (struct restore_args){
		.magic = RESTORE_ARGS_MAGIC, .version = RESTORE_ARGS_VERSION,
		.header_size = sizeof(*t.a), .args_len = args_len, .pid = getpid(),
		.blob_start = (uint64_t)reg, .blob_len = blob_len, .status_fd = status_fd,
	};
	if (__rseq_size) {
		t.a->self_rseq_ptr = (uint64_t)__builtin_thread_pointer() + (uint64_t)__rseq_offset;
		t.a->self_rseq_len = __rseq_size < 32 ? 32 : __rseq_size;
		t.a->self_rseq_sig = RSEQ_SIG;
	}
	tiny_vdso(&t.a->vdso);
	tiny_memory(&t, corrupt);
	tiny_creds(&t);
	tiny_threads(&t, tid2);
	t.a->sigactions[SIGUSR1 - 1].handler = 1;	/* SIG_IGN */
	t.a->timers_off = tiny_put(&t, timers, sizeof(timers));
	t.a->nr_timers = 2;
	t.used = (t.used + T_PG - 1) & ~(T_PG - 1);
	t.a->vdso.park_off = t.used;
	t.a->vdso.park_len = 64 << 10;
	t.a->stacks_off = t.used + t.a->vdso.park_len;
	if (t.a->stacks_off + restore_stacks_len(2) > args_len)
		_exit(92);
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	((void (*)(struct restore_args *))reg)(t.a);
	_exit(93);
}

/* Run the tiny restore; returns the child's wait status, the report in *st. */
static int tiny_restore(bool corrupt, struct restore_status *st)
{
	pid_t tid2 = 0, pid;
	int sv[2], ws = 0;

	for (pid_t p = 20000 + getpid() % 7000; p < 32000 && !tid2; p++)
		if (kill(p, 0) < 0 && errno == ESRCH)
			tid2 = p;
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		tiny_engine(fcntl(sv[1], F_DUPFD_CLOEXEC, 100), tid2, corrupt);
	}
	close(sv[1]);
	cr_assert_eq(read(sv[0], st, sizeof(*st)), (ssize_t)sizeof(*st));
	if (st->step == RSTEP_DONE)
		cr_assert_eq(write(sv[0], "G", 1), 1);
	close(sv[0]);
	waitpid(pid, &ws, 0);
	return ws;
}

Test(blob, restores_a_tiny_process, .timeout = 20)
{
	struct restore_status st;
	int ws;

	if (geteuid() != 0)
		cr_skip_test("needs root (clone3 with set_tid)");
	ws = tiny_restore(false, &st);
	cr_assert_eq(st.magic, RESTORE_STATUS_MAGIC);
	cr_assert_eq(st.step, RSTEP_DONE, "failed: step %u err %d: %s", st.step, st.err, st.msg);
	cr_assert_eq(st.region_start, T_REGION);
	cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 42,
		  "restored process: status 0x%x (exit 1-5: main thread check failed, 52: thread's)", ws);
}

Test(blob, reports_a_checksum_mismatch_and_exits, .timeout = 20)
{
	struct restore_status st;
	int ws;

	if (geteuid() != 0)
		cr_skip_test("needs root (clone3 with set_tid)");
	ws = tiny_restore(true, &st);
	cr_assert_eq(st.step, RSTEP_PAGES);
	cr_assert_eq(st.err, -EBADMSG);
	cr_assert_eq(st.addr, T_DATA);
	cr_assert(strstr(st.msg, "checksum mismatch"), "%s", st.msg);
	cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == RESTORE_EXIT_FAILED, "status 0x%x", ws);
}
