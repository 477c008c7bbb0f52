/* The one interface between the restore engine (daemon/restore*.c) and the
 * restorer blob: a plain, versioned argument area for ONE process.
 *
 * The engine, running inside the new process (already created with its
 * saved pid, files, cwd and rlimits restored), maps one region in a hole
 * that no saved VMA touches:
 *
 *	region_start                                             region_end
 *	| blob (restorer.bin, page-rounded) | args area (args_len bytes)   |
 *	                                     ^ struct restore_args, then its
 *	                                       arrays, the vdso park, stacks
 *
 * copies the blob there, fills the args area, blocks every signal and
 * calls offset 0 of the blob as `void entry(struct restore_args *args)`
 * (rdi = args; any stack: the blob moves to its own at once). The blob
 * never returns. Its steps, failure protocol and the engine's last duty
 * (unmapping the region after the threads left it) are described in
 * Documentation/restorer.md.
 *
 * Rules for every field:
 * - "_off" fields are byte offsets from the start of struct restore_args,
 *   8-byte aligned, and the array they name lies inside args_len.
 * - Addresses are absolute addresses in the restored process.
 * - Nothing here changes meaning without RESTORE_ARGS_VERSION changing;
 *   new fields are only appended (header_size tells which are present).
 *
 * This header is shared by the freestanding blob and the hosted engine, so
 * it includes <linux/types.h> only.
 */
#ifndef CKPT_RESTORER_H
#define CKPT_RESTORER_H

#include <linux/types.h>

#define RESTORE_ARGS_MAGIC	0x5254535254504b43ULL	/* "CKPTRSTR" */
#define RESTORE_ARGS_VERSION	6u

#define RESTORE_PAGE_SIZE	4096u

/* Each thread (the main thread included) gets this much of the args area
 * as the blob's stack; its rt_sigframe with the 64-byte aligned xsave copy
 * is built at the top of the same stack. */
#define RESTORE_THREAD_STACK_SIZE	(64u << 10)
#define RESTORE_XSAVE_MAX		(16u << 10)	/* refused above */

#define RESTORE_MAX_THREADS	4096u
#define RESTORE_MAX_GROUPS	65536u
#define RESTORE_NSIG		64u

/* Exit codes of a process whose restore failed (after the status report). */
#define RESTORE_EXIT_FAILED	113	/* a step failed, see the status report */
#define RESTORE_EXIT_ABORTED	114	/* the engine said no (or went away) */

/* A half-open range [start, end); start == end == 0 when absent. */
struct restore_range {
	__u64 start;
	__u64 end;
};

/* ---- the address space ---------------------------------------------- */

/* Same numbers as proto/mm.proto's vma_kind. The vdso/vvar/vsyscall
 * kinds never appear in vmas[]: they travel in struct restore_vdso. */
enum restore_vma_kind {
	RVMA_ANON_PRIVATE = 1,	/* fd = -1; filled from page entries */
	RVMA_ANON_SHARED = 2,	/* fd = the shared object (memfd/shmem), MAP_SHARED */
	RVMA_FILE_PRIVATE = 3,	/* fd = the file (or its ghost); pages laid over it */
	RVMA_FILE_SHARED = 4,	/* fd = the file, opened O_RDWR if prot has WRITE or
				 * the view may become writable (VmFlags "mw") */
	RVMA_STACK = 5,		/* like ANON_PRIVATE; flags usually has MAP_GROWSDOWN */
	RVMA_HEAP = 6,		/* like ANON_PRIVATE */
};

