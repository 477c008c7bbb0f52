/* pstree.img for the tree; core-PID.img for each live task.
 *
 * core-PID.img is one task_core_entry (comm, personality, creds,
 * sigactions, rlimits, timers, shared pending signals...) followed by one
 * thread_core_entry per thread, the main thread first. What /proc tells is
 * read from /proc (limits come from /proc/PID/limits: prlimit() on another
 * uid needs CAP_SYS_RESOURCE, which ckptd does not have); the rest is asked
 * of the task itself by injected syscalls, with a scratch page mapped for
 * the results and unmapped again before mem.c reads the maps. */
#include "daemon/core.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include "common/util.h"
#include "daemon/cgroup.h"
#include "daemon/dump.h"
#include "daemon/dump-incr.h"
#include "daemon/dump-io.h"
#include "daemon/files/tty.h"
#include "daemon/inject.h"
#include "daemon/loginuid.h"
#include "daemon/proc.h"
#include "daemon/regs.h"
#include "daemon/sched.h"
#include "daemon/seccomp.h"
#include "daemon/signals.h"
#include "daemon/timers.h"
#include "images/img.h"
#include "core.pb-c.h"
#include "pstree.pb-c.h"

#ifndef MEMBARRIER_CMD_GET_REGISTRATIONS
#define MEMBARRIER_CMD_GET_REGISTRATIONS (1 << 9)	/* Linux 6.3 */
#endif

/* Killed meanwhile? Then whatever failed, that is the story to tell. */
static bool exited(pid_t pid, int r)
{
	struct proc_stat st;

	return r == -ESRCH || proc_read_stat(pid, &st) < 0 || st.state == 'Z' || st.state == 'X';
}

int core_fail(struct dump_ctx *ctx, pid_t pid, int r, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	if (exited(pid, r))
		return ckpt_fail(ctx->err, -ESRCH, "pid %d exited during the dump", pid);
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return ckpt_fail(ctx->err, r, "pid %d: %s", pid, what);
}

int core_inject(struct dump_ctx *ctx, struct task *t, struct thread *th,
		const char *what, long nr, const unsigned long args[6], long *ret)
{
	int r = inject_syscall(t, th, nr, args, ret);

	if (r < 0 && exited(t->pid, r))
		return ckpt_fail(ctx->err, -ESRCH, "pid %d exited during the dump", t->pid);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "thread %d of pid %d: cannot inject %s",
				 th->tid, t->pid, what);
	return 0;
}

/* Write msgs[0..n) into a new image of (kind, id). */
static int write_image(struct dump_ctx *ctx, enum img_kind kind, unsigned id,
		       ProtobufCMessage *const *msgs, size_t n)
{
	struct img *img;
	char name[64];
	int r;

	img_filename(kind, id, name, sizeof(name));
	r = img_create(ctx->dirfd, kind, id, &img);
	if (r < 0)
		return ckpt_fail(ctx->err, r, "cannot create %s", name);
	for (size_t i = 0; i < n; i++) {
		r = img_write_msg(img, msgs[i]);
		if (r < 0) {
			ckpt_fail(ctx->err, r, "%s", img_errmsg(img));
			img_abort(img);
			return r;
		}
	}
	return dump_img_close(ctx, img);
}

int dump_pstree(struct dump_ctx *ctx)
{
	struct pstree *tree = &ctx->tree;
	_cleanup_free_ PstreeEntry *e = calloc(tree->nr_tasks, sizeof(*e));
	_cleanup_free_ ProtobufCMessage **m = calloc(tree->nr_tasks, sizeof(*m));
	_cleanup_free_ int32_t *tids = NULL;
	size_t nr_tids = 0, k = 0;

	if (!e || !m)
		return -ENOMEM;
	for (unsigned i = 0; i < tree->nr_tasks; i++)
		nr_tids += tree->tasks[i]->nr_threads;
	tids = calloc(nr_tids ? nr_tids : 1, sizeof(*tids));
	if (!tids)
		return -ENOMEM;
	for (unsigned i = 0; i < tree->nr_tasks; i++) {
		const struct task *t = tree->tasks[i];

		e[i] = (PstreeEntry)PSTREE_ENTRY__INIT;
		e[i].pid = t->pid;
		e[i].ppid = t->parent ? t->parent->pid : 0;
		e[i].pgid = t->pgid;
		e[i].sid = t->sid;
		e[i].state = (TaskState)t->state;
		e[i].threads = tids + k;
		e[i].n_threads = t->nr_threads;
		for (unsigned j = 0; j < t->nr_threads; j++)
			tids[k++] = t->threads[j].tid;
		if (t->state == TS_ZOMBIE) {
			e[i].has_exit_code = true;
			e[i].exit_code = t->exit_code;
		}
		if (t->state == TS_STOPPED) {
			e[i].has_stop_signal = true;
			e[i].stop_signal = t->stop_signal;
		}
		m[i] = &e[i].base;
	}
	return write_image(ctx, IMG_PSTREE, 0, m, tree->nr_tasks);
}

