/* Run system calls inside a stopped thread of the target.
 *
 * Why this way: the target's code is never written. A `syscall`
 * instruction (0f 05) already present in one of its executable mappings is
 * used as is: point rip at it, load the number and arguments, step through
 * syscall entry and exit with PTRACE_SYSCALL, read rax, put the registers
 * back. Signals are all blocked (PTRACE_SETSIGMASK) while the call runs, so
 * no handler can run in the middle; the mask is restored afterwards.
 *
 * Threads caught inside an interruptible syscall hold orig_rax = nr and
 * rax = -ERESTART*. Their registers go back raw, exactly as caught: the
 * kernel itself turns them into a restart (or into -EINTR for a handler
 * that runs first) on the way out of the last stop, because PTRACE_DETACH
 * kicks the thread with TIF_SIGPENDING (__ptrace_unlink ->
 * ptrace_signal_wake_up), so even a resume from the syscall-exit stop an
 * injection ends in goes through arch_do_signal_or_restart(). Putting back
 * the restarted form instead (what inject_restart_fixup() makes, which
 * restore needs for rt_sigreturn) would take that choice away: a signal
 * sent during the dump would run its handler and then restart pause(),
 * where the program expects EINTR.
 *
 * The restore uses the same layer to unmap the blob's region once every
 * thread left it (restore-unmap.c): there the `syscall` instruction must
 * lie outside the region being unmapped, hence inject_find_syscall()'s
 * range to avoid. */
#include "daemon/inject.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/pstree.h"
#include "daemon/ptrace.h"
#include "daemon/vma.h"

#define ERESTARTSYS		512
#define ERESTARTNOINTR		513
#define ERESTARTNOHAND		514
#define ERESTART_RESTARTBLOCK	516

#define SCAN_CHUNK	(64u << 10)
#define MAX_TRAPS	64	/* stop signals let through on the way to a syscall stop */

void inject_restart_fixup(struct user_regs_struct *r)
{
	if ((long)r->orig_rax < 0)
		return;
	switch ((long)r->rax) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
		r->rax = r->orig_rax;
		break;
	case -ERESTART_RESTARTBLOCK:
		r->rax = __NR_restart_syscall;
		break;
	default:
		return;
	}
	r->rip -= 2;
	r->orig_rax = -1;
}

static int vm_read(pid_t pid, unsigned long addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)addr, len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return negerrno();
	return (size_t)n == len ? 0 : -EFAULT;
}

/* The address of the first 0f 05 in [start, end), or 0. */
static unsigned long scan_range(pid_t pid, unsigned long start, unsigned long end)
{
	_cleanup_free_ unsigned char *buf = malloc(SCAN_CHUNK);
	unsigned char prev = 0;

	if (!buf)
		return 0;
	for (unsigned long a = start; a < end; a += SCAN_CHUNK) {
		size_t len = MIN(SCAN_CHUNK, end - a);

		if (vm_read(pid, a, buf, len) < 0)
			return 0;
		if (prev == 0x0f && buf[0] == 0x05)
			return a - 1;
		for (size_t i = 0; i + 1 < len; i++)
			if (buf[i] == 0x0f && buf[i + 1] == 0x05)
				return a + i;
		prev = buf[len - 1];
	}
	return 0;
}

int inject_find_syscall(pid_t pid, unsigned long avoid_start, unsigned long avoid_end,
			unsigned long *ret_ip)
{
	_cleanup_fclose_ FILE *f = NULL;
	char path[64], line[PATH_MAX + 256];	/* a name is at most PATH_MAX */

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : negerrno();
	while (fgets(line, sizeof(line), f)) {
		struct vma v;
		unsigned long ip;
		bool skip;

		if (vma_parse_maps_line(line, &v) < 0)
			return -EBADMSG;
		skip = !(v.prot & PROT_READ) || !(v.prot & PROT_EXEC) ||
		       !strcmp(v.name, "[vsyscall]") || (v.start < avoid_end && v.end > avoid_start);
		free(v.name);
		if (skip)
			continue;
		ip = scan_range(pid, v.start, v.end);
		if (ip) {
			*ret_ip = ip;
			return 0;
		}
	}
	return -ENOEXEC;
}

/* Resume until the next syscall stop; a stop signal on the way is let
 * through (it becomes a group stop, kept by the kernel for the detach). */
