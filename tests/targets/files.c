/* Target: open files of every kind the dump saves, and proof that a dump
 * changed none of them.
 *
 * Holds a regular file at an offset (and a dup of it, and a child that
 * inherited it), a deleted file, a memfd, a pipe and a FIFO with data in
 * them, a sparse 1 GiB memfd with one page written, a unix socketpair, a
 * TCP socket listening on 127.0.0.1, an eventfd and /dev/null. After SIGUSR1 it checks
 * that every offset is where it was and every buffered byte is still there,
 * then removes its files.
 *
 * "files big N" adds a memfd of N MiB filled with a pattern, for the test
 * that a dump saves large ghost contents in bounded memory. */
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "target.h"

static const char text[] = "ckpt files target: some bytes in a file";
static const char pipe_text[] = "bytes waiting in a pipe";
static const char fifo_text[] = "bytes waiting in a fifo";

static char reg_path[4096];
static char fifo_path[4096 + 8];
#define SPARSE_SIZE (1ull << 30)
#define SPARSE_OFF (512ull << 20)

static int reg, reg_dup, del, mfd, sparse, pipefd[2], fifo, big = -1;
static size_t big_len;

static void setup_big(size_t mib)
{
	char *p;

	big_len = mib << 20;
	big = memfd_create("ckpt-big", MFD_CLOEXEC);
	if (big < 0 || ftruncate(big, big_len) < 0)
		target_fail("memfd of %zu MiB", mib);
	p = mmap(NULL, big_len, PROT_READ | PROT_WRITE, MAP_SHARED, big, 0);
	if (p == MAP_FAILED)
		target_fail("mmap the big memfd");
	target_fill(p, big_len, 77);
	munmap(p, big_len);
}

static void verify_big(void)
{
	char *p;
	long bad;

	if (big < 0)
		return;
	p = mmap(NULL, big_len, PROT_READ, MAP_SHARED, big, 0);
	if (p == MAP_FAILED)
		target_fail("mmap the big memfd");
	bad = target_check(p, big_len, 77);
	if (bad >= 0)
		target_fail("big memfd: word %ld changed", bad);
	munmap(p, big_len);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char del_path[4096];
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int sp[2], l;

	/* in $TMPDIR: the tests point it at their own directory, removed even
	 * when a test kills this program before it cleans up */
	snprintf(reg_path, sizeof(reg_path), "%s/ckpt-target-files-XXXXXX", tmp);
	snprintf(del_path, sizeof(del_path), "%s/ckpt-target-deleted-XXXXXX", tmp);
	reg = mkstemp(reg_path);
	if (reg < 0 || write(reg, text, sizeof(text)) != sizeof(text))
		target_fail("cannot create %s", reg_path);
	lseek(reg, 7, SEEK_SET);
	reg_dup = dup(reg);

	del = mkstemp(del_path);
	if (del < 0 || write(del, text, sizeof(text)) != sizeof(text) || unlink(del_path) < 0)
		target_fail("cannot create a deleted file");
	lseek(del, 2, SEEK_SET);

	mfd = memfd_create("ckpt-files", MFD_CLOEXEC);
	if (mfd < 0 || write(mfd, text, sizeof(text)) != sizeof(text))
		target_fail("memfd_create");

	sparse = memfd_create("ckpt-sparse", MFD_CLOEXEC);
	if (sparse < 0 || ftruncate(sparse, SPARSE_SIZE) < 0 ||
	    pwrite(sparse, text, sizeof(text), SPARSE_OFF) != sizeof(text))
		target_fail("sparse memfd");

	if (pipe(pipefd) < 0 || write(pipefd[1], pipe_text, sizeof(pipe_text)) < 0)
		target_fail("pipe");

	snprintf(fifo_path, sizeof(fifo_path), "%s.fifo", reg_path);
	if (mkfifo(fifo_path, 0600) < 0)
		target_fail("mkfifo %s", fifo_path);
	fifo = open(fifo_path, O_RDWR | O_NONBLOCK);
	if (fifo < 0 || write(fifo, fifo_text, sizeof(fifo_text)) < 0)
		target_fail("fifo");

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0 ||
	    eventfd(5, 0) < 0 || open("/dev/null", O_RDWR) < 0)
		target_fail("socketpair, eventfd or /dev/null");
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&lo, sizeof(lo)) < 0 || listen(l, 1) < 0)
		target_fail("listen on 127.0.0.1");
}

static void expect_bytes(int fd, const char *want, size_t len, const char *what)
{
	char buf[256] = "";
	ssize_t n;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	n = read(fd, buf, sizeof(buf));
	if (n != (ssize_t)len || memcmp(buf, want, len) != 0)
		target_fail("%s: read %zd bytes, want %zu", what, n, len);
}

static void verify(void)
{
	char buf[sizeof(text)];

	if (lseek(reg, 0, SEEK_CUR) != 7)
		target_fail("regular file offset moved to %lld", (long long)lseek(reg, 0, SEEK_CUR));
	if (lseek(reg_dup, 0, SEEK_CUR) != 7)
		target_fail("dup'd file offset moved");
	if (lseek(del, 0, SEEK_CUR) != 2)
		target_fail("deleted file offset moved");
	if (lseek(mfd, 0, SEEK_CUR) != sizeof(text))
		target_fail("memfd offset moved");
	if (pread(mfd, buf, sizeof(buf), 0) != sizeof(buf) || memcmp(buf, text, sizeof(buf)))
		target_fail("memfd contents changed");
	if (pread(sparse, buf, sizeof(buf), SPARSE_OFF) != sizeof(buf) || memcmp(buf, text, sizeof(buf)))
		target_fail("sparse memfd contents changed");
	expect_bytes(pipefd[0], pipe_text, sizeof(pipe_text), "pipe");
	expect_bytes(fifo, fifo_text, sizeof(fifo_text), "fifo");
}

int main(int argc, char **argv)
{
	pid_t kid;

	target_init();
	setup();
	if (argc == 3 && strcmp(argv[1], "big") == 0)
		setup_big(strtoul(argv[2], NULL, 0));
	kid = fork();
	if (kid < 0)
		target_fail("fork");
	if (kid == 0) {
		/* shares every description above with its parent */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	target_ready();
	target_wait();
	verify();
	verify_big();
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	unlink(fifo_path);
	unlink(reg_path);
	target_pass();
}
