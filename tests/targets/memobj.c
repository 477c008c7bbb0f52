/* Memory objects target: the mappings whose contents do not live in the
 * task's own anonymous pages, and the VMA attributes a dump must carry.
 *
 *	memobj [-u]
 *
 *  - anonymous shared memory (MAP_SHARED|MAP_ANONYMOUS) shared with a
 *    forked child: one object, the same shmid in both tasks;
 *  - a SysV shm segment (already IPC_RMID'ed);
 *  - a memfd mapped shared, and mapped private with COW pages;
 *  - a deleted file mapped private with COW pages;
 *  - a private file map with one page written, then made PROT_NONE;
 *  - anonymous maps with madvise flags (DONTFORK, DONTDUMP, WIPEONFORK,
 *    HUGEPAGE, NOHUGEPAGE, MERGEABLE when the kernel has KSM).
 * -u adds an io_uring ring mapping, which ckpt cannot save: the dump must
 * refuse it by name.
 *
 * Notes (target.h): "present" for ranges the image must store, "absent"
 * for the untouched parts of the file maps, and "advice START ADVICE" for
 * the madvise checks of the integration test. */
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "target.h"

#define PG		4096ul
#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))
#define OBJ_PAGES	16

static unsigned char *shared_anon, *sysv, *memfd_shared, *memfd_priv, *deleted_priv,
	*file_none, *advised[6];
static pid_t child = -1;

static void *xmmap(size_t len, int prot, int flags, int fd, const char *what)
{
	void *p = mmap(NULL, len, prot, flags, fd, 0);

	if (p == MAP_FAILED)
		target_fail("mmap %s: %s", what, strerror(errno));
	return p;
}

static void note(const char *kind, const void *start, size_t len)
{
	target_note("%s %d %#lx %#lx", kind, getpid(), (unsigned long)start,
		    (unsigned long)start + len);
}

/* Fill fd with OBJ_PAGES pages, page i of pattern seed + i. */
static int make_file(int fd, uint64_t seed)
{
	unsigned char buf[PG];

	for (unsigned i = 0; i < OBJ_PAGES; i++) {
		target_fill(buf, PG, seed + i);
		if (write(fd, buf, PG) != (ssize_t)PG)
			target_fail("write: %s", strerror(errno));
	}
	return fd;
}

/* Map a file private, read every page (file pages present), write pages
 * 3 and 9 (COW copies): only those two may be stored. */
static unsigned char *map_cow(int fd, uint64_t seed, const char *what)
{
	unsigned char *p = xmmap(OBJ_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, what);

	for (unsigned i = 0; i < OBJ_PAGES; i++)
		(void)*(volatile unsigned char *)(p + i * PG);
	target_fill(p + 3 * PG, PG, seed + 1000);
	target_fill(p + 9 * PG, PG, seed + 1001);
	note("present", p + 3 * PG, PG);
	note("present", p + 9 * PG, PG);
	note("absent", p, 3 * PG);
	note("absent", p + 4 * PG, 5 * PG);
	note("absent", p + 10 * PG, 6 * PG);
	return p;
}

static void check_cow(const unsigned char *p, uint64_t seed, const char *what)
{
	for (unsigned i = 0; i < OBJ_PAGES; i++) {
		uint64_t s = i == 3 ? seed + 1000 : i == 9 ? seed + 1001 : seed + i;

		if (target_check(p + i * PG, PG, s) >= 0)
			target_fail("%s: page %u differs", what, i);
	}
}

static void setup_shared(void)
{
	int id;

	shared_anon = xmmap(OBJ_PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			    -1, "shared anon");
	target_fill(shared_anon, OBJ_PAGES * PG, 11);

	id = shmget(IPC_PRIVATE, OBJ_PAGES * PG, IPC_CREAT | 0600);
	if (id < 0)
		target_fail("shmget: %s", strerror(errno));
	sysv = shmat(id, NULL, 0);
	if (sysv == (void *)-1)
		target_fail("shmat: %s", strerror(errno));
	shmctl(id, IPC_RMID, NULL);
	target_fill(sysv, OBJ_PAGES * PG, 12);
}

