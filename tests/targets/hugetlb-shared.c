/* hugetlb memory with a backing object of its own: checked byte for byte,
 * for its huge pages and for its sharing after a restore.
 *
 *	hugetlb-shared [-f HUGEDIR] [-u]
 *
 * Always:
 *  - shared anonymous hugetlb memory (MAP_SHARED|MAP_ANONYMOUS|MAP_HUGETLB,
 *    1 huge page) shared with a forked child (as is the memfd): after restore a write by the
 *    parent is seen by the child, and the child's answer by the parent;
 *  - a SysV shm segment of 1 huge page (SHM_HUGETLB), IPC_RMID'ed;
 *  - a memfd_create(MFD_HUGETLB|MFD_ALLOW_SEALING) of 2 huge pages, held as
 *    an fd, mapped shared, sealed against growing and shrinking: the fd is
 *    a hugetlbfs file of 2 MiB pages again, of the same size and seals, and
 *    a new mapping of it is the same memory as the old one.
 * -f HUGEDIR: a file on that hugetlbfs mount (2 huge pages) mapped shared
 *    and private, the private view's first page written (a COW copy): the
 *    file is the same one (opened again by path it shows the writes), the
 *    private page keeps its bytes and the untouched one follows the file.
 * -u (with -f): a file of that mount mapped shared, then unlinked.
 * Each mapping must be hugetlb again (smaps KernelPageSize 2048 kB,
 * VmFlags "ht"). */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include "target.h"

#define HPG		(2ul << 20)
#define HUGETLBFS_MAGIC	0x958458f6
#ifndef MFD_HUGETLB
#define MFD_HUGETLB	0x0004U
#endif
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB	(21U << 26)
#endif
#define MEMFD_SEALS	(F_SEAL_GROW | F_SEAL_SHRINK)

static unsigned char *anon, *sysv, *mfd_map, *file_sh, *file_priv, *gone;
static int mfd = -1;
static char file_path[4200];
static volatile sig_atomic_t child_go;

static void on_usr2(int sig)
{
	(void)sig;
	child_go = 1;
}

static void *xmmap(size_t len, int flags, int fd, const char *what)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, 0);

	if (p == MAP_FAILED)
		target_fail("mmap %s: %s", what, strerror(errno));
	return p;
}

/* Whether the maps line of the VMA at p names what. */
static bool maps_names(const void *p, const char *what)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[4400];
	bool found = false;

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && s <= (unsigned long)p &&
		    (unsigned long)p < e)
			found = strstr(line, what) != NULL;
	}
	if (f)
		fclose(f);
	return found;
}

/* 0 if the VMA at p is hugetlb of 2 MiB pages, else a reason (static). */
static const char *not_huge(const void *p)
{
	static char why[1024];
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[512], flags[512] = "";
	bool in = false;
	long kps = -1;

	if (!f)
		return "cannot read /proc/self/smaps";
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = s <= (unsigned long)p && (unsigned long)p < e;
			continue;
		}
		if (!in)
			continue;
		sscanf(line, "KernelPageSize: %ld kB", &kps);
		if (!strncmp(line, "VmFlags:", 8))
			snprintf(flags, sizeof(flags), "%s", line + 8);
	}
	fclose(f);
	if (kps == 2048 && strstr(flags, " ht"))
		return NULL;
	snprintf(why, sizeof(why), "KernelPageSize %ld kB (want 2048), VmFlags%s", kps, flags);
	return why;
}

static void check(const unsigned char *p, size_t len, uint64_t seed, const char *what)
{
	const char *why = not_huge(p);

	if (why)
		target_fail("%s: not hugetlb: %s", what, why);
	if (target_check(p, len, seed) >= 0)
		target_fail("%s: contents differ", what);
}

/* The child: shares anon; on SIGUSR2 (after restore) it checks the
 * parent's write, answers with its own, and exits 0 (or 10+ on error). */
static void child_main(void)
{
	for (;;) {
		if (child_go)
			break;
		pause();
	}
	if (not_huge(anon))
		_exit(10);
	if (target_check(anon, HPG, 503) >= 0)
		_exit(11);
	target_fill(anon + HPG / 2, HPG / 2, 504);
	_exit(0);
}

static void setup_sysv(void)
{
	int id = shmget(IPC_PRIVATE, HPG, IPC_CREAT | SHM_HUGETLB | 0600);

	if (id < 0)
		target_fail("shmget(SHM_HUGETLB): %s", strerror(errno));
	sysv = shmat(id, NULL, 0);
	if (sysv == (void *)-1)
		target_fail("shmat: %s", strerror(errno));
	shmctl(id, IPC_RMID, NULL);
	target_fill(sysv, HPG, 505);
}

static void setup_memfd(void)
{
	mfd = memfd_create("ckpt-hugetlb-shared", MFD_CLOEXEC | MFD_HUGETLB | MFD_HUGE_2MB |
			   MFD_ALLOW_SEALING);
	if (mfd < 0)
		target_fail("memfd_create(MFD_HUGETLB): %s", strerror(errno));
	if (ftruncate(mfd, 2 * HPG) < 0)
		target_fail("ftruncate the hugetlb memfd: %s", strerror(errno));
	mfd_map = xmmap(2 * HPG, MAP_SHARED, mfd, "hugetlb memfd");
	target_fill(mfd_map, 2 * HPG, 510);
	if (fcntl(mfd, F_ADD_SEALS, MEMFD_SEALS) < 0)
		target_fail("F_ADD_SEALS: %s", strerror(errno));
}

