/* Lazy restore target: MIB MiB of anonymous memory, every page distinct
 * (page i of the big map holds target_pattern(BIG_SEED + i, word): a zero
 * page, a page from the wrong place or from another map is caught), and
 * small maps for the events a lazy server must follow.
 *
 *	lazymem [-w] [-n THREADS] MIB
 *
 * After ready and SIGUSR1 it answers a ping at once, before touching its
 * big map: "$CKPT_STATUS.alive" gets "alive REALTIME_NS MONOTONIC_NS"
 * (written whole through a rename; CLOCK_REALTIME so that a shell can
 * subtract its own `date +%s%N`). With -w, or when the file
 * "$CKPT_STATUS.hold" exists at that moment (so that one image set serves
 * both ways), it then waits for a second SIGUSR1 before it checks
 * anything: a benchmark or a test can watch the lazy server alone. Then,
 * in this order:
 *
 *   - fork: a child checks its own copy of the "fork" map and a 16 MiB
 *     slice of the big map, writes over its copy, exits 0 or 1; the
 *     parent's copy must not have changed;
 *   - mremap: the "move" map (64 MiB, its first page touched before)
 *     moves elsewhere; it is checked there and its old place is free;
 *   - MADV_DONTNEED: half of the "drop" map is checked, then the whole
 *     map dropped: it must read zero;
 *   - munmap + mmap again at the same place: the "unmap" map reads zero;
 *   - writes: the first word of every page of the "write" map is
 *     rewritten before its page is read; the rest of each page must
 *     still be the image's;
 *   - THREADS (default 4) threads, which were waiting since before the
 *     dump, each touch and check their slice of a random permutation of
 *     the big map's pages;
 *   - once no one traces the process any more (TracerPid 0: the lazy
 *     server is done, at once for an eager restore; bounded, 120 s),
 *     the dropped, re-mapped, written and moved maps are checked again:
 *     no late page may have landed in memory the process had changed.
 *
 * "big PID START END" goes to $CKPT_STATUS.info, for tests that look for
 * the big map's blocks in the image. */
#include <linux/futex.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "target.h"

#define PG		4096ul
#define BIG_SEED	0x100000ul
#define MAX_THREADS	16

#define MOVE_LEN	(64ul << 20)
#define FORK_LEN	(16ul << 20)
#define DROP_LEN	(8ul << 20)
#define UNMAP_LEN	(8ul << 20)
#define WRITE_LEN	(8ul << 20)
#define CHILD_SLICE	(16ul << 20)

enum { SEED_MOVE = 11, SEED_FORK = 12, SEED_DROP = 13, SEED_UNMAP = 14, SEED_WRITE = 15 };

struct lazymem {
	unsigned char *big;
	size_t big_len, nr_pages;
	unsigned char *move, *fork, *drop, *unmap, *write;
	unsigned char *moved;		/* where move went */
	uint32_t *perm;			/* a permutation of the big map's pages */
	unsigned nr_threads;
};

struct worker {
	pthread_t thread;
	struct lazymem *m;
	unsigned idx;
	const char *fail;
	size_t bad_page;
};

static struct lazymem mem;
static struct worker workers[MAX_THREADS];
static volatile int workers_go;

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		target_fail("mmap of %zu bytes: %s", len, strerror(errno));
	return p;
}

/* Fill len bytes, page by page, each page its own seed. */
static void fill_pages(unsigned char *p, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len / PG; i++)
		target_fill(p + i * PG, PG, seed + i);
}

/* Index of the first wrong page, or -1. */
static long check_pages(const unsigned char *p, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len / PG; i++)
		if (target_check(p + i * PG, PG, seed + i) >= 0)
			return (long)i;
	return -1;
}

static int is_zero(const unsigned char *p, size_t len)
{
	const uint64_t *w = (const uint64_t *)p;

	for (size_t i = 0; i < len / 8; i++)
		if (w[i])
			return 0;
	return 1;
}

static uint64_t seed_of(unsigned which)
{
	return (uint64_t)which << 40;
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* "alive REALTIME MONOTONIC" into $CKPT_STATUS.alive, whole. */
static void answer_ping(void)
{
	const char *status = getenv("CKPT_STATUS");
	char path[4096], tmp[4200], line[128];
	int fd, n;

	n = snprintf(line, sizeof(line), "alive %llu %llu\n",
		     (unsigned long long)now_ns(CLOCK_REALTIME),
		     (unsigned long long)now_ns(CLOCK_MONOTONIC));
	snprintf(path, sizeof(path), "%s.alive", status ? status : "target.status");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, n) != n || close(fd) || rename(tmp, path))
		target_fail("cannot write %s: %s", path, strerror(errno));
}

static int hold_wanted(void)
{
	const char *status = getenv("CKPT_STATUS");
	char path[4096];

	snprintf(path, sizeof(path), "%s.hold", status ? status : "target.status");
	return access(path, F_OK) == 0;
}

