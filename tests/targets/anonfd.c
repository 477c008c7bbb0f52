/* Anonymous-inode files a restore recreates: eventfds, epoll, signalfd
 * and timerfds.
 *
 *	anonfd
 *
 * An eventfd whose counter exceeds 32 bits, one in semaphore mode, a pipe
 * with a byte buffered, an epoll file watching the pipe (level), the
 * semaphore eventfd (one-shot, already fired, so disarmed) and the big
 * eventfd (edge-triggered), and a second epoll file watching the first.
 * A child inherits the first epoll file (the parent added its watches).
 * After SIGUSR1 the parent checks its watches (fdinfo: fd, events, data),
 * what epoll_wait reports, that the watches answer EPOLL_CTL_MOD/DEL
 * under their fd numbers, and the counters; the child checks it sees the
 * pipe through the inherited epoll file.
 * A signalfd for SIGUSR2 and SIGRTMIN+2 (blocked, one SIGUSR2 pending)
 * must read that SIGUSR2. Timerfds: a periodic one with 100 s left and a
 * 1 s interval, an absolute one 50 s ahead, and an expired one-shot with
 * one expiration not read: their time left may only have shrunk, by no
 * more than the time that passed, the expiration must still be there to
 * read. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>

#include "target.h"

#define BIG_COUNT	0x100000005ull
#define D_PIPE		0x1111
#define D_SEM		0x2222
#define D_BIG		0x3333
#define D_NESTED	0x4444

static int efd_big, efd_sem, pfd[2], ep, ep2, child_pipe[2];
static char watches_before[2048];
static pid_t child;
static int sfd, tfd_periodic, tfd_abs, tfd_expired;
static char sigmask_before[128];
static struct timespec started;

/* The "tfd: N events: X data: Y" part of each watch of epoll fd,
 * without pos/ino/sdev (a new pipe has a new inode). */
static void watches(int fd, char *out, size_t len)
{
	char path[64], line[256];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		target_fail("%s: %s", path, strerror(errno));
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		int tfd;
		unsigned ev;
		unsigned long long data;

		if (sscanf(line, "tfd: %d events: %x data: %llx", &tfd, &ev, &data) == 3)
			n += snprintf(out + n, len - n, "%d:%x:%llx ", tfd, ev, data);
	}
	fclose(f);
	/* fdinfo lists them in the kernel's tree order: sort */
	for (char *a = out; *a;) {
		char *ea = strchr(a, ' ') + 1, *min = a, *emin = ea, tmp[64];

		for (char *b = ea; *b;) {
			char *eb = strchr(b, ' ') + 1;

			if (strncmp(b, min, 64) < 0) {
				min = b;
				emin = eb;
			}
			b = eb;
		}
		if (min != a) {	/* rotate [a, emin) so min comes first */
			size_t lmin = emin - min;

			memcpy(tmp, min, lmin);
			memmove(a + lmin, a, min - a);
			memcpy(a, tmp, lmin);
		}
		a += emin - min;
	}
}

/* The data words epoll_wait reports now, as a bit set of D_* indexes. */
static unsigned ready(int fd)
{
	struct epoll_event ev[8];
	unsigned set = 0;
	int n = epoll_wait(fd, ev, 8, 0);

	for (int i = 0; i < n; i++)
		set |= 1u << (ev[i].data.u64 >> 12);	/* 0x1111 -> 1, 0x2222 -> 2... */
	return set;
}

static void add(int epfd, int fd, unsigned events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev))
		target_fail("epoll_ctl ADD %d: %s", fd, strerror(errno));
}

static void child_main(void)
{
	char c;

	close(child_pipe[1]);
	if (read(child_pipe[0], &c, 1) != 1)	/* the parent says when */
		_exit(10);
	_exit(ready(ep) & (1u << 1) ? 0 : 11);
}

