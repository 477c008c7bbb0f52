/* A target for incremental dumps (tests/vm/t-incremental.sh): it writes
 * between rounds, so a tracker that misses a written page, or a chain that
 * resolves a page to a stale parent, shows as a wrong byte after restore.
 *
 *	incr-writer [-p PAGES]		(default 4096 pages, 16 MiB)
 *
 * Its pages: PAGES small pages (MADV_NOHUGEPAGE, so that a round dirties
 * about what it writes), then 4 MiB, 2 MiB aligned, with MADV_HUGEPAGE
 * (where THP is on, a write dirties a whole huge page, and dropping 4 KiB
 * of one splits it).
 *
 * The life of tests/targets/target.h ("ready PID", SIGUSR1: check, "pass"),
 * and on each SIGUSR2 one round, then "round N" in the status file (rounds
 * are numbered on across a dump and restore): about
 * one page in 16 gets new contents, about one in 64 is dropped with
 * MADV_DONTNEED (it must come back as zeros, never as a parent's copy), and
 * one page in 8 of those dropped earlier is written again. It keeps what
 * each page must hold in a table of its own (which is written too). */
#include <sys/mman.h>

#include "tests/targets/target.h"

#define PG	4096ul
#define HUGE	(2ul << 20)
#define HPAGES	1024ul	/* 4 MiB of THP */

static unsigned char *area, *huge;
static size_t npages = 4096;	/* small ones; then HPAGES in huge */
static uint64_t *want;	/* the seed page i holds, 0: zeros */
static unsigned rounds;

static unsigned char *page(size_t i)
{
	return i < npages ? area + i * PG : huge + (i - npages) * PG;
}

static uint64_t mix(uint64_t r, uint64_t i)
{
	return target_pattern(r * 1000003 + 7, i);
}

/* One round, run from the SIGUSR2 handler: the main thread only sleeps in
 * pause() (target_wait), so nothing here can interrupt it half way, and
 * no SIGUSR2 sent just before pause() is lost. */
static void on_usr2(int sig)
{
	char line[64];
	int saved = errno;

	rounds++;
	for (size_t i = 0; i < npages + HPAGES; i++) {
		uint64_t h = mix(rounds, i);

		if (h % 64 == 1) {
			if (madvise(page(i), PG, MADV_DONTNEED))
				target_fail("madvise DONTNEED page %zu: %s", i, strerror(errno));
			want[i] = 0;
		} else if (h % 16 == 5 || (!want[i] && h % 8 == 3)) {
			want[i] = ((uint64_t)rounds << 32) | (i + 1);
			target_fill(page(i), PG, want[i]);
		}
	}
	snprintf(line, sizeof(line), "round %u", rounds);
	target_status(line);
	errno = saved;
}

static void check(void)
{
	size_t dropped = 0;

	for (size_t i = 0; i < npages + HPAGES; i++) {
		const uint64_t *w = (const uint64_t *)page(i);

		if (!want[i]) {
			dropped++;
			for (size_t j = 0; j < PG / 8; j++)
				if (w[j])
					target_fail("page %zu (dropped with MADV_DONTNEED) word %zu is "
						    "%#llx, not zero", i, j, (unsigned long long)w[j]);
			continue;
		}
		long bad = target_check(w, PG, want[i]);
		if (bad >= 0)
			target_fail("page %zu word %ld differs: want the contents of round %llu",
				    i, bad, (unsigned long long)(want[i] >> 32));
	}
	if (!dropped)
		target_fail("no page was dropped: the test checks nothing of MADV_DONTNEED");
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr2 };
	int opt;

	while ((opt = getopt(argc, argv, "p:")) != -1) {
		if (opt != 'p') {
			fprintf(stderr, "usage: incr-writer [-p PAGES]\n");
			return 2;
		}
		npages = strtoul(optarg, NULL, 0);
	}
	target_init();
	want = calloc(npages + HPAGES, sizeof(*want));
	area = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	huge = mmap(NULL, HPAGES * PG + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	if (!want || area == MAP_FAILED || huge == MAP_FAILED)
		target_fail("cannot map %zu pages: %s", npages + HPAGES, strerror(errno));
	madvise(area, npages * PG, MADV_NOHUGEPAGE);
	huge = (unsigned char *)(((uintptr_t)huge + HUGE - 1) & ~(HUGE - 1));
	madvise(huge, HPAGES * PG, MADV_HUGEPAGE);
	for (size_t i = 0; i < npages + HPAGES; i++) {
		want[i] = i + 1;
		target_fill(page(i), PG, want[i]);
	}
	/* a round and the check never overlap */
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR1);
	sigaction(SIGUSR2, &sa, NULL);

	target_ready();
	target_wait();
	check();
	target_pass();
}
