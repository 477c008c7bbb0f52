/* Incremental-dump target: memory that changes between rounds, and a
 * record of what every page must hold, kept in the process itself (so it is
 * dumped and restored with it) and checked byte for byte after SIGUSR1.
 *
 *	incr [-b MIB]
 *
 * Each SIGUSR2 runs one step (numbered from 1), deterministic in the step
 * number, then says "step N" in the status file:
 *   every step  rewrite 40 pseudo-random pages of the main region with a
 *               new seed; drop 8 pages (MADV_DONTNEED: they must come back
 *               as zeros, never as a parent's copy)
 *   step % 6 1  map a new 1 MiB region and write it
 *   step % 6 2  fork a child (once): it keeps a region of its own and does
 *               every later step on its copy of the regions, with a seed
 *               of its own; unmap a middle piece of a region (it splits)
 *   step % 6 3  grow a region (mremap, in place or moved) and write the new
 *               tail; drop a whole 2 MiB of the THP region
 *   step % 6 4  move a region (mremap MAYMOVE to a fresh address)
 *   step % 6 5  make a region read-only (re-protected; it keeps its data)
 *   step % 6 0  write pages into the dropped THP half; drop 16 pages of
 *               the other half (splitting its huge page)
 * A page's expected bytes are target_fill() of its seed; seed 0 is zeros.
 *
 * -b MIB: instead, one region of MIB MiB written once (every page present
 * with data) and nothing else; steps write nothing (the "untouched" case
 * whose incremental rounds must hold almost no pages).
 *
 * -w: also a thread that rewrites pages of a region of its own without a
 * pause, so that pages change while a pre-dump copies them (the tree runs
 * then); it stops before the check (a dump may catch it between a page and
 * its seed: restored, it finishes that write first). */
#include <pthread.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "target.h"

#define PG		4096ul
#define MAX_REGIONS	64
#define MAIN_PAGES	2048ul		/* 8 MiB */
#define THP_BYTES	(4ul << 20)

struct region {
	char *addr;
	size_t pages;
	uint32_t *seed;		/* per page; 0: zeros */
	int prot;
};

struct state {
	struct region r[MAX_REGIONS];
	unsigned nr;
	unsigned step;
	uint32_t salt;		/* 0 in the root, 1 in the child */
	pid_t child;		/* root: the child, once forked */
	volatile uint32_t *shared;	/* [0]: the child's last step done */
	unsigned big_mib;
	char *big;		/* -b: every byte BIG_BYTE */
	struct region busy;	/* -w: the writer thread's */
	volatile bool stop;
};

#define BIG_BYTE	0x5a

static volatile sig_atomic_t step_req, verify_req;

static void on_usr2(int sig)
{
	step_req++;
}

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static uint32_t new_seed(struct state *st, unsigned k)
{
	return (st->step * 1000003u + k * 7919u + st->salt * 0x5bd1e995u) | 1u;
}

static void write_page(struct region *g, size_t i, uint32_t seed)
{
	g->seed[i] = seed;
	target_fill(g->addr + i * PG, PG, seed);
}

static struct region *add_region(struct state *st, char *addr, size_t pages)
{
	struct region *g = &st->r[st->nr++];

	g->addr = addr;
	g->pages = pages;
	g->seed = calloc(pages, sizeof(*g->seed));
	g->prot = PROT_READ | PROT_WRITE;
	if (!g->seed)
		target_fail("out of memory");
	return g;
}

static struct region *map_region(struct state *st, size_t pages, unsigned k)
{
	char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	struct region *g;

	if (p == MAP_FAILED)
		target_fail("mmap: %s", strerror(errno));
	g = add_region(st, p, pages);
	for (size_t i = 0; i < pages; i++)
		write_page(g, i, new_seed(st, k + i));
	return g;
}

static void drop(struct region *g, size_t first, size_t n)
{
	if (madvise(g->addr + first * PG, n * PG, MADV_DONTNEED) < 0)
		target_fail("madvise(DONTNEED): %s", strerror(errno));
	for (size_t i = first; i < first + n; i++)
		g->seed[i] = 0;
}

/* A writable region other than the main one and the THP one, or NULL. */
static struct region *pick(struct state *st, unsigned k)
{
	for (unsigned n = 0; n < st->nr; n++) {
		struct region *g = &st->r[2 + (k + n) % (st->nr > 2 ? st->nr - 2 : 1)];

		if (st->nr > 2 && (g->prot & PROT_WRITE) && g->pages >= 8)
			return g;
	}
	return NULL;
}