/* The "sigmask:" line of a signalfd's fdinfo. */
static void sigmask_line(int fd, char *out, size_t len)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		target_fail("%s: %s", path, strerror(errno));
	out[0] = '\0';
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "sigmask:", 8))
			snprintf(out, len, "%s", line);
	fclose(f);
}

static void setup_sig_timers(void)
{
	struct itimerspec periodic = { { 1, 0 }, { 100, 0 } }, once = { { 0, 0 }, { 0, 1000 } };
	struct itimerspec abs = { { 0, 0 }, { 0, 0 } };
	struct timespec now;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN + 2);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		target_fail("sigprocmask: %s", strerror(errno));
	sfd = signalfd(-1, &set, SFD_NONBLOCK);
	if (sfd < 0 || kill(getpid(), SIGUSR2))
		target_fail("signalfd: %s", strerror(errno));
	sigmask_line(sfd, sigmask_before, sizeof(sigmask_before));

	clock_gettime(CLOCK_MONOTONIC, &started);
	tfd_periodic = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	tfd_abs = timerfd_create(CLOCK_MONOTONIC, 0);
	tfd_expired = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (tfd_periodic < 0 || tfd_abs < 0 || tfd_expired < 0)
		target_fail("timerfd_create: %s", strerror(errno));
	now = started;
	abs.it_value.tv_sec = now.tv_sec + 50;
	abs.it_value.tv_nsec = now.tv_nsec;
	if (timerfd_settime(tfd_periodic, 0, &periodic, NULL) ||
	    timerfd_settime(tfd_abs, TFD_TIMER_ABSTIME, &abs, NULL) ||
	    timerfd_settime(tfd_expired, 0, &once, NULL))
		target_fail("timerfd_settime: %s", strerror(errno));
	usleep(10000);	/* the one-shot expires */
}

/* Time left of a timerfd: never more than it was, and it ran no slower
 * than the time passed (the restore counts the time left at the dump
 * from the restore on: the time between them does not count). */
static void check_left(int fd, const char *what, double was)
{
	struct itimerspec its;
	struct timespec now;
	double passed, left;

	if (timerfd_gettime(fd, &its))
		target_fail("timerfd_gettime %s: %s", what, strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &now);
	passed = (now.tv_sec - started.tv_sec) + (now.tv_nsec - started.tv_nsec) / 1e9;
	left = its.it_value.tv_sec + its.it_value.tv_nsec / 1e9;
	if (left <= 0 || left > was || left < was - passed - 1)
		target_fail("%s timerfd: %.3f s left after %.3f s, it had %.0f s", what, left,
			    passed, was);
}

static void check_sig_timers(void)
{
	struct signalfd_siginfo si;
	struct itimerspec its;
	char now[128];
	uint64_t ticks;

	sigmask_line(sfd, now, sizeof(now));
	if (strcmp(now, sigmask_before))
		target_fail("signalfd %s, was %s", now, sigmask_before);
	if (read(sfd, &si, sizeof(si)) != sizeof(si) || si.ssi_signo != SIGUSR2)
		target_fail("signalfd: no pending SIGUSR2 to read (%s)", strerror(errno));
	if (read(sfd, &si, sizeof(si)) >= 0 || errno != EAGAIN)
		target_fail("signalfd: a second signal to read");
	check_left(tfd_periodic, "periodic", 100);
	if (timerfd_gettime(tfd_periodic, &its) || its.it_interval.tv_sec != 1 ||
	    its.it_interval.tv_nsec)
		target_fail("periodic timerfd: interval %ld.%09ld, want 1 s",
			    (long)its.it_interval.tv_sec, its.it_interval.tv_nsec);
	check_left(tfd_abs, "absolute", 50);
	if (read(tfd_expired, &ticks, sizeof(ticks)) != sizeof(ticks) || ticks != 1)
		target_fail("expired timerfd: read %s, %llu expirations, want 1",
			    strerror(errno), (unsigned long long)ticks);
	if (timerfd_gettime(tfd_expired, &its) || its.it_value.tv_sec || its.it_value.tv_nsec)
		target_fail("the expired one-shot timerfd is armed again");
}

