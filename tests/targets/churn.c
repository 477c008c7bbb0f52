/* Churn target: threads that are created and exit all the time, over a
 * large map that does not change. A dump must either catch a consistent
 * set of threads or fail cleanly; it must never hang or leave the process
 * stopped. After SIGUSR1 the churn stops and the map is checked.
 *
 *	churn [-t SPAWNERS] [-d MIB]	(defaults: 2 spawners, 64 MiB)
 *
 * Its memory changes after ready (thread stacks), so no imgcmp on it. */
#include <pthread.h>
#include <sys/mman.h>

#include "target.h"

static volatile int stop;
static unsigned long spawned;

static void *short_lived(void *arg)
{
	__atomic_add_fetch(&spawned, 1, __ATOMIC_RELAXED);
	return arg;
}

static void *spawner(void *arg)
{
	while (!stop) {
		pthread_t t;

		if (pthread_create(&t, NULL, short_lived, NULL) == 0)
			pthread_join(t, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned nr = 2, mib = 64;
	pthread_t spawners[16];
	void *map;
	int opt;

	while ((opt = getopt(argc, argv, "t:d:")) != -1) {
		switch (opt) {
		case 't': nr = strtoul(optarg, NULL, 0); break;
		case 'd': mib = strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: churn [-t SPAWNERS] [-d MIB]\n");
			return 2;
		}
	}
	if (nr < 1 || nr > 16)
		nr = 2;
	target_init();
	map = mmap(NULL, (size_t)mib << 20, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		target_fail("mmap %u MiB: %s", mib, strerror(errno));
	target_fill(map, (size_t)mib << 20, 900);
	for (unsigned i = 0; i < nr; i++)
		if (pthread_create(&spawners[i], NULL, spawner, NULL))
			target_fail("pthread_create");

	target_ready();
	target_wait();

	stop = 1;
	for (unsigned i = 0; i < nr; i++)
		pthread_join(spawners[i], NULL);
	if (target_check(map, (size_t)mib << 20, 900) >= 0)
		target_fail("map differs");
	if (!spawned)
		target_fail("no thread ever ran");
	target_pass();
}