static int run_to_syscall_stop(pid_t tid)
{
	int sig = 0;

	for (int i = 0; i < MAX_TRAPS; i++) {
		int r = ptrace_to_syscall(tid, sig, &sig);

		if (r != 0)
			return r < 0 ? r : 0;
		if (!ptrace_stop_signal(sig))
			return -EIO;	/* a forced signal: something is badly wrong */
	}
	return -EIO;
}

int inject_syscall(struct task *t, struct thread *th, long nr,
		   const unsigned long args[6], long *ret)
{
	struct user_regs_struct regs = th->regs;
	uint64_t mask, all = ~0ull;
	int r;

	if (!t->syscall_ip || !th->seized)
		return -EINVAL;
	if (ptrace(PTRACE_GETSIGMASK, th->tid, sizeof(mask), &mask) < 0)
		return negerrno();
	regs.rip = t->syscall_ip;
	regs.rax = nr;
	regs.orig_rax = -1;
	regs.rdi = args[0];
	regs.rsi = args[1];
	regs.rdx = args[2];
	regs.r10 = args[3];
	regs.r8 = args[4];
	regs.r9 = args[5];
	if (ptrace(PTRACE_SETREGS, th->tid, NULL, &regs) < 0)
		return negerrno();
	if (ptrace(PTRACE_SETSIGMASK, th->tid, sizeof(all), &all) < 0) {
		r = negerrno();
		goto out_restore;
	}
	r = run_to_syscall_stop(th->tid);		/* entry */
	if (r == 0)
		r = run_to_syscall_stop(th->tid);	/* exit */
	if (r == 0 && ptrace(PTRACE_GETREGS, th->tid, NULL, &regs) < 0)
		r = negerrno();
	if (r == 0)
		*ret = (long)regs.rax;
out_restore:
	regs = th->regs;	/* raw: see the top of this file */
	if (ptrace(PTRACE_SETREGS, th->tid, NULL, &regs) < 0 && r == 0)
		r = negerrno();
	if (ptrace(PTRACE_SETSIGMASK, th->tid, sizeof(mask), &mask) < 0 && r == 0)
		r = negerrno();
	return r;
}

static struct thread *first_seized(struct task *t)
{
	for (unsigned i = 0; i < t->nr_threads; i++)
		if (t->threads[i].seized)
			return &t->threads[i];
	return NULL;
}

int inject_prepare(struct task *t)
{
	struct thread *th = first_seized(t);
	long page = sysconf(_SC_PAGESIZE), ret;
	unsigned long args[6];
	int r;

	if (!th)
		return -EINVAL;
	if (!t->syscall_ip) {
		r = inject_find_syscall(t->pid, 0, 0, &t->syscall_ip);
		if (r < 0)
			return r;
	}
	/* MAP_SHARED: a shmem VMA never merges with a neighbour, so unmapping
	 * it leaves the maps exactly as they were */
	args[0] = 0;
	args[1] = page;
	args[2] = PROT_READ | PROT_WRITE;
	args[3] = MAP_SHARED | MAP_ANONYMOUS;
	args[4] = (unsigned long)-1;
	args[5] = 0;
	r = inject_syscall(t, th, __NR_mmap, args, &ret);
	if (r < 0)
		return r;
	if (ret < 0 && ret > -4096)
		return (int)ret;
	t->scratch = ret;
	t->scratch_len = page;
	return 0;
}

int inject_finish(struct task *t)
{
	struct thread *th = first_seized(t);
	unsigned long args[6] = { t->scratch, t->scratch_len };
	long ret;
	int r;

	if (!t->scratch)
		return 0;
	if (!th)
		return -EINVAL;
	r = inject_syscall(t, th, __NR_munmap, args, &ret);
	if (r < 0)
		return r;
	if (ret < 0)
		return (int)ret;
	t->scratch = 0;
	t->scratch_len = 0;
	return 0;
}

static int scratch_iov(struct task *t, size_t off, void *buf, size_t len, bool write)
{
	struct iovec local = { buf, len }, remote = { (void *)(t->scratch + off), len };
	ssize_t n;

	if (!t->scratch || off > t->scratch_len || len > t->scratch_len - off)
		return -EINVAL;
	if (write)
		n = process_vm_writev(t->pid, &local, 1, &remote, 1, 0);
	else
		n = process_vm_readv(t->pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return negerrno();
	return (size_t)n == len ? 0 : -EFAULT;
}

int inject_read(struct task *t, size_t off, void *buf, size_t len)
{
	return scratch_iov(t, off, buf, len, false);
}

int inject_write(struct task *t, size_t off, const void *buf, size_t len)
{
	return scratch_iov(t, off, (void *)buf, len, true);
}
