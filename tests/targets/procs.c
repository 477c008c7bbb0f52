/* Process-tree target: a root with
 *   - a running child in a process group of its own, which has a running
 *     grandchild; both hold private memory of their own,
 *   - an anonymous shared map shared by root and child (each wrote half),
 *   - a pipe from the child to the root with unread bytes buffered in it,
 *   - a zombie child (exited with 42, not reaped),
 *   - a stopped child (SIGSTOP), which holds memory too.
 * After SIGUSR1 the root checks its memory, the zombie (still a zombie,
 * still 42), the stopped child (still stopped), the pipe's bytes, then
 * wakes the others, which check themselves and report through a pipe; the
 * child finally writes into the shared map and the root must see it.
 *
 *	procs
 *
 * Notes for the harness: "task PID PPID alive|zombie|stopped" per process. */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "target.h"

#define PG		4096ul
#define SHARED_SIZE	(2ul << 20)
#define PRIVATE_SIZE	(1ul << 20)
#define PIPE_BYTES	3000

static unsigned char *shared;
static unsigned char *private_mem;
static int report_pipe[2];	/* children -> root: one line each */

static void *map_anon(size_t len, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		target_fail("mmap: %s", strerror(errno));
	return p;
}

static char proc_state(pid_t pid)
{
	char path[64], state = '?';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return '?';
	if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
		state = '?';
	fclose(f);
	return state;
}

/* A child's verdict, written whole into the report pipe. */
__attribute__((format(printf, 1, 2)))
static void child_report(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "%d ", getpid());
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(report_pipe[1], line, n) != n)
		_exit(3);
}

static void wait_ready_byte(int fd)
{
	char c;

	if (read(fd, &c, 1) != 1)
		target_fail("a child died during setup");
}

/* grandchild: private memory, waits for SIGUSR1 from its parent */
static void grandchild(int ready_fd)
{
	unsigned char *mem = map_anon(PRIVATE_SIZE, MAP_PRIVATE);

	target_fill(mem, PRIVATE_SIZE, 300);
	if (write(ready_fd, "g", 1) != 1)
		_exit(3);
	close(ready_fd);
	target_wait();
	if (target_check(mem, PRIVATE_SIZE, 300) >= 0)
		child_report("fail: grandchild memory differs");
	else if (getppid() <= 1)
		child_report("fail: grandchild lost its parent");
	else
		child_report("ok grandchild");
	_exit(0);
}

/* child: its own process group, half of the shared map, the pipe's
 * writer, the grandchild's parent */
static void child(int ready_fd, int data_wr)
{
	unsigned char buf[PIPE_BYTES];
	pid_t gpid, pgid;
	int st;

	setpgid(0, 0);
	pgid = getpgid(0);
	target_fill(private_mem, PRIVATE_SIZE, 200);
	target_fill(shared + SHARED_SIZE / 2, SHARED_SIZE / 2, 101);
	target_fill(buf, sizeof(buf), 400);
	if (write(data_wr, buf, sizeof(buf)) != sizeof(buf))
		_exit(3);
	gpid = fork();
	if (gpid == 0)
		grandchild(ready_fd);
	if (gpid < 0)
		_exit(3);
	if (write(ready_fd, "c", 1) != 1)
		_exit(3);
	close(ready_fd);
	target_wait();

	if (target_check(private_mem, PRIVATE_SIZE, 200) >= 0)
		child_report("fail: child private memory differs");
	else if (target_check(shared, SHARED_SIZE / 2, 100) >= 0)
		child_report("fail: child sees the root's half of the shared map differ");
	else if (target_check(shared + SHARED_SIZE / 2, SHARED_SIZE / 2, 101) >= 0)
		child_report("fail: child's half of the shared map differs");
	else if (getpgid(0) != pgid)
		child_report("fail: child process group %d, was %d", getpgid(0), pgid);
	else
		child_report("ok child");
	kill(gpid, SIGUSR1);
	if (waitpid(gpid, &st, 0) != gpid || !WIFEXITED(st) || WEXITSTATUS(st))
		child_report("fail: grandchild did not exit cleanly");
	/* the root must see this write: the map is still shared */
	memcpy(shared + 100, "child was here", 15);
	close(data_wr);
	_exit(0);
}

/* stopped child: stops itself; checks its memory once continued */
static void stopped_child(void)
{
	unsigned char *mem = map_anon(PRIVATE_SIZE, MAP_PRIVATE);

	target_fill(mem, PRIVATE_SIZE, 500);
	raise(SIGSTOP);
	if (target_check(mem, PRIVATE_SIZE, 500) >= 0)
		child_report("fail: stopped child memory differs");
	else
		child_report("ok stopped");
	_exit(0);
}

