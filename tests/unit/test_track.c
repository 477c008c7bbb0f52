/* daemon/track/: the live dirty-page trackers on a real child.
 *
 * The child maps a 64 MiB region (some pages touched) and a quiet 4 MiB
 * one (all touched, never written again), then obeys commands from a
 * pipe: write pages (from user space, or by read() into them from the
 * kernel), map, unmap, move, drop pages, fork, exec. The test holds it in
 * a ptrace stop as ckptd's freeze does, arms uffd-wp, lets it run, and
 * checks that each round reports exactly the pages written, a VMA new or
 * moved since whole, nothing for the quiet region or unmapped memory;
 * that no uffd is left in the child's fd table; that the uffd survives
 * the process that armed it in a ckpt-keeper, which goes away with the
 * target or when told to; that a fork's child and an exec read as lost.
 * soft-dirty is off on this kernel: only its refusal is checked here (the
 * VM tests run it for real), and the pagemap-word rule on fixed words.
 *
 * Set CKPT_TRACK_BENCH=1 to print the time of one collect over 1 GiB with
 * 1% of its pages written. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/proc.h"
#include "daemon/kerndat.h"
#include "daemon/ptrace.h"
#include "daemon/track/backend.h"
#include "daemon/track/keeper.h"
#include "daemon/track/track.h"

#define PS		4096ul
#define BASE_PAGES	16384ul		/* 64 MiB */
#define QUIET_PAGES	1024ul		/* 4 MiB */

enum { C_WRITE = 1, C_KWRITE, C_MMAP, C_MUNMAP, C_MREMAP, C_DONTNEED, C_FORK, C_EXEC, C_THP,
       C_SETUID };

struct cmd {
	int op;
	uint64_t a, b, c;
};

struct target {
	pid_t pid;
	int cmd, ack, data;	/* our ends */
	uint64_t base, quiet;
};

/* --- the child ------------------------------------------------------------ */

