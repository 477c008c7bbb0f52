/* daemon/lazy.c: the lazy server on a real child, as a blob would hand it
 * over: the child registers an empty region with a userfaultfd (missing
 * mode, fork/remap/remove/unmap events), sends it with its hello, and
 * once the server committed (and holds it with ptrace) works on it: pages
 * in random order from two threads, a fork whose child reads its copy, an
 * mremap, a MADV_DONTNEED (zeros after, and what it writes there then
 * stays), a munmap, its own writes; and checks every byte itself.
 *
 * The server runs in a process of its own (a sibling of the child, as in
 * a restore: it must not be the child's parent, whose exit status the
 * test wants) and reports lazy_serve's result and message on a pipe.
 *
 * Also: a block whose XXH3 is wrong kills the child and names the file
 * and offset; a restore that does not commit leaves the child alone; a
 * server SIGKILLed mid-way takes the child with it (PTRACE_O_EXITKILL)
 * rather than leave it reading zeros; the registry says so. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/util.h"
#include "daemon/lazy-registry.h"
#include "daemon/lazy.h"
#include "restorer/restorer.h"

#define PS		4096ul
#define NPAGES		16384ul		/* 64 MiB of distinct pages */
#define SLOW_PAGES	131072ul	/* 512 MiB, every block the same 2 MiB */
#define HOLE		1000ul		/* pages [HOLE, HOLE + 100): no image data */
#define MOVED		2048ul		/* [MOVED, + 600) mremapped elsewhere */
#define MOVED_N		600ul
#define DROPPED		4096ul		/* [DROPPED, + 700) MADV_DONTNEED */
#define DROPPED_N	700ul
#define WRITTEN_DROPPED	4200ul		/* written after the DONTNEED */
#define UNMAPPED	6144ul		/* [UNMAPPED, + 300) munmapped */
#define UNMAPPED_N	300ul
#define WRITTEN		9000ul		/* written by the child */
#define MARK		0x6d61726b6d61726bull

enum mode { M_WORK, M_SLOW, M_IDLE };

struct fx {
	enum mode mode;
	size_t npages;
	char *base, *moved_to;
	struct lazy_block *blocks;
	size_t nr_blocks;
	struct restore_range range;
	struct lazy_task task;
	struct lazy_file file;
	struct lazy_plan plan;
	char path[64];
	pid_t child, server;
	int ctl, go, ready, result;	/* the test's ends */
};

static uint64_t pat(uint64_t page, uint64_t word)
{
	return (page + 1) * 0x9E3779B97F4A7C15ull ^ (word * 0x100000001ull);
}

/* Which image page's pattern page p holds. */
static uint64_t img_page(enum mode mode, uint64_t p)
{
	return mode == M_SLOW ? p % 512 : p;
}

static bool in_hole(enum mode mode, uint64_t p)
{
	return mode != M_SLOW && p >= HOLE && p < HOLE + 100;
}

static void fill(uint64_t *w, uint64_t page)
{
	for (uint64_t i = 0; i < PS / 8; i++)
		w[i] = pat(page, i);
}

static bool page_is(const volatile uint64_t *w, uint64_t page, bool zero)
{
	for (uint64_t i = 0; i < PS / 8; i++)
		if (w[i] != (zero ? 0 : pat(page, i)))
			return false;
	return true;
}

/* The pages file and the blocks: sizes varied (1 to 512 pages), none
 * over the hole; in M_SLOW every block is the file's one block. */