/* xorshift64*: cheap and good enough to shuffle pages. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct lazymem *m = w->m;
	size_t per = (m->nr_pages + m->nr_threads - 1) / m->nr_threads;
	size_t lo = w->idx * per, hi = lo + per;

	while (!workers_go)
		syscall(SYS_futex, &workers_go, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	if (hi > m->nr_pages)
		hi = m->nr_pages;
	for (size_t k = lo; k < hi; k++) {
		size_t i = m->perm[k];

		if (target_check(m->big + i * PG, PG, BIG_SEED + i) >= 0) {
			w->fail = is_zero(m->big + i * PG, PG) ? "reads zero" : "differs";
			w->bad_page = i;
			break;
		}
	}
	return NULL;
}

static void check_fork(struct lazymem *m)
{
	size_t slice = m->big_len < CHILD_SLICE ? m->big_len : CHILD_SLICE;
	unsigned char *part = m->big + (m->big_len - slice) / 2;
	int st;
	pid_t c = fork();

	if (c < 0)
		target_fail("fork: %s", strerror(errno));
	if (c == 0) {
		/* the child checks its copies before anything of them is in */
		if (check_pages(m->fork, FORK_LEN, seed_of(SEED_FORK)) >= 0)
			_exit(10);
		if (check_pages(part, slice, BIG_SEED + (part - m->big) / PG) >= 0)
			_exit(11);
		memset(m->fork, 0x5a, FORK_LEN);
		_exit(0);
	}
	if (waitpid(c, &st, 0) != c)
		target_fail("waitpid %d: %s", c, strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		target_fail("forked child %d: %s %d (10: its fork map differs, 11: its big map slice)",
			    c, WIFEXITED(st) ? "exit" : "signal",
			    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	if (check_pages(m->fork, FORK_LEN, seed_of(SEED_FORK)) >= 0)
		target_fail("fork map %p changed after the child wrote its copy", m->fork);
}

static void check_move(struct lazymem *m)
{
	/* reserve a free place, then move the map there */
	unsigned char *to = mmap(NULL, MOVE_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long bad;

	if (to == MAP_FAILED)
		target_fail("mmap of the mremap destination: %s", strerror(errno));
	m->moved = mremap(m->move, MOVE_LEN, MOVE_LEN, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	if (m->moved == MAP_FAILED)
		target_fail("mremap %p to %p: %s", m->move, to, strerror(errno));
	bad = check_pages(m->moved, MOVE_LEN, seed_of(SEED_MOVE));
	if (bad >= 0)
		target_fail("moved map: page %ld at %p differs after mremap from %p%s", bad,
			    m->moved + bad * PG, m->move,
			    is_zero(m->moved + bad * PG, PG) ? " (reads zero)" : "");
	if (msync(m->move, PG, MS_ASYNC) == 0 || errno != ENOMEM)
		target_fail("the old place %p of the moved map is still mapped", m->move);
}

static void check_drop(struct lazymem *m)
{
	if (check_pages(m->drop, DROP_LEN / 2, seed_of(SEED_DROP)) >= 0)
		target_fail("drop map %p differs before MADV_DONTNEED", m->drop);
	if (madvise(m->drop, DROP_LEN, MADV_DONTNEED))
		target_fail("madvise DONTNEED: %s", strerror(errno));
	if (!is_zero(m->drop, DROP_LEN))
		target_fail("drop map %p does not read zero after MADV_DONTNEED", m->drop);
}

static void check_unmap(struct lazymem *m)
{
	void *p;

	if (munmap(m->unmap, UNMAP_LEN))
		target_fail("munmap: %s", strerror(errno));
	p = mmap(m->unmap, UNMAP_LEN, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != m->unmap)
		target_fail("mmap again at %p: %s", m->unmap, p == MAP_FAILED ? strerror(errno) : "elsewhere");
	if (!is_zero(m->unmap, UNMAP_LEN))
		target_fail("map %p unmapped and mapped again does not read zero", m->unmap);
}

static void write_words(struct lazymem *m)
{
	for (size_t i = 0; i < WRITE_LEN / PG; i++)
		*(uint64_t *)(m->write + i * PG) = ~target_pattern(seed_of(SEED_WRITE) + i, 0);
}

static void check_written(struct lazymem *m)
{
	for (size_t i = 0; i < WRITE_LEN / PG; i++) {
		const uint64_t *w = (const uint64_t *)(m->write + i * PG);
		uint64_t seed = seed_of(SEED_WRITE) + i;

		if (w[0] != ~target_pattern(seed, 0))
			target_fail("write map page %zu at %p lost the word written to it", i, w);
		for (size_t k = 1; k < PG / 8; k++)
			if (w[k] != target_pattern(seed, k))
				target_fail("write map page %zu at %p: word %zu differs%s", i, w, k,
					    w[k] ? "" : " (zero)");
	}
}

/* Wait (bounded) until no tracer holds the process: the lazy server has
 * detached. */
static void wait_untraced(void)
{
	for (int tries = 0; tries < 1200; tries++) {
		char line[256];
		int tracer = -1;
		FILE *f = fopen("/proc/self/status", "re");

		if (!f)
			target_fail("/proc/self/status: %s", strerror(errno));
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "TracerPid: %d", &tracer) == 1)
				break;
		fclose(f);
		if (tracer == 0)
			return;
		usleep(100000);
	}
	target_fail("still traced 120 s after the checks: the lazy server never finished");
}

static void setup(struct lazymem *m, size_t mib)
{
	m->big_len = mib << 20;
	m->nr_pages = m->big_len / PG;
	m->big = map_anon(m->big_len);
	fill_pages(m->big, m->big_len, BIG_SEED);
	target_note("big %d %#lx %#lx", getpid(), (unsigned long)m->big,
		    (unsigned long)m->big + m->big_len);
	m->move = map_anon(MOVE_LEN);
	fill_pages(m->move, MOVE_LEN, seed_of(SEED_MOVE));
	m->fork = map_anon(FORK_LEN);
	fill_pages(m->fork, FORK_LEN, seed_of(SEED_FORK));
	m->drop = map_anon(DROP_LEN);
	fill_pages(m->drop, DROP_LEN, seed_of(SEED_DROP));
	m->unmap = map_anon(UNMAP_LEN);
	fill_pages(m->unmap, UNMAP_LEN, seed_of(SEED_UNMAP));
	m->write = map_anon(WRITE_LEN);
	fill_pages(m->write, WRITE_LEN, seed_of(SEED_WRITE));
	for (unsigned i = 0; i < m->nr_threads; i++) {
		workers[i] = (struct worker){ .m = m, .idx = i };
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]))
			target_fail("pthread_create %u", i);
	}
}

