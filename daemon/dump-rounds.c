/* Which round live tracking counts from: see dump-rounds.h. */
#include "daemon/dump-rounds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/proc.h"
#include "daemon/rundir.h"

static void rounds_name(pid_t pid, uint64_t start, char *buf, size_t len)
{
	snprintf(buf, len, "%d-%llu", pid, (unsigned long long)start);
}

int rounds_get(pid_t pid, uint64_t start, char *buf, size_t len)
{
	_cleanup_close_ int dirfd = -EBADF;
	_cleanup_free_ char *text = NULL;
	char name[64];
	int r;

	r = rundir_open(ROUNDS_DIR, false, &dirfd);
	if (r < 0)
		return r;
	rounds_name(pid, start, name, sizeof(name));
	r = read_file_at(dirfd, name, &text, NULL);
	if (r < 0)
		return r;
	snprintf(buf, len, "%s", text);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Records whose process is gone (or is another one now). */
static void rounds_prune(int dirfd)
{
	DIR *d = fd_opendir(dirfd);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		unsigned long long start;
		uint64_t now;
		int pid;

		if (sscanf(de->d_name, "%d-%llu", &pid, &start) != 2)
			continue;
		if (proc_read_start_time(pid, &now) < 0 || now != start)
			unlinkat(dirfd, de->d_name, 0);
	}
	closedir(d);
}

int rounds_set(pid_t pid, uint64_t start, const char *set_id)
{
	_cleanup_close_ int dirfd = -EBADF;
	char name[64], line[128];
	int r, n;

	r = rundir_open(ROUNDS_DIR, true, &dirfd);
	if (r < 0)
		return r;
	rounds_prune(dirfd);
	rounds_name(pid, start, name, sizeof(name));
	n = snprintf(line, sizeof(line), "%s\n", set_id);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EINVAL;
	return rundir_write(dirfd, name, line, n);
}

void rounds_forget(pid_t pid, uint64_t start)
{
	_cleanup_close_ int dirfd = -EBADF;
	char name[64];

	if (rundir_open(ROUNDS_DIR, false, &dirfd) < 0)
		return;
	rounds_name(pid, start, name, sizeof(name));
	unlinkat(dirfd, name, 0);
}