static void fx_image(struct fx *f)
{
	static const uint32_t sizes[] = { 512, 37, 1, 200, 512, 300, 64, 129 };
	_cleanup_free_ uint64_t *buf = malloc(512 * PS);
	uint64_t off = 0;
	size_t k = 0;
	int fd;

	snprintf(f->path, sizeof(f->path), "/tmp/test-lazy-XXXXXX");
	fd = mkostemp(f->path, O_CLOEXEC);
	cr_assert_geq(fd, 0);
	unlink(f->path);	/* nothing left behind, whatever happens */
	f->blocks = calloc(f->npages, sizeof(*f->blocks));
	cr_assert(buf && f->blocks);
	for (uint64_t p = 0; p < f->npages;) {
		uint32_t n = f->mode == M_SLOW ? 512 : sizes[k % ARRAY_SIZE(sizes)];
		struct lazy_block *b;

		if (in_hole(f->mode, p)) {
			p++;
			continue;
		}
		if (p < HOLE && p + n > HOLE && f->mode != M_SLOW)
			n = HOLE - p;
		if (p + n > f->npages)
			n = f->npages - p;
		for (uint32_t i = 0; i < n; i++)
			fill(buf + i * PS / 8, img_page(f->mode, p + i));
		b = &f->blocks[f->nr_blocks++];
		*b = (struct lazy_block){ .vaddr = (uintptr_t)f->base + p * PS, .nr_pages = n,
					  .off = f->mode == M_SLOW ? 0 : off,
					  .xxh3 = XXH3_64bits(buf, n * PS) };
		if (f->mode != M_SLOW || off == 0) {
			cr_assert_eq(pwrite(fd, buf, n * PS, off), (ssize_t)(n * PS));
			off += n * PS;
		}
		p += n;
		k++;
	}
	f->file = (struct lazy_file){ .fd = fd, .name = "pages-1.img" };
}

