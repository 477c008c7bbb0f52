/* Benchmark target: N MiB of anonymous memory, every page written with a
 * non-zero pattern, then idle until SIGUSR1 (the test-target protocol of
 * tests/targets/target.h: "ready PID" in $CKPT_STATUS).
 *
 *	memhog MIB
 *
 * THP is turned off for the area so that a dump sees plain 4 KiB pages, as
 * most real processes' memory is. */
#include <stdint.h>
#include <sys/mman.h>

#include "tests/targets/target.h"

int main(int argc, char **argv)
{
	size_t mib, len;
	unsigned char *p;

	if (argc != 2 || !(mib = strtoul(argv[1], NULL, 10))) {
		fprintf(stderr, "usage: memhog MIB\n");
		return 2;
	}
	target_init();
	len = mib << 20;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		target_fail("mmap of %zu MiB: %s", mib, strerror(errno));
	madvise(p, len, MADV_NOHUGEPAGE);
	for (size_t off = 0; off < len; off += 4096)
		memset(p + off, (int)((off >> 12) % 255) + 1, 4096);
	target_ready();
	target_wait();
	for (size_t off = 0; off < len; off += 4096)
		if (p[off] != (unsigned char)((off >> 12) % 255 + 1))
			target_fail("page at +%#zx changed", off);
	target_pass();
	return 0;
}
