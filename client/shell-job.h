/* ckptctl restore --shell-job: the job restored on our terminal runs in
 * its foreground while we wait for it (client/shell-job.c). */
#ifndef CKPT_CLIENT_SHELL_JOB_H
#define CKPT_CLIENT_SHELL_JOB_H

#include <stdbool.h>
#include <sys/types.h>

/* The terminal to give the job: standard input, or -ENOTTY. */
int shell_job_tty(void);
/* Wait until pid is gone, passing the signals the terminal sends us (^C,
 * ^\, a hang-up) and SIGTERM to its process group. 0, or -errno. */
int shell_job_wait(pid_t pid);

#endif