static void fx_init(struct fx *f, enum mode mode)
{
	*f = (struct fx){ .mode = mode, .npages = mode == M_SLOW ? SLOW_PAGES : NPAGES };
	signal(SIGPIPE, SIG_IGN);
	f->base = mmap(NULL, f->npages * PS, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	f->moved_to = mmap(NULL, MOVED_N * PS, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(f->base != MAP_FAILED && f->moved_to != MAP_FAILED);
	/* never touched here: the child's copy starts empty */
	madvise(f->base, f->npages * PS, MADV_NOHUGEPAGE);
	fx_image(f);
	f->range = (struct restore_range){ (uintptr_t)f->base, (uintptr_t)f->base + f->npages * PS };
}

/* Each block of 3 pages or more served as three pieces of it, as a chain
 * serves a parent's block that a later set split: the server must read
 * and check the whole block, and copy each piece from its place in it.
 * (Every piece is at least a page: blocks has room for them.) */
static void fx_split(struct fx *f)
{
	struct lazy_block *w = malloc(f->npages * sizeof(*w));
	size_t n = 0;

	cr_assert(w);
	for (size_t i = 0; i < f->nr_blocks; i++) {
		struct lazy_block b = f->blocks[i];
		uint32_t third = b.nr_pages / 3, skip = 0;

		if (third == 0) {
			w[n++] = b;
			continue;
		}
		for (int k = 0; k < 3; k++) {
			uint32_t len = k < 2 ? third : b.nr_pages - 2 * third;

			w[n] = b;
			w[n].vaddr = b.vaddr + skip * PS;
			w[n].nr_pages = len;
			w[n].read_pages = b.nr_pages;
			w[n].skip_pages = skip;
			skip += len;
			n++;
		}
	}
	cr_assert_leq(n, f->npages);
	memcpy(f->blocks, w, n * sizeof(*w));
	f->nr_blocks = n;
	free(w);
}

static void fx_fini(struct fx *f)
{
	close(f->file.fd);
	munmap(f->base, f->npages * PS);
	munmap(f->moved_to, MOVED_N * PS);
	free(f->blocks);
}

/* --- the child ------------------------------------------------------------ */

static int send_hello(int sock, int uffd, pid_t pid)
{
	struct restore_lazy_hello h = { .magic = RESTORE_LAZY_MAGIC, .pid = pid, .nr_lazy = 1 };
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &uffd, sizeof(int));
	return sendmsg(sock, &mh, 0) == sizeof(h) ? 0 : -1;
}

/* What the child expects at page p of its region, after its work. */
static bool check_page(const struct fx *f, uint64_t p, bool worked)
{
	const volatile uint64_t *w = (const uint64_t *)(f->base + p * PS);

	if (worked && p >= DROPPED && p < DROPPED + DROPPED_N) {
		if (p != WRITTEN_DROPPED)
			return page_is(w, 0, true);
		for (uint64_t i = 1; i < PS / 8; i++)
			if (w[i])
				return false;
		return w[0] == MARK;
	}
	if (worked && p == WRITTEN) {
		if (w[0] != MARK)
			return false;
		for (uint64_t i = 1; i < PS / 8; i++)
			if (w[i] != pat(p, i))
				return false;
		return true;
	}
	return page_is(w, img_page(f->mode, p), in_hole(f->mode, p));
}

static bool skipped(uint64_t p)
{
	return (p >= MOVED && p < MOVED + MOVED_N) || (p >= UNMAPPED && p < UNMAPPED + UNMAPPED_N);
}

struct toucher {
	const struct fx *f;
	uint64_t seed;
	bool ok;
};

static void *touch_random(void *arg)
{
	struct toucher *t = arg;
	uint64_t x = t->seed;

	t->ok = true;
	for (int i = 0; i < 3000; i++) {
		uint64_t p;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		p = x % t->f->npages;
		if (!skipped(p) && !check_page(t->f, p, true))
			t->ok = false;
	}
	return NULL;
}

static int work(const struct fx *f)
{
	struct toucher t[2] = { { f, 0x1234567 }, { f, 0x7654321 } };
	pthread_t th[2];
	int st;
	pid_t g;

	if (!check_page(f, 5, false))
		return 20;
	g = fork();
	if (g == 0) {	/* the grandchild: its own copy, as the image */
		for (uint64_t p = f->npages; p-- > 0;)
			if (!check_page(f, p, false))
				_exit(30);
		_exit(0);
	}
	/* a block partly in, then moved; one partly in, then dropped */
	if (!check_page(f, MOVED + 10, false) || !check_page(f, DROPPED + 4, false))
		return 21;
	if (mremap(f->base + MOVED * PS, MOVED_N * PS, MOVED_N * PS, MREMAP_MAYMOVE | MREMAP_FIXED,
		   f->moved_to) != f->moved_to)
		return 22;
	if (madvise(f->base + DROPPED * PS, DROPPED_N * PS, MADV_DONTNEED) < 0)
		return 23;
	((volatile uint64_t *)(f->base + WRITTEN_DROPPED * PS))[0] = MARK;
	if (munmap(f->base + UNMAPPED * PS, UNMAPPED_N * PS) < 0)
		return 24;
	((volatile uint64_t *)(f->base + WRITTEN * PS))[0] = MARK;
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, touch_random, &t[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	if (!t[0].ok || !t[1].ok)
		return 25;
	for (uint64_t p = 0; p < f->npages; p++)
		if (!skipped(p) && !check_page(f, p, true))
			return 26;
	for (uint64_t i = 0; i < MOVED_N; i++)
		if (!page_is((const uint64_t *)(f->moved_to + i * PS), MOVED + i, false))
			return 27;
	if (waitpid(g, &st, 0) != g || !WIFEXITED(st))
		return 28;
	return WEXITSTATUS(st);
}

/* Slowly, one page every 2 ms: the server is killed meanwhile. */
static int slow(const struct fx *f)
{
	for (uint64_t i = 0; i < 1500; i++) {
		if (!check_page(f, (i * 4099) % f->npages, false))
			return 40;
		usleep(2000);
	}
	return 0;
}

static _Noreturn void child_main(struct fx *f, int sock, int ready, int go)
{
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP |
					      UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP };
	struct uffdio_register reg = { .range = { f->range.start, f->range.end - f->range.start },
				       .mode = UFFDIO_REGISTER_MODE_MISSING };
	int uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	char c;

	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) < 0 || ioctl(uffd, UFFDIO_REGISTER, &reg) < 0)
		_exit(10);
	if (send_hello(sock, uffd, getpid()) < 0)
		_exit(11);
	close(uffd);
	close(sock);
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 1)
		_exit(12);
	_exit(f->mode == M_SLOW ? slow(f) : f->mode == M_WORK ? work(f) : 0);
}

