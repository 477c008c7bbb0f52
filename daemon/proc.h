/* /proc parsing for the freeze and core dump: stat, status, children,
 * limits, timers.
 *
 * Each file has a parser over a NUL-terminated string (unit-tested on fixed
 * text) and a reader that fetches the file of one pid. Everything returns 0
 * or -errno: -ENOENT/-ESRCH when the process is gone, -EBADMSG when the text
 * is not what the kernel writes. */
#ifndef CKPT_PROC_H
#define CKPT_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PROC_PF_KTHREAD 0x00200000u	/* task->flags of a kernel thread */

/* /proc/PID/stat, the fields ckpt needs. */
struct proc_stat {
	char comm[64];
	char state;		/* R S D T t Z X I ... */
	pid_t ppid, pgid, sid;
	unsigned flags;		/* field 9 */
	uint64_t start_time;	/* field 22: clock ticks after boot; with the
				   pid, names one process for good */
	int exit_signal;	/* field 38 */
	int exit_code;		/* field 52: the wait status of a zombie */
};

int proc_parse_stat(const char *buf, struct proc_stat *ret);
int proc_read_stat(pid_t pid, struct proc_stat *ret);
/* Whether pid (or tid) has exited or is exiting: no /proc/PID/stat to
 * read, or a zombie (Z) or dead (X) state. */
bool proc_dying(pid_t pid);
/* Only the start time of pid (field 22); -ESRCH when it is gone. */
int proc_read_start_time(pid_t pid, uint64_t *ret);

/* /proc/PID/status, the fields ckpt needs. */
struct proc_status {
	char state;
	pid_t tgid, ppid;
	pid_t tracer_pid;
	uint32_t uid[4], gid[4];	/* real, effective, saved, fs */
	uint32_t *groups;		/* malloc'ed; free with proc_status_free */
	unsigned nr_groups;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	bool no_new_privs;
	bool kthread;			/* "Kthread: 1" */
	int seccomp;			/* 0 off, 1 strict, 2 filter */
};

int proc_parse_status(const char *buf, struct proc_status *ret);
int proc_read_status(pid_t pid, struct proc_status *ret);
void proc_status_free(struct proc_status *s);

/* A list of decimal pids separated by blanks (.../children). */
int proc_parse_pids(const char *buf, pid_t **ret, unsigned *ret_nr);
/* Every tid in /proc/PID/task, sorted, main thread first. */
int proc_read_tids(pid_t pid, pid_t **ret, unsigned *ret_nr);
/* The text of /proc/PID/fdinfo/FD into *ret (malloc'ed); -ESRCH when gone. */
int proc_read_fdinfo(pid_t pid, int fd, char **ret);
/* Children of every thread of pid (/proc/PID/task/TID/children), sorted. */
int proc_read_children(pid_t pid, pid_t **ret, unsigned *ret_nr);

#define PROC_NR_RLIMITS 16
struct proc_rlimit {
	uint64_t cur, max;	/* RLIM_INFINITY (all ones) for "unlimited" */
};

/* /proc/PID/limits, indexed by RLIMIT_*: every line must be known and
 * every resource present. */
int proc_parse_limits(const char *buf, struct proc_rlimit lim[PROC_NR_RLIMITS]);
int proc_read_limits(pid_t pid, struct proc_rlimit lim[PROC_NR_RLIMITS]);

/* /proc/PID/timers: one entry per POSIX timer. */
struct proc_timer {
	int id;
	int signo;
	uint64_t sival;
	int notify;		/* sigev_notify, SIGEV_THREAD_ID included */
	pid_t notify_pid;	/* pid or tid the signal goes to */
	int clock_id;
};

int proc_parse_timers(const char *buf, struct proc_timer **ret, unsigned *ret_nr);
int proc_read_timers(pid_t pid, struct proc_timer **ret, unsigned *ret_nr);

/* /proc/PID/personality (hex). */
int proc_parse_hex32(const char *buf, uint32_t *ret);

#endif
