/* File-descriptor target: regular files at set offsets, a dup'd fd (one
 * shared file description), an O_APPEND file, cloexec and not, a pipe with
 * unread bytes and a raised capacity, a FIFO with unread bytes, a
 * deleted-but-open file, a sealed memfd, /dev/null, a directory fd.
 *
 *	fds [-m]
 *
 * -m also maps the deleted file (shared) and the memfd (shared), so their
 * pages live in file mappings whose files exist nowhere on disk.
 * After SIGUSR1 every fd number, flag, offset and content is checked. */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "target.h"

#define FD_REG		10
#define FD_DUP		11
#define FD_APPEND	12
#define FD_PIPE_R	13
#define FD_PIPE_W	14
#define FD_FIFO		15
#define FD_DELETED	16
#define FD_MEMFD	17
#define FD_NULL		18
#define FD_DIR		19
#define FD_RDONLY	20

#define REG_SIZE	(256u << 10)
#define DEL_SIZE	(100u << 10)
#define MEMFD_SIZE	(64u << 10)
#define PIPE_BYTES	(128u << 10)	/* the pipe full to its capacity */
#define FIFO_BYTES	700
#define PIPE_CAP	(128u << 10)

static char reg_path[4200], app_path[4200], fifo_path[4200], del_path[4200];
static unsigned char *del_map, *memfd_map;
static int seals;

/* Put fd at number want (closing the original) with these fd flags. */
static void place(int fd, int want, int cloexec)
{
	if (fd < 0)
		target_fail("open for fd %d: %s", want, strerror(errno));
	if (dup3(fd, want, cloexec ? O_CLOEXEC : 0) != want)
		target_fail("dup3 to %d: %s", want, strerror(errno));
	close(fd);
}

static void write_pattern(int fd, size_t len, uint64_t seed)
{
	void *buf = malloc(len);

	target_fill(buf, len, seed);
	if (write(fd, buf, len) != (ssize_t)len)
		target_fail("write: %s", strerror(errno));
	free(buf);
}

static void check_content(int fd, size_t len, uint64_t seed, const char *what)
{
	void *buf = malloc(len + 1);
	ssize_t n = pread(fd, buf, len + 1, 0);

	if (n != (ssize_t)len)
		target_fail("%s: holds %zd bytes, expected %zu", what, n, len);
	if (target_check(buf, len, seed) >= 0)
		target_fail("%s: contents differ", what);
	free(buf);
}