/* --- the test's side -------------------------------------------------------- */

static _Noreturn void server_main(struct fx *f, int result)
{
	struct ckpt_err err = { 0 };
	int r = lazy_serve(&f->plan, &err);

	if (write(result, &r, sizeof(r)) != sizeof(r) ||
	    write(result, err.msg, sizeof(err.msg)) != sizeof(err.msg))
		_exit(1);
	_exit(0);
}

/* The child, then the server, with what each needs and nothing more. */
static void start(struct fx *f)
{
	int sock[2], ctl[2], go[2], ready[2], result[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl), 0);
	cr_assert_eq(pipe2(go, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(ready, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(result, O_CLOEXEC), 0);
	f->child = fork();
	cr_assert_geq(f->child, 0);
	if (f->child == 0) {
		close(sock[0]), close(ctl[0]), close(ctl[1]), close(go[1]), close(ready[0]);
		close(result[0]), close(result[1]);
		child_main(f, sock[1], ready[1], go[0]);
	}
	close(sock[1]), close(go[0]), close(ready[1]);
	f->task = (struct lazy_task){ .pid = f->child, .ranges = &f->range, .nr_ranges = 1,
				      .blocks = f->blocks, .nr_blocks = f->nr_blocks };
	f->plan = (struct lazy_plan){ .tasks = &f->task, .nr_tasks = 1, .files = &f->file,
				      .nr_files = 1, .root = f->child, .uid = 0,
				      .dir = "/tmp/test-lazy-images", .uffd_sock = sock[0],
				      .ctl = ctl[1] };
	f->server = fork();
	cr_assert_geq(f->server, 0);
	if (f->server == 0) {
		close(ctl[0]), close(go[1]), close(ready[0]), close(result[0]);
		server_main(f, result[1]);
	}
	close(sock[0]), close(ctl[1]), close(result[1]);
	f->ctl = ctl[0];
	f->go = go[1];
	f->ready = ready[0];
	f->result = result[0];
}

static void wait_ready(struct fx *f)
{
	char c;

	cr_assert_eq(read(f->ready, &c, 1), 1, "the child did not send its hello");
}

static pid_t tracer_of(pid_t pid)
{
	_cleanup_free_ char *text = NULL;
	char path[64];
	const char *t;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_file_at(AT_FDCWD, path, &text, NULL) < 0 || !(t = strstr(text, "TracerPid:")))
		return -1;
	return atoi(t + strlen("TracerPid:"));
}

static void commit_and_go(struct fx *f)
{
	cr_assert_eq(write(f->ctl, "C", 1), 1);
	for (int i = 0; i < 2000 && tracer_of(f->child) != f->server; i++)
		usleep(1000);
	cr_assert_eq(tracer_of(f->child), f->server, "the server did not seize the child");
	cr_assert_eq(write(f->go, "g", 1), 1);
}

static int server_result(struct fx *f, char *msg)
{
	int r = 1, st;

	cr_assert_eq(read(f->result, &r, sizeof(r)), (ssize_t)sizeof(r), "no result from the server");
	cr_assert_eq(read(f->result, msg, sizeof(((struct ckpt_err *)0)->msg)),
		     (ssize_t)sizeof(((struct ckpt_err *)0)->msg));
	cr_assert_eq(waitpid(f->server, &st, 0), f->server);
	return r;
}

static int child_status(struct fx *f)
{
	int st;

	cr_assert_eq(waitpid(f->child, &st, 0), f->child);
	return st;
}

