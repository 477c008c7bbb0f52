/* Tracer target: holds another process with PTRACE_SEIZE (without
 * stopping it), so a dump of that process finds it already traced. After
 * SIGUSR1 it checks it still is the tracer, and exits, which detaches.
 *
 *	tracer PID */
#include <sys/ptrace.h>

#include "target.h"

static pid_t tracer_of(pid_t pid)
{
	char path[64], line[256];
	pid_t tracer = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	fclose(f);
	return tracer;
}

int main(int argc, char **argv)
{
	pid_t pid;

	if (argc != 2) {
		fprintf(stderr, "usage: tracer PID\n");
		return 2;
	}
	pid = atoi(argv[1]);
	target_init();
	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL))
		target_fail("PTRACE_SEIZE %d: %s", pid, strerror(errno));
	target_ready();
	target_wait();
	if (tracer_of(pid) != getpid())
		target_fail("pid %d: tracer is %d, not this process", pid, tracer_of(pid));
	target_pass();
}
