/* Raw x86-64 system calls for the blob, nolibc style: a macro per arity,
 * then one sys_*() per call the blob makes, each returning the kernel's
 * raw result (>= 0, or -errno). Only the calls the blob uses are here. */
#ifndef RST_SYSCALL_H
#define RST_SYSCALL_H

#include <linux/types.h>
#include <asm/unistd.h>

#define blob_syscall0(nr)						\
({									\
	long _ret;							\
	register long _nr __asm__("rax") = (nr);			\
	__asm__ volatile("syscall"					\
			 : "=a"(_ret)					\
			 : "0"(_nr)					\
			 : "rcx", "r11", "memory", "cc");		\
	_ret;								\
})

#define blob_syscall6(nr, a1, a2, a3, a4, a5, a6)			\
({									\
	long _ret;							\
	register long _nr __asm__("rax") = (nr);			\
	register long _a1 __asm__("rdi") = (long)(a1);			\
	register long _a2 __asm__("rsi") = (long)(a2);			\
	register long _a3 __asm__("rdx") = (long)(a3);			\
	register long _a4 __asm__("r10") = (long)(a4);			\
	register long _a5 __asm__("r8") = (long)(a5);			\
	register long _a6 __asm__("r9") = (long)(a6);			\
	__asm__ volatile("syscall"					\
			 : "=a"(_ret)					\
			 : "0"(_nr), "r"(_a1), "r"(_a2), "r"(_a3),	\
			   "r"(_a4), "r"(_a5), "r"(_a6)			\
			 : "rcx", "r11", "memory", "cc");		\
	_ret;								\
})

#define blob_syscall1(nr, a) blob_syscall6(nr, a, 0, 0, 0, 0, 0)
#define blob_syscall2(nr, a, b) blob_syscall6(nr, a, b, 0, 0, 0, 0)
#define blob_syscall3(nr, a, b, c) blob_syscall6(nr, a, b, c, 0, 0, 0)
#define blob_syscall4(nr, a, b, c, d) blob_syscall6(nr, a, b, c, d, 0, 0)
#define blob_syscall5(nr, a, b, c, d, e) blob_syscall6(nr, a, b, c, d, e, 0)

struct iovec;
struct clone_args;

static inline long sys_read(int fd, void *buf, unsigned long len)
{ return blob_syscall3(__NR_read, fd, buf, len); }
static inline long sys_write(int fd, const void *buf, unsigned long len)
{ return blob_syscall3(__NR_write, fd, buf, len); }
static inline long sys_close(int fd)
{ return blob_syscall1(__NR_close, fd); }
static inline long sys_dup3(int fd, int to, int flags)
{ return blob_syscall3(__NR_dup3, fd, to, flags); }
static inline long sys_pidfd_open(int pid, unsigned flags)
{ return blob_syscall2(__NR_pidfd_open, pid, flags); }
static inline long sys_preadv(int fd, const struct iovec *iov, int cnt, __u64 off)
{ return blob_syscall5(__NR_preadv, fd, iov, cnt, off, 0); }

static inline long sys_mmap(unsigned long addr, unsigned long len, int prot,
			    int flags, int fd, unsigned long off)
{ return blob_syscall6(__NR_mmap, addr, len, prot, flags, fd, off); }
static inline long sys_munmap(unsigned long addr, unsigned long len)
{ return blob_syscall2(__NR_munmap, addr, len); }
static inline long sys_mremap(unsigned long old, unsigned long old_len,
			      unsigned long new_len, int flags, unsigned long new_addr)
{ return blob_syscall5(__NR_mremap, old, old_len, new_len, flags, new_addr); }
static inline long sys_mprotect(unsigned long addr, unsigned long len, int prot)
{ return blob_syscall3(__NR_mprotect, addr, len, prot); }
static inline long sys_madvise(unsigned long addr, unsigned long len, int advice)
{ return blob_syscall3(__NR_madvise, addr, len, advice); }
static inline long sys_mlock(unsigned long addr, unsigned long len)
{ return blob_syscall2(__NR_mlock, addr, len); }