static void fds_close(struct fx *f)
{
	close(f->ctl), close(f->go), close(f->ready), close(f->result);
}

static bool registry_entry(pid_t root, struct lazy_entry *ret)
{
	_cleanup_free_ struct lazy_entry *v = NULL;
	size_t nr = 0;

	cr_assert_eq(lazy_list(&v, &nr), 0);
	for (size_t i = 0; i < nr; i++)
		if (v[i].root == root) {
			*ret = v[i];
			return true;
		}
	return false;
}

static void registry_drop(pid_t root)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/%d", LAZY_DIR, root);
	unlink(path);
}

/* Serve f's child through its work to the end: every byte right. */
static void serve_work(struct fx *f)
{
	char msg[1024];
	struct lazy_entry e;
	int st, r;

	start(f);
	wait_ready(f);
	commit_and_go(f);
	r = server_result(f, msg);
	cr_assert_eq(r, 0, "lazy_serve: %d %s", r, msg);
	st = child_status(f);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child: status 0x%x", st);
	cr_assert_not(registry_entry(f->child, &e), "a done restore left its registry entry");
	fds_close(f);
	fx_fini(f);
}

Test(lazy, every_byte_right_through_faults_fork_and_moves, .timeout = 60)
{
	struct fx f;

	fx_init(&f, M_WORK);
	serve_work(&f);
}

Test(lazy, pieces_of_a_parents_block_read_whole_and_copied_right, .timeout = 60)
{
	struct fx f;

	fx_init(&f, M_WORK);
	fx_split(&f);
	serve_work(&f);
}

Test(lazy, bad_block_kills_and_names_file_and_offset, .timeout = 30)
{
	struct fx f;
	char msg[1024], want[128];
	struct lazy_entry e;
	bool found;
	int st, r;

	fx_init(&f, M_IDLE);
	f.blocks[3].xxh3 ^= 1;
	start(&f);
	wait_ready(&f);
	cr_assert_eq(write(f.ctl, "C", 1), 1);
	r = server_result(&f, msg);
	cr_assert_eq(r, -EBADMSG, "lazy_serve: %d %s", r, msg);
	snprintf(want, sizeof(want), "pid %d: pages-1.img offset 0x%lx (0x%lx, %u pages): checksum mismatch",
		 f.child, (unsigned long)f.blocks[3].off, (unsigned long)f.blocks[3].vaddr,
		 f.blocks[3].nr_pages);
	cr_assert(strstr(msg, want), "%s\nwanted: %s", msg, want);
	cr_assert(strstr(msg, "the tree was killed"), "%s", msg);
	st = child_status(&f);
	found = registry_entry(f.child, &e);
	registry_drop(f.child);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "the child: status 0x%x", st);
	cr_assert(found, "no registry entry for the failed restore");
	cr_assert_str_eq(e.state, "failed");
	cr_assert(strstr(e.error, want), "%s", e.error);
	fds_close(&f);
	fx_fini(&f);
}

Test(lazy, no_commit_cancels_and_kills_nothing, .timeout = 30)
{
	struct fx f;
	char msg[1024];
	struct lazy_entry e;
	int st, r;

	fx_init(&f, M_IDLE);
	start(&f);
	wait_ready(&f);
	close(f.ctl);
	f.ctl = -1;
	r = server_result(&f, msg);
	cr_assert_eq(r, -ECANCELED, "lazy_serve: %d %s", r, msg);
	cr_assert_eq(waitpid(f.child, &st, WNOHANG), 0, "the child was not left alone");
	cr_assert_not(registry_entry(f.child, &e));
	kill(f.child, SIGKILL);
	child_status(&f);
	fds_close(&f);
	fx_fini(&f);
}