static void shuffle(struct lazymem *m)
{
	uint64_t s = now_ns(CLOCK_MONOTONIC) | 1;

	m->perm = malloc(m->nr_pages * sizeof(*m->perm));
	if (!m->perm)
		target_fail("out of memory for %zu page indexes", m->nr_pages);
	for (size_t i = 0; i < m->nr_pages; i++)
		m->perm[i] = i;
	for (size_t i = m->nr_pages - 1; i > 0; i--) {
		size_t j = rnd(&s) % (i + 1);
		uint32_t t = m->perm[i];

		m->perm[i] = m->perm[j];
		m->perm[j] = t;
	}
}

int main(int argc, char **argv)
{
	struct lazymem *m = &mem;
	int two_step = 0, opt;
	size_t mib;

	m->nr_threads = 4;
	while ((opt = getopt(argc, argv, "wn:")) != -1) {
		switch (opt) {
		case 'w': two_step = 1; break;
		case 'n': m->nr_threads = strtoul(optarg, NULL, 0); break;
		default: goto usage;
		}
	}
	if (optind != argc - 1 || m->nr_threads < 1 || m->nr_threads > MAX_THREADS)
		goto usage;
	mib = strtoul(argv[optind], NULL, 0);
	if (!mib)
		goto usage;
	target_init();
	setup(m, mib);
	/* touch the first page of the map to move: part in, part not */
	if (target_check(m->move, PG, seed_of(SEED_MOVE)) >= 0)
		target_fail("move map differs before the dump");

	target_ready();
	target_wait();
	answer_ping();
	if (two_step || hold_wanted()) {
		target_go = 0;
		target_wait();
	}

	shuffle(m);
	check_fork(m);
	check_move(m);
	check_drop(m);
	check_unmap(m);
	write_words(m);
	check_written(m);
	workers_go = 1;
	syscall(SYS_futex, &workers_go, FUTEX_WAKE_PRIVATE, MAX_THREADS, NULL, NULL, 0);
	for (unsigned i = 0; i < m->nr_threads; i++) {
		pthread_join(workers[i].thread, NULL);
		if (workers[i].fail)
			target_fail("thread %u: big map page %zu at %p %s", i, workers[i].bad_page,
				    m->big + workers[i].bad_page * PG, workers[i].fail);
	}

	wait_untraced();
	if (!is_zero(m->drop, DROP_LEN))
		target_fail("drop map %p no longer reads zero once the restore is done", m->drop);
	if (!is_zero(m->unmap, UNMAP_LEN))
		target_fail("re-mapped map %p no longer reads zero once the restore is done", m->unmap);
	check_written(m);
	if (check_pages(m->moved, MOVE_LEN, seed_of(SEED_MOVE)) >= 0)
		target_fail("moved map %p differs once the restore is done", m->moved);
	target_pass();
usage:
	fprintf(stderr, "usage: lazymem [-w] [-n THREADS] MIB\n");
	return 2;
}
