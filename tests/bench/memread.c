/* Benchmark baseline for restore: the least a restore of memhog's memory
 * can cost. Maps a fresh anonymous region as large as the data area of a
 * pages-N.img file and preadv()s that area into it the way the restorer
 * does: blocks of PAGES_MAX_BLOCK_PAGES pages, READ_BATCH blocks per call,
 * straight into place, so every page is first touched by the copy. No
 * checksum (the restorer verifies each block's XXH3 on top of this).
 * Prints the bytes read and microseconds.
 *
 *	memread PAGES_FILE */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "images/img.h"
#include "images/pages.h"

#define BLOCK		((size_t)PAGES_MAX_BLOCK_PAGES * 4096)
#define READ_BATCH	64	/* restorer/mem.c: blocks per preadv */

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* preadv [off, off + len) of fd into dst, in BLOCK-sized iovecs. */
static int read_batch(int fd, char *dst, size_t len, off_t off)
{
	struct iovec iov[READ_BATCH];
	unsigned n = 0, first = 0;

	for (size_t o = 0; o < len; o += BLOCK, n++) {
		iov[n].iov_base = dst + o;
		iov[n].iov_len = len - o < BLOCK ? len - o : BLOCK;
	}
	while (len) {
		ssize_t r = preadv(fd, iov + first, n - first, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		off += r;
		len -= r;
		while (first < n && (size_t)r >= iov[first].iov_len)
			r -= iov[first++].iov_len;
		if (first < n) {
			iov[first].iov_base = (char *)iov[first].iov_base + r;
			iov[first].iov_len -= r;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t t0, len;
	struct stat st;
	char *area;
	int fd, r;

	if (argc != 2) {
		fprintf(stderr, "usage: memread PAGES_FILE\n");
		return 2;
	}
	t0 = now_us();
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "memread: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (st.st_size <= IMG_PAGES_DATA_OFF) {
		fprintf(stderr, "memread: %s: no page data\n", argv[1]);
		return 1;
	}
	len = st.st_size - IMG_PAGES_DATA_OFF;
	area = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		fprintf(stderr, "memread: mmap of %" PRIu64 " bytes: %s\n", len, strerror(errno));
		return 1;
	}
	for (uint64_t o = 0; o < len; o += READ_BATCH * BLOCK) {
		uint64_t n = len - o < READ_BATCH * BLOCK ? len - o : READ_BATCH * BLOCK;

		r = read_batch(fd, area + o, n, IMG_PAGES_DATA_OFF + o);
		if (r < 0) {
			fprintf(stderr, "memread: %s at offset %" PRIu64 ": %s\n", argv[1],
				IMG_PAGES_DATA_OFF + o, r == -EIO ? "file too short" : strerror(-r));
			return 1;
		}
	}
	printf("%" PRIu64 " %" PRIu64 "\n", len, now_us() - t0);
	return 0;
}
