/* Benchmark baseline: the least a dump of memhog's memory can cost. Reads
 * the largest writable anonymous mapping of PID with process_vm_readv in
 * batches of the same size the dump uses (4 MiB through one call) and
 * writes each batch to FILE with write(2) from a second thread while the
 * next batch is read, into two buffers taking turns: the dump's pagepipe
 * does the same. Like the dump, it syncs only the directory, not the data.
 * Prints the bytes copied and microseconds.
 *
 *	memcopy PID FILE */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BATCH (4u << 20)

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The largest "rw-p" mapping without a name: memhog's area. */
static int find_area(int pid, uint64_t *start, uint64_t *end)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	*start = *end = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e, ino;
		char perms[5];
		int n = 0;

		if (sscanf(line, "%llx-%llx %4s %*x %*x:%*x %llu %n", &s, &e, perms, &ino, &n) < 4)
			continue;
		if (strcmp(perms, "rw-p") || ino || (line[n] && line[n] != '\n'))
			continue;
		if (e - s > *end - *start) {
			*start = s;
			*end = e;
		}
	}
	fclose(f);
	return *end ? 0 : -1;
}

/* Two buffers taking turns between the reader (main) and the writer. */
struct pipe {
	char *buf[2];
	size_t len[2];			/* 0: the end */
	sem_t empty[2], full[2];
	int fd;
	const char *path;
	int err;			/* the writer's errno */
};

static void *writer_main(void *arg)
{
	struct pipe *p = arg;

	for (unsigned k = 0;; k ^= 1) {
		size_t len;

		sem_wait(&p->full[k]);
		len = p->len[k];
		if (!len)
			return NULL;
		for (size_t off = 0; off < len && !p->err;) {
			ssize_t w = write(p->fd, p->buf[k] + off, len - off);

			if (w < 0)
				p->err = errno;
			else
				off += w;
		}
		sem_post(&p->empty[k]);
	}
}

static int copy_area(int pid, uint64_t start, uint64_t end, struct pipe *p)
{
	pthread_t th;
	unsigned k = 0;
	int r = 0;

	for (int i = 0; i < 2; i++) {
		sem_init(&p->empty[i], 0, 1);
		sem_init(&p->full[i], 0, 0);
	}
	if (pthread_create(&th, NULL, writer_main, p)) {
		fprintf(stderr, "memcopy: cannot start the writer thread\n");
		return -1;
	}
	for (uint64_t a = start; a < end && !r; a += BATCH, k ^= 1) {
		size_t len = end - a < BATCH ? end - a : BATCH;
		struct iovec local = { p->buf[k], len }, remote = { (void *)(uintptr_t)a, len };
		ssize_t n;

		sem_wait(&p->empty[k]);
		n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		if (n != (ssize_t)len) {
			fprintf(stderr, "memcopy: process_vm_readv at %#" PRIx64 ": %s\n", a,
				n < 0 ? strerror(errno) : "short read");
			r = -1;
			len = 0;
		}
		p->len[k] = len;
		sem_post(&p->full[k]);
	}
	if (!r) {
		sem_wait(&p->empty[k]);
		p->len[k] = 0;
		sem_post(&p->full[k]);
	}
	pthread_join(th, NULL);
	if (p->err) {
		fprintf(stderr, "memcopy: write %s: %s\n", p->path, strerror(p->err));
		r = -1;
	}
	return r;
}

int main(int argc, char **argv)
{
	struct pipe p = { .fd = -1 };
	uint64_t start, end, t0;
	char *dir;
	int pid, dfd;

	if (argc != 3) {
		fprintf(stderr, "usage: memcopy PID FILE\n");
		return 2;
	}
	pid = atoi(argv[1]);
	if (find_area(pid, &start, &end) < 0) {
		fprintf(stderr, "memcopy: no anonymous rw-p mapping in pid %d\n", pid);
		return 1;
	}
	for (int i = 0; i < 2; i++) {
		p.buf[i] = mmap(NULL, BATCH, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p.buf[i] == MAP_FAILED)
			return 1;
	}

	t0 = now_us();
	p.path = argv[2];
	p.fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (p.fd < 0) {
		fprintf(stderr, "memcopy: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if (copy_area(pid, start, end, &p) < 0)
		return 1;
	close(p.fd);
	dir = dirname(argv[2]);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		fprintf(stderr, "memcopy: fsync %s: %s\n", dir, strerror(errno));
		return 1;
	}
	close(dfd);
	printf("%" PRIu64 " %" PRIu64 "\n", end - start, now_us() - t0);
	return 0;
}