struct restore_vma {
	__u64 start;		/* page aligned */
	__u64 end;		/* page aligned, > start */
	__u64 pgoff;		/* file VMAs: bytes into the file (page aligned) */
	__u64 madv;		/* bits (1ULL << MADV_*) re-applied with madvise() */
	__u32 prot;		/* final PROT_* */
	__u32 flags;		/* MAP_* as dumped: MAP_PRIVATE or MAP_SHARED, plus
				 * MAP_GROWSDOWN / MAP_NORESERVE; MAP_LOCKED: mlock()
				 * once filled; anon private only: MAP_DROPPABLE
				 * (0x08, mapped so instead of MAP_PRIVATE), and
				 * MAP_HUGETLB with the page size in the MAP_HUGE_SHIFT
				 * bits; other bits ignored */
	__u32 kind;		/* enum restore_vma_kind */
	__s32 fd;		/* opened by the engine in this process; -1 for anon
				 * private/stack/heap. The same fd may serve many
				 * VMAs; list it once in close_fds. */
	__u64 premap;		/* anon private: where a filled copy of it lies
				 * (shared copy-on-write with the parent or the
				 * children, daemon/restore-cow.c), outside every
				 * VMA; kept by the unmap, moved into place, no page
				 * entry for it. 0: map it afresh */
};

/* One block of page data. Entries are sorted by vaddr, do not overlap, and
 * each lies inside ONE private VMA (anon private, stack, heap, file
 * private): shared objects are filled by the engine through their fd
 * before the jump, because several processes share them. In-parent pages
 * are resolved by the engine to the parent set's file, offset and hash. */
#define RPAGE_DATA	1u	/* read nr_pages pages from fd at off, check xxh3 */
#define RPAGE_ZERO	2u	/* the pages read as zeros (written only over file
				 * private VMAs; anon ones are zero already) */

struct restore_page {
	__u64 vaddr;		/* page aligned */
	__u32 nr_pages;		/* 1..PAGES_MAX_BLOCK_PAGES (512) */
	__u32 flags;		/* RPAGE_DATA or RPAGE_ZERO */
	__u64 off;		/* RPAGE_DATA: byte offset in fd (page aligned) */
	__u64 xxh3;		/* RPAGE_DATA: XXH3-64, seed 0, of the block's bytes */
	__s32 fd;		/* RPAGE_DATA: pages-N.img of this set or a parent */
	__u32 pad;
};

/* The kernel's special mappings. Index with RVDSO_*. img[] is where the
 * image had them (0/0: absent there), cur[] where this kernel mapped them
 * in this process now (0/0: absent). The blob moves cur[i] to img[i] with
 * mremap, going through the park range (which no image VMA touches) so the
 * moves never collide. It refuses when an area's sizes differ, when the
 * image had an area this kernel lacks or lacks one this kernel's vdso
 * needs, and when the areas sit differently relative to [vdso]. Only an
 * image without any vdso (vdso=0) gets this kernel's areas unmapped. */
enum {
	RVDSO_VVAR = 0,		/* [vvar] */
	RVDSO_VVAR_VCLOCK = 1,	/* [vvar_vclock] (6.13+ layout) */
	RVDSO_VDSO = 2,		/* [vdso] */
	RVDSO_NR = 3,
};

struct restore_vdso {
	struct restore_range img[RVDSO_NR];
	struct restore_range cur[RVDSO_NR];
	__u64 park_off;		/* args offset of a page-aligned scratch range */
	__u64 park_len;		/* >= the sum of the cur[] sizes */
};

/* Fields of PR_SET_MM_MAP (struct prctl_mm_map in <linux/prctl.h>). */
struct restore_mm {
	__u64 start_code, end_code;
	__u64 start_data, end_data;
	__u64 start_brk, brk;
	__u64 start_stack;
	__u64 arg_start, arg_end;
	__u64 env_start, env_end;
	__u64 auxv_off;		/* args offset of the saved auxv (__u64 pairs) */
	__u32 auxv_size;	/* in bytes, with the AT_NULL pair; 0 = none */
	__s32 exe_fd;		/* the executable opened by the engine, or -1 */
};

/* ---- signals and timers ---------------------------------------------- */

/* The kernel's x86-64 rt_sigaction layout, as dumped (the restorer
 * address is the process's own, e.g. glibc's __restore_rt). */
struct restore_sigaction {
	__u64 handler;		/* 0 = SIG_DFL, 1 = SIG_IGN, else an address */
	__u64 flags;		/* SA_* (SA_RESTORER kept as dumped) */
	__u64 restorer;
	__u64 mask;
};

struct restore_itimer {
	__u64 interval_us;
	__u64 value_us;		/* time left; 0 = disarmed */
};

