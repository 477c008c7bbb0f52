/* Is this a real soft-dirty kernel? (make check-vm, tests/vm/t-softdirty.sh)
 *
 *	softdirty-probe
 *
 * In its own pages (/proc/self) and in a child's (/proc/PID, as ckptd
 * tracks a target): write two pages, write 4 to clear_refs, and pagemap
 * bit 55 (PM_SOFT_DIRTY) must be clear in both; write the first again and
 * the bit must be set in it and still clear in the second. Exit 0 and one
 * line on stdout when all holds, else 1 with what did not. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PM_SOFT_DIRTY	(1ull << 55)
#define PM_PRESENT	(1ull << 63)

static long page_size;

__attribute__((format(printf, 1, 2)))
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "softdirty-probe: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* The pagemap entry of addr in process pid ("self" when pid is 0). */
static uint64_t pagemap(pid_t pid, const volatile char *addr)
{
	char path[64];
	uint64_t e;
	int fd;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/pagemap");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	if (pread(fd, &e, sizeof(e), (off_t)((uintptr_t)addr / page_size) * sizeof(e)) != sizeof(e))
		die("read %s: %s", path, strerror(errno));
	close(fd);
	return e;
}

static void clear_refs(pid_t pid)
{
	char path[64];
	int fd;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/clear_refs", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/clear_refs");
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	if (write(fd, "4", 1) != 1)
		die("write 4 to %s: %s", path, strerror(errno));
	close(fd);
}

/* Expect bit 55 of page i (0 or 1) of pid's area to be `want`. */
static void expect(const char *who, pid_t pid, volatile char *area, int i, int want,
		   const char *when)
{
	volatile char *p = area + i * page_size;
	uint64_t e = pagemap(pid, p);

	if (!(e & PM_PRESENT))
		die("%s: page %d at %p is not present (pagemap entry %#llx)", who, i, (void *)p,
		    (unsigned long long)e);
	if (!!(e & PM_SOFT_DIRTY) != want)
		die("%s: page %d at %p %s: pagemap bit 55 is %d, want %d%s", who, i, (void *)p, when,
		    !!(e & PM_SOFT_DIRTY), want, want ? " (CONFIG_MEM_SOFT_DIRTY off?)" : "");
}

int main(void)
{
	volatile char *area;
	int go[2], done[2];
	char c;
	pid_t child;
	int st;

	page_size = sysconf(_SC_PAGESIZE);
	area = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		die("mmap: %s", strerror(errno));

	/* self */
	area[0] = 1;
	area[page_size] = 1;
	expect("self", 0, area, 0, 1, "after the first write");
	clear_refs(0);
	expect("self", 0, area, 0, 0, "after clear_refs 4");
	expect("self", 0, area, 1, 0, "after clear_refs 4");
	area[0] = 2;
	expect("self", 0, area, 0, 1, "written after clear_refs 4");
	expect("self", 0, area, 1, 0, "not written after clear_refs 4");

	/* a child, from outside: the child writes when told to */
	if (pipe(go) || pipe(done))
		die("pipe: %s", strerror(errno));
	child = fork();
	if (child < 0)
		die("fork: %s", strerror(errno));
	if (child == 0) {
		/* the parent's ends: its death is an end of file here */
		close(go[1]);
		close(done[0]);
		area[0] = 3;	/* its own copies of both pages */
		area[page_size] = 3;
		if (write(done[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		area[0] = 4;
		if (write(done[1], "w", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	close(go[0]);
	close(done[1]);
	if (read(done[0], &c, 1) != 1)
		die("child: %s", "died before its first write");
	clear_refs(child);
	expect("child", child, area, 0, 0, "after clear_refs 4 from outside");
	expect("child", child, area, 1, 0, "after clear_refs 4 from outside");
	if (write(go[1], "g", 1) != 1 || read(done[0], &c, 1) != 1)
		die("child: %s", "died before its second write");
	expect("child", child, area, 0, 1, "written after clear_refs 4");
	expect("child", child, area, 1, 0, "not written after clear_refs 4");
	if (write(go[1], "g", 1) != 1 || waitpid(child, &st, 0) != child || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		die("child: %s", "did not exit cleanly");
	printf("soft-dirty works: clear_refs 4 clears pagemap bit 55 and a write sets it "
	       "(own pages and a child's through /proc/%d)\n", (int)child);
	return 0;
}
