/* daemon/proc.c: the /proc parsers on fixed text as this kernel writes it,
 * every field ckpt uses checked, and malformed text refused with -EBADMSG.
 * One live read per file kind makes sure the readers agree with /proc. */
#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/proc.h"

/* --- stat ------------------------------------------------------------------ */

/* A zombie (exit code 42 << 8) whose comm holds ") (" and spaces. */
static const char stat_zombie[] =
	"4242 (a) (b c) Z 4200 4241 4100 0 -1 4227148 99 0 0 0 0 0 0 0 20 0 1 0 "
	"77767 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 "
	"0 0 0 0 0 0 0 10752\n";

Test(proc_stat, zombie_with_odd_comm)
{
	struct proc_stat st;

	cr_assert_eq(proc_parse_stat(stat_zombie, &st), 0);
	cr_assert_str_eq(st.comm, "a) (b c");
	cr_assert_eq(st.state, 'Z');
	cr_assert_eq(st.ppid, 4200);
	cr_assert_eq(st.pgid, 4241);
	cr_assert_eq(st.sid, 4100);
	cr_assert_eq(st.flags, 4227148u);
	cr_assert_eq(st.start_time, 77767u);
	cr_assert_eq(st.exit_signal, 17);
	cr_assert_eq(st.exit_code, 10752);
}

Test(proc_stat, kernel_thread_flag)
{
	const char *kt = "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 "
			 "2 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 0 1 "
			 "0 0 0 0 0 0 0 0 0 0 0 0 0\n";
	struct proc_stat st;

	cr_assert_eq(proc_parse_stat(kt, &st), 0);
	cr_assert(st.flags & PROC_PF_KTHREAD);
	cr_assert_eq(st.exit_code, 0);
}

Test(proc_stat, malformed)
{
	struct proc_stat st;

	cr_assert_eq(proc_parse_stat("", &st), -EBADMSG);
	cr_assert_eq(proc_parse_stat("12 (x S 1 2 3", &st), -EBADMSG);
	cr_assert_eq(proc_parse_stat("12 (x) S 1 2 3\n", &st), -EBADMSG);	/* too short */
	cr_assert_eq(proc_parse_stat("12 (x) S 1 two 3 4 5 6 7 8 9\n", &st), -EBADMSG);
}

Test(proc_stat, live_self)
{
	struct proc_stat st;
	uint64_t start = 0;

	cr_assert_eq(proc_read_stat(getpid(), &st), 0);
	cr_assert_eq(st.state, 'R');
	cr_assert_eq(st.ppid, getppid());
	cr_assert_eq(st.pgid, getpgrp());
	cr_assert_eq(st.sid, getsid(0));
	cr_assert_eq(proc_read_start_time(getpid(), &start), 0);
	cr_assert(start > 0 && start == st.start_time);
	cr_assert_eq(proc_read_stat(0x7ffffff0, &st), -ESRCH);
	cr_assert_eq(proc_read_start_time(0x7ffffff0, &start), -ESRCH);
}

/* --- status ---------------------------------------------------------------- */

static const char status_text[] =
	"Name:\tcat\n"
	"Umask:\t0022\n"
	"State:\tT (stopped)\n"
	"Tgid:\t9964\n"
	"Pid:\t9964\n"
	"PPid:\t9934\n"
	"TracerPid:\t321\n"
	"Uid:\t1000\t1001\t1002\t1003\n"
	"Gid:\t100\t101\t102\t103\n"
	"FDSize:\t64\n"
	"Groups:\t4 24 27 1000 \n"
	"Kthread:\t0\n"
	"SigQ:\t1/96365\n"
	"CapInh:\t0000000000000000\n"
	"CapPrm:\t000001fffeffffff\n"
	"CapEff:\t000001fffeffffff\n"
	"CapBnd:\t000001ffffffffff\n"
	"CapAmb:\t0000000000000400\n"
	"NoNewPrivs:\t1\n"
	"Seccomp:\t0\n";

