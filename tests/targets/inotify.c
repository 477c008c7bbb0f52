/* An inotify instance (non-blocking) with several watches a restore must
 * bring back under the same wds and masks.
 *
 *	inotify
 *
 * In its directory (the status file's): wd 1 on file "a" (IN_MODIFY), wd 2
 * on file "gone" (removed again, so the wds have a gap), wd 3 on directory
 * "d" (IN_CREATE | IN_DELETE, IN_ONLYDIR), wd 4 on file "c" (IN_ATTRIB,
 * IN_ONESHOT). Every event of the set-up is read before ready (a queue
 * with events can't be restored). After SIGUSR1 it checks the watches in
 * fdinfo (wd and mask), O_NONBLOCK, that no event is waiting, then causes
 * events and checks each arrives with its wd, mask and name: a write to
 * "a", a file created and deleted in "d", a chmod of "c" (then IN_IGNORED:
 * one-shot), and that a new watch gets wd 5, the next the kernel gives. */
#include <poll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "target.h"

#define NWATCH	3

static int ifd;
static char pa[4200], pgone[4200], pd[4200], pc[4200], pnew[4200];
static const struct {
	int wd;
	uint32_t mask;
} want[NWATCH] = {
	{ 1, IN_MODIFY },
	{ 3, IN_CREATE | IN_DELETE },
	{ 4, IN_ATTRIB | IN_ONESHOT },
};

static void touch(const char *p)
{
	int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

	if (fd < 0)
		target_fail("create %s: %s", p, strerror(errno));
	close(fd);
}

static int watch(const char *p, uint32_t mask)
{
	int wd = inotify_add_watch(ifd, p, mask);

	if (wd < 0)
		target_fail("watch %s: %s", p, strerror(errno));
	return wd;
}

static void drain(void)
{
	char buf[4096];

	while (read(ifd, buf, sizeof(buf)) > 0)
		;
	if (errno != EAGAIN)
		target_fail("drain: %s", strerror(errno));
}

/* The next event (waiting at most 5 s): its wd, mask and name. */
static void expect_event(int wd, uint32_t mask, const char *name)
{
	static char buf[4096] __attribute__((aligned(8)));
	static size_t have, off;
	struct inotify_event *ev;
	struct pollfd p = { .fd = ifd, .events = POLLIN };

	if (off >= have) {
		ssize_t n;

		if (poll(&p, 1, 5000) != 1)
			target_fail("no event (wanted wd %d mask %#x)", wd, mask);
		n = read(ifd, buf, sizeof(buf));
		if (n <= 0)
			target_fail("read: %s", strerror(errno));
		have = (size_t)n;
		off = 0;
	}
	ev = (struct inotify_event *)(buf + off);
	off += sizeof(*ev) + ev->len;
	if (ev->wd != wd || ev->mask != mask || strcmp(ev->len ? ev->name : "", name ? name : ""))
		target_fail("event wd %d mask %#x name '%s', wanted wd %d mask %#x name '%s'",
			    ev->wd, ev->mask, ev->len ? ev->name : "", wd, mask, name ? name : "");
}

static void check_fdinfo(void)
{
	char path[64], line[512];
	unsigned seen = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ifd);
	f = fopen(path, "re");
	if (!f)
		target_fail("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		unsigned wd, mask, i;

		if (sscanf(line, "inotify wd:%x ino:%*x sdev:%*x mask:%x", &wd, &mask) != 2)
			continue;
		for (i = 0; i < NWATCH && want[i].wd != (int)wd; i++)
			;
		if (i == NWATCH)
			target_fail("unexpected watch wd %u", wd);
		if (mask != want[i].mask)
			target_fail("wd %u: mask %#x, wanted %#x", wd, mask, want[i].mask);
		seen++;
	}
	fclose(f);
	if (seen != NWATCH)
		target_fail("%u watches, wanted %d", seen, NWATCH);
}

int main(void)
{
	const char *dir;
	char name[4300];
	int n;

	target_init();
	dir = target_dir();
	snprintf(pa, sizeof(pa), "%s/a", dir);
	snprintf(pgone, sizeof(pgone), "%s/gone", dir);
	snprintf(pd, sizeof(pd), "%s/d", dir);
	snprintf(pc, sizeof(pc), "%s/c", dir);
	snprintf(pnew, sizeof(pnew), "%s/new", dir);
	touch(pa);
	touch(pgone);
	touch(pc);
	touch(pnew);
	if (mkdir(pd, 0700) < 0 && errno != EEXIST)
		target_fail("mkdir %s: %s", pd, strerror(errno));
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ifd < 0)
		target_fail("inotify_init1: %s", strerror(errno));
	if (watch(pa, IN_MODIFY) != 1 || watch(pgone, IN_ATTRIB) != 2 ||
	    watch(pd, IN_CREATE | IN_DELETE | IN_ONLYDIR) != 3 ||
	    watch(pc, IN_ATTRIB | IN_ONESHOT) != 4)
		target_fail("unexpected wds at set-up");
	if (inotify_rm_watch(ifd, 2) < 0)
		target_fail("inotify_rm_watch: %s", strerror(errno));
	drain();
	target_ready();
	target_wait();

	check_fdinfo();
	if (!(fcntl(ifd, F_GETFL) & O_NONBLOCK))
		target_fail("O_NONBLOCK lost");
	if (ioctl(ifd, FIONREAD, &n) < 0 || n != 0)
		target_fail("%d bytes of events waiting after restore", n);

	n = open(pa, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (n < 0 || write(n, "x", 1) != 1)
		target_fail("write %s: %s", pa, strerror(errno));
	close(n);
	expect_event(1, IN_MODIFY, NULL);
	snprintf(name, sizeof(name), "%s/x", pd);
	touch(name);
	expect_event(3, IN_CREATE, "x");
	unlink(name);
	expect_event(3, IN_DELETE, "x");
	if (chmod(pc, 0640) < 0)
		target_fail("chmod: %s", strerror(errno));
	expect_event(4, IN_ATTRIB, NULL);
	expect_event(4, IN_IGNORED, NULL);
	if ((n = watch(pnew, IN_OPEN)) != 5)
		target_fail("a new watch got wd %d, wanted 5", n);
	target_pass();
}
