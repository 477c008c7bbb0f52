/* Copy-on-write sharing after fork: the parent P fills a private anonymous
 * region (NPAGES pages, MADV_NOHUGEPAGE), forks a child C, which rewrites
 * pages [0, 64) and forks a grandchild G, which rewrites [64, 96); then P
 * rewrites [96, 128). Every other page is still one physical page in all
 * three. Each page p of a task holds the pattern of seed S(task, p):
 *
 *	P: [96, 128) 4, else 1      C: [0, 64) 2, else 1
 *	G: [0, 64) 2, [64, 96) 3, else 1
 *
 * After SIGUSR1 P checks its bytes and, as root, the frames of all three
 * in their pagemaps (unless $CKPT_STATUS.noshare exists: a restore that
 * may copy): [128, NPAGES) one frame in P, C and G; [0, 64) C's = G's, not
 * P's; [64, 96) P's = C's, not G's; [96, 128) C's = G's, not P's. Then
 * copy-on-write must still work: P writes page 200 (seed 5), C checks its
 * bytes (page 200 still 1) and writes page 300 (seed 6), G checks its own
 * (pages 200 and 300 still 1); P checks again (page 300 still 1).
 *
 * Notes "cow P C G START NPAGES" for the harness. */
#include "target.h"

#include <stdbool.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define NPAGES	8192u	/* 32 MiB of 4 KiB pages */
#define PS	4096u

#define PM_PRESENT	(1ull << 63)
#define PM_PFN_MASK	((1ull << 55) - 1)

enum who { WHO_P, WHO_C, WHO_G };

static unsigned char *region;
static unsigned seeds[3][NPAGES];	/* the seed each task's page holds */

static void fill_page(unsigned p, unsigned seed)
{
	uint64_t *w = (uint64_t *)(region + (size_t)p * PS);

	for (unsigned k = 0; k < PS / 8; k++)
		w[k] = target_pattern(seed, (uint64_t)p * (PS / 8) + k);
}

static bool page_ok(unsigned p, unsigned seed)
{
	const uint64_t *w = (const uint64_t *)(region + (size_t)p * PS);

	for (unsigned k = 0; k < PS / 8; k++)
		if (w[k] != target_pattern(seed, (uint64_t)p * (PS / 8) + k))
			return false;
	return true;
}

static void set_seeds(enum who t, unsigned from, unsigned to, unsigned seed)
{
	for (unsigned p = from; p < to; p++)
		seeds[t][p] = seed;
}

/* The first page of t whose bytes are wrong, or -1. */
static long check_bytes(enum who t)
{
	for (unsigned p = 0; p < NPAGES; p++)
		if (!page_ok(p, seeds[t][p]))
			return p;
	return -1;
}

static int read_pfns(pid_t pid, uint64_t *pfn)
{
	char path[64];
	int fd, r = 0;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (pread(fd, pfn, NPAGES * 8, (uintptr_t)region / PS * 8) != NPAGES * 8)
		r = -1;
	close(fd);
	for (unsigned p = 0; r == 0 && p < NPAGES; p++)
		pfn[p] = (pfn[p] & PM_PRESENT) ? pfn[p] & PM_PFN_MASK : 0;
	return r;
}

static uint64_t pfns[3][NPAGES];

/* Which of the three share page p's frame, as the comment above says. */
static const char *check_frames(unsigned p)
{
	uint64_t a = pfns[WHO_P][p], b = pfns[WHO_C][p], c = pfns[WHO_G][p];

	if (!a || !b || !c)
		return "a page is not present (or PFNs hidden)";
	if (p < 64)
		return b == c && a != b ? NULL : "[0,64) should be C's = G's != P's";
	if (p < 96)
		return a == b && b != c ? NULL : "[64,96) should be P's = C's != G's";
	if (p < 128)
		return b == c && a != b ? NULL : "[96,128) should be C's = G's != P's";
	return a == b && b == c ? NULL : "[128,end) should be one frame in P, C and G";
}

static bool noshare(void)
{
	const char *st = getenv("CKPT_STATUS");
	char path[4200];

	snprintf(path, sizeof(path), "%s.noshare", st ? st : "target.status");
	return access(path, F_OK) == 0;
}

