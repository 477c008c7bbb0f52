/* The sample program of the README example (tests/example.sh): a small
 * "service" with some state worth keeping: a 32 MiB table of computed
 * values, a log file it appends to, and two worker threads that hold
 * their partial results. It is a test target too (target.h): after
 * SIGUSR1 it checks every byte of its state and reports pass or fail. */
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>

#include "target.h"

#define TABLE_SIZE	(32u << 20)
#define NR_WORKERS	2

static uint64_t *table;
static int log_fd = -1;
static pthread_barrier_t started;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER;
static int released;

struct worker {
	pthread_t thread;
	unsigned idx;
	uint64_t sum;		/* sum over this worker's half of the table */
	int ok;
};

static struct worker workers[NR_WORKERS];

static uint64_t half_sum(unsigned idx)
{
	size_t words = TABLE_SIZE / 8 / NR_WORKERS;
	uint64_t sum = 0;

	for (size_t i = idx * words; i < (idx + 1) * words; i++)
		sum += table[i] * (i | 1);
	return sum;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t mine = half_sum(w->idx);	/* held on this thread's stack */

	w->sum = mine;
	pthread_barrier_wait(&started);
	pthread_mutex_lock(&lock);
	while (!released)
		pthread_cond_wait(&go, &lock);
	pthread_mutex_unlock(&lock);
	/* the stack copy and the recomputed value must still agree */
	w->ok = mine == w->sum && mine == half_sum(w->idx);
	return NULL;
}

int main(void)
{
	char path[4200];

	target_init();
	table = mmap(NULL, TABLE_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (table == MAP_FAILED)
		target_fail("mmap: %s", strerror(errno));
	target_fill(table, TABLE_SIZE, 2024);

	snprintf(path, sizeof(path), "%s/sample.log", target_dir());
	log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0)
		target_fail("open %s: %s", path, strerror(errno));
	dprintf(log_fd, "sample %d: table of %u MiB filled\n", getpid(), TABLE_SIZE >> 20);

	pthread_barrier_init(&started, NULL, NR_WORKERS + 1);
	for (unsigned i = 0; i < NR_WORKERS; i++) {
		workers[i].idx = i;
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]))
			target_fail("pthread_create failed");
	}
	pthread_barrier_wait(&started);

	target_ready();
	target_wait();

	pthread_mutex_lock(&lock);
	released = 1;
	pthread_cond_broadcast(&go);
	pthread_mutex_unlock(&lock);
	for (unsigned i = 0; i < NR_WORKERS; i++) {
		pthread_join(workers[i].thread, NULL);
		if (!workers[i].ok)
			target_fail("worker %u: partial sum changed", i);
	}
	long bad = target_check(table, TABLE_SIZE, 2024);
	if (bad >= 0)
		target_fail("table word %ld differs", bad);
	if (dprintf(log_fd, "sample %d: verified\n", getpid()) < 0)
		target_fail("log write: %s", strerror(errno));
	target_pass();
}