static void check_pipe(int fd)
{
	unsigned char want[PIPE_BYTES], got[PIPE_BYTES + 1];
	ssize_t n;

	target_fill(want, sizeof(want), 400);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	n = read(fd, got, sizeof(got));
	if (n != PIPE_BYTES)
		target_fail("pipe held %zd bytes, expected %d", n, PIPE_BYTES);
	if (memcmp(want, got, PIPE_BYTES))
		target_fail("pipe bytes differ");
	fcntl(fd, F_SETFL, 0);
}

int main(void)
{
	int ready[2], data[2], st;
	pid_t child_pid, zombie, stopped;
	char buf[1024];
	siginfo_t si;

	target_init();
	shared = map_anon(SHARED_SIZE, MAP_SHARED);
	private_mem = map_anon(PRIVATE_SIZE, MAP_PRIVATE);
	target_fill(shared, SHARED_SIZE / 2, 100);
	target_fill(private_mem, PRIVATE_SIZE, 199);
	if (pipe2(ready, O_CLOEXEC) || pipe2(data, O_CLOEXEC) || pipe2(report_pipe, O_CLOEXEC))
		target_fail("pipe: %s", strerror(errno));

	child_pid = fork();
	if (child_pid == 0) {
		close(ready[0]);
		close(data[0]);
		close(report_pipe[0]);
		child(ready[1], data[1]);
	}
	zombie = fork();
	if (zombie == 0)
		_exit(42);
	stopped = fork();
	if (stopped == 0)
		stopped_child();
	if (child_pid < 0 || zombie < 0 || stopped < 0)
		target_fail("fork: %s", strerror(errno));
	close(ready[1]);
	close(data[1]);
	close(report_pipe[1]);
	wait_ready_byte(ready[0]);
	wait_ready_byte(ready[0]);
	if (waitpid(stopped, &st, WUNTRACED) != stopped || !WIFSTOPPED(st))
		target_fail("stopped child did not stop");
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, zombie, &si, WEXITED | WNOWAIT) || si.si_pid != zombie)
		target_fail("zombie child did not exit");
	/* the grandchild's pid, from the child's children list */
	target_note("task %d %d alive", getpid(), getppid());
	target_note("task %d %d alive", child_pid, getpid());
	target_note("task %d %d zombie", zombie, getpid());
	target_note("task %d %d stopped", stopped, getpid());
	snprintf(buf, sizeof(buf), "/proc/%d/task/%d/children", child_pid, child_pid);
	{
		FILE *f = fopen(buf, "re");
		int g;

		if (f && fscanf(f, "%d", &g) == 1)
			target_note("task %d %d alive", g, child_pid);
		if (f)
			fclose(f);
	}

	target_ready();
	target_wait();

	if (target_check(private_mem, PRIVATE_SIZE, 199) >= 0)
		target_fail("root private memory differs");
	if (target_check(shared, SHARED_SIZE / 2, 100) >= 0 ||
	    target_check(shared + SHARED_SIZE / 2, SHARED_SIZE / 2, 101) >= 0)
		target_fail("shared map differs in the root");
	if (proc_state(zombie) != 'Z')
		target_fail("child %d is no longer a zombie (state %c)", zombie, proc_state(zombie));
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, zombie, &si, WEXITED | WNOHANG) || si.si_pid != zombie ||
	    si.si_code != CLD_EXITED || si.si_status != 42)
		target_fail("zombie %d: wait gives pid %d code %d status %d, expected exit 42",
			    zombie, si.si_pid, si.si_code, si.si_status);
	if (proc_state(stopped) != 'T')
		target_fail("child %d is no longer stopped (state %c)", stopped, proc_state(stopped));
	check_pipe(data[0]);

	kill(stopped, SIGCONT);
	kill(child_pid, SIGUSR1);
	if (waitpid(child_pid, &st, 0) != child_pid || !WIFEXITED(st) || WEXITSTATUS(st))
		target_fail("child %d did not exit cleanly (status %#x)", child_pid, st);
	if (waitpid(stopped, &st, 0) != stopped || !WIFEXITED(st) || WEXITSTATUS(st))
		target_fail("stopped child %d did not exit cleanly (status %#x)", stopped, st);
	if (read(data[0], buf, 1) != 0)
		target_fail("pipe: no end of file after its writer exited");

	/* three reports: child, grandchild, stopped child */
	{
		ssize_t n, len = 0;
		int oks = 0;

		while ((n = read(report_pipe[0], buf + len, sizeof(buf) - 1 - len)) > 0)
			len += n;
		buf[len] = '\0';
		for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
			if (strstr(l, "fail"))
				target_fail("%s", l);
			oks++;
		}
		if (oks != 3)
			target_fail("%d of 3 children reported: '%s'", oks, buf);
	}
	if (memcmp(shared + 100, "child was here", 15))
		target_fail("the child's write after the restore is not in the shared map");
	target_pass();
}