struct restore_posix_timer {
	__s32 id;		/* the timer_t the process knows */
	__s32 clock_id;
	__s32 notify;		/* sigev_notify (SIGEV_SIGNAL, SIGEV_NONE,
				 * SIGEV_THREAD_ID, ...) */
	__s32 signo;
	__u64 sival;
	__s32 notify_tid;	/* SIGEV_THREAD_ID: the target thread */
	__u32 pad;
	__u64 interval_ns;
	__u64 value_ns;		/* time left; 0 = disarmed */
};

/* A pending signal as PTRACE_PEEKSIGINFO gave it: raw siginfo_t. */
struct restore_siginfo {
	__u8 raw[128];
};

/* ---- threads ---------------------------------------------------------- */

/* struct user_regs_struct, field for field (proto/core.proto x86_regs).
 * Raw as dumped: the blob applies the syscall restart fix-up itself
 * (-ERESTART* in rax with orig_rax >= 0). */
struct restore_regs {
	__u64 r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	__u64 rax, rcx, rdx, rsi, rdi, orig_rax;
	__u64 rip, cs, eflags, rsp, ss;
	__u64 fs_base, gs_base;
	__u64 ds, es, fs, gs;
};

/* ---- credentials (applied last, by every thread for itself) ----------- */

struct restore_creds {
	__u32 uid, euid, suid, fsuid;
	__u32 gid, egid, sgid, fsgid;
	__u64 cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	__u32 secbits;
	__u32 nr_groups;	/* <= RESTORE_MAX_GROUPS */
	__u64 groups_off;	/* args offset of nr_groups __u32 gids */
	__u32 no_new_privs;	/* 1: PR_SET_NO_NEW_PRIVS at the end */
	__s32 dumpable;		/* PR_SET_DUMPABLE (0 or 1) after the creds; -1 = keep;
				 * 2 (SUID_DUMP_ROOT) cannot be set and is kept too */
};

struct restore_thread {
	__s32 tid;		/* threads[0] is the main thread: tid == pid */
	__u32 xsave_len;	/* bytes of NT_X86_XSTATE (<= RESTORE_XSAVE_MAX) */
	__u64 xsave_off;	/* args offset of the xsave bytes (standard format) */
	struct restore_regs regs;	/* fs_base/gs_base set with arch_prctl */
	__u64 sigmask;		/* blocked signals, bit (sig - 1) */
	__u64 altstack_sp;	/* sigaltstack; altstack_flags = SS_DISABLE (2) */
	__u64 altstack_size;	/*   when the thread had none */
	__u32 altstack_flags;
	__u32 rseq_len;		/* rseq: 0 = not registered */
	__u64 rseq_ptr;
	__u32 rseq_sig;
	__u32 nr_pending;	/* thread-directed pending signals */
	__u64 pending_off;	/* args offset of nr_pending struct restore_siginfo */
	__u64 clear_child_tid;	/* set_tid_address(); 0 = none */
	__u64 robust_list;	/* set_robust_list(); 0 = none */
	__u64 robust_list_len;
	char comm[16];		/* PR_SET_NAME; empty = keep */
	__s32 pdeathsig;	/* PR_SET_PDEATHSIG after the creds; 0 = none */
	__u32 nr_seccomp;	/* seccomp filters, <= RESTORE_MAX_SECCOMP */
	__u64 seccomp_off;	/* args offset of nr_seccomp struct restore_seccomp,
				 * oldest first: installed in that order as the
				 * thread's very last step before rt_sigreturn */
	__u32 own_creds;	/* 1: this thread's credentials are creds below
				 * (set with raw syscalls, they differ from the
				 * process's); 0: args->creds */
	__u32 pad_creds;
	struct restore_creds creds;	/* dumpable unused here */
};

/* One seccomp filter of a thread (proto/core.proto seccomp_filter_entry).
 * Threads that shared a filter at dump point at the same instructions. */
#define RESTORE_MAX_SECCOMP		1024u
#define RESTORE_MAX_SECCOMP_INSNS	4096u	/* BPF_MAXINSNS */

