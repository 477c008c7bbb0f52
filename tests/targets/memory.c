/* Memory target: every kind of mapping a dump must get right, each filled
 * with its own pattern and checked byte for byte after SIGUSR1.
 *
 *	memory [-s] [-d MIB] [-H] [-v NR] [-a]
 *
 * Always: malloc'd blocks (brk heap and glibc's mmap'd chunks), anonymous
 * private maps (full and every other page), an anonymous shared map, a
 * private file map with some pages modified, a shared file map, PROT_NONE
 * holes, a region written then made PROT_NONE, a region written with
 * zeros, a region mapped and never touched and one only read (the zero
 * page). -s adds a 1 GiB sparse map with a few pages written far apart;
 * -d MIB a dense anonymous map of MIB MiB; -H asks for transparent huge
 * pages on the dense map; -v NR adds NR one-page maps, each its own VMA
 * (alternately read-write and read-only, so none merge), each written;
 * -a maps with advice and attributes to keep: MADV_DONTFORK+DONTDUMP,
 * MADV_WIPEONFORK, mlock(), MAP_GROWSDOWN (checked through VmFlags).
 *
 * For the harness it notes (target.h) "present PID START END" for ranges
 * the image must store whole and "absent PID START END" for ranges it must
 * not store (never written: their contents are the zero page or nothing). */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "target.h"

#define PG		4096ul
#define NR_BLOCKS	2000

struct region {
	const char *what;
	unsigned char *addr;
	size_t len;
	uint64_t seed;
	const char *perms;	/* expected in /proc/self/maps, e.g. "rw-p" */
};

static struct region regions[64];
static unsigned nr_regions;

static void *heap_blocks[NR_BLOCKS];
static size_t heap_sizes[NR_BLOCKS];

static unsigned char *sparse;
#define SPARSE_SIZE	(1ul << 30)
#define SPARSE_STEP	(64ul << 20)

static unsigned char *file_priv, *file_shared;
static int file_shared_fd = -1;
#define FILE_PAGES	16
static char file_priv_path[4200], file_shared_path[4200];

static unsigned char *nonehole;	/* 16 pages, pages 4..11 PROT_NONE, never written */
static unsigned char *nonedata;	/* 16 pages written, then pages 4..11 PROT_NONE */
static unsigned char *untouched, *readonly_touched, *zeroed;
#define SMALL_PAGES	64

static void *map_anon(size_t len, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		target_fail("mmap of %zu bytes: %s", len, strerror(errno));
	return p;
}

static void add_region(const char *what, void *addr, size_t len, uint64_t seed,
		       const char *perms)
{
	regions[nr_regions++] = (struct region){ what, addr, len, seed, perms };
	target_fill(addr, len, seed);
}

static void note(const char *kind, const void *start, size_t len)
{
	target_note("%s %d %#lx %#lx", kind, getpid(), (unsigned long)start,
		    (unsigned long)start + len);
}

/* Does one line of /proc/self/maps with these permissions cover
 * [start, start + len)? (Neighbouring maps may have merged with it.) */
static int maps_has(const void *start, size_t len, const char *perms)
{
	unsigned long lo, hi, s = (unsigned long)start, e = s + len;
	char line[512], p[8];
	FILE *f = fopen("/proc/self/maps", "re");
	int found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, p) == 3 &&
		    lo <= s && e <= hi && !strcmp(p, perms))
			found = 1;
	fclose(f);
	return found;
}

static void setup_heap(void)
{
	for (unsigned i = 0; i < NR_BLOCKS; i++) {
		/* small blocks from brk, every 100th large enough for mmap */
		heap_sizes[i] = (i % 100 == 99) ? (1u << 20) + i * 8 : 16 + (i * 37) % 4000;
		heap_sizes[i] &= ~7ul;
		heap_blocks[i] = malloc(heap_sizes[i]);
		if (!heap_blocks[i])
			target_fail("malloc");
		target_fill(heap_blocks[i], heap_sizes[i], 1000 + i);
	}
	/* free some, so the heap has holes glibc keeps track of */
	for (unsigned i = 3; i < NR_BLOCKS; i += 7) {
		free(heap_blocks[i]);
		heap_blocks[i] = NULL;
	}
}