static void setup(void)
{
	uint64_t big = BIG_COUNT;

	efd_big = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	efd_sem = eventfd(3, EFD_NONBLOCK | EFD_SEMAPHORE);
	if (efd_big < 0 || efd_sem < 0 || write(efd_big, &big, sizeof(big)) != sizeof(big))
		target_fail("eventfd: %s", strerror(errno));
	if (pipe2(pfd, O_NONBLOCK) || write(pfd[1], "x", 1) != 1 || pipe2(child_pipe, O_CLOEXEC))
		target_fail("pipe: %s", strerror(errno));
	ep = epoll_create1(0);
	ep2 = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || ep2 < 0)
		target_fail("epoll_create1: %s", strerror(errno));
	add(ep, pfd[0], EPOLLIN, D_PIPE);
	add(ep, efd_sem, EPOLLIN | EPOLLONESHOT, D_SEM);
	if (ready(ep) != ((1u << 1) | (1u << 2)))	/* fires the one-shot */
		target_fail("before: epoll reports %#x", ready(ep));
	add(ep, efd_big, EPOLLIN | EPOLLET, D_BIG);
	add(ep2, ep, EPOLLIN, D_NESTED);
	watches(ep, watches_before, sizeof(watches_before));
	child = fork();
	if (child < 0)
		target_fail("fork: %s", strerror(errno));
	if (!child)
		child_main();
	close(child_pipe[0]);
}

static void check(void)
{
	char now[2048];
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = D_SEM };
	uint64_t v;
	unsigned r;
	int status;

	watches(ep, now, sizeof(now));
	if (strcmp(now, watches_before))
		target_fail("epoll watches '%s', were '%s'", now, watches_before);
	if (!(fcntl(efd_big, F_GETFL) & O_NONBLOCK) || (fcntl(ep, F_GETFL) & O_NONBLOCK))
		target_fail("O_NONBLOCK of the eventfd or epoll changed");
	if (!(fcntl(ep2, F_GETFD) & FD_CLOEXEC) || (fcntl(ep, F_GETFD) & FD_CLOEXEC))
		target_fail("FD_CLOEXEC of the epoll fds changed");
	r = ready(ep);
	if (!(r & (1u << 1)) || (r & (1u << 2)))
		target_fail("epoll reports %#x: want the pipe, not the disarmed one-shot", r);
	if (!(ready(ep2) & (1u << 4)))
		target_fail("the nested epoll does not see the first one ready");
	if (write(child_pipe[1], "g", 1) != 1 || waitpid(child, &status, 0) != child)
		target_fail("child: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		target_fail("child: status %#x (11: no pipe through the inherited epoll)", status);
	if (epoll_ctl(ep, EPOLL_CTL_MOD, efd_sem, &ev))
		target_fail("EPOLL_CTL_MOD of fd %d: %s", efd_sem, strerror(errno));
	if (!(ready(ep) & (1u << 2)))
		target_fail("the re-armed semaphore eventfd is not reported");
	if (epoll_ctl(ep, EPOLL_CTL_DEL, pfd[0], NULL))
		target_fail("EPOLL_CTL_DEL of fd %d: %s", pfd[0], strerror(errno));
	if (read(efd_sem, &v, sizeof(v)) != sizeof(v) || v != 1)
		target_fail("semaphore eventfd read %llu", (unsigned long long)v);
	if (read(efd_big, &v, sizeof(v)) != sizeof(v) || v != BIG_COUNT)
		target_fail("eventfd counter %#llx, want %#llx", (unsigned long long)v, BIG_COUNT);
	if (read(efd_big, &v, sizeof(v)) >= 0 || errno != EAGAIN)
		target_fail("the eventfd is not empty after a read");
}

int main(void)
{
	target_init();
	setup();
	setup_sig_timers();
	target_ready();
	target_wait();
	check();
	check_sig_timers();
	target_pass();
}