static inline long sys_prctl(int op, unsigned long a2, unsigned long a3,
			     unsigned long a4, unsigned long a5)
{ return blob_syscall5(__NR_prctl, op, a2, a3, a4, a5); }
static inline long sys_arch_prctl(int code, unsigned long addr)
{ return blob_syscall2(__NR_arch_prctl, code, addr); }

static inline long sys_rt_sigaction(int sig, const void *act, void *old, unsigned long setsize)
{ return blob_syscall4(__NR_rt_sigaction, sig, act, old, setsize); }
static inline long sys_rt_sigprocmask(int how, const __u64 *set, __u64 *old, unsigned long setsize)
{ return blob_syscall4(__NR_rt_sigprocmask, how, set, old, setsize); }
static inline long sys_rt_sigtimedwait(const __u64 *set, void *info, const void *ts,
				       unsigned long setsize)
{ return blob_syscall4(__NR_rt_sigtimedwait, set, info, ts, setsize); }
static inline long sys_rt_sigpending(__u64 *set, unsigned long setsize)
{ return blob_syscall2(__NR_rt_sigpending, set, setsize); }
static inline long sys_rt_sigqueueinfo(int tgid, int sig, const void *info)
{ return blob_syscall3(__NR_rt_sigqueueinfo, tgid, sig, info); }
static inline long sys_rt_tgsigqueueinfo(int tgid, int tid, int sig, const void *info)
{ return blob_syscall4(__NR_rt_tgsigqueueinfo, tgid, tid, sig, info); }

static inline long sys_setitimer(int which, const void *val, void *old)
{ return blob_syscall3(__NR_setitimer, which, val, old); }
static inline long sys_timer_create(int clock, void *sev, int *id)
{ return blob_syscall3(__NR_timer_create, clock, sev, id); }
static inline long sys_timer_settime(int id, int flags, const void *val, void *old)
{ return blob_syscall4(__NR_timer_settime, id, flags, val, old); }
static inline long sys_timer_delete(int id)
{ return blob_syscall1(__NR_timer_delete, id); }

static inline long sys_gettid(void)
{ return blob_syscall0(__NR_gettid); }
static inline long sys_exit(int code)
{ return blob_syscall1(__NR_exit, code); }
static inline long sys_exit_group(int code)
{ return blob_syscall1(__NR_exit_group, code); }
static inline long sys_futex(__u32 *uaddr, int op, __u32 val, const void *timeout)
{ return blob_syscall6(__NR_futex, uaddr, op, val, timeout, 0, 0); }
static inline long sys_set_tid_address(__u64 addr)
{ return blob_syscall1(__NR_set_tid_address, addr); }
static inline long sys_set_robust_list(__u64 head, __u64 len)
{ return blob_syscall2(__NR_set_robust_list, head, len); }
static inline long sys_rseq(__u64 ptr, __u32 len, int flags, __u32 sig)
{ return blob_syscall4(__NR_rseq, ptr, len, flags, sig); }

static inline long sys_getgroups(int n, __u32 *list)
{ return blob_syscall2(__NR_getgroups, n, list); }
static inline long sys_setgroups(int n, const __u32 *list)
{ return blob_syscall2(__NR_setgroups, n, list); }
static inline long sys_setresuid(__u32 r, __u32 e, __u32 s)
{ return blob_syscall3(__NR_setresuid, r, e, s); }
static inline long sys_setresgid(__u32 r, __u32 e, __u32 s)
{ return blob_syscall3(__NR_setresgid, r, e, s); }
static inline long sys_setfsuid(__u32 id)
{ return blob_syscall1(__NR_setfsuid, id); }
static inline long sys_setfsgid(__u32 id)
{ return blob_syscall1(__NR_setfsgid, id); }
static inline long sys_capset(void *hdr, const void *data)
{ return blob_syscall2(__NR_capset, hdr, data); }

static inline long sys_userfaultfd(int flags)
{ return blob_syscall1(__NR_userfaultfd, flags); }
static inline long sys_ioctl(int fd, unsigned long req, void *arg)
{ return blob_syscall3(__NR_ioctl, fd, req, arg); }
static inline long sys_sendmsg(int fd, const void *msg, int flags)
{ return blob_syscall3(__NR_sendmsg, fd, msg, flags); }

#endif
