/* Benchmark target for incremental dumps: N MiB of anonymous memory, every
 * page written once, then idle. Each SIGUSR2 rewrites a fresh pseudo-random
 * set of PERMILLE/1000 of its pages (so a round finds exactly that many
 * written) and reports "round K PAGES" in $CKPT_STATUS; SIGUSR1 checks
 * every page against what was last written and ends (tests/targets/
 * target.h's protocol). A byte per page remembers what each page holds.
 *
 *	memdirty MIB PERMILLE
 *
 * THP is off for the area: a round then counts 4 KiB pages, as the
 * trackers see them in most processes. */
#include <stdint.h>
#include <sys/mman.h>

#include "tests/targets/target.h"

static volatile sig_atomic_t rounds_asked;

static void on_usr2(int sig)
{
	(void)sig;
	rounds_asked++;
}

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Write n distinct pages (a stride walk from a random start: distinct and
 * spread, with no bookkeeping). */
static void dirty_round(unsigned char *p, unsigned char *val, size_t pages, size_t n,
			unsigned round, uint64_t *seed)
{
	size_t stride = pages / (n ? n : 1), start = next_rand(seed) % (stride ? stride : 1);

	for (size_t i = 0; i < n; i++) {
		size_t pg = (start + i * stride) % pages;

		val[pg] = (unsigned char)(round * 31 + pg % 251 + 1);
		memset(p + (pg << 12), val[pg], 4096);
	}
}

int main(int argc, char **argv)
{
	size_t mib, len, pages, n;
	unsigned long permille;
	unsigned char *p, *val;
	unsigned round = 0;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	char line[64];
	sigset_t block, old;

	if (argc != 3 || !(mib = strtoul(argv[1], NULL, 10))) {
		fprintf(stderr, "usage: memdirty MIB PERMILLE\n");
		return 2;
	}
	permille = strtoul(argv[2], NULL, 10);
	(void)target_wait;	/* the loop below waits for SIGUSR2 as well */
	target_init();
	signal(SIGUSR2, on_usr2);
	len = mib << 20;
	pages = len >> 12;
	n = pages * permille / 1000;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	val = calloc(pages, 1);
	if (p == MAP_FAILED || !val)
		target_fail("mmap of %zu MiB: %s", mib, strerror(errno));
	madvise(p, len, MADV_NOHUGEPAGE);
	for (size_t pg = 0; pg < pages; pg++) {
		val[pg] = (unsigned char)(pg % 255 + 1);
		memset(p + (pg << 12), val[pg], 4096);
	}
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &old);	/* no signal lost between test and wait */
	target_ready();
	while (!target_go) {
		if (!rounds_asked)
			sigsuspend(&old);
		while (rounds_asked) {
			rounds_asked--;
			dirty_round(p, val, pages, n, ++round, &seed);
			snprintf(line, sizeof(line), "round %u %zu", round, n);
			target_status(line);
		}
	}
	for (size_t pg = 0; pg < pages; pg++)
		if (p[pg << 12] != val[pg] || p[(pg << 12) + 4095] != val[pg])
			target_fail("page at +%#zx changed", pg << 12);
	target_pass();
	return 0;
}