static void split(struct state *st, struct region *g)
{
	size_t a = g->pages / 4, b = g->pages / 2;
	struct region *t;

	if (munmap(g->addr + a * PG, (b - a) * PG) < 0)
		target_fail("munmap: %s", strerror(errno));
	t = add_region(st, g->addr + b * PG, g->pages - b);
	t->prot = g->prot;
	memcpy(t->seed, g->seed + b, t->pages * sizeof(*t->seed));
	g->pages = a;
}

static void grow(struct state *st, struct region *g)
{
	size_t more = 64;
	char *p = mremap(g->addr, g->pages * PG, (g->pages + more) * PG, MREMAP_MAYMOVE);
	uint32_t *s;

	if (p == MAP_FAILED)
		target_fail("mremap(grow): %s", strerror(errno));
	s = realloc(g->seed, (g->pages + more) * sizeof(*s));
	if (!s)
		target_fail("out of memory");
	g->addr = p;
	g->seed = s;
	for (size_t i = g->pages; i < g->pages + more; i++)
		write_page(g, i, new_seed(st, 500 + i));
	g->pages += more;
}

static void move(struct state *st, struct region *g)
{
	/* a fresh address: reserve, then move over the reservation */
	char *to = mmap(NULL, g->pages * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	if (to == MAP_FAILED)
		target_fail("mmap: %s", strerror(errno));
	p = mremap(g->addr, g->pages * PG, g->pages * PG, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	if (p == MAP_FAILED)
		target_fail("mremap(move): %s", strerror(errno));
	g->addr = p;
}

static void do_step(struct state *st)
{
	struct region *main_r = &st->r[0], *thp = &st->r[1], *g;
	uint32_t s = st->step * 2654435761u + st->salt + 1;

	st->step++;
	if (st->big_mib)
		return;
	for (unsigned k = 0; k < 40; k++)
		write_page(main_r, rnd(&s) % main_r->pages, new_seed(st, k));
	drop(main_r, rnd(&s) % (main_r->pages - 8), 8);
	switch (st->step % 6) {
	case 1:
		map_region(st, 256, 100);
		break;
	case 2:
		if (!st->child && !st->salt) {
			pid_t c = fork();

			if (c < 0)
				target_fail("fork: %s", strerror(errno));
			if (c == 0) {
				/* the writer thread stayed behind, maybe mid-page */
				st->busy.addr = NULL;
				st->salt = 1;
				map_region(st, 32, 300);
			} else {
				st->child = c;
			}
		}
		if ((g = pick(st, st->step)))
			split(st, g);
		break;
	case 3:
		if ((g = pick(st, st->step)))
			grow(st, g);
		drop(thp, 0, THP_BYTES / PG / 2);
		break;
	case 4:
		if ((g = pick(st, st->step + 1)))
			move(st, g);
		break;
	case 5:
		if ((g = pick(st, st->step + 2))) {
			if (mprotect(g->addr, g->pages * PG, PROT_READ) < 0)
				target_fail("mprotect: %s", strerror(errno));
			g->prot = PROT_READ;
		}
		break;
	case 0:
		for (unsigned k = 0; k < 10; k++)
			write_page(thp, k * 37 % (THP_BYTES / PG / 2), new_seed(st, 700 + k));
		drop(thp, THP_BYTES / PG / 2 + 100, 16);
		break;
	}
}

#define BUSY_PAGES	512

static void *busy_main(void *arg)
{
	struct state *st = arg;
	uint32_t s = 12345, n = 0;

	while (!st->stop) {
		size_t i = rnd(&s) % st->busy.pages;
		uint32_t seed = (++n * 2654435761u) | 1u;

		target_fill(st->busy.addr + i * PG, PG, seed);
		st->busy.seed[i] = seed;
	}
	return NULL;
}

static void verify_region(const struct state *st, const struct region *g, unsigned n);

static void verify(struct state *st)
{
	if (st->busy.addr)
		verify_region(st, &st->busy, 99);
	static char big[PG];

	memset(big, BIG_BYTE, PG);
	for (size_t i = 0; st->big && i < ((size_t)st->big_mib << 20) / PG; i++)
		if (memcmp(st->big + i * PG, big, PG))
			target_fail("page %zu of the big region differs", i);

	for (unsigned n = 0; n < st->nr; n++)
		verify_region(st, &st->r[n], n);
}

static void verify_region(const struct state *st, const struct region *g, unsigned n)
{
	static const char zero[PG];

	for (size_t i = 0; i < g->pages; i++) {
		const char *p = g->addr + i * PG;
		long w;

		if (!g->seed[i]) {
			if (memcmp(p, zero, PG))
				target_fail("pid %d: region %u page %zu (%p) should read as "
					    "zeros after step %u", getpid(), n, i, p, st->step);
			continue;
		}
		w = target_check(p, PG, g->seed[i]);
		if (w >= 0)
			target_fail("pid %d: region %u page %zu (%p) word %ld differs "
				    "(seed %u) after step %u", getpid(), n, i, p, w,
				    g->seed[i], st->step);
	}
}

static void setup(struct state *st)
{
	char *p;

	if (st->big_mib) {
		p = mmap(NULL, (size_t)st->big_mib << 20, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			target_fail("mmap: %s", strerror(errno));
		/* huge pages, where the kernel gives them: far fewer faults */
		madvise(p, (size_t)st->big_mib << 20, MADV_HUGEPAGE);
		memset(p, BIG_BYTE, (size_t)st->big_mib << 20);
		st->big = p;
		return;
	}
	map_region(st, MAIN_PAGES, 0);
	/* THP: a 2 MiB-aligned 4 MiB region asking for huge pages */
	p = mmap(NULL, THP_BYTES + (2ul << 20), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		target_fail("mmap: %s", strerror(errno));
	p = (char *)(((uintptr_t)p + (2ul << 20) - 1) & ~((2ul << 20) - 1));
	madvise(p, THP_BYTES, MADV_HUGEPAGE);
	{
		struct region *g = add_region(st, p, THP_BYTES / PG);

		for (size_t i = 0; i < g->pages; i++)
			write_page(g, i, new_seed(st, 900 + i));
	}
}

static void say_step(struct state *st)
{
	char line[64];

	snprintf(line, sizeof(line), "step %u", st->step);
	target_status(line);
}

int main(int argc, char **argv)
{
	static struct state st;
	struct sigaction sa = { .sa_handler = on_usr2 };
	sigset_t block, old;
	unsigned done = 0;
	int c;

	bool busy = false;
	pthread_t th;

	while ((c = getopt(argc, argv, "b:w")) != -1) {
		if (c == 'b')
			st.big_mib = atoi(optarg);
		if (c == 'w')
			busy = true;
	}
	target_init();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	st.shared = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st.shared == MAP_FAILED)
		target_fail("mmap(shared): %s", strerror(errno));
	setup(&st);
	(void)target_wait;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (busy) {		/* the thread inherits the mask: signals go to main */
		char *p = mmap(NULL, BUSY_PAGES * PG, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			target_fail("mmap: %s", strerror(errno));
		st.busy = (struct region){ .addr = p, .pages = BUSY_PAGES,
					   .seed = calloc(BUSY_PAGES, sizeof(uint32_t)),
					   .prot = PROT_READ | PROT_WRITE };
		if (!st.busy.seed || pthread_create(&th, NULL, busy_main, &st))
			target_fail("cannot start the writer thread");
	}
	target_ready();
	for (;;) {
		bool had_child = st.child != 0;

		while (!target_go && step_req == done)
			sigsuspend(&old);
		if (target_go)
			break;
		done++;
		do_step(&st);
		if (st.salt) {		/* the child: tell the root */
			st.shared[0] = st.step;
			continue;
		}
		if (had_child)		/* a child forked in this step did it already */
			kill(st.child, SIGUSR2);
		while (st.child && st.shared[0] != st.step)
			usleep(1000);
		say_step(&st);
	}
	if (st.salt) {
		verify(&st);
		exit(0);
	}
	if (busy) {
		st.stop = true;
		pthread_join(th, NULL);
	}
	if (st.child) {
		int ws;

		kill(st.child, SIGUSR1);
		if (waitpid(st.child, &ws, 0) != st.child || !WIFEXITED(ws) ||
		    WEXITSTATUS(ws) != 0) {
			verify(&st);	/* the child wrote why into the status; ours too */
			target_fail("the child %d failed its check (status 0x%x)", st.child, ws);
		}
	}
	verify(&st);
	target_pass();
}