Test(proc_status, every_field)
{
	struct proc_status st;

	cr_assert_eq(proc_parse_status(status_text, &st), 0);
	cr_assert_eq(st.state, 'T');
	cr_assert_eq(st.tracer_pid, 321);
	cr_assert_eq(st.tgid, 9964);
	cr_assert_eq(st.ppid, 9934);
	cr_assert_eq(st.uid[0], 1000);
	cr_assert_eq(st.uid[3], 1003);
	cr_assert_eq(st.gid[1], 101);
	cr_assert_eq(st.gid[2], 102);
	cr_assert_eq(st.nr_groups, 4);
	cr_assert_eq(st.groups[0], 4);
	cr_assert_eq(st.groups[3], 1000);
	cr_assert_eq(st.cap_inh, 0);
	cr_assert_eq(st.cap_prm, 0x1fffeffffffull);
	cr_assert_eq(st.cap_bnd, 0x1ffffffffffull);
	cr_assert_eq(st.cap_amb, 0x400);
	cr_assert(st.no_new_privs);
	cr_assert(!st.kthread);
	cr_assert_eq(st.seccomp, 0);
	proc_status_free(&st);
}

Test(proc_status, no_groups)
{
	char *t = strdup(status_text);
	struct proc_status st;

	char *g = strstr(t, "Groups:\t") + 8;

	memset(g, ' ', strchr(g, '\n') - g);
	cr_assert_eq(proc_parse_status(t, &st), 0);
	cr_assert_eq(st.nr_groups, 0);
	proc_status_free(&st);
	free(t);
}

Test(proc_status, missing_or_bad_field)
{
	struct proc_status st;
	char *t = strdup(status_text);

	*strstr(t, "CapAmb") = 'X';
	cr_assert_eq(proc_parse_status(t, &st), -EBADMSG);
	free(t);
	t = strdup(status_text);
	memcpy(strstr(t, "Uid:\t1000"), "Uid:\tabcd", 9);
	cr_assert_eq(proc_parse_status(t, &st), -EBADMSG);
	free(t);
	cr_assert_eq(proc_parse_status("Name:\tx\n", &st), -EBADMSG);
}

Test(proc_status, live_self)
{
	struct proc_status st;

	cr_assert_eq(proc_read_status(getpid(), &st), 0);
	cr_assert_eq(st.uid[0], getuid());
	cr_assert_eq(st.gid[1], getegid());
	cr_assert_eq(st.tracer_pid, 0);
	cr_assert_eq(st.tgid, getpid());
	cr_assert_eq(st.ppid, getppid());
	proc_status_free(&st);
}

/* --- pid lists --------------------------------------------------------------- */