static void setup_files(void)
{
	char path[4200];
	int fd;

	fd = make_file(memfd_create("ckpt-memobj", MFD_CLOEXEC), 20);
	memfd_shared = xmmap(OBJ_PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, "memfd");
	memfd_priv = map_cow(fd, 20, "memfd private");
	close(fd);

	snprintf(path, sizeof(path), "%s/memobj-deleted.%d", target_dir(), getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		target_fail("%s: %s", path, strerror(errno));
	make_file(fd, 40);
	deleted_priv = map_cow(fd, 40, "deleted file");
	close(fd);
	unlink(path);

	snprintf(path, sizeof(path), "%s/memobj-none.%d", target_dir(), getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		target_fail("%s: %s", path, strerror(errno));
	make_file(fd, 60);
	file_none = xmmap(PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, "file none");
	target_fill(file_none, PG, 61);
	if (mprotect(file_none, PG, PROT_NONE) < 0)
		target_fail("mprotect: %s", strerror(errno));
	note("present", file_none, PG);
	close(fd);
	unlink(path);
}

static void setup_advice(void)
{
	static const int advice[] = { MADV_DONTFORK, MADV_DONTDUMP, MADV_WIPEONFORK,
				      MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_MERGEABLE };

	for (unsigned i = 0; i < ARRAY_LEN(advice); i++) {
		advised[i] = xmmap(4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				   -1, "advised");
		target_fill(advised[i], 4 * PG, 80 + i);
		if (madvise(advised[i], 4 * PG, advice[i]) < 0) {
			if (advice[i] == MADV_MERGEABLE && errno == EINVAL)
				continue;	/* no KSM in this kernel */
			target_fail("madvise %d: %s", advice[i], strerror(errno));
		}
		note("present", advised[i], 4 * PG);
		target_note("advice %d %#lx %d", getpid(), (unsigned long)advised[i], advice[i]);
	}
}

/* An io_uring: its rings are driver memory no dump can recreate. */
static void setup_uring(void)
{
	struct {
		uint32_t sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle,
			 features, wq_fd, resv[3];
		uint32_t sq_off[10], cq_off[10];
	} params = { 0 };
	long fd = syscall(__NR_io_uring_setup, 4, &params);

	if (fd < 0)
		target_fail("io_uring_setup: %s", strerror(errno));
	xmmap(PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, "io_uring");
}

int main(int argc, char **argv)
{
	int st;

	target_init();
	setup_shared();
	setup_files();
	setup_advice();
	if (argc > 1 && !strcmp(argv[1], "-u"))
		setup_uring();

	child = fork();
	if (child < 0)
		target_fail("fork: %s", strerror(errno));
	if (child == 0) {
		/* the child shares shared_anon (and sysv) and just waits */
		for (;;)
			pause();
	}

	target_ready();
	target_wait();

	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	if (target_check(shared_anon, OBJ_PAGES * PG, 11) >= 0)
		target_fail("shared anonymous memory differs");
	if (target_check(sysv, OBJ_PAGES * PG, 12) >= 0)
		target_fail("SysV shm differs");
	for (unsigned i = 0; i < OBJ_PAGES; i++)
		if (target_check(memfd_shared + i * PG, PG, 20 + i) >= 0)
			target_fail("shared memfd page %u differs", i);
	check_cow(memfd_priv, 20, "private memfd map");
	check_cow(deleted_priv, 40, "private map of a deleted file");
	if (mprotect(file_none, PG, PROT_READ) < 0 || target_check(file_none, PG, 61) >= 0)
		target_fail("PROT_NONE COW page differs");
	for (unsigned i = 0; i < ARRAY_LEN(advised); i++)
		if (target_check(advised[i], 4 * PG, 80 + i) >= 0)
			target_fail("advised map %u differs", i);
	target_pass();
	return 0;
}
