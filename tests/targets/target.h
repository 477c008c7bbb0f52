/* The life of a test target, in the manner of CRIU's zdtm:
 *
 *   1. set up its state (memory, threads, files, signals...),
 *   2. target_ready(): tell the harness (status file gets "ready PID"),
 *   3. target_wait(): sleep until SIGUSR1 (the harness dumps meanwhile,
 *      and for restore tests kills and restores it),
 *   4. verify every byte and setting itself; target_pass() or target_fail()
 *      write "pass" or "fail: why" to the status file and exit.
 *
 * The status file is $CKPT_STATUS (default ./target.status). It is written
 * whole through a rename, so the harness never reads half a line. Targets
 * must not change their memory between ready and SIGUSR1: the harness
 * compares the image's pages with their live memory. */
#ifndef CKPT_TARGET_H
#define CKPT_TARGET_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t target_go;

/* A process-directed SIGUSR1 may land on any thread; the main thread
 * sleeps in target_wait(), so pass it on to wake it up. */
static void target_on_usr1(int sig)
{
	int saved = errno;

	target_go = 1;
	if (syscall(SYS_gettid) != getpid())
		syscall(SYS_tgkill, getpid(), getpid(), SIGUSR1);
	errno = saved;
}

static void target_status(const char *line)
{
	const char *path = getenv("CKPT_STATUS");
	char tmp[4096];
	FILE *f;

	if (!path)
		path = "target.status";
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, getpid());
	f = fopen(tmp, "w");
	if (!f) {
		perror(tmp);
		exit(2);
	}
	fprintf(f, "%s\n", line);
	fclose(f);
	rename(tmp, path);
}

/* Install the SIGUSR1 handler early (before ready) so it is dumped too. */
static void target_init(void)
{
	struct sigaction sa = { .sa_handler = target_on_usr1 };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

static void target_ready(void)
{
	char line[64];

	snprintf(line, sizeof(line), "ready %d", getpid());
	target_status(line);
}

/* Sleeps in a restartable syscall, so a dump catches it inside one. */
static void target_wait(void)
{
	while (!target_go)
		pause();
}

static void target_pass(void)
{
	target_status("pass");
	exit(0);
}

__attribute__((format(printf, 1, 2)))
static void target_fail(const char *fmt, ...)
{
	char line[1024] = "fail: ";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line + 6, sizeof(line) - 6, fmt, ap);
	va_end(ap);
	target_status(line);
	exit(1);
}

/* The directory of the status file: where a target may create its files
 * (the harness's private temporary directory). Returns a static buffer. */
static inline const char *target_dir(void)
{
	static char dir[4096];
	const char *path = getenv("CKPT_STATUS");
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path ? path : "./target.status");
	slash = strrchr(dir, '/');
	if (!slash)
		return ".";
	if (slash == dir)
		return "/";
	*slash = '\0';
	return dir;
}

/* Append one line to $CKPT_STATUS.info: facts the harness checks the image
 * against, e.g. "absent PID START END" (an address range the image must
 * not store) or "present PID START END" (one it must store whole).
 * Written with one write() on O_APPEND, so children may note too. */
__attribute__((format(printf, 1, 2)))
static inline void target_note(const char *fmt, ...)
{
	const char *path = getenv("CKPT_STATUS");
	char name[4096], line[1024];
	va_list ap;
	int fd, n;

	snprintf(name, sizeof(name), "%s.info", path ? path : "target.status");
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	fd = open(name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, n) != n) {
		perror(name);
		exit(2);
	}
	close(fd);
}

/* A deterministic byte pattern: what page p of region `seed` holds. */
static inline uint64_t target_pattern(uint64_t seed, uint64_t word)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + word + 1;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static inline void target_fill(void *p, size_t len, uint64_t seed)
{
	uint64_t *w = p;

	for (size_t i = 0; i < len / 8; i++)
		w[i] = target_pattern(seed, i);
}

/* Index of the first wrong word, or -1. */
static inline long target_check(const void *p, size_t len, uint64_t seed)
{
	const uint64_t *w = p;

	for (size_t i = 0; i < len / 8; i++)
		if (w[i] != target_pattern(seed, i))
			return (long)i;
	return -1;
}

#endif