Test(proc_pids, lists)
{
	pid_t *v = NULL;
	unsigned n = 99;

	cr_assert_eq(proc_parse_pids("", &v, &n), 0);
	cr_assert_eq(n, 0);
	free(v);
	cr_assert_eq(proc_parse_pids("12 7 3000 ", &v, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(v[0], 12);
	cr_assert_eq(v[2], 3000);
	free(v);
	cr_assert_eq(proc_parse_pids("12 x", &v, &n), -EBADMSG);
	cr_assert_eq(proc_parse_pids("0", &v, &n), -EBADMSG);
}

Test(proc_pids, live_tids_and_children)
{
	pid_t *v = NULL, kid;
	unsigned n;

	cr_assert_eq(proc_read_tids(getpid(), &v, &n), 0);
	cr_assert_geq(n, 1);
	cr_assert_eq(v[0], getpid());
	free(v);
	kid = fork();
	if (kid == 0) {
		pause();
		_exit(0);
	}
	cr_assert_eq(proc_read_children(getpid(), &v, &n), 0);
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	cr_assert_geq(n, 1);
	bool found = false;
	for (unsigned i = 0; i < n; i++)
		found |= v[i] == kid;
	cr_assert(found);
	free(v);
}

/* --- limits ------------------------------------------------------------------ */

static const char limits_text[] =
	"Limit                     Soft Limit           Hard Limit           Units     \n"
	"Max cpu time              unlimited            unlimited            seconds   \n"
	"Max file size             unlimited            unlimited            bytes     \n"
	"Max data size             unlimited            unlimited            bytes     \n"
	"Max stack size            8388608              unlimited            bytes     \n"
	"Max core file size        0                    unlimited            bytes     \n"
	"Max resident set          unlimited            unlimited            bytes     \n"
	"Max processes             96365                96365                processes \n"
	"Max open files            20000                1048576              files     \n"
	"Max locked memory         8388608              8388608              bytes     \n"
	"Max address space         unlimited            unlimited            bytes     \n"
	"Max file locks            unlimited            unlimited            locks     \n"
	"Max pending signals       96365                96365                signals   \n"
	"Max msgqueue size         819200               819200               bytes     \n"
	"Max nice priority         0                    0                    \n"
	"Max realtime priority     0                    0                    \n"
	"Max realtime timeout      unlimited            unlimited            us        \n";

Test(proc_limits, every_resource)
{
	struct proc_rlimit lim[PROC_NR_RLIMITS];

	cr_assert_eq(proc_parse_limits(limits_text, lim), 0);
	cr_assert_eq(lim[RLIMIT_CPU].cur, UINT64_MAX);
	cr_assert_eq(lim[RLIMIT_STACK].cur, 8388608);
	cr_assert_eq(lim[RLIMIT_STACK].max, UINT64_MAX);
	cr_assert_eq(lim[RLIMIT_CORE].cur, 0);
	cr_assert_eq(lim[RLIMIT_NOFILE].cur, 20000);
	cr_assert_eq(lim[RLIMIT_NOFILE].max, 1048576);
	cr_assert_eq(lim[RLIMIT_MSGQUEUE].max, 819200);
	cr_assert_eq(lim[RLIMIT_NICE].cur, 0);
	cr_assert_eq(lim[RLIMIT_RTTIME].max, UINT64_MAX);
}

Test(proc_limits, incomplete_or_unknown)
{
	struct proc_rlimit lim[PROC_NR_RLIMITS];
	char *t = strdup(limits_text);

	*strstr(t, "Max realtime timeout") = '\0';
	cr_assert_eq(proc_parse_limits(t, lim), -EBADMSG);
	free(t);
	t = strdup(limits_text);
	memcpy(strstr(t, "Max file locks"), "Max fire locks", 14);
	cr_assert_eq(proc_parse_limits(t, lim), -EBADMSG);
	free(t);
	cr_assert_eq(proc_parse_limits("nonsense\n", lim), -EBADMSG);
}

Test(proc_limits, live_self)
{
	struct proc_rlimit lim[PROC_NR_RLIMITS];
	struct rlimit rl;

	cr_assert_eq(proc_read_limits(getpid(), lim), 0);
	getrlimit(RLIMIT_NOFILE, &rl);
	cr_assert_eq(lim[RLIMIT_NOFILE].cur, rl.rlim_cur);
	cr_assert_eq(lim[RLIMIT_NOFILE].max, rl.rlim_max);
	getrlimit(RLIMIT_STACK, &rl);
	cr_assert_eq(lim[RLIMIT_STACK].cur, rl.rlim_cur);
}

/* --- timers ------------------------------------------------------------------ */

static const char timers_text[] =
	"ID: 1\n"
	"signal: 0/0000000000000000\n"
	"notify: none/pid.9959\n"
	"ClockID: 0\n"
	"ID: 0\n"
	"signal: 12/00007ffc12345678\n"
	"notify: signal/tid.9960\n"
	"ClockID: 1\n";

Test(proc_timers, two)
{
	struct proc_timer *v;
	unsigned n;

	cr_assert_eq(proc_parse_timers(timers_text, &v, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(v[0].id, 1);
	cr_assert_eq(v[0].notify, 1);		/* SIGEV_NONE */
	cr_assert_eq(v[0].notify_pid, 9959);
	cr_assert_eq(v[0].clock_id, 0);
	cr_assert_eq(v[1].id, 0);
	cr_assert_eq(v[1].signo, 12);
	cr_assert_eq(v[1].sival, 0x7ffc12345678ull);
	cr_assert_eq(v[1].notify, 4);		/* SIGEV_SIGNAL | SIGEV_THREAD_ID */
	cr_assert_eq(v[1].notify_pid, 9960);
	cr_assert_eq(v[1].clock_id, 1);
	free(v);
}

Test(proc_timers, none_and_malformed)
{
	struct proc_timer *v = NULL;
	unsigned n = 5;

	cr_assert_eq(proc_parse_timers("", &v, &n), 0);
	cr_assert_eq(n, 0);
	free(v);
	cr_assert_eq(proc_parse_timers("ID: 1\nsignal: 0/0\n", &v, &n), -EBADMSG);
	cr_assert_eq(proc_parse_timers("ID: 1\nsignal: 0/0\nnotify: odd/pid.1\nClockID: 0\n",
				       &v, &n), -EBADMSG);
}

Test(proc_hex, personality)
{
	uint32_t v;

	cr_assert_eq(proc_parse_hex32("00400000\n", &v), 0);
	cr_assert_eq(v, 0x400000);
	cr_assert_eq(proc_parse_hex32("zz\n", &v), -EBADMSG);
}