Test(lazy, server_killed_midway_takes_the_tree, .timeout = 30)
{
	struct fx f;
	struct lazy_entry e;
	char want[64];
	bool found;
	int st;

	fx_init(&f, M_SLOW);
	start(&f);
	wait_ready(&f);
	commit_and_go(&f);
	usleep(30000);
	cr_assert_eq(waitpid(f.server, &st, WNOHANG), 0, "the server was done too soon to test");
	kill(f.server, SIGKILL);
	cr_assert_eq(waitpid(f.server, &st, 0), f.server);
	st = child_status(&f);
	found = registry_entry(f.child, &e);
	registry_drop(f.child);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		  "the child ran on after the server died: status 0x%x", st);
	cr_assert(found, "no registry entry for the dead server");
	cr_assert_str_eq(e.state, "failed");
	snprintf(want, sizeof(want), "the lazy server (pid %d) died", f.server);
	cr_assert_str_eq(e.error, want);
	fds_close(&f);
	fx_fini(&f);
}

Test(lazy, registry_lines)
{
	struct lazy_entry e = { .root = 42, .server = 43, .uid = 1000, .state = "failed",
				.pages = 10, .left = 3, .faults = 2, .ms = 7,
				.dir = "/srv/im ages\nx", .error = "pid 42: bad" }, got;
	char text[4096];
	int n = lazy_entry_format(&e, text, sizeof(text));

	cr_assert_gt(n, 0);
	cr_assert_eq(lazy_entry_parse(text, &got), 0, "%s", text);
	cr_assert_eq(got.root, 42);
	cr_assert_eq(got.server, 43);
	cr_assert_eq(got.uid, 1000);
	cr_assert_eq(got.left, 3);
	cr_assert_eq(got.faults, 2);
	cr_assert_str_eq(got.dir, "/srv/im ages\\nx");	/* escaped: one line */
	cr_assert_str_eq(got.error, "pid 42: bad");
	cr_assert_eq(lazy_entry_parse("root 42 server 43 uid 0 state odd\n", &got), -EBADMSG);
}

/* CKPT_LAZY_BENCH=1: the whole push of 1 GiB (every block the same
 * 2 MiB, so read from the page cache) against pread straight into fresh
 * memory, which is what an eager restore costs at least. */
Test(lazy, bench_1g, .timeout = 120)
{
	const size_t pages = 262144;
	uint64_t t0, t1, t2;
	char msg[1024], *m;
	struct fx f;
	int r;

	if (!getenv("CKPT_LAZY_BENCH"))
		cr_skip_test("set CKPT_LAZY_BENCH=1 to run");
	fx_init(&f, M_SLOW);	/* 512 MiB; made 1 GiB below */
	munmap(f.base, f.npages * PS);
	free(f.blocks);
	close(f.file.fd);
	f.npages = pages;
	f.nr_blocks = 0;
	f.base = mmap(NULL, pages * PS, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	cr_assert(f.base != MAP_FAILED);
	madvise(f.base, pages * PS, MADV_NOHUGEPAGE);
	fx_image(&f);
	f.range = (struct restore_range){ (uintptr_t)f.base, (uintptr_t)f.base + pages * PS };
	t0 = now_us();
	start(&f);
	wait_ready(&f);
	cr_assert_eq(write(f.ctl, "C", 1), 1);
	r = server_result(&f, msg);
	t1 = now_us();
	cr_assert_eq(r, 0, "%s", msg);
	kill(f.child, SIGKILL);
	child_status(&f);
	m = mmap(NULL, pages * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	madvise(m, pages * PS, MADV_NOHUGEPAGE);
	for (size_t b = 0; b < pages / 512; b++)
		cr_assert_eq(pread(f.file.fd, m + b * 512 * PS, 512 * PS, 0), (ssize_t)(512 * PS));
	t2 = now_us();
	printf("lazy push of 1 GiB: %llu ms; pread into fresh memory: %llu ms\n",
	       (unsigned long long)(t1 - t0) / 1000, (unsigned long long)(t2 - t1) / 1000);
	munmap(m, pages * PS);
	fds_close(&f);
	fx_fini(&f);
}