/* Everything a task_core_entry points at, freed in one place. */
struct task_core {
	TaskCoreEntry e;
	CredsEntry creds;
	struct proc_status status;
	char comm[64];
	SigactionEntry sa[SIGNALS_NR];
	SigactionEntry *sap[SIGNALS_NR];
	RlimitEntry rl[PROC_NR_RLIMITS];
	RlimitEntry *rlp[PROC_NR_RLIMITS];
	ItimerEntry it[TIMERS_NR_ITIMERS];
	ItimerEntry *itp[TIMERS_NR_ITIMERS];
	PosixTimerEntry *pt;
	PosixTimerEntry **ptp;
	struct siginfo_list shared;
	struct seccomp_set seccomp;
	char *cgroup_text;		/* what cgroups points into (cgroup.c) */
	char **cgroups;
};

static void task_core_free(struct task_core *c)
{
	free(c->cgroup_text);
	free(c->cgroups);
	seccomp_set_free(&c->seccomp);
	proc_status_free(&c->status);
	free(c->pt);
	free(c->ptp);
	siginfo_list_free(&c->shared);
}

/* A small /proc file of pid (or one of its threads) with the newline cut. */
static int read_line(pid_t pid, const char *name, char *buf, size_t len)
{
	_cleanup_free_ char *s = NULL;
	char path[96];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	r = read_file_at(AT_FDCWD, path, &s, NULL);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	s[strcspn(s, "\n")] = '\0';
	snprintf(buf, len, "%s", s);
	return 0;
}

/* What differs between two threads' credentials, or NULL. */
static const char *creds_differ(const struct proc_status *a, const struct proc_status *b)
{
	if (memcmp(a->uid, b->uid, sizeof(a->uid)))
		return "uids";
	if (memcmp(a->gid, b->gid, sizeof(a->gid)))
		return "gids";
	if (a->nr_groups != b->nr_groups ||
	    (a->nr_groups && memcmp(a->groups, b->groups, a->nr_groups * sizeof(*a->groups))))
		return "supplementary groups";
	if (a->cap_inh != b->cap_inh || a->cap_prm != b->cap_prm || a->cap_eff != b->cap_eff ||
	    a->cap_bnd != b->cap_bnd || a->cap_amb != b->cap_amb)
		return "capabilities";
	if (a->no_new_privs != b->no_new_privs)
		return "no_new_privs";
	return NULL;
}

/* Thread th's credentials: /proc/TID/status (st) and its securebits. */
static int creds_from_status(struct dump_ctx *ctx, struct task *t, struct thread *th,
			     const struct proc_status *st, CredsEntry *e)
{
	unsigned long args[6] = { PR_GET_SECUREBITS };
	long ret;
	int r;

	*e = (CredsEntry)CREDS_ENTRY__INIT;
	e->uid = st->uid[0];
	e->euid = st->uid[1];
	e->suid = st->uid[2];
	e->fsuid = st->uid[3];
	e->gid = st->gid[0];
	e->egid = st->gid[1];
	e->sgid = st->gid[2];
	e->fsgid = st->gid[3];
	e->groups = st->groups;
	e->n_groups = st->nr_groups;
	e->cap_inh = st->cap_inh;
	e->cap_prm = st->cap_prm;
	e->cap_eff = st->cap_eff;
	e->cap_bnd = st->cap_bnd;
	e->cap_amb = st->cap_amb;
	e->has_no_new_privs = true;
	e->no_new_privs = st->no_new_privs;
	r = core_inject(ctx, t, th, "prctl(PR_GET_SECUREBITS)", __NR_prctl, args, &ret);
	if (r < 0)
		return r;
	if (ret < 0)
		return ckpt_fail(ctx->err, (int)ret, "pid %d: thread %d: prctl(PR_GET_SECUREBITS) "
				 "failed", t->pid, th->tid);
	e->has_securebits = true;
	e->securebits = ret;
	return 0;
}