struct restore_seccomp {
	__u32 flags;		/* SECCOMP_FILTER_FLAG_* (LOG) for seccomp() */
	__u32 nr_insns;		/* 1..RESTORE_MAX_SECCOMP_INSNS */
	__u64 insns_off;	/* args offset of nr_insns struct sock_filter (8 bytes) */
};

/* ---- pidfds of the process's own threads ----------------------------- */

/* A pidfd of one of this process's threads other than the main one: the
 * thread exists only once the blob made it, so the engine left a stand-in
 * at fd. Once every thread is made, the blob opens pidfd_open(tid, flags)
 * and dup3()s it over the stand-in. Entries of fds sharing one description
 * follow the first one's, whose fd they name in same_as. */
struct restore_pidfd {
	__s32 fd;		/* where it goes */
	__s32 tid;		/* a tid of threads[1..] */
	__u32 flags;		/* for pidfd_open: PIDFD_THREAD, O_NONBLOCK */
	__u32 cloexec;		/* 1: O_CLOEXEC on fd */
	__s32 same_as;		/* -1: open one; else the fd of an earlier entry
				 * whose description fd shares */
	__u32 pad;
};

/* ---- reporting -------------------------------------------------------- */

enum restore_step {
	RSTEP_ARGS = 1,		/* the argument area itself is inconsistent */
	RSTEP_UNMAP,		/* removing the engine's mappings */
	RSTEP_VDSO,
	RSTEP_VMAS,
	RSTEP_PAGES,
	RSTEP_PROTECT,		/* final mprotect/madvise */
	RSTEP_MM,		/* PR_SET_MM_MAP */
	RSTEP_SIGNALS,		/* sigactions, pending signals */
	RSTEP_TIMERS,
	RSTEP_THREADS,		/* clone3 and per-thread state */
	RSTEP_CREDS,
	RSTEP_FRAME,		/* rt_sigframe building */
	RSTEP_DONE,		/* success: every thread waits at the last barrier */
	RSTEP_LAZY,		/* userfaultfd of the lazy VMAs (restore --lazy) */
	RSTEP_PIDFDS,		/* pidfds of the process's own threads */
};

#define RESTORE_STATUS_MAGIC	0x54415453u	/* "STAT" */

/* One message of exactly this size is written (one write()) to status_fd
 * once: err == 0 and step == RSTEP_DONE on success, else the failure. */
struct restore_status {
	__u32 magic;		/* RESTORE_STATUS_MAGIC */
	__u32 step;		/* enum restore_step reached or failed in */
	__s32 pid;
	__s32 tid;		/* the thread that failed (or pid) */
	__s32 err;		/* 0 or -errno of the failed call */
	__u32 pad;
	__u64 addr;		/* the address involved, 0 if none */
	__u64 region_start;	/* the blob + args region, for the engine to */
	__u64 region_end;	/*   unmap once the threads left it */
	char msg[208];		/* "mmap 0x..-0x.. (file private, fd 12)", NUL-ended */
};

/* The engine answers a success report with one byte on status_fd:
 * RESTORE_GO lets every thread resume; anything else, or EOF, makes the
 * process exit with RESTORE_EXIT_ABORTED. */
#define RESTORE_GO	'G'

/* Words the blob's threads share (the engine zeroes them). */
struct restore_sync {
	__u32 threads_ready;	/* futex: threads done with their own state */
	__u32 go;		/* futex: 1 = resume, 2 = give up */
	__u32 failed;		/* a thread failed; its report is in failure */
	__u32 pad;
	struct restore_status failure;
};

/* ---- the argument area ------------------------------------------------- */

#define RARGS_NO_GO_WAIT	1u	/* don't wait for RESTORE_GO (tests only) */

struct restore_args {
	__u64 magic;		/* RESTORE_ARGS_MAGIC */
	__u32 version;		/* RESTORE_ARGS_VERSION */
	__u32 header_size;	/* sizeof(struct restore_args) as the engine built it */
	__u64 args_len;		/* bytes of the whole args area, arrays included */
	__u32 flags;		/* RARGS_* */
	__s32 pid;		/* this process */