static void setup(int want_maps)
{
	const char *dir = target_dir();

	snprintf(reg_path, sizeof(reg_path), "%s/fds-regular.dat", dir);
	place(open(reg_path, O_RDWR | O_CREAT | O_TRUNC, 0640), FD_REG, 0);
	write_pattern(FD_REG, REG_SIZE, 1);
	lseek(FD_REG, 12345, SEEK_SET);
	if (dup2(FD_REG, FD_DUP) != FD_DUP)
		target_fail("dup2: %s", strerror(errno));
	place(open(reg_path, O_RDONLY), FD_RDONLY, 1);
	lseek(FD_RDONLY, 4321, SEEK_SET);

	snprintf(app_path, sizeof(app_path), "%s/fds-append.log", dir);
	place(open(app_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600), FD_APPEND, 1);
	if (write(FD_APPEND, "first\n", 6) != 6)
		target_fail("append: %s", strerror(errno));

	int p[2];
	if (pipe(p))
		target_fail("pipe: %s", strerror(errno));
	place(p[0], FD_PIPE_R, 0);
	place(p[1], FD_PIPE_W, 1);
	if (fcntl(FD_PIPE_W, F_SETPIPE_SZ, PIPE_CAP) < 0)
		target_fail("F_SETPIPE_SZ: %s", strerror(errno));
	write_pattern(FD_PIPE_W, PIPE_BYTES, 2);

	snprintf(fifo_path, sizeof(fifo_path), "%s/fds-fifo", dir);
	unlink(fifo_path);
	if (mkfifo(fifo_path, 0600))
		target_fail("mkfifo: %s", strerror(errno));
	place(open(fifo_path, O_RDWR | O_NONBLOCK), FD_FIFO, 0);
	write_pattern(FD_FIFO, FIFO_BYTES, 3);

	snprintf(del_path, sizeof(del_path), "%s/fds-deleted.dat", dir);
	place(open(del_path, O_RDWR | O_CREAT | O_TRUNC, 0600), FD_DELETED, 0);
	write_pattern(FD_DELETED, DEL_SIZE, 4);
	lseek(FD_DELETED, 777, SEEK_SET);
	if (want_maps) {
		del_map = mmap(NULL, DEL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, FD_DELETED, 0);
		if (del_map == MAP_FAILED)
			target_fail("mmap deleted file: %s", strerror(errno));
	}
	unlink(del_path);

	place(memfd_create("ckpt-test-memfd", MFD_ALLOW_SEALING), FD_MEMFD, 0);
	write_pattern(FD_MEMFD, MEMFD_SIZE, 5);
	lseek(FD_MEMFD, 999, SEEK_SET);
	if (want_maps) {
		memfd_map = mmap(NULL, MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, FD_MEMFD, 0);
		if (memfd_map == MAP_FAILED)
			target_fail("mmap memfd: %s", strerror(errno));
	}
	if (fcntl(FD_MEMFD, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
		target_fail("F_ADD_SEALS: %s", strerror(errno));
	seals = fcntl(FD_MEMFD, F_GET_SEALS);

	place(open("/dev/null", O_WRONLY), FD_NULL, 1);
	place(open(dir, O_RDONLY | O_DIRECTORY), FD_DIR, 0);
}

static void check_flags(int fd, int want_fl, int want_cloexec)
{
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);

	if (fl < 0)
		target_fail("fd %d is closed", fd);
	fl &= O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECTORY;
	if (fl != want_fl)
		target_fail("fd %d: flags %#o, expected %#o", fd, fl, want_fl);
	if (!!(fdfl & FD_CLOEXEC) != want_cloexec)
		target_fail("fd %d: close-on-exec %d, expected %d", fd, !!(fdfl & FD_CLOEXEC),
			    want_cloexec);
}

static void check_link(int fd, const char *want)
{
	char path[64], link[4200];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	if (strcmp(link, want))
		target_fail("fd %d is '%s', expected '%s'", fd, link, want);
}

static void check_pipe_bytes(int fd, size_t len, uint64_t seed, const char *what)
{
	unsigned char *want = malloc(len), *got = malloc(len + 1);
	ssize_t n;
	int fl = fcntl(fd, F_GETFL);

	target_fill(want, len, seed);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	n = read(fd, got, len + 1);
	fcntl(fd, F_SETFL, fl);
	if (n != (ssize_t)len)
		target_fail("%s: %zd bytes buffered, expected %zu", what, n, len);
	if (memcmp(want, got, len))
		target_fail("%s: buffered bytes differ", what);
	free(want);
	free(got);
}

static void check(int want_maps)
{
	char buf[64], link[4200];
	struct stat st;

	check_flags(FD_REG, O_RDWR, 0);
	check_flags(FD_DUP, O_RDWR, 0);
	check_flags(FD_RDONLY, O_RDONLY, 1);
	check_flags(FD_APPEND, O_WRONLY | O_APPEND, 1);
	check_flags(FD_PIPE_R, O_RDONLY, 0);
	check_flags(FD_PIPE_W, O_WRONLY, 1);
	check_flags(FD_FIFO, O_RDWR | O_NONBLOCK, 0);
	check_flags(FD_DELETED, O_RDWR, 0);
	check_flags(FD_MEMFD, O_RDWR, 0);
	check_flags(FD_NULL, O_WRONLY, 1);
	check_flags(FD_DIR, O_RDONLY | O_DIRECTORY, 0);
	check_link(FD_REG, reg_path);
	check_link(FD_APPEND, app_path);
	check_link(FD_FIFO, fifo_path);
	check_link(FD_NULL, "/dev/null");

	/* offsets; the dup shares its description's offset */
	if (lseek(FD_REG, 0, SEEK_CUR) != 12345 || lseek(FD_DUP, 0, SEEK_CUR) != 12345)
		target_fail("offsets %ld/%ld, expected 12345", (long)lseek(FD_REG, 0, SEEK_CUR),
			    (long)lseek(FD_DUP, 0, SEEK_CUR));
	lseek(FD_REG, 100, SEEK_SET);
	if (lseek(FD_DUP, 0, SEEK_CUR) != 100)
		target_fail("fd %d and its dup %d no longer share one file description", FD_REG, FD_DUP);
	if (lseek(FD_RDONLY, 0, SEEK_CUR) != 4321)
		target_fail("fd %d: offset %ld, expected 4321", FD_RDONLY,
			    (long)lseek(FD_RDONLY, 0, SEEK_CUR));
	check_content(FD_REG, REG_SIZE, 1, "regular file");

	/* O_APPEND: writes land at the end whatever the offset */
	lseek(FD_APPEND, 0, SEEK_SET);
	if (write(FD_APPEND, "second\n", 7) != 7 || pread(open(app_path, O_RDONLY | O_CLOEXEC),
							  buf, sizeof(buf), 0) != 13 ||
	    memcmp(buf, "first\nsecond\n", 13))
		target_fail("%s: append mode lost", app_path);

	if (fcntl(FD_PIPE_W, F_GETPIPE_SZ) != (int)PIPE_CAP)
		target_fail("pipe capacity %d, expected %u", fcntl(FD_PIPE_W, F_GETPIPE_SZ), PIPE_CAP);
	check_pipe_bytes(FD_PIPE_R, PIPE_BYTES, 2, "pipe");
	if (write(FD_PIPE_W, "x", 1) != 1 || read(FD_PIPE_R, buf, 2) != 1 || buf[0] != 'x')
		target_fail("pipe ends %d and %d are not one pipe", FD_PIPE_R, FD_PIPE_W);
	check_pipe_bytes(FD_FIFO, FIFO_BYTES, 3, "fifo");

	/* deleted file: still deleted, same contents and offset */
	snprintf(buf, sizeof(buf), "/proc/self/fd/%d", FD_DELETED);
	ssize_t n = readlink(buf, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	if (!strstr(link, "(deleted)"))
		target_fail("deleted file came back as '%s'", link);
	if (fstat(FD_DELETED, &st) || st.st_nlink != 0)
		target_fail("deleted file has %ld links", (long)st.st_nlink);
	if (lseek(FD_DELETED, 0, SEEK_CUR) != 777)
		target_fail("deleted file: offset %ld, expected 777", (long)lseek(FD_DELETED, 0, SEEK_CUR));
	check_content(FD_DELETED, DEL_SIZE, 4, "deleted file");

	snprintf(buf, sizeof(buf), "/proc/self/fd/%d", FD_MEMFD);
	n = readlink(buf, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	if (strncmp(link, "/memfd:ckpt-test-memfd", 22))
		target_fail("memfd is '%s'", link);
	if (fcntl(FD_MEMFD, F_GET_SEALS) != seals)
		target_fail("memfd seals %#x, expected %#x", fcntl(FD_MEMFD, F_GET_SEALS), seals);
	if (lseek(FD_MEMFD, 0, SEEK_CUR) != 999)
		target_fail("memfd: offset %ld, expected 999", (long)lseek(FD_MEMFD, 0, SEEK_CUR));
	check_content(FD_MEMFD, MEMFD_SIZE, 5, "memfd");

	if (fstat(FD_DIR, &st) || !S_ISDIR(st.st_mode))
		target_fail("fd %d is no longer a directory", FD_DIR);

	if (want_maps) {
		if (target_check(del_map, DEL_SIZE, 4) >= 0)
			target_fail("map of the deleted file differs");
		if (target_check(memfd_map, MEMFD_SIZE, 5) >= 0)
			target_fail("map of the memfd differs");
		/* still shared with the fds */
		del_map[10] ^= 1;
		memfd_map[10] ^= 1;
		if (pread(FD_DELETED, buf, 11, 0) != 11 || buf[10] != (char)del_map[10])
			target_fail("map of the deleted file no longer shares its file");
		if (pread(FD_MEMFD, buf, 11, 0) != 11 || buf[10] != (char)memfd_map[10])
			target_fail("map of the memfd no longer shares the memfd");
	}
}

int main(int argc, char **argv)
{
	int want_maps = argc > 1 && !strcmp(argv[1], "-m");

	target_init();
	setup(want_maps);
	target_ready();
	target_wait();
	check(want_maps);
	target_pass();
}