static int dump_creds(struct dump_ctx *ctx, struct task *t, struct task_core *c)
{
	CredsEntry *e = &c->creds;
	int r;

	r = proc_read_status(t->pid, &c->status);
	if (r < 0)
		return core_fail(ctx, t->pid, r, "cannot parse /proc/%d/status", t->pid);
	return creds_from_status(ctx, t, &t->threads[0], &c->status, e);
}

static int dump_rlimits(struct dump_ctx *ctx, struct task *t, struct task_core *c)
{
	struct proc_rlimit lim[PROC_NR_RLIMITS];
	int r;

	r = proc_read_limits(t->pid, lim);
	if (r < 0)
		return core_fail(ctx, t->pid, r, "cannot parse /proc/%d/limits", t->pid);
	for (int i = 0; i < PROC_NR_RLIMITS; i++) {
		c->rl[i] = (RlimitEntry)RLIMIT_ENTRY__INIT;
		c->rl[i].resource = i;
		c->rl[i].cur = lim[i].cur;
		c->rl[i].max = lim[i].max;
		c->rlp[i] = &c->rl[i];
	}
	c->e.rlimits = c->rlp;
	c->e.n_rlimits = PROC_NR_RLIMITS;
	return 0;
}

static int dump_signals_timers(struct dump_ctx *ctx, struct task *t, struct task_core *c)
{
	size_t n;
	int r;

	r = signals_dump_actions(ctx, t, c->sa);
	if (r < 0)
		return r;
	for (int i = 0; i < SIGNALS_NR; i++)
		c->sap[i] = &c->sa[i];
	c->e.sigactions = c->sap;
	c->e.n_sigactions = SIGNALS_NR;

	r = timers_dump_itimers(ctx, t, c->it);
	if (r < 0)
		return r;
	for (int i = 0; i < TIMERS_NR_ITIMERS; i++)
		c->itp[i] = &c->it[i];
	c->e.itimers = c->itp;
	c->e.n_itimers = TIMERS_NR_ITIMERS;

	r = timers_dump_posix(ctx, t, &c->pt, &n);
	if (r < 0)
		return r;
	if (n) {
		c->ptp = calloc(n, sizeof(*c->ptp));
		if (!c->ptp)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++)
			c->ptp[i] = &c->pt[i];
	}
	c->e.posix_timers = c->ptp;
	c->e.n_posix_timers = n;

	r = signals_dump_pending(ctx, t->pid, true, &c->shared);
	if (r < 0)
		return r;
	c->e.shared_pending = c->shared.p;
	c->e.n_shared_pending = c->shared.n;
	return 0;
}

/* The audit loginuid (daemon/loginuid.c); absent without audit. A
 * restore by this ckptd that could not set it is said now. */
static int dump_loginuid(struct dump_ctx *ctx, struct task *t, struct task_core *c)
{
	uint32_t v;
	int r = loginuid_read(t->pid, &v);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return core_fail(ctx, t->pid, r, "cannot read /proc/%d/loginuid", t->pid);
	c->e.has_loginuid = true;
	c->e.loginuid = v;
	if (!loginuid_restorable(v, ctx->opts->requester_uid, ctx->opts->requester))
		incr_warn(ctx->incr, "pid %d: its loginuid %u will not be restored: ckptd's own "
			  "is set (changing it needs CAP_AUDIT_CONTROL, which ckptd drops)%s; the "
			  "restored process keeps ckptd's", t->pid, v,
			  ctx->opts->requester_uid ? ", or it is not the requester's" : "");
	return 0;
}

