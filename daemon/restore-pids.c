/* Restore: every pid and tid the image set names must be free here. */
#include "daemon/restore-int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/proc.h"

/* A pid held by a zombie is free once its parent reaps it, which may take a
 * moment (an init that reaps orphans slowly, a parent busy elsewhere): wait
 * this long at most, in all, polling. A live process fails at once. */
#define RST_ZOMBIE_WAIT_S	5u
#define RST_ZOMBIE_POLL_US	20000u

enum pid_use { PID_FREE, PID_LIVE, PID_ZOMBIE };

static bool pid_taken(pid_t id)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d", id);
	return access(path, F_OK) == 0 || kill(id, 0) == 0 || errno == EPERM;
}

/* Who holds pid (or tid) id here. A zombie waiting to be reaped has no
 * thread left but its main one: a leader that exited before its threads
 * reads "Z" too, but its process runs on. */
static enum pid_use pid_use(pid_t id, pid_t *ret_ppid)
{
	struct proc_stat st;
	pid_t *tids = NULL;
	unsigned nr = 0;
	bool lone;

	if (!pid_taken(id))
		return PID_FREE;
	if (proc_read_stat(id, &st) < 0)
		return pid_taken(id) ? PID_LIVE : PID_FREE;
	if (st.state != 'Z' && st.state != 'X')
		return PID_LIVE;
	lone = proc_read_tids(id, &tids, &nr) < 0 || nr <= 1;
	free(tids);
	if (!lone)
		return PID_LIVE;
	*ret_ppid = st.ppid;
	return PID_ZOMBIE;
}

int rst_check_pids(struct rst_ctx *ctx)
{
	uint64_t deadline = 0;

	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		PstreeEntry *pe = ctx->tasks[i].pe;

		for (size_t j = 0; j < pe->n_threads; j++) {
			pid_t id = pe->threads[j], ppid = 0;
			const char *thread = j ? " (a thread of the image needs it)" : "";
			enum pid_use u;

			while ((u = pid_use(id, &ppid)) == PID_ZOMBIE) {
				uint64_t now = now_us();

				if (!deadline)
					deadline = now + RST_ZOMBIE_WAIT_S * 1000000ull;
				if (now >= deadline)
					return ckpt_fail(ctx->err, -EBUSY,
							 "pid %d is held by a zombie (not yet reaped "
							 "by its parent pid %d); waited %u s%s", id,
							 ppid, RST_ZOMBIE_WAIT_S, thread);
				usleep(RST_ZOMBIE_POLL_US);
			}
			if (u == PID_LIVE)
				return ckpt_fail(ctx->err, -EBUSY, "pid %d is in use%s", id, thread);
		}
	}
	return 0;
}
