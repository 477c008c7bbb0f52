/* Keepers of tracker fds between rounds (keeper.h says what and why).
 *
 * Why a process and not the daemon: the one-shot ckptd that ckptctl starts
 * exits after each request, and a long-lived ckptd serves each request in
 * a handler process that exits too. A keeper costs one sleeping process
 * per tracked task (its memory is a copy-on-write image of the handler's,
 * nearly all shared) and a file in KEEPER_DIR; it holds nothing but the fd
 * and a pidfd of its target, so it goes away by itself with the target.
 *
 * The registry is trusted only as far as it is root's own: the directory
 * must belong to our euid with no access for anyone else, and a keeper
 * named in it must still be the process of that pid and starttime before
 * its fd is taken. */
#include "daemon/track/keeper.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "common/util.h"
#include "daemon/proc.h"
#include "daemon/rundir.h"

#define STOP_WAIT_MS		1000

static bool keeper_alive(const struct keeper *k)
{
	_cleanup_free_ char *comm = NULL;
	char path[64];
	uint64_t start;

	if (k->pid <= 0 || proc_read_start_time(k->pid, &start) < 0 || start != k->start)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", k->pid);
	if (read_file_at(AT_FDCWD, path, &comm, NULL) < 0)
		return false;
	comm[strcspn(comm, "\n")] = '\0';
	return strcmp(comm, KEEPER_COMM) == 0;
}

static bool target_alive(const struct keeper *k)
{
	uint64_t start;

	return proc_read_start_time(k->target, &start) == 0 && start == k->target_start;
}

int keeper_format(const struct keeper *k, char *buf, size_t len)
{
	int n = snprintf(buf, len, "target %d %" PRIu64 " keeper %d %" PRIu64 " fd %d tracker %s\n",
			 k->target, k->target_start, k->pid, k->start, k->fd, k->tracker);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

int keeper_parse(const char *text, struct keeper *ret)
{
	struct keeper k = { 0 };
	unsigned long long ts, ks;
	int n = 0;

	if (sscanf(text, "target %d %llu keeper %d %llu fd %d tracker %15s%n", &k.target, &ts,
		   &k.pid, &ks, &k.fd, k.tracker, &n) != 6 || n == 0)
		return -EBADMSG;
	if (text[n] != '\n' || text[n + 1] != '\0' || k.target <= 0 || k.pid <= 0 || k.fd < 0)
		return -EBADMSG;
	k.target_start = ts;
	k.start = ks;
	*ret = k;
	return 0;
}

static void entry_name(pid_t target, uint64_t start, char *buf, size_t len)
{
	snprintf(buf, len, "%d-%" PRIu64, target, start);
}

static int registry_read(int dirfd, const char *name, struct keeper *ret)
{
	_cleanup_free_ char *text = NULL;
	char expect[64];
	struct keeper k;
	int r;

	r = read_file_at(dirfd, name, &text, NULL);
	if (r < 0)
		return r;
	r = keeper_parse(text, &k);
	if (r < 0)
		return r;
	entry_name(k.target, k.target_start, expect, sizeof(expect));
	if (strcmp(expect, name) != 0)
		return -EBADMSG;
	*ret = k;
	return 0;
}

static int registry_write(int dirfd, const struct keeper *k)
{
	char name[64], line[160];
	int n;

	entry_name(k->target, k->target_start, name, sizeof(name));
	n = keeper_format(k, line, sizeof(line));
	if (n < 0)
		return n;
	return rundir_write(dirfd, name, line, n);
}

/* SIGTERM through a pidfd (never a recycled pid) and wait until it is gone. */
static void keeper_kill(const struct keeper *k)
{
	_cleanup_close_ int pidfd = syscall(SYS_pidfd_open, k->pid, 0);
	struct pollfd p;

	if (pidfd < 0 || !keeper_alive(k))
		return;
	if (syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0) < 0)
		return;
	p = (struct pollfd){ .fd = pidfd, .events = POLLIN };
	poll(&p, 1, STOP_WAIT_MS);
}