static int dump_task_misc(struct dump_ctx *ctx, struct task *t, struct task_core *c)
{
	unsigned long args[6] = { PR_GET_DUMPABLE };
	struct proc_stat st;
	char buf[64];
	long ret;
	int r;

	r = proc_read_stat(t->pid, &st);
	if (r < 0)
		return core_fail(ctx, t->pid, r, "cannot parse /proc/%d/stat", t->pid);
	c->e.has_exit_signal = true;
	c->e.exit_signal = st.exit_signal;
	r = tty_dump_ctty(ctx->err, t->pid, &c->e);
	if (r < 0)
		return r;
	r = read_line(t->pid, "comm", c->comm, sizeof(c->comm));
	if (r < 0)
		return core_fail(ctx, t->pid, r, "cannot read /proc/%d/comm", t->pid);
	c->e.comm = c->comm;
	r = read_line(t->pid, "personality", buf, sizeof(buf));
	if (r == 0)
		r = proc_parse_hex32(buf, &c->e.personality);
	if (r < 0)
		return core_fail(ctx, t->pid, r, "cannot read /proc/%d/personality", t->pid);
	r = core_inject(ctx, t, &t->threads[0], "prctl(PR_GET_DUMPABLE)", __NR_prctl, args, &ret);
	if (r < 0)
		return r;
	if (ret >= 0) {
		c->e.has_dumpable = true;
		c->e.dumpable = ret;
	}
	/* asked of the task: /proc/PID/timerslack_ns would need CAP_SYS_NICE */
	args[0] = PR_GET_TIMERSLACK;
	r = core_inject(ctx, t, &t->threads[0], "prctl(PR_GET_TIMERSLACK)", __NR_prctl, args, &ret);
	if (r < 0)
		return r;
	if (ret >= 0) {
		c->e.has_timerslack_ns = true;
		c->e.timerslack_ns = (unsigned long)ret;
	}
	r = dump_loginuid(ctx, t, c);
	if (r < 0)
		return r;
	r = sched_dump_oom(t->pid, &c->e.oom_score_adj);
	if (r < 0)
		return core_fail(ctx, t->pid, r, "cannot read /proc/%d/oom_score_adj", t->pid);
	c->e.has_oom_score_adj = true;
	return 0;
}

/* prctl(opt, &int) in thread th, the int read back from the scratch page:
 * 0 and *ret_val, or 1 when the kernel refused (nothing to save). */
static int inject_prctl_int(struct dump_ctx *ctx, struct task *t, struct thread *th,
			    int opt, const char *what, int *ret_val)
{
	unsigned long args[6] = { opt, t->scratch };
	long ret;
	int r;

	r = core_inject(ctx, t, th, what, __NR_prctl, args, &ret);
	if (r < 0)
		return r;
	if (ret < 0)
		return 1;
	r = inject_read(t, 0, ret_val, sizeof(*ret_val));
	if (r < 0)
		return core_fail(ctx, t->pid, r, "thread %d: cannot read the result of %s",
				 th->tid, what);
	return 0;
}

/* The process's prctl flags /proc doesn't show (THP_enabled in status is
 * also 0 when THP is compiled out, and loses the flags of newer kernels). */
static int dump_task_prctl(struct dump_ctx *ctx, struct task *t, struct task_core *c)
{
	unsigned long args[6] = { PR_GET_THP_DISABLE };
	int r, v;
	long ret;

	r = core_inject(ctx, t, &t->threads[0], "prctl(PR_GET_THP_DISABLE)", __NR_prctl,
			args, &ret);
	if (r < 0)
		return r;
	if (ret >= 0) {
		c->e.has_thp_disable = true;
		c->e.thp_disable = (uint32_t)ret;
	}
	r = inject_prctl_int(ctx, t, &t->threads[0], PR_GET_CHILD_SUBREAPER,
			     "prctl(PR_GET_CHILD_SUBREAPER)", &v);
	if (r == 0) {
		c->e.has_child_subreaper = true;
		c->e.child_subreaper = v != 0;
	}
	if (r < 0)
		return r;
	/* per mm, asked of the task: fails (EINVAL) before Linux 6.3 */
	args[0] = MEMBARRIER_CMD_GET_REGISTRATIONS;
	r = core_inject(ctx, t, &t->threads[0], "membarrier(MEMBARRIER_CMD_GET_REGISTRATIONS)",
			__NR_membarrier, args, &ret);
	if (r < 0)
		return r;
	if (ret >= 0) {
		c->e.has_membarrier = true;
		c->e.membarrier = (uint32_t)ret;
	}
	return 0;
}

/* Everything a thread_core_entry points at. */
struct thread_core {
	ThreadCoreEntry e;
	X86Regs regs;
	uint8_t *xsave;
	SigaltstackEntry altstack;
	RseqEntry rseq;
	SchedEntry sched;
	struct siginfo_list pending;
	char comm[64];
	uint32_t *seccomp_chain;
	struct proc_status status;	/* threads other than the main one */
	CredsEntry creds;		/* when they differ from the process's */
};

