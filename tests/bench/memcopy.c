/* Benchmark baseline: the least a dump of memhog's memory can cost. Reads
 * the largest writable anonymous mapping of PID with process_vm_readv in
 * batches of the same size the dump uses (4 MiB through one call) and
 * writes each batch to FILE with write(2); like the dump, it syncs only
 * the directory, not the data. Prints the bytes copied and microseconds.
 *
 *	memcopy PID FILE */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
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

int main(int argc, char **argv)
{
	uint64_t start, end, t0, done = 0;
	char *buf, *dir;
	int pid, fd, dfd;

	if (argc != 3) {
		fprintf(stderr, "usage: memcopy PID FILE\n");
		return 2;
	}
	pid = atoi(argv[1]);
	if (find_area(pid, &start, &end) < 0) {
		fprintf(stderr, "memcopy: no anonymous rw-p mapping in pid %d\n", pid);
		return 1;
	}
	buf = mmap(NULL, BATCH, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return 1;

	t0 = now_us();
	fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "memcopy: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	for (uint64_t a = start; a < end; a += BATCH) {
		size_t len = end - a < BATCH ? end - a : BATCH;
		struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)a, len };
		ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

		if (n != (ssize_t)len) {
			fprintf(stderr, "memcopy: process_vm_readv at %#" PRIx64 ": %s\n", a,
				n < 0 ? strerror(errno) : "short read");
			return 1;
		}
		for (size_t off = 0; off < len;) {
			ssize_t w = write(fd, buf + off, len - off);

			if (w < 0) {
				fprintf(stderr, "memcopy: write %s: %s\n", argv[2], strerror(errno));
				return 1;
			}
			off += w;
		}
		done += len;
	}
	close(fd);
	dir = dirname(argv[2]);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		fprintf(stderr, "memcopy: fsync %s: %s\n", dir, strerror(errno));
		return 1;
	}
	close(dfd);
	printf("%" PRIu64 " %" PRIu64 "\n", done, now_us() - t0);
	return 0;
}