static void check_heap(void)
{
	for (unsigned i = 0; i < NR_BLOCKS; i++) {
		long bad;

		if (!heap_blocks[i])
			continue;
		bad = target_check(heap_blocks[i], heap_sizes[i], 1000 + i);
		if (bad >= 0)
			target_fail("heap block %u (%zu bytes at %p): word %ld differs",
				    i, heap_sizes[i], heap_blocks[i], bad);
	}
	/* the allocator's own state must have survived too */
	void *p = malloc(12345);
	if (!p)
		target_fail("malloc after restore");
	memset(p, 1, 12345);
	free(p);
}

static void setup_anon(void)
{
	unsigned char *half;

	add_region("anon private", map_anon(4 << 20, MAP_PRIVATE), 4 << 20, 11, "rw-p");
	note("present", regions[nr_regions - 1].addr, 4 << 20);

	/* every other page written: the image must hold just those */
	half = map_anon(64 * PG, MAP_PRIVATE);
	madvise(half, 64 * PG, MADV_NOHUGEPAGE);
	for (unsigned i = 0; i < 64; i += 2) {
		target_fill(half + i * PG, PG, 200 + i);
		note("present", half + i * PG, PG);
		note("absent", half + (i + 1) * PG, PG);
	}
	regions[nr_regions++] = (struct region){ "every other page", half, 64 * PG, 0, "rw-p" };

	add_region("anon shared", map_anon(1 << 20, MAP_SHARED), 1 << 20, 12, "rw-s");

	/* read-only anonymous memory: written, then PROT_READ */
	unsigned char *ro = map_anon(8 * PG, MAP_PRIVATE);
	add_region("anon read-only", ro, 8 * PG, 13, "r--p");
	mprotect(ro, 8 * PG, PROT_READ);
	note("present", ro, 8 * PG);
}

static int check_every_other(const struct region *r)
{
	for (unsigned i = 0; i < 64; i++) {
		const uint64_t *w = (const uint64_t *)(r->addr + i * PG);

		if (i % 2 == 0 && target_check(w, PG, 200 + i) >= 0)
			target_fail("every other page: page %u differs", i);
		if (i % 2 == 1)
			for (unsigned j = 0; j < PG / 8; j++)
				if (w[j])
					target_fail("every other page: unwritten page %u not zero", i);
	}
	return 0;
}

static void setup_zero_regions(void)
{
	volatile unsigned char sink = 0;

	untouched = map_anon(SMALL_PAGES * PG, MAP_PRIVATE);
	madvise(untouched, SMALL_PAGES * PG, MADV_NOHUGEPAGE);
	note("absent", untouched, SMALL_PAGES * PG);

	/* read faults map the shared zero page: present in pagemap, but it
	 * must not be saved */
	readonly_touched = map_anon(SMALL_PAGES * PG, MAP_PRIVATE);
	madvise(readonly_touched, SMALL_PAGES * PG, MADV_NOHUGEPAGE);
	for (unsigned i = 0; i < SMALL_PAGES; i++)
		sink += readonly_touched[i * PG];
	note("absent", readonly_touched, SMALL_PAGES * PG);

	/* written with zeros: real pages the program owns */
	zeroed = map_anon(16 * PG, MAP_PRIVATE);
	madvise(zeroed, 16 * PG, MADV_NOHUGEPAGE);
	memset(zeroed, 0, 16 * PG);
	note("present", zeroed, 16 * PG);
	(void)sink;
}

static void check_zero(const char *what, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			target_fail("%s: byte %zu is %#x, not zero", what, i, p[i]);
}

static int make_file(char *path, size_t size, const char *name, uint64_t seed)
{
	void *buf = malloc(size);
	int fd;

	snprintf(path, 4200, "%s/%s", target_dir(), name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !buf)
		target_fail("create %s: %s", path, strerror(errno));
	target_fill(buf, size, seed);
	if (write(fd, buf, size) != (ssize_t)size)
		target_fail("write %s: %s", path, strerror(errno));
	free(buf);
	return fd;
}

