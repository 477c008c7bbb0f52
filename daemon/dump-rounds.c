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

static int rounds_dir(void)
{
	/* a minimal system (an initramfs) may lack /run itself */
	if (mkdir("/run", 0755) < 0 && errno != EEXIST)
		return negerrno();
	if (mkdir("/run/ckpt", 0755) < 0 && errno != EEXIST)
		return negerrno();
	if (mkdir(ROUNDS_DIR, 0700) < 0 && errno != EEXIST)
		return negerrno();
	return 0;
}

static void rounds_name(pid_t pid, uint64_t start, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%d-%llu", ROUNDS_DIR, pid, (unsigned long long)start);
}

int rounds_get(pid_t pid, uint64_t start, char *buf, size_t len)
{
	_cleanup_free_ char *text = NULL;
	char path[128];
	int r;

	rounds_name(pid, start, path, sizeof(path));
	r = read_file_at(AT_FDCWD, path, &text, NULL);
	if (r < 0)
		return r;
	snprintf(buf, len, "%s", text);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Records whose process is gone (or is another one now). */
static void rounds_prune(void)
{
	DIR *d = opendir(ROUNDS_DIR);
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
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

int rounds_set(pid_t pid, uint64_t start, const char *set_id)
{
	char path[128], tmp[160];
	int fd, r, n;

	r = rounds_dir();
	if (r < 0)
		return r;
	rounds_prune();
	rounds_name(pid, start, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return negerrno();
	n = dprintf(fd, "%s\n", set_id);
	r = n < 0 ? -EIO : 0;
	if (close(fd) < 0 && r == 0)
		r = negerrno();
	if (r == 0 && rename(tmp, path) < 0)
		r = negerrno();
	if (r < 0)
		unlink(tmp);
	return r;
}

void rounds_forget(pid_t pid, uint64_t start)
{
	char path[128];

	rounds_name(pid, start, path, sizeof(path));
	unlink(path);
}
