/* Guard regions (MADV_GUARD_INSTALL, Linux 6.13+): a private anonymous
 * region, filled, with guard pages installed on single pages and on a run
 * in the middle. After restore every other page must hold its bytes, every
 * guard page must still fault (SIGSEGV) and no other page may.
 *
 * The target notes "region PID START NPAGES" for the harness.
 *
 * "guard --probe" exits 0 when this kernel installs guard regions, 77
 * when it does not (the test skips then). */
#include "target.h"

#include <setjmp.h>
#include <stdbool.h>
#include <sys/mman.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define NPAGES	32

/* Guard pages: two singles, a run of five in the middle, the last page. */
static bool is_guard(unsigned i)
{
	return i == 1 || i == 6 || (i >= 12 && i < 17) || i == NPAGES - 1;
}

static sigjmp_buf probe_jmp;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(probe_jmp, 1);
}

/* Whether reading *p faults. */
static bool faults(volatile const char *p)
{
	struct sigaction sa = { .sa_handler = on_segv }, old;
	bool r;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old);
	if (sigsetjmp(probe_jmp, 1)) {
		r = true;
	} else {
		(void)*p;
		r = false;
	}
	sigaction(SIGSEGV, &old, NULL);
	return r;
}

static int probe(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 2;
	if (madvise(p, ps, MADV_GUARD_INSTALL) < 0) {
		printf("no guard regions on this kernel: %s\n", strerror(errno));
		return 77;
	}
	return faults(p) ? 0 : 2;
}

int main(int argc, char **argv)
{
	long ps = sysconf(_SC_PAGESIZE);
	char *p;

	if (argc > 1 && !strcmp(argv[1], "--probe"))
		return probe();
	target_init();
	p = mmap(NULL, NPAGES * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		target_fail("mmap: %s", strerror(errno));
	madvise(p, NPAGES * ps, MADV_NOHUGEPAGE);
	for (unsigned i = 0; i < NPAGES; i++)
		target_fill(p + i * ps, ps, 0x6a00 + i);
	for (unsigned i = 0; i < NPAGES; i++)
		if (is_guard(i) && madvise(p + i * ps, ps, MADV_GUARD_INSTALL) < 0)
			target_fail("madvise(MADV_GUARD_INSTALL) page %u: %s", i, strerror(errno));
	/* the harness checks the image's guard runs against these */
	target_note("region %d %lu %u", getpid(), (unsigned long)p, NPAGES);
	target_ready();
	target_wait();

	for (unsigned i = 0; i < NPAGES; i++) {
		char *pg = p + i * ps;
		bool f = faults(pg);
		long w;

		if (is_guard(i)) {
			if (!f)
				target_fail("page %u at %p is a guard page but reads without a fault",
					    i, (void *)pg);
			continue;
		}
		if (f)
			target_fail("page %u at %p faults but is no guard page", i, (void *)pg);
		w = target_check(pg, ps, 0x6a00 + i);
		if (w >= 0)
			target_fail("page %u at %p: word %ld differs", i, (void *)pg, w);
	}
	target_pass();
}