static void thread_core_free(struct thread_core *c)
{
	proc_status_free(&c->status);
	free(c->seccomp_chain);
	free(c->xsave);
	siginfo_list_free(&c->pending);
}

static int dump_thread_ids(struct dump_ctx *ctx, struct task *t, struct thread *th,
			   struct thread_core *c)
{
	struct __ptrace_rseq_configuration rseq;
	unsigned long args[6] = { PR_GET_TID_ADDRESS, t->scratch };
	uint64_t tid_addr, head, len;
	long ret;
	int r;

	r = core_inject(ctx, t, th, "prctl(PR_GET_TID_ADDRESS)", __NR_prctl, args, &ret);
	if (r < 0)
		return r;
	if (ret == 0 && inject_read(t, 0, &tid_addr, sizeof(tid_addr)) == 0) {
		c->e.has_clear_child_tid = true;
		c->e.clear_child_tid = tid_addr;
	}
	if (syscall(SYS_get_robust_list, th->tid, &head, &len) == 0) {
		c->e.has_robust_list = c->e.has_robust_list_len = true;
		c->e.robust_list = head;
		c->e.robust_list_len = len;
	}
	/* fails on kernels without it (kerndat's ptrace_rseq): then none */
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, th->tid, sizeof(rseq), &rseq) > 0 &&
	    rseq.rseq_abi_pointer) {
		c->rseq = (RseqEntry)RSEQ_ENTRY__INIT;
		c->rseq.ptr = rseq.rseq_abi_pointer;
		c->rseq.len = rseq.rseq_abi_size;
		c->rseq.sig = rseq.signature;
		c->e.rseq = &c->rseq;
	}
	return 0;
}

static int dump_thread(struct dump_ctx *ctx, struct task *t, struct thread *th,
		       struct thread_core *c, struct core_result *res)
{
	char name[64];
	uint64_t xcr0;
	size_t len;
	int r;

	c->e = (ThreadCoreEntry)THREAD_CORE_ENTRY__INIT;
	c->e.tid = th->tid;
	regs_to_entry(&th->regs, &c->regs);
	c->e.regs = &c->regs;
	r = regs_dump_xsave(ctx, th->tid, &c->xsave, &len, &xcr0);
	if (r < 0)
		return r;
	res->xfeatures |= xcr0;
	res->xsave_size = MAX(res->xsave_size, (uint32_t)len);
	c->e.xsave.data = c->xsave;
	c->e.xsave.len = len;
	if (ptrace(PTRACE_GETSIGMASK, th->tid, sizeof(c->e.sigmask), &c->e.sigmask) < 0)
		return core_fail(ctx, t->pid, negerrno(), "PTRACE_GETSIGMASK");
	r = signals_dump_pending(ctx, th->tid, false, &c->pending);
	if (r < 0)
		return r;
	c->e.pending = c->pending.p;
	c->e.n_pending = c->pending.n;
	r = signals_dump_altstack(ctx, t, th, &c->altstack);
	if (r < 0)
		return r;
	c->e.sigaltstack = &c->altstack;
	r = dump_thread_ids(ctx, t, th, c);
	if (r < 0)
		return r;
	/* per thread: it fires when the thread that forked this task dies */
	r = inject_prctl_int(ctx, t, th, PR_GET_PDEATHSIG, "prctl(PR_GET_PDEATHSIG)",
			     &c->e.pdeathsig);
	if (r < 0)
		return r;
	c->e.has_pdeathsig = r == 0;
	snprintf(name, sizeof(name), "task/%d/comm", th->tid);
	if (read_line(t->pid, name, c->comm, sizeof(c->comm)) == 0)
		c->e.comm = c->comm;
	r = sched_dump_thread(th->tid, &c->sched);
	if (r == -EOPNOTSUPP)
		return ckpt_fail(ctx->err, r, "pid %d: thread %d runs under SCHED_DEADLINE, "
				 "which can't be saved: switch it to another policy first",
				 t->pid, th->tid);
	if (r < 0)
		return core_fail(ctx, t->pid, r, "thread %d: cannot read its scheduling policy",
				 th->tid);
	c->e.sched = &c->sched;
	return 0;
}