static void setup_files(void)
{
	int fd;

	/* private: pages 2 and 5 modified (copied on write), the rest the file's */
	fd = make_file(file_priv_path, FILE_PAGES * PG, "memory-private.dat", 30);
	file_priv = mmap(NULL, FILE_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (file_priv == MAP_FAILED)
		target_fail("mmap %s: %s", file_priv_path, strerror(errno));
	close(fd);
	madvise(file_priv, FILE_PAGES * PG, MADV_WILLNEED);
	for (unsigned i = 0; i < FILE_PAGES; i++) {
		volatile unsigned char c = file_priv[i * PG];	/* in page cache, mapped */
		(void)c;
	}
	target_fill(file_priv + 2 * PG, PG, 31);
	target_fill(file_priv + 5 * PG, PG, 32);
	note("present", file_priv + 2 * PG, PG);
	note("present", file_priv + 5 * PG, PG);
	note("absent", file_priv, 2 * PG);
	note("absent", file_priv + 6 * PG, (FILE_PAGES - 6) * PG);

	/* shared: the program writes through the map into the file */
	fd = make_file(file_shared_path, FILE_PAGES * PG, "memory-shared.dat", 33);
	file_shared = mmap(NULL, FILE_PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (file_shared == MAP_FAILED)
		target_fail("mmap %s: %s", file_shared_path, strerror(errno));
	file_shared_fd = fd;
	target_fill(file_shared, FILE_PAGES * PG, 34);
	note("absent", file_shared, FILE_PAGES * PG);
}

static void check_files(void)
{
	static unsigned char buf[FILE_PAGES * PG];

	for (unsigned i = 0; i < FILE_PAGES; i++) {
		uint64_t seed = i == 2 ? 31 : i == 5 ? 32 : 30;
		long bad;

		if (seed == 30) {
			/* unmodified pages read the file's bytes at their offset */
			const uint64_t *w = (const uint64_t *)(file_priv + i * PG);
			for (unsigned j = 0; j < PG / 8; j++)
				if (w[j] != target_pattern(30, i * PG / 8 + j))
					target_fail("private file map page %u word %u differs", i, j);
			continue;
		}
		bad = target_check(file_priv + i * PG, PG, seed);
		if (bad >= 0)
			target_fail("private file map modified page %u word %ld differs", i, bad);
	}
	if (target_check(file_shared, FILE_PAGES * PG, 34) >= 0)
		target_fail("shared file map differs");
	/* still the file's pages: a write through the map shows in the file */
	if (pread(file_shared_fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
		target_fail("pread %s: %s", file_shared_path, strerror(errno));
	if (target_check(buf, sizeof(buf), 34) >= 0)
		target_fail("%s does not hold what was written through the map", file_shared_path);
	file_shared[100] ^= 0xff;
	if (pread(file_shared_fd, buf, PG, 0) != PG || buf[100] != file_shared[100])
		target_fail("shared file map is no longer shared with %s", file_shared_path);
	file_shared[100] ^= 0xff;
	if (!maps_has(file_priv, FILE_PAGES * PG, "rw-p"))
		target_fail("private file map %p no longer in /proc/self/maps", file_priv);
	if (!maps_has(file_shared, FILE_PAGES * PG, "rw-s"))
		target_fail("shared file map %p no longer in /proc/self/maps", file_shared);
}

static void setup_prot_none(void)
{
	nonehole = map_anon(16 * PG, MAP_PRIVATE);
	madvise(nonehole, 16 * PG, MADV_NOHUGEPAGE);
	mprotect(nonehole + 4 * PG, 8 * PG, PROT_NONE);
	target_fill(nonehole, 4 * PG, 40);
	target_fill(nonehole + 12 * PG, 4 * PG, 41);
	note("absent", nonehole + 4 * PG, 8 * PG);
	note("present", nonehole, 4 * PG);
	note("present", nonehole + 12 * PG, 4 * PG);

	/* data behind PROT_NONE must be saved and come back */
	nonedata = map_anon(16 * PG, MAP_PRIVATE);
	target_fill(nonedata, 16 * PG, 42);
	mprotect(nonedata + 4 * PG, 8 * PG, PROT_NONE);
	note("present", nonedata, 16 * PG);
}

static void check_prot_none(void)
{
	if (!maps_has(nonehole + 4 * PG, 8 * PG, "---p"))
		target_fail("PROT_NONE hole at %p lost", nonehole + 4 * PG);
	if (!maps_has(nonedata + 4 * PG, 8 * PG, "---p"))
		target_fail("PROT_NONE data at %p lost its protection", nonedata + 4 * PG);
	if (target_check(nonehole, 4 * PG, 40) >= 0 || target_check(nonehole + 12 * PG, 4 * PG, 41) >= 0)
		target_fail("pages around the PROT_NONE hole differ");
	mprotect(nonehole + 4 * PG, 8 * PG, PROT_READ);
	check_zero("PROT_NONE hole", nonehole + 4 * PG, 8 * PG);
	mprotect(nonedata + 4 * PG, 8 * PG, PROT_READ);
	if (target_check(nonedata, 16 * PG, 42) >= 0)
		target_fail("data behind PROT_NONE differs");
}

static unsigned char *many;
static unsigned nr_many;

/* NR separate VMAs: one reservation, then every other page read-only */
static void setup_many(void)
{
	many = map_anon((size_t)nr_many * PG, MAP_PRIVATE);
	madvise(many, (size_t)nr_many * PG, MADV_NOHUGEPAGE);
	for (unsigned i = 0; i < nr_many; i++)
		target_fill(many + (size_t)i * PG, PG, 7000 + i);
	for (unsigned i = 1; i < nr_many; i += 2)
		if (mprotect(many + (size_t)i * PG, PG, PROT_READ))
			target_fail("mprotect: %s", strerror(errno));
}

static void check_many(void)
{
	for (unsigned i = 0; i < nr_many; i++)
		if (target_check(many + (size_t)i * PG, PG, 7000 + i) >= 0)
			target_fail("one-page map %u of %u differs", i, nr_many);
	if (nr_many > 2 && !maps_has(many + PG, PG, "r--p"))
		target_fail("one-page maps merged or lost their protection");
}

struct advised {
	unsigned char *addr;
	size_t len;
	uint64_t seed;
	const char *vmflags;	/* each two-letter flag must be in VmFlags */
};

static struct advised advised[4];
static unsigned nr_advised;

/* The VmFlags line of the VMA holding addr, from /proc/self/smaps. */
static int vmflags_of(const void *addr, char *out, size_t len)
{
	unsigned long lo, hi, a = (unsigned long)addr;
	char line[512];
	int in = 0, found = 0;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
			in = lo <= a && a < hi;
		else if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(out, len, "%s", line + 8);
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

static void add_advised(unsigned char *p, size_t len, uint64_t seed, const char *flags)
{
	target_fill(p, len, seed);
	note("present", p, len);
	advised[nr_advised++] = (struct advised){ p, len, seed, flags };
}

static void setup_advice(void)
{
	unsigned char *p;

	p = map_anon(8 * PG, MAP_PRIVATE);
	if (madvise(p, 8 * PG, MADV_DONTFORK) || madvise(p, 8 * PG, MADV_DONTDUMP))
		target_fail("madvise: %s", strerror(errno));
	add_advised(p, 8 * PG, 80, "dc dd");
	p = map_anon(8 * PG, MAP_PRIVATE);
	if (madvise(p, 8 * PG, MADV_WIPEONFORK))
		target_fail("madvise WIPEONFORK: %s", strerror(errno));
	add_advised(p, 8 * PG, 81, "wf");
	p = map_anon(4 * PG, MAP_PRIVATE);
	if (mlock(p, 4 * PG))
		target_fail("mlock: %s", strerror(errno));
	add_advised(p, 4 * PG, 82, "lo");
	p = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
	if (p == MAP_FAILED)
		target_fail("mmap MAP_GROWSDOWN: %s", strerror(errno));
	add_advised(p, 16 * PG, 83, "gd");
}

static void check_advice(void)
{
	for (unsigned i = 0; i < nr_advised; i++) {
		const struct advised *a = &advised[i];
		char flags[512], want[4];

		if (target_check(a->addr, a->len, a->seed) >= 0)
			target_fail("advised map %p (%s) differs", a->addr, a->vmflags);
		if (!vmflags_of(a->addr, flags, sizeof(flags)))
			target_fail("no VmFlags for %p", a->addr);
		for (const char *f = a->vmflags; *f; f += f[2] ? 3 : 2) {
			snprintf(want, sizeof(want), " %.2s", f);
			if (!strstr(flags, want))
				target_fail("map %p lost VmFlags '%s' (has:%s)", a->addr, want + 1, flags);
		}
	}
}

static void setup_sparse(void)
{
	sparse = mmap(NULL, SPARSE_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (sparse == MAP_FAILED)
		target_fail("mmap 1 GiB: %s", strerror(errno));
	madvise(sparse, SPARSE_SIZE, MADV_NOHUGEPAGE);
	for (size_t off = 0; off < SPARSE_SIZE; off += SPARSE_STEP) {
		target_fill(sparse + off, PG, 50 + off / SPARSE_STEP);
		note("present", sparse + off, PG);
		note("absent", sparse + off + PG, SPARSE_STEP - 2 * PG);
	}
	target_fill(sparse + SPARSE_SIZE - PG, PG, 49);
	note("present", sparse + SPARSE_SIZE - PG, PG);
}

static void check_sparse(void)
{
	for (size_t off = 0; off < SPARSE_SIZE; off += SPARSE_STEP) {
		if (target_check(sparse + off, PG, 50 + off / SPARSE_STEP) >= 0)
			target_fail("sparse map page at +%#zx differs", off);
		check_zero("sparse map gap", sparse + off + PG, 2 * PG);
		check_zero("sparse map gap", sparse + off + SPARSE_STEP / 2, PG);
	}
	if (target_check(sparse + SPARSE_SIZE - PG, PG, 49) >= 0)
		target_fail("sparse map last page differs");
}

int main(int argc, char **argv)
{
	size_t dense_mib = 0;
	int want_sparse = 0, want_advice = 0, huge = 0, opt;

	while ((opt = getopt(argc, argv, "sd:Hv:a")) != -1) {
		switch (opt) {
		case 'a': want_advice = 1; break;
		case 'v': nr_many = strtoul(optarg, NULL, 0); break;
		case 's': want_sparse = 1; break;
		case 'd': dense_mib = strtoul(optarg, NULL, 0); break;
		case 'H': huge = 1; break;
		default:
			fprintf(stderr, "usage: memory [-s] [-d MIB] [-H] [-v NR] [-a]\n");
			return 2;
		}
	}
	target_init();
	setup_heap();
	setup_anon();
	setup_zero_regions();
	setup_files();
	setup_prot_none();
	if (want_sparse)
		setup_sparse();
	if (nr_many)
		setup_many();
	if (want_advice)
		setup_advice();
	if (dense_mib) {
		size_t len = dense_mib << 20;
		void *p = map_anon(len, MAP_PRIVATE);

		if (huge)
			madvise(p, len, MADV_HUGEPAGE);
		add_region("dense", p, len, 60, "rw-p");
		note("present", p, len);
	}

	target_ready();
	target_wait();

	check_heap();
	for (unsigned i = 0; i < nr_regions; i++) {
		const struct region *r = &regions[i];
		long bad;

		if (!maps_has(r->addr, r->len, r->perms))
			target_fail("%s at %p (%zu bytes, %s) not in /proc/self/maps",
				    r->what, r->addr, r->len, r->perms);
		if (!r->seed) {
			check_every_other(r);
			continue;
		}
		bad = target_check(r->addr, r->len, r->seed);
		if (bad >= 0)
			target_fail("%s at %p: word %ld differs", r->what, r->addr, bad);
	}
	check_zero("untouched map", untouched, SMALL_PAGES * PG);
	check_zero("read-only touched map", readonly_touched, SMALL_PAGES * PG);
	check_zero("zero-written map", zeroed, 16 * PG);
	check_files();
	check_prot_none();
	if (want_sparse)
		check_sparse();
	if (nr_many)
		check_many();
	if (want_advice)
		check_advice();
	target_pass();
}
