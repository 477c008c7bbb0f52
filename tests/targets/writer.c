/* Migration target: a big region whose pages keep changing at a set rate
 * while the tree runs (and is pre-copied), with a record of what every
 * page must hold kept in the process itself, so it moves with it and the
 * restored process checks every byte on SIGUSR1.
 *
 *	writer -m MIB -r RATE [-t THREADS]
 *
 * MIB MiB are mapped and every page written (target_fill() of its seed;
 * the seeds, one uint32_t a page, live in the process). Then THREADS
 * threads (default 1) rewrite pseudo-random pages with new seeds at RATE
 * KiB/s in all (paced with clock_nanosleep in bursts every 10 ms; 0: as
 * fast as they can). Thread k owns the pages i with i % THREADS == k, so
 * no two threads write one page or one seed.
 *
 * A thread writes a page, then records its seed. A dump may catch it
 * anywhere in between: the restored thread resumes there and finishes
 * both before it looks at the stop flag, so the check, which runs only
 * after every thread has stopped and been joined, always sees a page and
 * its seed agree. The region asks for no huge pages: a 4 KiB write should
 * dirty 4 KiB for the trackers, not 2 MiB.
 *
 * A pacer behind by more than a second (the process was frozen, or moved
 * to a host whose clock reads otherwise) starts afresh instead of
 * catching up in one burst. On SIGUSR1: the writers stop, every page is
 * checked, the status says "pass" or "fail: page N ...", and the log (stdout)
 * says how many pages were rewritten. */
#include <pthread.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <time.h>

#include "target.h"

#define PG		4096ul
#define TICK_NS		10000000l	/* a burst every 10 ms */
#define MAX_THREADS	64

struct writer {
	char *mem;
	size_t pages;
	uint32_t *seed;			/* per page, never 0 */
	unsigned nthreads;
	unsigned long rate_kib;		/* KiB/s in all; 0: no pause */
	volatile bool stop;
};

struct thread {
	struct writer *w;
	unsigned k;			/* owns pages i % nthreads == k */
	uint64_t written;
	pthread_t th;
};

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void ts_add(struct timespec *t, long ns)
{
	t->tv_nsec += ns;
	while (t->tv_nsec >= 1000000000l) {
		t->tv_nsec -= 1000000000l;
		t->tv_sec++;
	}
}

static long ts_diff_ns(const struct timespec *a, const struct timespec *b)
{
	return (a->tv_sec - b->tv_sec) * 1000000000l + (a->tv_nsec - b->tv_nsec);
}

/* Rewrite one page of the thread's own with a fresh seed. */
static void rewrite_one(struct thread *t, uint32_t *s)
{
	struct writer *w = t->w;
	size_t slots = (w->pages - t->k + w->nthreads - 1) / w->nthreads;
	size_t i = t->k + (rnd(s) % slots) * w->nthreads;
	uint32_t seed = (uint32_t)((t->written + 1) * 2654435761u + t->k * 40503u) | 1u;

	target_fill(w->mem + i * PG, PG, seed);
	w->seed[i] = seed;
	t->written++;
}

static void *writer_main(void *arg)
{
	struct thread *t = arg;
	struct writer *w = t->w;
	/* pages per tick for this thread, in 1/1000ths */
	uint64_t per_tick = (uint64_t)w->rate_kib * 1000 / 4 / (1000000000l / TICK_NS) /
			    w->nthreads;
	uint64_t credit = 0;
	uint32_t s = 0x9e3779b9u + t->k * 7919u;
	struct timespec next, now;

	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!w->stop) {
		if (!w->rate_kib) {
			rewrite_one(t, &s);
			continue;
		}
		credit += per_tick;
		for (; credit >= 1000 && !w->stop; credit -= 1000)
			rewrite_one(t, &s);
		ts_add(&next, TICK_NS);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (ts_diff_ns(&now, &next) > 1000000000l)
			next = now;		/* frozen or moved: no catch-up burst */
		else
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	return NULL;
}

static void verify(const struct writer *w)
{
	for (size_t i = 0; i < w->pages; i++) {
		long k = target_check(w->mem + i * PG, PG, w->seed[i]);

		if (k >= 0)
			target_fail("page %zu (%p) word %ld differs from seed %u", i,
				    w->mem + i * PG, k, w->seed[i]);
	}
}

int main(int argc, char **argv)
{
	static struct writer w = { .nthreads = 1 };
	static struct thread t[MAX_THREADS];
	unsigned long mib = 0;
	sigset_t block, old;
	uint64_t total = 0;
	int c;

	while ((c = getopt(argc, argv, "m:r:t:")) != -1) {
		switch (c) {
		case 'm':
			mib = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			w.rate_kib = strtoul(optarg, NULL, 0);
			break;
		case 't':
			w.nthreads = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: writer -m MIB -r KIB_PER_S [-t THREADS]\n");
			return 2;
		}
	}
	if (!mib || !w.nthreads || w.nthreads > MAX_THREADS) {
		fprintf(stderr, "writer: -m MIB (> 0) is needed, -t 1..%d\n", MAX_THREADS);
		return 2;
	}
	target_init();
	w.pages = (mib << 20) / PG;
	w.mem = mmap(NULL, w.pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	if (w.mem == MAP_FAILED)
		target_fail("mmap %lu MiB: %s", mib, strerror(errno));
	madvise(w.mem, w.pages * PG, MADV_NOHUGEPAGE);
	w.seed = malloc(w.pages * sizeof(*w.seed));
	if (!w.seed)
		target_fail("out of memory for %zu seeds", w.pages);
	for (size_t i = 0; i < w.pages; i++) {
		w.seed[i] = (uint32_t)(i * 2246822519u) | 1u;
		target_fill(w.mem + i * PG, PG, w.seed[i]);
	}

	/* the writers inherit the mask: SIGUSR1 goes to this thread */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	for (unsigned k = 0; k < w.nthreads; k++) {
		t[k] = (struct thread){ .w = &w, .k = k };
		if (pthread_create(&t[k].th, NULL, writer_main, &t[k]))
			target_fail("cannot start writer thread %u", k);
	}
	(void)target_wait;	/* sigsuspend below: no lost wake-up */
	target_ready();
	while (!target_go)
		sigsuspend(&old);

	w.stop = true;
	for (unsigned k = 0; k < w.nthreads; k++) {
		pthread_join(t[k].th, NULL);
		total += t[k].written;
	}
	verify(&w);
	printf("writer: %llu pages rewritten, %zu pages checked\n",
	       (unsigned long long)total, w.pages);
	fflush(stdout);
	target_pass();
}