/* The keeper itself: only async-signal-safe calls from here on (the
 * process that forked it may have had threads). */
static _Noreturn void keeper_main(int fd, int tpidfd, int devnull, int wpipe, const char *path)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL }, ign = { .sa_handler = SIG_IGN };
	pid_t self = getpid();
	struct pollfd p;
	sigset_t none;
	int h, t, n;

	prctl(PR_SET_NAME, KEEPER_COMM, 0, 0, 0);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
	sigaction(SIGHUP, &ign, NULL);
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGPIPE, &ign, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	h = fcntl(fd, F_DUPFD, 10);
	t = fcntl(tpidfd, F_DUPFD, 10);
	n = fcntl(devnull, F_DUPFD, 10);
	if (h < 0 || t < 0 || n < 0)
		_exit(1);
	if (write(wpipe, &self, sizeof(self)) != sizeof(self))
		_exit(1);
	if (dup2(n, 0) < 0 || dup2(n, 1) < 0 || dup2(n, 2) < 0 ||
	    dup2(h, KEEPER_FD) < 0 || dup2(t, KEEPER_FD + 1) < 0)
		_exit(1);
	syscall(SYS_close_range, KEEPER_FD + 2, ~0u, 0);
	if (chdir("/") < 0)
		_exit(1);
	p = (struct pollfd){ .fd = KEEPER_FD + 1, .events = POLLIN };
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	unlink(path);	/* the target exited: nothing left to keep */
	_exit(0);
}

/* Double fork; the grandchild's pid in *ret. */
static int keeper_spawn(int fd, pid_t target, const char *path, pid_t *ret)
{
	_cleanup_close_ int tpidfd = syscall(SYS_pidfd_open, target, 0);
	_cleanup_close_ int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	_cleanup_close_ int rd = -EBADF;
	int p[2], status, r;
	pid_t mid, kpid = 0;

	if (tpidfd < 0 || devnull < 0)
		return negerrno();
	if (pipe2(p, O_CLOEXEC) < 0)
		return negerrno();
	rd = p[0];
	mid = fork();
	if (mid < 0) {
		r = negerrno();
		close(p[1]);
		return r;
	}
	if (mid == 0) {
		pid_t k;

		setsid();
		k = fork();
		if (k == 0)
			keeper_main(fd, tpidfd, devnull, p[1], path);
		_exit(k < 0);
	}
	close(p[1]);
	while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
		;
	r = read_full(rd, &kpid, sizeof(kpid));
	if (r < 0 || kpid <= 0)
		return -ECHILD;
	*ret = kpid;
	return 0;
}