	__u64 blob_start;	/* where the blob was copied (page aligned) */
	__u64 blob_len;		/* page-rounded */
	__u64 task_size;	/* top of user space; 0 = 47-bit (0x7ffffffff000) */

	/* The engine's own rseq registration (glibc's, inherited by fork):
	 * unregistered first, before its memory goes. rseq_ptr 0 = none. */
	__u64 self_rseq_ptr;
	__u32 self_rseq_len;
	__u32 self_rseq_sig;

	__s32 status_fd;	/* one end of a socketpair to the engine */
	__u32 nr_close_fds;	/* helper fds closed once the address space is built */
	__u64 close_fds_off;	/* args offset of nr_close_fds __s32 (vma, pages, exe fds) */

	struct restore_vdso vdso;

	__u64 vmas_off;		/* nr_vmas struct restore_vma, sorted, not overlapping */
	__u32 nr_vmas;
	__u32 nr_pages;
	__u64 pages_off;	/* nr_pages struct restore_page, sorted by vaddr */

	struct restore_mm mm;

	struct restore_sigaction sigactions[RESTORE_NSIG];	/* [sig - 1] */
	struct restore_itimer itimers[3];	/* ITIMER_REAL, _VIRTUAL, _PROF */
	__u64 timers_off;	/* nr_timers struct restore_posix_timer */
	__u32 nr_timers;
	__u32 nr_shared_pending;	/* process-wide pending signals */
	__u64 shared_pending_off;	/* struct restore_siginfo each */
	__u64 timerslack_ns;	/* PR_SET_TIMERSLACK per thread; 0 = keep */

	struct restore_creds creds;

	__u64 threads_off;	/* nr_threads struct restore_thread; [0] = main */
	__u32 nr_threads;	/* 1..RESTORE_MAX_THREADS */
	__u32 pad;
	__u64 stacks_off;	/* 16-aligned; thread i's stack is
				 * [stacks_off + i * RESTORE_THREAD_STACK_SIZE, + SIZE) */

	struct restore_sync sync;

	/* Guard regions (MADV_GUARD_INSTALL), installed once their VMA is
	 * filled: nr_guards struct restore_range, sorted, each inside one VMA. */
	__u64 guards_off;
	__u32 nr_guards;
	__u32 pad_guards;

	/* Lazy restore (ckptctl restore --lazy): nr_lazy struct restore_range,
	 * sorted, each one whole anonymous private VMA. Their page entries
	 * are not read: the blob maps them empty, registers them with a new
	 * userfaultfd (missing mode, fork/remap/remove/unmap events) and
	 * sends it, with a struct restore_lazy_hello, over lazy_fd (SCM_RIGHTS)
	 * to ckptd's lazy server before anything can touch them; then it
	 * closes both. nr_lazy 0: lazy_fd is -1 and nothing of this happens. */
	__u64 lazy_off;
	__u32 nr_lazy;
	__s32 lazy_fd;

	/* Progress: the address of a __u64 in a MAP_SHARED page the engine
	 * reads. The blob keeps that page through blob_unmap_others, adds the
	 * pages of each data block it has read (atomically: every process of
	 * the restore shares it), and unmaps the page once the VMAs are
	 * filled. No saved VMA may touch the page; 0 = no counter. */
	__u64 pages_done_addr;

	/* nr_pidfds struct restore_pidfd, made once every thread exists,
	 * before anything targets the threads (timers) */
	__u64 pidfds_off;
	__u32 nr_pidfds;
	__u32 pad_pidfds;
};

#define RESTORE_LAZY_MAGIC	0x595a414cu	/* "LAZY" */

/* The one message a blob sends on lazy_fd, its uffd attached. */
struct restore_lazy_hello {
	__u32 magic;		/* RESTORE_LAZY_MAGIC */
	__s32 pid;		/* the process whose memory the uffd serves */
	__u32 nr_lazy;		/* ranges registered */
	__u32 pad;
};

/* Bytes the engine must reserve in the args area for the stacks. */
static inline __u64 restore_stacks_len(__u32 nr_threads)
{
	return (__u64)nr_threads * RESTORE_THREAD_STACK_SIZE;
}

#endif