static uint64_t child_do(const struct cmd *c, int data)
{
	char *p = (char *)(uintptr_t)c->a;

	switch (c->op) {
	case C_WRITE:	/* b pages from a, c pages apart */
		for (uint64_t i = 0; i < c->b; i++)
			p[i * c->c * PS] ^= 0x5a;
		return 0;
	case C_KWRITE:	/* one byte at a, written by the kernel (read from a pipe) */
		return read(data, p, 1) == 1 ? 0 : (uint64_t)-1;
	case C_MMAP: {	/* a bytes, touched if b */
		char *m = mmap(NULL, c->a, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			return 0;
		madvise(m, c->a, MADV_NOHUGEPAGE);
		for (uint64_t o = 0; c->b && o < c->a; o += PS)
			m[o] = 1;
		return (uintptr_t)m;
	}
	case C_MUNMAP:
		return munmap(p, c->b);
	case C_MREMAP: {	/* move b bytes at a elsewhere */
		void *to = mmap(NULL, c->b, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		to = mremap(p, c->b, c->b, MREMAP_MAYMOVE | MREMAP_FIXED, to);
		return to == MAP_FAILED ? 0 : (uintptr_t)to;
	}
	case C_DONTNEED:
		return madvise(p, c->b, MADV_DONTNEED);
	case C_FORK: {
		pid_t k = fork();

		if (k == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		return k;
	}
	case C_EXEC:
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		return (uint64_t)-1;
	case C_THP: {	/* a bytes, 2 MiB aligned, THP asked for, touched */
		uint64_t huge = 2ul << 20;
		char *m = mmap(NULL, c->a + huge, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			return 0;
		m = (char *)(((uintptr_t)m + huge - 1) & ~(huge - 1));
		madvise(m, c->a, MADV_HUGEPAGE);
		for (uint64_t o = 0; o < c->a; o += PS)
			m[o] = 1;
		return (uintptr_t)m;
	}
	case C_SETUID:	/* an unprivileged target */
		if (setresgid(c->a, c->a, c->a) || setresuid(c->a, c->a, c->a))
			return 1;
		return prctl(PR_SET_PDEATHSIG, SIGKILL);	/* the uid change cleared it */
	}
	return (uint64_t)-1;
}

static _Noreturn void child_main(int cmd, int ack, int data)
{
	char *base = mmap(NULL, BASE_PAGES * PS, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *quiet = mmap(NULL, QUIET_PAGES * PS, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t hello[2] = { (uintptr_t)base, (uintptr_t)quiet };
	struct cmd c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* a failed test leaves nothing */
	if (base == MAP_FAILED || quiet == MAP_FAILED)
		_exit(2);
	/* exact pages, not 2 MiB THP runs */
	madvise(base, BASE_PAGES * PS, MADV_NOHUGEPAGE);
	madvise(quiet, QUIET_PAGES * PS, MADV_NOHUGEPAGE);
	for (unsigned long i = 0; i < BASE_PAGES; i += 4)
		base[i * PS] = 1;
	for (unsigned long i = 0; i < QUIET_PAGES; i++)
		quiet[i * PS] = 1;
	if (write(ack, hello, sizeof(hello)) != sizeof(hello))
		_exit(2);
	while (read(cmd, &c, sizeof(c)) == sizeof(c)) {
		uint64_t r = child_do(&c, data);

		if (write(ack, &r, sizeof(r)) != sizeof(r))
			_exit(2);
	}
	_exit(0);
}

/* --- driving it ------------------------------------------------------------ */

static void spawn(struct target *t)
{
	int cmd[2], ack[2], data[2];
	uint64_t hello[2];

	cr_assert_eq(pipe2(cmd, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(ack, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(data, O_CLOEXEC), 0);
	t->pid = fork();
	cr_assert_geq(t->pid, 0);
	if (t->pid == 0) {
		close(cmd[1]);
		close(ack[0]);
		close(data[1]);
		child_main(cmd[0], ack[1], data[0]);
	}
	close(cmd[0]);
	close(ack[1]);
	close(data[0]);
	t->cmd = cmd[1];
	t->ack = ack[0];
	t->data = data[1];
	cr_assert_eq(read(t->ack, hello, sizeof(hello)), (ssize_t)sizeof(hello));
	t->base = hello[0];
	t->quiet = hello[1];
}

static uint64_t run(struct target *t, int op, uint64_t a, uint64_t b, uint64_t c)
{
	struct cmd m = { op, a, b, c };
	uint64_t r;

	cr_assert_eq(write(t->cmd, &m, sizeof(m)), (ssize_t)sizeof(m));
	if (op == C_EXEC)
		return 0;
	cr_assert_eq(read(t->ack, &r, sizeof(r)), (ssize_t)sizeof(r));
	return r;
}

static uint64_t page(const struct target *t, uint64_t i)
{
	return t->base + i * PS;
}

/* Stop pid as ckptd's freeze does: seized, interrupted, waited for. */
static void hold(pid_t pid)
{
	int status;

	cr_assert_eq(ptrace(PTRACE_SEIZE, pid, NULL, (void *)(long)PTRACE_O_TRACESYSGOOD), 0,
		     "seize %d: %s", pid, strerror(errno));
	cr_assert_eq(ptrace(PTRACE_INTERRUPT, pid, NULL, NULL), 0);
	cr_assert_eq(ptrace_wait(pid, &status), 0);
	cr_assert(WIFSTOPPED(status));
}

static void let_go(pid_t pid)
{
	cr_assert_eq(ptrace(PTRACE_DETACH, pid, NULL, NULL), 0);
}

static void end(struct target *t)
{
	kill(t->pid, SIGKILL);
	waitpid(t->pid, NULL, 0);
	close(t->cmd);
	close(t->ack);
	close(t->data);
}

static struct kerndat kd;

static void probe(void)
{
	cr_assert_eq(kerndat_probe(&kd), 0);
	prctl(PR_SET_CHILD_SUBREAPER, 1);	/* keepers come back to us to be reaped */
}

static struct track_task *open_round(pid_t pid, bool first)
{
	struct track_task *tt = NULL;
	struct ckpt_err err = { 0 };
	char lost[256];

	cr_assert_eq(track_task_open(TRACK_UFFD_WP, &kd, pid, first, &tt, lost, sizeof(lost),
				     &err), 0, "open: %s", err.msg);
	cr_assert_not_null(tt, "tracking lost: %s", lost);
	if (first)
		cr_assert_eq(track_task_arm(tt, &err), 0, "arm: %s", err.msg);
	return tt;
}

/* Arm pid (first round) and let it run again; tracking kept. */
static void arm(pid_t pid)
{
	hold(pid);
	track_task_close(open_round(pid, true), true);
	let_go(pid);
}

/* One later round of pid: its written runs into out. */
static void collect(pid_t pid, struct run_list *out, bool keep)
{
	struct ckpt_err err = { 0 };
	struct track_task *tt;

	hold(pid);
	tt = open_round(pid, false);
	cr_assert_eq(track_task_collect(tt, out, &err), 0, "collect: %s", err.msg);
	track_task_close(tt, keep);
	let_go(pid);
}

/* The runs of l within [lo, hi), clipped, must be exactly want[0..n). */
static void expect_runs(const struct run_list *l, uint64_t lo, uint64_t hi,
			const struct page_run *want, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < l->nr; i++) {
		uint64_t s = MAX(l->r[i].start, lo), e = MIN(l->r[i].end, hi);

		if (s >= e)
			continue;
		cr_assert_lt(k, n, "an unexpected run %#lx-%#lx (pages %ld-%ld of the range)",
			     s, e, (long)((s - lo) / PS), (long)((e - lo) / PS));
		cr_assert(s == want[k].start && e == want[k].end,
			  "run %zu: pages %ld-%ld of the range, expected %ld-%ld", k,
			  (long)((s - lo) / PS), (long)((e - lo) / PS),
			  (long)((want[k].start - lo) / PS), (long)((want[k].end - lo) / PS));
		k++;
	}
	cr_assert_eq(k, n, "%zu runs in the range, expected %zu", k, n);
}

static bool has_uffd(pid_t pid, unsigned *ret_nfds)
{
	char path[64], fd[320], link[64];
	struct dirent *de;
	bool found = false;
	unsigned n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	cr_assert_not_null(d);
	while ((de = readdir(d))) {
		ssize_t len;

		if (de->d_name[0] == '.')
			continue;
		n++;
		snprintf(fd, sizeof(fd), "%s/%s", path, de->d_name);
		len = readlink(fd, link, sizeof(link) - 1);
		if (len > 0) {
			link[len] = '\0';
			found |= strstr(link, "userfaultfd") != NULL;
		}
	}
	closedir(d);
	if (ret_nfds)
		*ret_nfds = n;
	return found;
}

static pid_t keeper_of(pid_t pid)
{
	struct track_entry *e = NULL;
	pid_t k = 0;
	size_t n;

	cr_assert_eq(track_list(&e, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (e[i].pid == pid) {
			cr_assert_eq(e[i].kind, TRACK_UFFD_WP);
			k = e[i].keeper;
		}
	free(e);
	return k;
}

static bool registry_has(pid_t pid)
{
	uint64_t start;
	char path[128];

	cr_assert_eq(proc_read_start_time(pid, &start), 0);
	snprintf(path, sizeof(path), "%s/%d-%llu", KEEPER_DIR, pid, (unsigned long long)start);
	return access(path, F_OK) == 0;
}

/* Wait (up to 3 s) for our child k (a keeper, ours as subreaper) to exit. */
static bool reaped(pid_t k)
{
	for (int i = 0; i < 300; i++) {
		pid_t w = waitpid(k, NULL, WNOHANG);

		if (w == k || (w < 0 && errno == ECHILD && kill(k, 0) < 0))
			return true;
		usleep(10000);
	}
	return false;
}

static void comm_is(pid_t pid, const char *want)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	cr_assert_eq(read_file_at(AT_FDCWD, path, &buf, NULL), 0);
	buf[strcspn(buf, "\n")] = '\0';
	cr_assert_str_eq(buf, want);
}

#define RUN(a, n) { (a), (a) + (n) * PS }

/* --- uffd-wp ----------------------------------------------------------------- */

Test(track_uffd, rounds_report_exactly_the_written_pages, .init = probe, .timeout = 30)
{
	struct target t;
	struct run_list l = { 0 };
	unsigned before, after;
	pid_t k;

	spawn(&t);
	has_uffd(t.pid, &before);
	arm(t.pid);
	cr_assert_not(has_uffd(t.pid, &after), "a userfaultfd is left in the target's fd table");
	cr_assert_eq(after, before);
	k = keeper_of(t.pid);
	cr_assert_gt(k, 0, "no keeper listed");
	comm_is(k, KEEPER_COMM);

	/* round 1: present and absent pages, by user and kernel writes */
	run(&t, C_WRITE, page(&t, 3), 1, 1);
	run(&t, C_WRITE, page(&t, 100), 3, 1);
	run(&t, C_WRITE, page(&t, 5000), 1, 1);
	cr_assert_eq(write(t.data, "k", 1), 1);
	cr_assert_eq(run(&t, C_KWRITE, page(&t, 7001), 0, 0), 0);
	run(&t, C_WRITE, page(&t, 7003), 1, 1);
	run(&t, C_WRITE, page(&t, BASE_PAGES - 1), 1, 1);
	collect(t.pid, &l, true);
	{
		struct page_run want[] = {
			RUN(page(&t, 3), 1), RUN(page(&t, 100), 3), RUN(page(&t, 5000), 1),
			RUN(page(&t, 7001), 1), RUN(page(&t, 7003), 1),
			RUN(page(&t, BASE_PAGES - 1), 1),
		};
		expect_runs(&l, t.base, page(&t, BASE_PAGES), want, ARRAY_SIZE(want));
	}
	expect_runs(&l, t.quiet, t.quiet + QUIET_PAGES * PS, NULL, 0);
	run_list_free(&l);

	/* round 2: only what was written since round 1 */
	run(&t, C_WRITE, page(&t, 9), 2, 1);
	run(&t, C_WRITE, page(&t, 12000), 1, 1);
	run(&t, C_WRITE, page(&t, 3), 1, 1);
	collect(t.pid, &l, false);
	{
		struct page_run want[] = {
			RUN(page(&t, 3), 1), RUN(page(&t, 9), 2), RUN(page(&t, 12000), 1),
		};
		expect_runs(&l, t.base, page(&t, BASE_PAGES), want, ARRAY_SIZE(want));
	}
	expect_runs(&l, t.quiet, t.quiet + QUIET_PAGES * PS, NULL, 0);
	run_list_free(&l);

	/* close(keep=false): no keeper, no registry file, no uffd anywhere */
	cr_assert(reaped(k), "the keeper %d is still running", k);
	cr_assert_not(registry_has(t.pid));
	cr_assert_eq(keeper_of(t.pid), 0);
	cr_assert_not(has_uffd(t.pid, NULL));
	end(&t);
}

Test(track_uffd, vmas_new_moved_unmapped_and_dropped, .init = probe, .timeout = 30)
{
	struct target t;
	struct run_list l = { 0 };
	uint64_t fresh, moved, mb = 1ul << 20;

	spawn(&t);
	arm(t.pid);
	fresh = run(&t, C_MMAP, mb, 1, 0);
	cr_assert_neq(fresh, 0);
	moved = run(&t, C_MREMAP, page(&t, 2048), mb, 0);	/* pages 2048-2303 move */
	cr_assert_neq(moved, 0);
	cr_assert_eq(run(&t, C_MUNMAP, page(&t, 5120), mb, 0), 0);	/* pages 5120-5375 go */
	run(&t, C_WRITE, page(&t, 8192), 4, 1);
	cr_assert_eq(run(&t, C_DONTNEED, page(&t, 8192), 4 * PS, 0), 0);
	run(&t, C_WRITE, page(&t, 50), 1, 1);
	collect(t.pid, &l, true);
	{
		struct page_run want[] = { RUN(page(&t, 50), 1) };

		expect_runs(&l, t.base, page(&t, BASE_PAGES), want, ARRAY_SIZE(want));
	}
	{
		struct page_run want[] = { { fresh, fresh + mb } };

		expect_runs(&l, fresh, fresh + mb, want, 1);
	}
	{
		struct page_run want[] = { { moved, moved + mb } };

		expect_runs(&l, moved, moved + mb, want, 1);
	}
	run_list_free(&l);

	/* both are tracked from now on */
	run(&t, C_WRITE, fresh + 3 * PS, 1, 1);
	run(&t, C_WRITE, moved + 5 * PS, 1, 1);
	collect(t.pid, &l, false);
	{
		struct page_run want[] = { RUN(fresh + 3 * PS, 1) };

		expect_runs(&l, fresh, fresh + mb, want, 1);
	}
	{
		struct page_run want[] = { RUN(moved + 5 * PS, 1) };

		expect_runs(&l, moved, moved + mb, want, 1);
	}
	expect_runs(&l, t.base, page(&t, BASE_PAGES), NULL, 0);
	run_list_free(&l);
	end(&t);
}

/* A separate "daemon" process arms and exits; the next round, in another
 * process, finds the keeper; the keeper goes with the target. */
Test(track_uffd, keeper_outlives_the_armer_and_dies_with_the_target, .init = probe,
     .timeout = 30)
{
	struct target t;
	struct run_list l = { 0 };
	int status;
	pid_t d, k;

	spawn(&t);
	d = fork();
	cr_assert_geq(d, 0);
	if (d == 0) {
		struct ckpt_err err = { 0 };
		struct track_task *tt = NULL;
		char lost[256];
		int status;

		if (ptrace(PTRACE_SEIZE, t.pid, NULL, (void *)(long)PTRACE_O_TRACESYSGOOD) < 0 ||
		    ptrace(PTRACE_INTERRUPT, t.pid, NULL, NULL) < 0 || ptrace_wait(t.pid, &status) < 0)
			_exit(2);
		if (track_task_open(TRACK_UFFD_WP, &kd, t.pid, true, &tt, lost, sizeof(lost),
				    &err) < 0 || !tt || track_task_arm(tt, &err) < 0)
			_exit(3);
		track_task_close(tt, true);
		ptrace(PTRACE_DETACH, t.pid, NULL, NULL);
		_exit(0);
	}
	cr_assert_eq(waitpid(d, &status, 0), d);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the arming process failed: %d",
		  status);
	k = keeper_of(t.pid);
	cr_assert_gt(k, 0);
	comm_is(k, KEEPER_COMM);
	cr_assert(registry_has(t.pid));

	run(&t, C_WRITE, page(&t, 77), 2, 10);
	collect(t.pid, &l, true);
	{
		struct page_run want[] = { RUN(page(&t, 77), 1), RUN(page(&t, 87), 1) };

		expect_runs(&l, t.base, page(&t, BASE_PAGES), want, ARRAY_SIZE(want));
	}
	run_list_free(&l);
	cr_assert_eq(keeper_of(t.pid), k, "a second keeper");

	kill(t.pid, SIGKILL);
	waitpid(t.pid, NULL, 0);
	cr_assert(reaped(k), "the keeper %d outlived its target", k);
	t.pid = 0;
	cr_assert_eq(keeper_of(t.pid), 0);
	close(t.cmd);
	close(t.ack);
	close(t.data);
}

Test(track_uffd, fork_child_and_exec_read_as_lost, .init = probe, .timeout = 30)
{
	struct track_task *tt = (void *)1;
	struct ckpt_err err = { 0 };
	struct run_list l = { 0 };
	struct target t;
	char lost[256];
	pid_t child, k;

	spawn(&t);
	arm(t.pid);
	child = run(&t, C_FORK, 0, 0, 0);
	cr_assert_gt(child, 0);
	hold(child);
	cr_assert_eq(track_task_open(TRACK_UFFD_WP, &kd, child, false, &tt, lost, sizeof(lost),
				     &err), 0, "%s", err.msg);
	cr_assert_null(tt);
	cr_assert(strstr(lost, "no uffd-wp tracking"), "%s", lost);
	let_go(child);
	kill(child, SIGKILL);

	/* the parent is still tracked, through the copy-on-write of the fork */
	run(&t, C_WRITE, page(&t, 40), 1, 1);
	collect(t.pid, &l, true);
	{
		struct page_run want[] = { RUN(page(&t, 40), 1) };

		expect_runs(&l, t.base, page(&t, BASE_PAGES), want, 1);
	}
	run_list_free(&l);

	k = keeper_of(t.pid);
	run(&t, C_EXEC, 0, 0, 0);
	for (int i = 0; i < 200; i++) {
		_cleanup_free_ char *c = NULL;
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/comm", t.pid);
		if (read_file_at(AT_FDCWD, path, &c, NULL) == 0 && strncmp(c, "sleep", 5) == 0)
			break;
		usleep(10000);
	}
	comm_is(t.pid, "sleep");
	hold(t.pid);
	tt = (void *)1;
	cr_assert_eq(track_task_open(TRACK_UFFD_WP, &kd, t.pid, false, &tt, lost, sizeof(lost),
				     &err), 0, "%s", err.msg);
	cr_assert_null(tt);
	cr_assert(strstr(lost, "exec"), "%s", lost);
	let_go(t.pid);
	cr_assert(reaped(k), "the keeper of an exec'd target is left running");
	cr_assert_not(registry_has(t.pid));
	end(&t);
}

/* uffd-wp from a target without privilege (vm.unprivileged_userfaultfd=0
 * here): UFFD_USER_MODE_ONLY makes the uffd, and writes the kernel makes
 * for it (read() into its memory) are still seen. */
Test(track_uffd, unprivileged_target, .init = probe, .timeout = 30)
{
	struct target t;
	struct run_list l = { 0 };

	spawn(&t);
	cr_assert_eq(run(&t, C_SETUID, 65534, 0, 0), 0);
	arm(t.pid);
	run(&t, C_WRITE, page(&t, 4), 1, 1);
	cr_assert_eq(write(t.data, "k", 1), 1);
	cr_assert_eq(run(&t, C_KWRITE, page(&t, 8), 0, 0), 0);
	collect(t.pid, &l, false);
	{
		struct page_run want[] = { RUN(page(&t, 4), 1), RUN(page(&t, 8), 1) };

		expect_runs(&l, t.base, page(&t, BASE_PAGES), want, ARRAY_SIZE(want));
	}
	run_list_free(&l);
	end(&t);
}

static unsigned long anon_huge_kb(pid_t pid)
{
	_cleanup_free_ char *buf = NULL;
	unsigned long kb = 0;
	char path[64], *p;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	cr_assert_eq(read_file_at(AT_FDCWD, path, &buf, NULL), 0);
	p = strstr(buf, "AnonHugePages:");
	if (p)
		sscanf(p, "AnonHugePages: %lu", &kb);
	return kb;
}

/* Transparent huge pages: a written THP reads as written where the byte
 * went (the kernel may report the whole 2 MiB); one dropped whole with
 * MADV_DONTNEED is not reported (it is no longer present: the dump sees
 * that), and a write into it afterwards is. */
Test(track_uffd, transparent_huge_pages, .init = probe, .timeout = 30)
{
	uint64_t huge = 2ul << 20, thp, w;
	struct run_list l = { 0 };
	struct target t;
	bool seen = false;

	spawn(&t);
	thp = run(&t, C_THP, 2 * huge, 0, 0);
	cr_assert_neq(thp, 0);
	if (anon_huge_kb(t.pid) == 0) {
		end(&t);
		cr_skip_test("no transparent huge page was made");
	}
	arm(t.pid);
	w = thp + huge + 5 * PS;
	run(&t, C_WRITE, w, 1, 1);
	cr_assert_eq(run(&t, C_DONTNEED, thp, huge, 0), 0);
	collect(t.pid, &l, true);
	expect_runs(&l, thp, thp + huge, NULL, 0);
	for (size_t i = 0; i < l.nr; i++) {
		if (l.r[i].end <= thp + huge || l.r[i].start >= thp + 2 * huge)
			continue;
		cr_assert(l.r[i].start >= thp + huge && l.r[i].end <= thp + 2 * huge);
		seen |= l.r[i].start <= w && w < l.r[i].end;
	}
	cr_assert(seen, "the write into the huge page is not reported");
	run_list_free(&l);

	run(&t, C_WRITE, thp + 7 * PS, 1, 1);
	collect(t.pid, &l, false);
	seen = false;
	for (size_t i = 0; i < l.nr; i++)
		seen |= l.r[i].start <= thp + 7 * PS && thp + 7 * PS < l.r[i].end;
	cr_assert(seen, "a write after MADV_DONTNEED is not reported");
	expect_runs(&l, thp + huge, thp + 2 * huge, NULL, 0);
	run_list_free(&l);
	end(&t);
}

/* A registry file naming a keeper that is gone: lost, and the file goes. */
Test(track_uffd, stale_registry_file, .init = probe, .timeout = 30)
{
	struct track_task *tt = (void *)1;
	struct ckpt_err err = { 0 };
	struct target t;
	char lost[256], path[128], line[160];
	struct keeper k = { .fd = 3, .tracker = "uffd-wp" };
	FILE *f;

	spawn(&t);
	k.target = t.pid;
	cr_assert_eq(proc_read_start_time(t.pid, &k.target_start), 0);
	k.pid = t.pid;		/* alive, but not a keeper: its comm is wrong */
	cr_assert_eq(proc_read_start_time(t.pid, &k.start), 0);
	cr_assert_gt(keeper_format(&k, line, sizeof(line)), 0);
	mkdir("/run/ckpt", 0755);
	mkdir(KEEPER_DIR, 0700);
	snprintf(path, sizeof(path), "%s/%d-%llu", KEEPER_DIR, t.pid,
		 (unsigned long long)k.target_start);
	f = fopen(path, "we");
	cr_assert_not_null(f);
	fputs(line, f);
	fclose(f);
	hold(t.pid);
	cr_assert_eq(track_task_open(TRACK_UFFD_WP, &kd, t.pid, false, &tt, lost, sizeof(lost),
				     &err), 0, "%s", err.msg);
	cr_assert_null(tt);
	cr_assert(strstr(lost, "no uffd-wp tracking"), "%s", lost);
	let_go(t.pid);
	cr_assert_neq(access(path, F_OK), 0, "the stale registry file is left");
	cr_assert_eq(kill(t.pid, 0), 0, "the target named as keeper was signalled");
	end(&t);
}

/* A writer that never stops: every page of a region touched, then a
 * counter written into pages in a scrambled order, one about every 20 us
 * (sparse enough that a write a round missed is seldom written over
 * again before the end, so that a miss shows). */
#define SPIN_PAGES	16384ul		/* 64 MiB: the writer takes 1/3 s to come round */

static pid_t spin_writer(uint64_t *base)
{
	int ack[2];
	pid_t pid;

	cr_assert_eq(pipe2(ack, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		uint64_t *m = mmap(NULL, SPIN_PAGES * PS, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint64_t b = (uintptr_t)m;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (m == MAP_FAILED)
			_exit(2);
		madvise(m, SPIN_PAGES * PS, MADV_NOHUGEPAGE);
		for (unsigned long i = 0; i < SPIN_PAGES; i++)
			m[i * PS / 8] = 1;
		if (write(ack[1], &b, sizeof(b)) != sizeof(b))
			_exit(2);
		for (uint64_t k = 1;; k++) {
			uint64_t t0 = now_us();

			m[(k * 2654435761u) % SPIN_PAGES * PS / 8 + k % 512] = k;
			while (now_us() - t0 < 20)
				;
		}
	}
	close(ack[1]);
	cr_assert_eq(read(ack[0], base, sizeof(*base)), (ssize_t)sizeof(*base));
	close(ack[0]);
	return pid;
}

/* Copy the pages of runs (all of [base, base + SPIN_PAGES) when NULL)
 * from pid into img, as a pre-dump copies with the task running. */
static void copy_runs(pid_t pid, uint64_t base, const struct run_list *runs, char *img)
{
	uint64_t end = base + SPIN_PAGES * PS;
	struct page_run all = { base, end };
	const struct page_run *r = runs ? runs->r : &all;
	size_t n = runs ? runs->nr : 1;

	for (size_t i = 0; i < n; i++) {
		uint64_t s = MAX(r[i].start, base), e = MIN(r[i].end, end);
		struct iovec local = { img + (s - base), e - s };
		struct iovec remote = { (void *)(uintptr_t)s, e - s };

		if (s < e)
			cr_assert_eq(process_vm_readv(pid, &local, 1, &remote, 1, 0),
				     (ssize_t)(e - s), "%s", strerror(errno));
	}
}

/* What track_scans_running() promises: with the scans and the copies done
 * while the task writes on, the pages stitched from the rounds equal, once
 * a final round is taken frozen, the memory as it is then, byte for byte
 * (a write the running scan passed goes into the next round). */
Test(track_uffd, scans_with_the_task_running_miss_no_write, .init = probe, .timeout = 60)
{
	char *img = malloc(SPIN_PAGES * PS), *now = malloc(SPIN_PAGES * PS);
	struct ckpt_err err = { 0 };
	struct track_task *tt;
	uint64_t base;
	size_t dirty = 0;
	pid_t pid;

	cr_assert(track_scans_running(TRACK_UFFD_WP));
	cr_assert_not(track_scans_running(TRACK_SOFT_DIRTY));
	cr_assert(img && now);
	pid = spin_writer(&base);
	hold(pid);
	cr_assert_eq(track_task_open(TRACK_UFFD_WP, &kd, pid, true, &tt, NULL, 0, &err), 0,
		     "%s", err.msg);
	cr_assert_not_null(tt);
	let_go(pid);
	cr_assert_eq(track_task_arm(tt, &err), 0, "arm: %s", err.msg);	/* running */
	copy_runs(pid, base, NULL, img);
	for (int round = 0; round < 5; round++) {
		struct run_list l = { 0 };

		usleep(20000);
		cr_assert_eq(track_task_collect(tt, &l, &err), 0, "%s", err.msg);
		copy_runs(pid, base, &l, img);
		for (size_t i = 0; i < l.nr; i++)
			dirty += (l.r[i].end - l.r[i].start) / PS;
		run_list_free(&l);
	}
	track_task_close(tt, true);
	hold(pid);	/* the final round, frozen */
	tt = open_round(pid, false);
	{
		struct run_list l = { 0 };

		cr_assert_eq(track_task_collect(tt, &l, &err), 0, "%s", err.msg);
		copy_runs(pid, base, &l, img);
		run_list_free(&l);
	}
	copy_runs(pid, base, NULL, now);
	track_task_close(tt, false);
	let_go(pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_assert_gt(dirty, 0, "the writer wrote nothing the rounds saw");
	for (size_t p = 0; p < SPIN_PAGES; p++)
		cr_assert(memcmp(img + p * PS, now + p * PS, PS) == 0,
			  "page %zu differs from the memory after the final round", p);
	free(img);
	free(now);
}

Test(track_uffd, bench_1g_1pct, .init = probe, .timeout = 120)
{
	struct run_list l = { 0 };
	struct ckpt_err err = { 0 };
	struct track_task *tt;
	struct target t;
	uint64_t g = 1ul << 30, big, t0, t1;

	if (!getenv("CKPT_TRACK_BENCH"))
		cr_skip_test("set CKPT_TRACK_BENCH=1 to measure");
	spawn(&t);
	big = run(&t, C_MMAP, g, 1, 0);
	cr_assert_neq(big, 0);
	arm(t.pid);
	run(&t, C_WRITE, big, g / PS / 100, 100);
	hold(t.pid);
	tt = open_round(t.pid, false);
	t0 = now_us();
	cr_assert_eq(track_task_collect(tt, &l, &err), 0, "%s", err.msg);
	t1 = now_us();
	{
		struct run_list l2 = { 0 };
		uint64_t t2 = now_us();

		cr_assert_eq(track_task_collect(tt, &l2, &err), 0, "%s", err.msg);
		printf("uffd-wp collect over 1 GiB, nothing written: %llu us, %zu runs\n",
		       (unsigned long long)(now_us() - t2), l2.nr);
		run_list_free(&l2);
	}
	track_task_close(tt, false);
	let_go(t.pid);
	{
		size_t pages = 0;

		for (size_t i = 0; i < l.nr; i++)
			if (l.r[i].start >= big && l.r[i].end <= big + g)
				pages += (l.r[i].end - l.r[i].start) / PS;
		printf("uffd-wp collect over 1 GiB, 1%% written: %llu us, %zu runs, %zu pages "
		       "in the region\n", (unsigned long long)(t1 - t0), l.nr, pages);
		cr_assert_eq(pages, g / PS / 100);
	}
	run_list_free(&l);
	end(&t);
}

/* --- soft-dirty, choice of tracker ------------------------------------------- */

Test(track, soft_dirty_refused_here, .init = probe)
{
	struct track_task *tt = (void *)1;
	struct ckpt_err err = { 0 };
	const char *why = NULL;
	char lost[64];

	if (kd.soft_dirty)
		cr_skip_test("this kernel has soft-dirty");
	cr_assert_not(track_available(TRACK_SOFT_DIRTY, &kd, &why));
	cr_assert(why && strstr(why, "CONFIG_MEM_SOFT_DIRTY"), "%s", why);
	cr_assert_eq(track_task_open(TRACK_SOFT_DIRTY, &kd, getpid(), true, &tt, lost,
				     sizeof(lost), &err), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "soft-dirty tracking is not available on this kernel"), "%s",
		  err.msg);
	cr_assert(strstr(err.msg, "--track uffd-wp or hash"), "%s", err.msg);
	cr_assert_eq(tt, (void *)1, "*ret touched on failure");
	cr_assert_eq(track_auto(&kd), TRACK_UFFD_WP);
}

/* The soft-dirty code paths (clear_refs, PAGEMAP_SCAN and pagemap words)
 * run without error on a kernel that pretends to have it; here bit 55
 * never gets set, so nothing may be reported (the VM tests check the
 * answers on a kernel that has it). */
Test(track, soft_dirty_paths_run, .init = probe, .timeout = 30)
{
	struct target t;

	if (kd.soft_dirty)
		cr_skip_test("this kernel has soft-dirty: the VM tests' business");
	spawn(&t);
	for (int scan = 0; scan < 2; scan++) {
		struct kerndat fake = kd;
		struct ckpt_err err = { 0 };
		struct run_list l = { 0 };
		struct track_task *tt;
		char lost[64];

		fake.soft_dirty = true;
		fake.pagemap_scan = scan;
		hold(t.pid);
		cr_assert_eq(track_task_open(TRACK_SOFT_DIRTY, &fake, t.pid, true, &tt, lost,
					     sizeof(lost), &err), 0, "%s", err.msg);
		cr_assert_eq(track_task_arm(tt, &err), 0, "%s", err.msg);
		track_task_close(tt, true);
		let_go(t.pid);
		run(&t, C_WRITE, page(&t, 1), 1, 1);
		hold(t.pid);
		cr_assert_eq(track_task_open(TRACK_SOFT_DIRTY, &fake, t.pid, false, &tt, lost,
					     sizeof(lost), &err), 0, "%s", err.msg);
		cr_assert_not_null(tt);
		cr_assert_eq(track_task_collect(tt, &l, &err), 0, "%s", err.msg);
		cr_assert_eq(l.nr, 0);
		track_task_close(tt, false);
		let_go(t.pid);
	}
	end(&t);
}

Test(track, hash_has_no_live_state, .init = probe)
{
	struct track_task *tt = NULL;
	struct ckpt_err err = { 0 };
	char lost[64];

	cr_assert(track_available(TRACK_HASH, &kd, NULL));
	cr_assert_eq(track_task_open(TRACK_HASH, &kd, getpid(), true, &tt, lost, sizeof(lost),
				     &err), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "hash"), "%s", err.msg);
}

Test(track, auto_and_names)
{
	struct kerndat all = { .soft_dirty = true, .pagemap_scan = true, .uffd = true,
			       .uffd_wp_async = true, .uffd_wp_unpopulated = true,
			       .pidfd_getfd = true };
	struct kerndat old = { .soft_dirty = true, .uffd = true, .pidfd_getfd = true };
	struct kerndat bare = { 0 };
	enum track_kind k;
	const char *why;

	cr_assert_eq(track_auto(&all), TRACK_UFFD_WP);
	cr_assert_eq(track_auto(&old), TRACK_SOFT_DIRTY);	/* Linux 6.1 */
	cr_assert_eq(track_auto(&bare), TRACK_HASH);
	cr_assert_not(track_available(TRACK_UFFD_WP, &old, &why));
	cr_assert(strstr(why, "WP_ASYNC"), "%s", why);
	cr_assert_eq(track_parse("auto", &old, &k), 0);
	cr_assert_eq(k, TRACK_SOFT_DIRTY);
	for (enum track_kind i = TRACK_NONE; i <= TRACK_HASH; i++) {
		cr_assert_eq(track_parse(track_name(i), &bare, &k), 0);
		cr_assert_eq(k, i);
	}
	cr_assert_eq(track_parse("uffd", &all, &k), -EINVAL);
	cr_assert_eq(track_parse("", &all, &k), -EINVAL);
}

Test(track, soft_dirty_pagemap_words)
{
	cr_assert(soft_dirty_word(1ull << 55));
	cr_assert(soft_dirty_word((1ull << 63) | (1ull << 55) | 0x1234));	/* present */
	cr_assert(soft_dirty_word((1ull << 62) | (1ull << 55)));		/* swapped */
	cr_assert_not(soft_dirty_word(0));
	cr_assert_not(soft_dirty_word((1ull << 63) | (1ull << 61) | (1ull << 56) | 0x7ffff));
	cr_assert_not(soft_dirty_word(~(1ull << 55)));
}

/* --- run lists, registry lines -------------------------------------------------- */

Test(track, run_list_merges_and_sorts)
{
	struct run_list l = { 0 };

	cr_assert_eq(run_list_add(&l, 0x1000, 0x2000), 0);
	cr_assert_eq(run_list_add(&l, 0x2000, 0x3000), 0);	/* adjacent: merged */
	cr_assert_eq(run_list_add(&l, 0x5000, 0x6000), 0);
	cr_assert_eq(run_list_add(&l, 0x5000, 0x5000), 0);	/* empty: ignored */
	cr_assert_eq(l.nr, 2);
	cr_assert_eq(run_list_add(&l, 0x8000, 0x9000), 0);
	cr_assert_eq(run_list_add(&l, 0x3800, 0x4000), 0);	/* out of order: inserted */
	cr_assert_eq(l.nr, 4);
	cr_assert_eq(l.r[1].start, 0x3800);
	cr_assert_eq(run_list_add(&l, 0x2800, 0x5800), 0);	/* spans three: merged */
	cr_assert_eq(l.nr, 2);
	cr_assert_eq(l.r[0].start, 0x1000);
	cr_assert_eq(l.r[0].end, 0x6000);
	cr_assert_eq(l.r[1].start, 0x8000);
	cr_assert_eq(run_list_add(&l, 0x0, 0x800), 0);
	cr_assert_eq(l.nr, 3);
	cr_assert_eq(l.r[0].end, 0x800);
	for (uint64_t a = 0x10000; a < 0x10000 + 200 * PS; a += 2 * PS)
		cr_assert_eq(run_list_add(&l, a, a + PS), 0);
	cr_assert_eq(l.nr, 103);
	for (size_t i = 1; i < l.nr; i++)
		cr_assert_gt(l.r[i].start, l.r[i - 1].end);
	run_list_free(&l);
	cr_assert_eq(l.nr, 0);
}

Test(track, keeper_registry_lines)
{
	struct keeper k = { .target = 42, .target_start = 12345, .pid = 99, .start = 777,
			    .fd = 3, .tracker = "uffd-wp" }, got;
	char line[160];

	cr_assert_gt(keeper_format(&k, line, sizeof(line)), 0);
	cr_assert_eq(keeper_parse(line, &got), 0);
	cr_assert_eq(got.target, 42);
	cr_assert_eq(got.target_start, 12345);
	cr_assert_eq(got.pid, 99);
	cr_assert_eq(got.start, 777);
	cr_assert_eq(got.fd, 3);
	cr_assert_str_eq(got.tracker, "uffd-wp");
	cr_assert_eq(keeper_parse("target 42 1 keeper 99 7 fd 3 tracker uffd-wp", &got), -EBADMSG);
	cr_assert_eq(keeper_parse("target 42 1 keeper 99 7 fd 3 tracker uffd-wp\nx", &got),
		     -EBADMSG);
	cr_assert_eq(keeper_parse("target -4 1 keeper 99 7 fd 3 tracker uffd-wp\n", &got),
		     -EBADMSG);
	cr_assert_eq(keeper_parse("", &got), -EBADMSG);
}