int keeper_start(pid_t target, int fd, const char *tracker, struct keeper *ret)
{
	_cleanup_close_ int dirfd = -EBADF;
	struct keeper k = { .target = target, .fd = KEEPER_FD };
	char name[64], path[128];
	int r;

	if (strlen(tracker) >= sizeof(k.tracker))
		return -EINVAL;
	strcpy(k.tracker, tracker);
	r = proc_read_start_time(target, &k.target_start);
	if (r < 0)
		return r;
	r = keeper_stop(target);
	if (r < 0)
		return r;
	r = rundir_open(KEEPER_DIR, true, &dirfd);
	if (r < 0)
		return r;
	entry_name(target, k.target_start, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", KEEPER_DIR, name);
	r = keeper_spawn(fd, target, path, &k.pid);
	if (r < 0)
		return r;
	r = proc_read_start_time(k.pid, &k.start);
	if (r == 0)
		r = registry_write(dirfd, &k);
	if (r < 0) {
		kill(k.pid, SIGKILL);	/* ours a moment ago: not yet reaped by anyone */
		return r;
	}
	*ret = k;
	return 0;
}

int keeper_find(pid_t target, struct keeper *ret)
{
	_cleanup_close_ int dirfd = -EBADF;
	struct keeper k;
	uint64_t start;
	char name[64];
	int r;

	r = proc_read_start_time(target, &start);
	if (r < 0)
		return r;
	r = rundir_open(KEEPER_DIR, false, &dirfd);
	if (r < 0)
		return r;
	entry_name(target, start, name, sizeof(name));
	r = registry_read(dirfd, name, &k);
	if (r == -EBADMSG) {
		unlinkat(dirfd, name, 0);
		return -ENOENT;
	}
	if (r < 0)
		return r;
	if (!keeper_alive(&k)) {
		unlinkat(dirfd, name, 0);
		return -ENOENT;
	}
	*ret = k;
	return 0;
}

int keeper_take_fd(const struct keeper *k, int *ret_fd)
{
	_cleanup_close_ int pidfd = syscall(SYS_pidfd_open, k->pid, 0);
	int fd;

	if (pidfd < 0)
		return errno == ESRCH ? -ENOENT : negerrno();
	/* the pidfd pins the process: checked after it was taken, the
	 * starttime proves it is still the keeper */
	if (!keeper_alive(k))
		return -ENOENT;
	fd = syscall(SYS_pidfd_getfd, pidfd, k->fd, 0);
	if (fd < 0)
		return negerrno();
	*ret_fd = fd;
	return 0;
}

/* Call fn on each registry entry (name, parsed entry or NULL if bad). */
static int registry_each(int dirfd, int (*fn)(int dirfd, const char *name, const struct keeper *k,
					       void *data), void *data)
{
	_cleanup_close_ int dfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (dfd < 0)
		return negerrno();
	d = fdopendir(dfd);
	if (!d)
		return negerrno();
	TAKE_FD(dfd);
	rewinddir(d);	/* the offset is shared with dirfd's */
	while (r == 0 && (de = readdir(d))) {
		struct keeper k;

		if (de->d_name[0] == '.')
			continue;
		r = fn(dirfd, de->d_name, registry_read(dirfd, de->d_name, &k) == 0 ? &k : NULL,
		       data);
	}
	closedir(d);
	return r;
}

static int stop_one(int dirfd, const char *name, const struct keeper *k, void *data)
{
	pid_t target = *(pid_t *)data;
	char prefix[24];

	snprintf(prefix, sizeof(prefix), "%d-", target);
	if (strncmp(name, prefix, strlen(prefix)) != 0)
		return 0;
	if (k)
		keeper_kill(k);
	unlinkat(dirfd, name, 0);
	return 0;
}

int keeper_stop(pid_t target)
{
	_cleanup_close_ int dirfd = -EBADF;
	int r = rundir_open(KEEPER_DIR, false, &dirfd);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return registry_each(dirfd, stop_one, &target);
}

struct list_acc {
	struct keeper *k;
	size_t nr, cap;
};

static int list_one(int dirfd, const char *name, const struct keeper *k, void *data)
{
	struct list_acc *a = data;

	if (!k || !target_alive(k) || !keeper_alive(k)) {
		if (k && keeper_alive(k))
			keeper_kill(k);
		unlinkat(dirfd, name, 0);
		return 0;
	}
	if (a->nr == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		struct keeper *nk = realloc(a->k, cap * sizeof(*nk));

		if (!nk)
			return -ENOMEM;
		a->k = nk;
		a->cap = cap;
	}
	a->k[a->nr++] = *k;
	return 0;
}

int keeper_list(struct keeper **ret, size_t *ret_nr)
{
	_cleanup_close_ int dirfd = -EBADF;
	struct list_acc a = { 0 };
	int r = rundir_open(KEEPER_DIR, false, &dirfd);

	if (r == -ENOENT) {
		*ret = NULL;
		*ret_nr = 0;
		return 0;
	}
	if (r < 0)
		return r;
	r = registry_each(dirfd, list_one, &a);
	if (r < 0) {
		free(a.k);
		return r;
	}
	*ret = a.k;
	*ret_nr = a.nr;
	return 0;
}
