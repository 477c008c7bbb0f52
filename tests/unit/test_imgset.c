/* images/imgset.c: probing, the temporary directory, commit with and
 * without replacement (inventory.img removed first and moved in last), and
 * discard. */
#include "tests/unit/img-fixture.h"

#include <dirent.h>
#include <sys/inotify.h>

#include "images/imgset.h"

TestSuite(imgset, .init = fx_setup, .fini = fx_teardown);

static void put(int dirfd, const char *name, const char *content)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	cr_assert_geq(fd, 0, "create %s", name);
	cr_assert_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

static bool has(int dirfd, const char *name)
{
	return faccessat(dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static void content_is(int dirfd, const char *name, const char *want)
{
	char buf[64] = "";
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0, "open %s", name);
	cr_assert_geq(read(fd, buf, sizeof(buf) - 1), 0);
	close(fd);
	cr_assert_str_eq(buf, want, "%s", name);
}

/* Entries of the test directory other than . and .. */
static unsigned count_entries(void)
{
	DIR *d = opendir(fx_dir);
	struct dirent *de;
	unsigned n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* A new set in a temporary directory: inventory.img plus the given files. */
static void stage(char *tmp, size_t len, const char *tag, const char *const *names)
{
	int tfd;

	cr_assert_eq(imgset_begin(fx_dirfd, tmp, len, &tfd), 0);
	cr_assert_eq(strncmp(tmp, IMGSET_TMP_PREFIX, strlen(IMGSET_TMP_PREFIX)), 0);
	put(tfd, "inventory.img", tag);
	for (; *names; names++)
		put(tfd, *names, tag);
	close(tfd);
}

Test(imgset, probe)
{
	cr_assert_eq(imgset_probe(fx_dirfd), 0);
	put(fx_dirfd, "notes.txt", "x");
	put(fx_dirfd, ".hidden.img", "x");
	cr_assert_eq(imgset_probe(fx_dirfd), 0);
	put(fx_dirfd, "core-1.img", "x");
	cr_assert_eq(imgset_probe(fx_dirfd), 1);
	unlinkat(fx_dirfd, "core-1.img", 0);
	put(fx_dirfd, "inventory.img", "x");
	cr_assert_eq(imgset_probe(fx_dirfd), 1);
}

Test(imgset, begin_and_commit_into_an_empty_directory)
{
	char tmp[64];

	stage(tmp, sizeof(tmp), "new", (const char *[]){ "core-1.img", "pages-1.img", NULL });
	cr_assert(has(fx_dirfd, tmp));
	/* a set being written is not a set yet */
	cr_assert_eq(imgset_probe(fx_dirfd), 0);
	cr_assert_eq(imgset_commit(fx_dirfd, tmp, false), 0);
	cr_assert_not(has(fx_dirfd, tmp));
	content_is(fx_dirfd, "inventory.img", "new");
	content_is(fx_dirfd, "core-1.img", "new");
	content_is(fx_dirfd, "pages-1.img", "new");
	cr_assert_eq(count_entries(), 3);
}

Test(imgset, refuses_an_existing_set_without_replace)
{
	char tmp[64];

	put(fx_dirfd, "inventory.img", "old");
	put(fx_dirfd, "core-1.img", "old");
	stage(tmp, sizeof(tmp), "new", (const char *[]){ "core-1.img", NULL });
	cr_assert_eq(imgset_commit(fx_dirfd, tmp, false), -EEXIST);
	content_is(fx_dirfd, "inventory.img", "old");
	content_is(fx_dirfd, "core-1.img", "old");
	cr_assert(has(fx_dirfd, tmp));
	imgset_discard(fx_dirfd, tmp);
	cr_assert_not(has(fx_dirfd, tmp));
	cr_assert_eq(count_entries(), 2);

	/* a set without inventory.img (an interrupted replacement) counts too */
	unlinkat(fx_dirfd, "inventory.img", 0);
	stage(tmp, sizeof(tmp), "new", (const char *[]){ NULL });
	cr_assert_eq(imgset_commit(fx_dirfd, tmp, false), -EEXIST);
	imgset_discard(fx_dirfd, tmp);
}

/* The names of inotify events of one type, in order, joined by spaces. */
static void events(int ifd, uint32_t mask, char *out, size_t len)
{
	char buf[8192] __attribute__((aligned(8)));
	ssize_t n = read(ifd, buf, sizeof(buf));

	out[0] = '\0';
	cr_assert_gt(n, 0);
	for (char *p = buf; p < buf + n;) {
		struct inotify_event *ev = (struct inotify_event *)p;

		if ((ev->mask & mask) && ev->len && ev->name[0] != '.') {
			strncat(out, ev->name, len - strlen(out) - 1);
			strncat(out, " ", len - strlen(out) - 1);
		}
		p += sizeof(*ev) + ev->len;
	}
}

Test(imgset, replace_removes_the_old_set_inventory_first_and_moves_it_in_last)
{
	char tmp[64], seen[1024];
	int ifd;

	put(fx_dirfd, "core-1.img", "old");
	put(fx_dirfd, "inventory.img", "old");
	put(fx_dirfd, "core-2.img", "old");
	put(fx_dirfd, "keep.txt", "old");
	stage(tmp, sizeof(tmp), "new", (const char *[]){ "core-1.img", "mm-1.img", NULL });

	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	cr_assert_geq(ifd, 0);
	cr_assert_geq(inotify_add_watch(ifd, fx_dir, IN_DELETE | IN_MOVED_TO), 0);
	cr_assert_eq(imgset_commit(fx_dirfd, tmp, true), 0);

	events(ifd, IN_DELETE | IN_MOVED_TO, seen, sizeof(seen));
	close(ifd);
	cr_assert_eq(strncmp(seen, "inventory.img ", 14), 0, "order: %s", seen);
	cr_assert(strlen(seen) > 14, "order: %s", seen);
	cr_assert_str_eq(seen + strlen(seen) - 14, "inventory.img ", "order: %s", seen);

	content_is(fx_dirfd, "inventory.img", "new");
	content_is(fx_dirfd, "core-1.img", "new");
	content_is(fx_dirfd, "mm-1.img", "new");
	cr_assert_not(has(fx_dirfd, "core-2.img"));
	cr_assert(has(fx_dirfd, "keep.txt"));	/* not an image: not ours to remove */
	cr_assert_not(has(fx_dirfd, tmp));
	cr_assert_eq(count_entries(), 4);
}

Test(imgset, discard_removes_everything)
{
	char tmp[64];
	int tfd;

	cr_assert_eq(imgset_begin(fx_dirfd, tmp, sizeof(tmp), &tfd), 0);
	put(tfd, "core-1.img", "x");
	put(tfd, ".partial", "x");
	put(tfd, "other", "x");
	close(tfd);
	imgset_discard(fx_dirfd, tmp);
	cr_assert_not(has(fx_dirfd, tmp));
	cr_assert_eq(count_entries(), 0);
}

Test(imgset, begin_twice_gives_distinct_directories)
{
	char a[64], b[64];
	int fa, fb;

	cr_assert_eq(imgset_begin(fx_dirfd, a, sizeof(a), &fa), 0);
	cr_assert_eq(imgset_begin(fx_dirfd, b, sizeof(b), &fb), 0);
	cr_assert_str_neq(a, b);
	cr_assert(fcntl(fa, F_GETFD) & FD_CLOEXEC);
	close(fa);
	close(fb);
	imgset_discard(fx_dirfd, a);
	imgset_discard(fx_dirfd, b);
	cr_assert_eq(count_entries(), 0);
}

Test(imgset, commit_through_an_o_path_fd)
{
	char tmp[64];
	int pfd = open(fx_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

	cr_assert_geq(pfd, 0);
	stage(tmp, sizeof(tmp), "new", (const char *[]){ "core-1.img", NULL });
	cr_assert_eq(imgset_commit(pfd, tmp, false), 0);
	close(pfd);
	content_is(fx_dirfd, "inventory.img", "new");
}

/* A dump that died leaves its temporary directory; the next one removes it,
 * but never one whose process still exists, nor anything else. */
Test(imgset, begin_sweeps_directories_of_dumps_that_died)
{
	char dead[64], live[64], tmp[64];
	const char *names[] = { dead, live, IMGSET_TMP_PREFIX "junk", "keep" };
	pid_t pid;
	int fd, tfd;

	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	snprintf(dead, sizeof(dead), IMGSET_TMP_PREFIX "%d-1f", pid);
	snprintf(live, sizeof(live), IMGSET_TMP_PREFIX "%d-2f", getppid());
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		cr_assert_eq(mkdirat(fx_dirfd, names[i], 0700), 0, "mkdir %s", names[i]);
		fd = openat(fx_dirfd, names[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		cr_assert_geq(fd, 0);
		put(fd, "core-1.img", "x");
		close(fd);
	}
	cr_assert_eq(imgset_begin(fx_dirfd, tmp, sizeof(tmp), &tfd), 0);
	close(tfd);
	cr_assert(!has(fx_dirfd, dead), "%s was left", dead);
	cr_assert(has(fx_dirfd, live), "%s of a live process was removed", live);
	cr_assert(has(fx_dirfd, IMGSET_TMP_PREFIX "junk"));
	cr_assert(has(fx_dirfd, "keep"));
	cr_assert(has(fx_dirfd, tmp));
}