/* Per-thread state of /proc/TID/status: credentials a thread set for
 * itself with raw syscalls (glibc changes all threads together) are kept
 * in its own entry, and its seccomp filters go into the task's set
 * (daemon/seccomp.c). The restorer installs the filters after the
 * credentials: seccomp() needs no_new_privs or CAP_SYS_ADMIN then. */
static int dump_thread_status(struct dump_ctx *ctx, struct task *t, unsigned i,
			      struct task_core *tc, struct thread_core *c)
{
	const struct proc_status *st = &tc->status;
	const CredsEntry *cr = &tc->creds;
	bool can;
	size_t n;
	int r;

	if (i > 0) {
		r = proc_read_status(t->threads[i].tid, &c->status);
		if (r < 0)
			return core_fail(ctx, t->pid, r, "cannot parse /proc/%d/status",
					 t->threads[i].tid);
		st = &c->status;
		if (creds_differ(&tc->status, st)) {
			r = creds_from_status(ctx, t, &t->threads[i], st, &c->creds);
			if (r < 0)
				return r;
			c->e.creds = &c->creds;
			cr = &c->creds;
		}
	}
	can = cr->no_new_privs || (cr->cap_eff & (1ULL << CAP_SYS_ADMIN));
	r = seccomp_dump_thread(ctx, t, t->threads[i].tid, st->seccomp, can, &tc->seccomp,
				&c->seccomp_chain, &n);
	if (r < 0)
		return r;
	if (st->seccomp) {
		c->e.has_seccomp_mode = true;
		c->e.seccomp_mode = st->seccomp;
	}
	c->e.seccomp_chain = c->seccomp_chain;
	c->e.n_seccomp_chain = n;
	return 0;
}

/* Collect and write core-PID.img; the scratch page is mapped around it. */
static int dump_core(struct dump_ctx *ctx, struct task *t, struct task_core *tc,
		     struct thread_core *thc, ProtobufCMessage **m, struct core_result *res)
{
	int r;

	tc->e = (TaskCoreEntry)TASK_CORE_ENTRY__INIT;
	tc->e.creds = &tc->creds;
	if ((r = dump_task_misc(ctx, t, tc)) < 0 ||
	    (r = dump_task_prctl(ctx, t, tc)) < 0 ||
	    (r = dump_creds(ctx, t, tc)) < 0 ||
	    (r = dump_rlimits(ctx, t, tc)) < 0 ||
	    (r = dump_signals_timers(ctx, t, tc)) < 0 ||
	    (r = cgroup_dump(ctx, t, &tc->cgroup_text, &tc->cgroups, &tc->e.n_cgroups)) < 0)
		return r;
	tc->e.cgroups = tc->cgroups;
	m[0] = &tc->e.base;
	for (unsigned i = 0; i < t->nr_threads; i++) {
		r = dump_thread(ctx, t, &t->threads[i], &thc[i], res);
		if (r == 0)
			r = dump_thread_status(ctx, t, i, tc, &thc[i]);
		if (r < 0)
			return r;
		m[i + 1] = &thc[i].e.base;
	}
	tc->e.seccomp_filters = tc->seccomp.fp;
	tc->e.n_seccomp_filters = tc->seccomp.n;
	return 0;
}

int dump_task_core(struct dump_ctx *ctx, struct task *t, struct core_result *ret)
{
	_cleanup_free_ struct thread_core *thc = calloc(t->nr_threads, sizeof(*thc));
	_cleanup_free_ ProtobufCMessage **m = calloc(t->nr_threads + 1, sizeof(*m));
	struct task_core tc = { 0 };
	struct core_result res = { 0 };
	int r, f;

	if (!thc || !m)
		return -ENOMEM;
	r = inject_prepare(t);
	if (r < 0)
		return core_fail(ctx, t->pid, r, "cannot map a scratch page for injected syscalls");
	r = dump_core(ctx, t, &tc, thc, m, &res);
	/* found by inject_prepare; it outlives the scratch page */
	res.syscall_ip = t->syscall_ip;
	f = inject_finish(t);
	if (r == 0 && f < 0)
		r = core_fail(ctx, t->pid, f, "cannot unmap the scratch page");
	if (r == 0)
		r = write_image(ctx, IMG_CORE, t->pid, m, t->nr_threads + 1);
	for (unsigned i = 0; i < t->nr_threads; i++)
		thread_core_free(&thc[i]);
	task_core_free(&tc);
	if (r == 0)
		*ret = res;
	return r;
}
