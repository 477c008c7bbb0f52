/* Memory shared between views, and the kinds of memory with their own
 * backing: checked byte for byte and by behaviour after a restore.
 *
 *	memshare [-h] [-s] [-d]
 *
 * Always:
 *  - a file mapped MAP_SHARED twice, read-write and read-only (the file
 *    opened O_RDWR, so the read-only view "may write"), and once private
 *    with one page written: after restore the read-only view can be
 *    mprotect()ed writable, and a write through it is seen through the
 *    other shared view and through the untouched pages of the private one
 *    (which keep following the file), not through its written page;
 *  - a memfd mapped shared twice and private, the same way.
 * -h: hugetlb anonymous private memory (MAP_HUGETLB, 2 MiB pages);
 * -s: hugetlb anonymous shared memory and a memfd_create(MFD_HUGETLB)
 *     mapped shared; each checked for its contents and for huge pages
 *     (smaps KernelPageSize 2048 kB);
 * -d: MAP_DROPPABLE memory (Linux 6.11+): VmFlags "dp" again, contents
 *     (restored; nothing here makes the kernel drop them).
 *
 *	memshare --probe-droppable	exit 0 if MAP_DROPPABLE works, 77 if not */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/mman.h>

#include "target.h"

#define PG		4096ul
#define HPG		(2ul << 20)
#define NPAGES		4
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE	0x08
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB	0x0004U
#endif

struct views {
	const char *what;
	unsigned char *rw, *ro, *priv;
	uint64_t seed;
};

static struct views file_v, memfd_v;
static unsigned char *huge_priv, *huge_shared, *huge_memfd, *droppable;

static void *xmmap(void *addr, size_t len, int prot, int flags, int fd, const char *what)
{
	void *p = mmap(addr, len, prot, flags, fd, 0);

	if (p == MAP_FAILED)
		target_fail("mmap %s: %s", what, strerror(errno));
	return p;
}

static void fill_fd(int fd, uint64_t seed)
{
	unsigned char buf[PG];

	for (unsigned i = 0; i < NPAGES; i++) {
		target_fill(buf, PG, seed + i);
		if (write(fd, buf, PG) != (ssize_t)PG)
			target_fail("write: %s", strerror(errno));
	}
}

/* rw and ro shared views and a private one of fd; the private one read
 * whole (its file pages present) and page 1 written. */
static void make_views(struct views *v, int fd, uint64_t seed, const char *what)
{
	v->what = what;
	v->seed = seed;
	fill_fd(fd, seed);
	v->rw = xmmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, what);
	v->ro = xmmap(NULL, NPAGES * PG, PROT_READ, MAP_SHARED, fd, what);
	v->priv = xmmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, what);
	for (unsigned i = 0; i < NPAGES; i++)
		(void)*(volatile unsigned char *)(v->priv + i * PG);
	target_fill(v->priv + PG, PG, seed + 50);
	/* a write through the shared view before the dump */
	target_fill(v->rw, PG, seed + 60);
	close(fd);
}

static uint64_t file_seed(const struct views *v, unsigned page)
{
	return page == 0 ? v->seed + 60 : v->seed + page;
}

static void check_page(const unsigned char *p, uint64_t seed, const char *what,
		       const char *view, unsigned page)
{
	if (target_check(p, PG, seed) >= 0)
		target_fail("%s: %s view, page %u differs", what, view, page);
}

static void check_views(struct views *v)
{
	for (unsigned i = 0; i < NPAGES; i++) {
		check_page(v->rw + i * PG, file_seed(v, i), v->what, "read-write", i);
		check_page(v->ro + i * PG, file_seed(v, i), v->what, "read-only", i);
		check_page(v->priv + i * PG, i == 1 ? v->seed + 50 : file_seed(v, i), v->what,
			   "private", i);
	}
	/* the read-only view may become writable, and is the same file */
	if (mprotect(v->ro, NPAGES * PG, PROT_READ | PROT_WRITE) < 0)
		target_fail("%s: mprotect of the read-only shared view to read-write: %s",
			    v->what, strerror(errno));
	target_fill(v->ro + 2 * PG, PG, v->seed + 70);
	check_page(v->rw + 2 * PG, v->seed + 70, v->what, "read-write (after a write through "
		   "the read-only one)", 2);
	check_page(v->priv + 2 * PG, v->seed + 70, v->what, "private, untouched (after a write "
		   "through a shared one)", 2);
	/* the private view's written page is its own */
	target_fill(v->rw + PG, PG, v->seed + 80);
	check_page(v->priv + PG, v->seed + 50, v->what, "private, written", 1);
	check_page(v->ro + PG, v->seed + 80, v->what, "read-only", 1);
}

