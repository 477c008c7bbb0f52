/* Not a target of its own: a parent slow to reap, as an init that reaps
 * orphans late.
 *
 *	latereap SECONDS TARGET [ARGS...]
 *
 * Runs TARGET as its child, in a session of the child's own (so the child
 * is a whole tree to dump), and waits until the child has exited without
 * reaping it: the child is a zombie holding its pid. SECONDS later it reaps
 * it, writes "PID NS" (the pid and the CLOCK_REALTIME time of the reap in
 * ns) to $CKPT_STATUS.reaped and exits. The child writes the status file;
 * this program says what went wrong on stderr only (not a target.h one). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "latereap: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

int main(int argc, char **argv)
{
	char path[4200], tmp[4300];
	struct timespec hold = { 0 }, now;
	siginfo_t si;
	FILE *f;
	pid_t c;

	if (argc < 3)
		die("usage: latereap SECONDS TARGET [ARGS...]");
	hold.tv_sec = atoi(argv[1]);
	c = fork();
	if (c < 0)
		die("fork: %s", strerror(errno));
	if (c == 0) {
		setsid();
		execv(argv[2], argv + 2);
		die("cannot run %s: %s", argv[2], strerror(errno));
	}
	while (waitid(P_PID, c, &si, WEXITED | WNOWAIT) < 0)
		if (errno != EINTR)
			die("waitid: %s", strerror(errno));
	while (nanosleep(&hold, &hold) < 0 && errno == EINTR)
		;
	if (waitpid(c, NULL, 0) != c)
		die("waitpid %d: %s", c, strerror(errno));
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(path, sizeof(path), "%s.reaped", getenv("CKPT_STATUS") ? getenv("CKPT_STATUS")
									 : "target.status");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return 1;
	fprintf(f, "%d %lld\n", c, (long long)now.tv_sec * 1000000000ll + now.tv_nsec);
	fclose(f);
	rename(tmp, path);
	return 0;
}
