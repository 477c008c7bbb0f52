/* daemon/freeze.c: for a non-root requester the frozen tree is authorized
 * again, whatever rpc.c saw before the freeze: a task that runs as someone
 * else, is not dumpable or holds capabilities refuses the dump, named by
 * its pid, and the tree is released running. Run as root; the "requester"
 * is uid/gid 65534, and freeze_tree is called directly, as if a descendant
 * had changed between rpc.c's check and the seize. */
#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/dump.h"
#include "daemon/proc.h"

#define NOBODY 65534

enum how { AS_ROOT, AS_NOBODY, AS_NOBODY_ROOT_CHILD, AS_NOBODY_CAPS, AS_NOBODY_UNDUMPABLE };

static void become_nobody(bool keepcaps, bool dumpable)
{
	if (keepcaps)
		prctl(PR_SET_KEEPCAPS, 1);
	if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) < 0)
		_exit(3);
	/* a credential change clears the dumpable flag; a user's own
	 * process has it */
	prctl(PR_SET_DUMPABLE, dumpable ? 1 : 0);
}

/* A target made as how says; *ret_child its child (or 0). Ready on return. */
static pid_t spawn(enum how how, pid_t *ret_child)
{
	int p[2];
	pid_t pid, kid = 0;

	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		pid_t test = getppid();

		close(p[0]);
		if (how == AS_NOBODY_ROOT_CHILD) {
			pid_t target = getpid();

			kid = fork();
			if (kid == 0) {
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				if (getppid() != target)
					_exit(0);
				for (;;)
					pause();
			}
		}
		if (how != AS_ROOT)
			become_nobody(how == AS_NOBODY_CAPS, how != AS_NOBODY_UNDUMPABLE);
		/* nothing outlives a test that failed (set after the
		 * credential change, which clears it) */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != test)
			_exit(0);
		if (write(p[1], &kid, sizeof(kid)) != sizeof(kid))
			_exit(4);
		for (;;)
			pause();
	}
	close(p[1]);
	cr_assert_eq(read(p[0], &kid, sizeof(kid)), (ssize_t)sizeof(kid));
	close(p[0]);
	*ret_child = kid;
	return pid;
}

static int freeze_as_nobody(pid_t pid, struct ckpt_err *err)
{
	struct dump_opts o = { .pid = pid, .requester_uid = NOBODY, .requester_gid = NOBODY };
	struct dump_ctx ctx = { .opts = &o, .err = err, .dirfd = -1 };
	int r = freeze_tree(&ctx);

	if (r == 0)
		release_tree(&ctx, false);
	pstree_free(&ctx.tree);
	return r;
}

/* Running, and traced by no one: the refusal released everything. */
static bool released(pid_t pid)
{
	struct proc_status st;
	struct proc_stat s;
	pid_t tracer;

	if (proc_read_status(pid, &st) < 0)
		return false;
	tracer = st.tracer_pid;
	proc_status_free(&st);
	return tracer == 0 && proc_read_stat(pid, &s) == 0 && (s.state == 'S' || s.state == 'R');
}

static void kill_all(pid_t pid, pid_t kid)
{
	if (kid)
		kill(kid, SIGKILL);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void expect_refused(enum how how, const char *why)
{
	struct ckpt_err err = { 0 };
	char name[32];
	pid_t kid, pid = spawn(how, &kid);
	pid_t named = kid ? kid : pid;
	int r = freeze_as_nobody(pid, &err);
	bool named_ok, why_ok, rel;

	snprintf(name, sizeof(name), "pid %d ", named);
	named_ok = strstr(err.msg, name);
	why_ok = strstr(err.msg, why);
	rel = released(pid) && (!kid || released(kid));
	kill_all(pid, kid);
	cr_assert_eq(r, -EPERM, "freeze of pid %d: %d (%s)", pid, r, err.msg);
	cr_assert(rel, "the tree of pid %d was not released running", pid);
	cr_assert(named_ok, "'%s' does not name pid %d", err.msg, named);
	cr_assert(why_ok, "'%s' does not say '%s'", err.msg, why);
}

Test(freeze_recheck, own_process_frozen)
{
	struct ckpt_err err = { 0 };
	pid_t kid, pid = spawn(AS_NOBODY, &kid);
	int r = freeze_as_nobody(pid, &err);
	bool rel = released(pid);

	kill_all(pid, kid);
	cr_assert_eq(r, 0, "%s", err.msg);
	cr_assert(rel);
}

Test(freeze_recheck, root_process_refused)
{
	expect_refused(AS_ROOT, "now runs with uid 0; uid 65534 may only dump");
}

Test(freeze_recheck, root_descendant_refused)
{
	expect_refused(AS_NOBODY_ROOT_CHILD, "now runs with uid 0");
}

Test(freeze_recheck, capabilities_refused)
{
	expect_refused(AS_NOBODY_CAPS, "holds capabilities");
}

Test(freeze_recheck, undumpable_refused)
{
	expect_refused(AS_NOBODY_UNDUMPABLE, "not dumpable");
}

Test(freeze_recheck, root_requester_unchecked)
{
	struct dump_opts o = { .requester_uid = 0 };
	struct ckpt_err err = { 0 };
	struct dump_ctx ctx = { .opts = &o, .err = &err, .dirfd = -1 };
	pid_t kid;

	int r;
	bool rel;

	o.pid = spawn(AS_ROOT, &kid);
	r = freeze_tree(&ctx);
	if (r == 0)
		release_tree(&ctx, false);
	pstree_free(&ctx.tree);
	rel = released(o.pid);
	kill_all(o.pid, kid);
	cr_assert_eq(r, 0, "%s", err.msg);
	cr_assert(rel);
}