static void setup_views(void)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/memshare-file.%d", target_dir(), getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		target_fail("%s: %s", path, strerror(errno));
	make_views(&file_v, fd, 100, "shared file");

	fd = memfd_create("ckpt-memshare", MFD_CLOEXEC);
	if (fd < 0)
		target_fail("memfd_create: %s", strerror(errno));
	make_views(&memfd_v, fd, 200, "memfd");
}

/* smaps' KernelPageSize of the VMA at p, in kB; VmFlags into flags. */
static long smaps_of(const void *p, char *flags, size_t flen)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[512];
	bool in = false;
	long kps = -1;

	if (!f)
		target_fail("/proc/self/smaps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = s <= (unsigned long)p && (unsigned long)p < e;
			continue;
		}
		if (!in)
			continue;
		sscanf(line, "KernelPageSize: %ld kB", &kps);
		if (!strncmp(line, "VmFlags:", 8) && flags)
			snprintf(flags, flen, "%s", line + 8);
	}
	fclose(f);
	return kps;
}

static void check_huge(const unsigned char *p, size_t len, uint64_t seed, const char *what)
{
	long kps = smaps_of(p, NULL, 0);

	if (kps != 2048)
		target_fail("%s: KernelPageSize %ld kB, want 2048", what, kps);
	if (target_check(p, len, seed) >= 0)
		target_fail("%s: contents differ", what);
}

static void setup_huge_private(void)
{
	huge_priv = xmmap(NULL, 2 * HPG, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, "hugetlb private");
	target_fill(huge_priv, 2 * HPG, 300);
}

static void setup_huge_shared(void)
{
	int fd;

	huge_shared = xmmap(NULL, HPG, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, "hugetlb shared");
	target_fill(huge_shared, HPG, 301);
	fd = memfd_create("ckpt-memshare-huge", MFD_CLOEXEC | MFD_HUGETLB);
	if (fd < 0)
		target_fail("memfd_create(MFD_HUGETLB): %s", strerror(errno));
	if (ftruncate(fd, HPG) < 0)
		target_fail("ftruncate hugetlb memfd: %s", strerror(errno));
	huge_memfd = xmmap(NULL, HPG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, "hugetlb memfd");
	target_fill(huge_memfd, HPG, 302);
	close(fd);
}

static void setup_droppable(void)
{
	droppable = xmmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE,
			  MAP_DROPPABLE | MAP_ANONYMOUS, -1, "droppable");
	target_fill(droppable, NPAGES * PG, 400);
}

static void check_droppable(void)
{
	char flags[256] = "";

	smaps_of(droppable, flags, sizeof(flags));
	if (!strstr(flags, " dp"))
		target_fail("MAP_DROPPABLE memory: VmFlags%s lacks dp", flags);
	if (target_check(droppable, NPAGES * PG, 400) >= 0)
		target_fail("MAP_DROPPABLE memory: contents differ");
}

int main(int argc, char **argv)
{
	bool huge_p = false, huge_s = false, drop = false;

	if (argc > 1 && !strcmp(argv[1], "--probe-droppable")) {
		void *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_DROPPABLE | MAP_ANONYMOUS,
			       -1, 0);

		if (p == MAP_FAILED) {
			printf("no MAP_DROPPABLE here: %s\n", strerror(errno));
			return 77;
		}
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		huge_p |= !strcmp(argv[i], "-h");
		huge_s |= !strcmp(argv[i], "-s");
		drop |= !strcmp(argv[i], "-d");
	}
	target_init();
	setup_views();
	if (huge_p)
		setup_huge_private();
	if (huge_s)
		setup_huge_shared();
	if (drop)
		setup_droppable();

	target_ready();
	target_wait();

	check_views(&file_v);
	check_views(&memfd_v);
	if (huge_p)
		check_huge(huge_priv, 2 * HPG, 300, "hugetlb private memory");
	if (huge_s) {
		check_huge(huge_shared, HPG, 301, "hugetlb shared memory");
		check_huge(huge_memfd, HPG, 302, "hugetlb memfd");
	}
	if (drop)
		check_droppable();
	target_pass();
	return 0;
}