static void setup_file(const char *dir, bool unlinked)
{
	char path[4200];
	int fd;

	snprintf(file_path, sizeof(file_path), "%s/hugetlb-shared.%d", dir, getpid());
	fd = open(file_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 2 * HPG) < 0)
		target_fail("%s: %s", file_path, strerror(errno));
	file_sh = xmmap(2 * HPG, MAP_SHARED, fd, "hugetlbfs file, shared");
	target_fill(file_sh, HPG, 520);
	target_fill(file_sh + HPG, HPG, 521);
	file_priv = xmmap(2 * HPG, MAP_PRIVATE, fd, "hugetlbfs file, private");
	(void)*(volatile unsigned char *)(file_priv + HPG);
	target_fill(file_priv, HPG, 530);	/* a COW copy of page 0 */
	close(fd);
	if (!unlinked)
		return;
	snprintf(path, sizeof(path), "%s/hugetlb-gone.%d", dir, getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, HPG) < 0)
		target_fail("%s: %s", path, strerror(errno));
	gone = xmmap(HPG, MAP_SHARED, fd, "unlinked hugetlbfs file");
	target_fill(gone, HPG, 540);
	close(fd);
	unlink(path);
}

static void check_memfd(void)
{
	struct statfs sfs;
	struct stat st;
	unsigned char *again;

	check(mfd_map, 2 * HPG, 510, "hugetlb memfd");
	if (fstatfs(mfd, &sfs) < 0 || sfs.f_type != HUGETLBFS_MAGIC || sfs.f_bsize != (long)HPG)
		target_fail("hugetlb memfd fd %d: not on hugetlbfs of 2 MiB pages", mfd);
	if (fstat(mfd, &st) < 0 || st.st_size != (off_t)(2 * HPG))
		target_fail("hugetlb memfd: size %lld, want %lu", (long long)st.st_size, 2 * HPG);
	if (fcntl(mfd, F_GET_SEALS) != MEMFD_SEALS)
		target_fail("hugetlb memfd: seals 0x%x, want 0x%x", fcntl(mfd, F_GET_SEALS),
			    MEMFD_SEALS);
	/* the fd and the mapping are one object */
	again = xmmap(2 * HPG, MAP_SHARED, mfd, "hugetlb memfd again");
	target_fill(again + HPG, HPG, 511);
	if (target_check(mfd_map + HPG, HPG, 511) >= 0)
		target_fail("hugetlb memfd: a write through its fd's new mapping is not seen "
			    "through the old one");
}

static void check_file(void)
{
	unsigned char *again;
	int fd;

	check(file_sh, HPG, 520, "hugetlbfs file, shared view, page 0");
	check(file_sh + HPG, HPG, 521, "hugetlbfs file, shared view, page 1");
	check(file_priv, HPG, 530, "hugetlbfs file, private view, written page 0");
	check(file_priv + HPG, HPG, 521, "hugetlbfs file, private view, untouched page 1");
	/* the shared view is the file on the mount */
	target_fill(file_sh + HPG, HPG, 522);
	fd = open(file_path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		target_fail("%s: %s", file_path, strerror(errno));
	again = xmmap(2 * HPG, MAP_SHARED, fd, "hugetlbfs file again");
	close(fd);
	if (target_check(again + HPG, HPG, 522) >= 0)
		target_fail("hugetlbfs file: a write through the restored shared view is not in "
			    "the file %s", file_path);
	if (target_check(file_priv + HPG, HPG, 522) >= 0)
		target_fail("hugetlbfs file: the private view's untouched page does not follow "
			    "the file");
	if (target_check(file_priv, HPG, 530) >= 0)
		target_fail("hugetlbfs file: the private view's written page changed");
	unlink(file_path);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr2 };
	const char *dir = NULL;
	bool unlinked = false;
	pid_t child;
	int st;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "-u"))
			unlinked = true;
	}
	target_init();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);

	anon = xmmap(HPG, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, "hugetlb shared anon");
	target_fill(anon, HPG, 500);
	setup_sysv();
	setup_memfd();
	child = fork();
	if (child < 0)
		target_fail("fork: %s", strerror(errno));
	if (child == 0)
		child_main();
	/* the parent's alone (the child would share the COW copy) */
	if (dir)
		setup_file(dir, unlinked);

	target_ready();
	target_wait();

	check(anon, HPG, 500, "hugetlb shared anonymous memory");
	check(sysv, HPG, 505, "SysV SHM_HUGETLB segment");
	check_memfd();
	if (dir)
		check_file();
	if (gone) {
		check(gone, HPG, 540, "unlinked hugetlbfs file");
		/* made again in its directory (O_TMPFILE), under its name */
		if (!maps_names(gone, "/hugetlb-gone.") || maps_names(gone, "/memfd:"))
			target_fail("unlinked hugetlbfs file: not made again under its old name");
	}
	/* the child sees the parent's write and answers through the same page */
	target_fill(anon, HPG, 503);
	kill(child, SIGUSR2);
	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st))
		target_fail("the child (sharing the hugetlb anonymous memory) failed: status 0x%x "
			    "(10: not hugetlb, 11: the parent's write not seen)", st);
	if (target_check(anon + HPG / 2, HPG / 2, 504) >= 0)
		target_fail("hugetlb shared anonymous memory: the child's write is not seen");
	target_pass();
	return 0;
}