static void check_sharing(pid_t c, pid_t g)
{
	if (read_pfns(getpid(), pfns[WHO_P]) || read_pfns(c, pfns[WHO_C]) ||
	    read_pfns(g, pfns[WHO_G]))
		target_fail("cannot read the pagemaps of %d, %d, %d", getpid(), c, g);
	for (unsigned p = 0; p < NPAGES; p++) {
		const char *why = check_frames(p);

		if (why)
			target_fail("page %u: frames P %#llx C %#llx G %#llx: %s", p,
				    (unsigned long long)pfns[WHO_P][p],
				    (unsigned long long)pfns[WHO_C][p],
				    (unsigned long long)pfns[WHO_G][p], why);
	}
}

/* A child's end: exit 0, or print why and exit 1 (P reports it). */
static void child_fail(const char *who, long page)
{
	fprintf(stderr, "%s: page %ld holds wrong bytes\n", who, page);
	exit(1);
}

static void grandchild(int ready)
{
	long bad;

	for (unsigned p = 64; p < 96; p++)
		fill_page(p, 3);
	if (write(ready, "g", 1) != 1)
		exit(2);
	close(ready);
	target_wait();
	bad = check_bytes(WHO_G);
	if (bad >= 0)
		child_fail("G", bad);
	exit(0);
}

static int wait_child(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void child(int ready)
{
	pid_t g;
	long bad;
	int st;

	for (unsigned p = 0; p < 64; p++)
		fill_page(p, 2);
	g = fork();
	if (g < 0)
		exit(2);
	if (g == 0)
		grandchild(ready);
	target_note("grandchild %d", g);
	if (write(ready, "c", 1) != 1)
		exit(2);
	close(ready);
	target_wait();
	bad = check_bytes(WHO_C);
	if (bad >= 0)
		child_fail("C", bad);
	fill_page(300, 6);	/* G must still see seed 1 there */
	seeds[WHO_C][300] = 6;
	kill(g, SIGUSR1);
	st = wait_child(g);
	if (st)
		fprintf(stderr, "C: G ended with %d\n", st);
	exit(st ? 3 : 0);
}

int main(void)
{
	int pfd[2];
	pid_t c, g = 0;
	char buf[4096];
	FILE *f;
	long bad;
	int st;

	target_init();
	set_seeds(WHO_P, 0, NPAGES, 1);
	set_seeds(WHO_P, 96, 128, 4);
	set_seeds(WHO_C, 0, NPAGES, 1);
	set_seeds(WHO_C, 0, 64, 2);
	set_seeds(WHO_G, 0, NPAGES, 1);
	set_seeds(WHO_G, 0, 64, 2);
	set_seeds(WHO_G, 64, 96, 3);
	region = mmap(NULL, (size_t)NPAGES * PS, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		target_fail("mmap: %s", strerror(errno));
	madvise(region, (size_t)NPAGES * PS, MADV_NOHUGEPAGE);
	for (unsigned p = 0; p < NPAGES; p++)
		fill_page(p, 1);
	if (pipe(pfd) < 0)
		target_fail("pipe: %s", strerror(errno));
	c = fork();
	if (c < 0)
		target_fail("fork: %s", strerror(errno));
	if (c == 0) {
		close(pfd[0]);
		child(pfd[1]);
	}
	close(pfd[1]);
	for (int n = 0; n < 2;)	/* "c" (its child's pid noted) and "g" */
		if (read(pfd[0], buf, 1) != 1)
			target_fail("the child or grandchild did not start");
		else
			n++;
	close(pfd[0]);
	for (unsigned p = 96; p < 128; p++)
		fill_page(p, 4);
	snprintf(buf, sizeof(buf), "%s.info", getenv("CKPT_STATUS") ? getenv("CKPT_STATUS") :
		 "target.status");
	f = fopen(buf, "re");
	while (f && fgets(buf, sizeof(buf), f))
		sscanf(buf, "grandchild %d", &g);
	if (f)
		fclose(f);
	if (g <= 0)
		target_fail("no grandchild pid noted");
	target_note("cow %d %d %d %llu %u", getpid(), c, g,
		    (unsigned long long)(uintptr_t)region, NPAGES);
	target_ready();
	target_wait();

	bad = check_bytes(WHO_P);
	if (bad >= 0)
		target_fail("P: page %ld holds wrong bytes", bad);
	if (!noshare())
		check_sharing(c, g);
	fill_page(200, 5);	/* C and G must still see seed 1 there */
	seeds[WHO_P][200] = 5;
	kill(c, SIGUSR1);
	st = wait_child(c);
	if (st)
		target_fail("the child (or grandchild) failed (%d): see the log", st);
	bad = check_bytes(WHO_P);
	if (bad >= 0)
		target_fail("P: after the children wrote, page %ld holds wrong bytes", bad);
	target_pass();
}
