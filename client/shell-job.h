/* ckptctl restore --shell-job: the job restored on our terminal runs in
 * its foreground while we wait for it (client/shell-job.c). */
#ifndef CKPT_CLIENT_SHELL_JOB_H
#define CKPT_CLIENT_SHELL_JOB_H

#include <stdbool.h>
#include <sys/types.h>

/* The terminal to give the job: standard input, or -ENOTTY. */
int shell_job_tty(void);
/* Whether the job can come back into our session: we are root (the
 * one-shot ckptd we start must be) and the terminal is our session's
 * controlling tty. If so we become a child subreaper, so that the job's
 * root, once ckptd's restore process exits, is our child: 1; 0 if not
 * (the job comes back outside our session), or -errno. */
int shell_job_adopt(int tty);
/* The job (root pid, our child) runs in the terminal's foreground, put
 * there by ckptd: wait for it as a shell does. A SIGHUP or SIGTERM to us
 * goes to its process group. If it stops, we take the foreground back and
 * stop too (our shell sees a stopped job); continued, we continue it, in
 * the foreground if we are in it. Returns its status as a shell's $?
 * (its exit code, or 128 + the signal that killed it), or -errno. */
int shell_job_run(pid_t pid, int tty);
/* Our process group takes the terminal's foreground back, if it is the
 * job's group's or no live group's (a restore that failed). */
void shell_job_take_tty(int tty, pid_t job_pgrp);
/* The job outside our session: wait until pid is gone, passing the
 * signals the terminal sends us (^C, ^\, a hang-up) and SIGTERM to its
 * process group. 0, or -errno. */
int shell_job_wait(pid_t pid);

#endif
