/* images/chain.c: opening a chain by its parent paths (chain_open_parents)
 * and binding its links (chain_load), on sets written with the image
 * writers into a temporary directory. */
#include "tests/unit/img-fixture.h"

#include "images/chain.h"
#include "inventory.pb-c.h"

TestSuite(chain, .init = fx_setup, .fini = fx_teardown);

struct set_spec {
	DumpKind kind;
	const char *set_id;
	const char *parent;
	const char *parent_set_id;
	int depth;		/* -1: none */
	int pid;
	uint64_t start;
};

/* Write directory name (created) holding one inventory.img as spec says. */
static void mkset(const char *name, struct set_spec s)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	struct img *img;
	int fd;

	cr_assert_eq(mkdirat(fx_dirfd, name, 0700), 0, "mkdir %s", name);
	fd = openat(fx_dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	inv.format_version = IMG_FORMAT_VERSION;
	inv.kind = s.kind;
	inv.root_pid = s.pid ? s.pid : 100;
	inv.kernel_release = "6.18";
	inv.page_size = 4096;
	inv.nr_tasks = 1;
	inv.dump_time_ns = 1;
	inv.ckpt_version = "test";
	inv.set_id = (char *)s.set_id;
	inv.parent = (char *)s.parent;
	inv.parent_set_id = (char *)s.parent_set_id;
	inv.boot_id = s.set_id ? "b00b" : NULL;
	inv.has_root_start_time = s.set_id != NULL;
	inv.root_start_time = s.start ? s.start : 777;
	inv.has_chain_depth = s.depth >= 0;
	inv.chain_depth = s.depth >= 0 ? s.depth : 0;
	cr_assert_eq(img_create(fd, IMG_INVENTORY, 0, &img), 0);
	cr_assert_eq(img_write_msg(img, &inv.base), 0);
	cr_assert_eq(img_close(img), 0);
	close(fd);
}

static int opendir_at(const char *name)
{
	int fd = openat(fx_dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	cr_assert_geq(fd, 0, "open %s", name);
	return fd;
}

/* img/1 (pre-dump), img/2 (pre-dump, --prev ../1), img/3 (dump, --prev ../2) */
static void mkchain3(void)
{
	cr_assert_eq(mkdirat(fx_dirfd, "img", 0700), 0);
	mkset("img/1", (struct set_spec){ DUMP_KIND__DUMP_PRE, "aaa1", NULL, NULL, 0 });
	mkset("img/2", (struct set_spec){ DUMP_KIND__DUMP_PRE, "aaa2", "../1", "aaa1", 1 });
	mkset("img/3", (struct set_spec){ DUMP_KIND__DUMP_INCREMENTAL, "aaa3", "../2", "aaa2", 2 });
}

/* Open the chain from top as a client does, then load it. */
static int open_and_load(const char *top, bool restore, struct ckpt_err *err, struct chain *c)
{
	int fds[CHAIN_MAX];
	unsigned nr = 0;
	int r;

	fds[0] = opendir_at(top);
	r = chain_open_parents(fds[0], fds + 1, CHAIN_MAX - 1, &nr, err);
	if (r == 0) {
		r = chain_load(fds, nr + 1, restore, c, err);
		if (r == 0)
			cr_assert_eq(c->nr, nr + 1);
	}
	if (r == 0)
		chain_free(c);
	for (unsigned i = 0; i <= (r == 0 || nr ? nr : 0); i++)
		close(fds[i]);
	return r;
}

Test(chain, good)
{
	struct ckpt_err err = { 0 };
	struct chain c;
	int fds[3];
	unsigned nr = 0;

	mkchain3();
	fds[0] = opendir_at("img/3");
	cr_assert_eq(chain_open_parents(fds[0], fds + 1, 2, &nr, &err), 0, "%s", err.msg);
	cr_assert_eq(nr, 2);
	cr_assert_eq(chain_load(fds, 3, true, &c, &err), 0, "%s", err.msg);
	cr_assert_eq(c.nr, 3);
	cr_assert_str_eq(c.link[0].inv->set_id, "aaa3");
	cr_assert_str_eq(c.link[1].inv->set_id, "aaa2");
	cr_assert_str_eq(c.link[2].inv->set_id, "aaa1");
	cr_assert_eq(c.link[2].dirfd, fds[2]);
	chain_free(&c);
	cr_assert_eq(c.nr, 0);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
}

Test(chain, max_parents_exceeded)
{
	struct ckpt_err err = { 0 };
	int fds[2], top;
	unsigned nr = 7;

	mkchain3();
	top = opendir_at("img/3");
	cr_assert_eq(chain_open_parents(top, fds, 1, &nr, &err), -E2BIG);
	cr_assert_eq(nr, 7, "nr untouched on failure");
	cr_assert(strstr(err.msg, "link 2 (../1)"), "%s", err.msg);
	close(top);
}

Test(chain, old_set_is_a_chain_of_one)
{
	struct ckpt_err err = { 0 };
	struct chain c;

	mkset("old", (struct set_spec){ DUMP_KIND__DUMP_FULL, NULL, NULL, NULL, -1 });
	cr_assert_eq(open_and_load("old", true, &err, &c), 0, "%s", err.msg);
}

Test(chain, wrong_parent_set_id)
{
	struct ckpt_err err = { 0 };
	struct chain c;

	cr_assert_eq(mkdirat(fx_dirfd, "img", 0700), 0);
	mkset("img/1", (struct set_spec){ DUMP_KIND__DUMP_PRE, "aaa1", NULL, NULL, 0 });
	mkset("img/2", (struct set_spec){ DUMP_KIND__DUMP_PRE, "aaa2", "../1", "zzz9", 1 });
	mkset("img/3", (struct set_spec){ DUMP_KIND__DUMP_INCREMENTAL, "aaa3", "../2", "aaa2", 2 });
	cr_assert_eq(open_and_load("img/3", true, &err, &c), -EBADMSG);
	cr_assert(strstr(err.msg, "link 2 (../1)"), "%s", err.msg);
	cr_assert(strstr(err.msg, "zzz9"), "%s", err.msg);
}

Test(chain, other_process)
{
	struct ckpt_err err = { 0 };
	struct chain c;

	cr_assert_eq(mkdirat(fx_dirfd, "img", 0700), 0);
	mkset("img/1", (struct set_spec){ DUMP_KIND__DUMP_PRE, "aaa1", NULL, NULL, 0, 200 });
	mkset("img/2", (struct set_spec){ DUMP_KIND__DUMP_INCREMENTAL, "aaa2", "../1", "aaa1", 1 });
	cr_assert_eq(open_and_load("img/2", true, &err, &c), -EBADMSG);
	cr_assert(strstr(err.msg, "link 1 (../1)"), "%s", err.msg);
	cr_assert(strstr(err.msg, "200"), "%s", err.msg);
}

Test(chain, reused_pid)
{
	struct ckpt_err err = { 0 };
	struct chain c;

	cr_assert_eq(mkdirat(fx_dirfd, "img", 0700), 0);
	mkset("img/1", (struct set_spec){ DUMP_KIND__DUMP_PRE, "aaa1", NULL, NULL, 0, 100, 5 });
	mkset("img/2", (struct set_spec){ DUMP_KIND__DUMP_INCREMENTAL, "aaa2", "../1", "aaa1", 1 });
	cr_assert_eq(open_and_load("img/2", true, &err, &c), -EBADMSG);
	cr_assert(strstr(err.msg, "link 1 (../1)"), "%s", err.msg);
	cr_assert(strstr(err.msg, "start time"), "%s", err.msg);
}

Test(chain, same_dir_twice)
{
	struct ckpt_err err = { 0 };
	struct chain c;
	int fds[2];

	mkchain3();
	fds[0] = opendir_at("img/3");
	fds[1] = opendir_at("img/3");
	cr_assert_eq(chain_load(fds, 2, true, &c, &err), -EBADMSG);
	cr_assert(strstr(err.msg, "cyclic"), "%s", err.msg);
	cr_assert_eq(c.nr, 0);
	close(fds[0]);
	close(fds[1]);
}

/* x names ../y, y names ../x: the ids alone would catch it only by chance */
Test(chain, parent_paths_loop)
{
	struct ckpt_err err = { 0 };
	struct chain c;

	mkset("x", (struct set_spec){ DUMP_KIND__DUMP_INCREMENTAL, "aaa1", "../y", "aaa2", 1 });
	mkset("y", (struct set_spec){ DUMP_KIND__DUMP_PRE, "aaa2", "../x", "aaa1", 1 });
	cr_assert_eq(open_and_load("x", true, &err, &c), -EBADMSG);
	cr_assert(strstr(err.msg, "link 2 (../x)"), "%s", err.msg);
	cr_assert(strstr(err.msg, "cyclic"), "%s", err.msg);
}

/* a symlink to the set itself as its own parent */
Test(chain, symlink_loop)
{
	struct ckpt_err err = { 0 };
	struct chain c;

	mkset("x", (struct set_spec){ DUMP_KIND__DUMP_INCREMENTAL, "aaa1", "../l", "aaa1", 1 });
	cr_assert_eq(symlinkat("x", fx_dirfd, "l"), 0);
	cr_assert_eq(open_and_load("x", true, &err, &c), -EBADMSG);
	cr_assert(strstr(err.msg, "link 1 (../l)"), "%s", err.msg);
	/* and a symlink that points at itself */
	cr_assert_eq(unlinkat(fx_dirfd, "l", 0), 0);
	cr_assert_eq(symlinkat("l", fx_dirfd, "l"), 0);
	memset(&err, 0, sizeof(err));
	cr_assert_eq(open_and_load("x", true, &err, &c), -ELOOP);
	cr_assert(strstr(err.msg, "link 1 (../l)"), "%s", err.msg);
}

Test(chain, missing_link)
{
	struct ckpt_err err = { 0 };
	struct chain c;
	int fds[2];

	mkchain3();
	cr_assert_eq(renameat(fx_dirfd, "img/1", fx_dirfd, "gone"), 0);
	cr_assert_eq(open_and_load("img/3", true, &err, &c), -ENOENT);
	cr_assert(strstr(err.msg, "link 2 (../1)"), "%s", err.msg);
	/* the daemon's side: fewer fds than the chain has links */
	memset(&err, 0, sizeof(err));
	fds[0] = opendir_at("img/3");
	fds[1] = opendir_at("img/2");
	cr_assert_eq(chain_load(fds, 2, true, &c, &err), -ENOENT);
	cr_assert(strstr(err.msg, "link 1 (../2)"), "%s", err.msg);
	close(fds[0]);
	close(fds[1]);
}

Test(chain, not_a_set)
{
	struct ckpt_err err = { 0 };
	struct chain c;

	mkset("x", (struct set_spec){ DUMP_KIND__DUMP_INCREMENTAL, "aaa1", "../empty", "aaa0", 1 });
	cr_assert_eq(mkdirat(fx_dirfd, "empty", 0700), 0);
	cr_assert_eq(open_and_load("x", true, &err, &c), -ENODATA);
	cr_assert(strstr(err.msg, "link 1 (../empty): inventory.img is missing: not an image set"),
		  "%s", err.msg);
}

Test(chain, corrupt_inventory)
{
	struct ckpt_err err = { 0 };
	struct chain c;

	mkchain3();
	fx_flip("img/2/inventory.img", IMG_HDR_SIZE + 8, 0x01);
	cr_assert_eq(open_and_load("img/3", true, &err, &c), -EBADMSG);
	cr_assert(strstr(err.msg, "link 1 (../2): inventory.img at offset"), "%s", err.msg);
}

Test(chain, predump_as_restore_top)
{
	struct ckpt_err err = { 0 };
	struct chain c;

	mkchain3();
	cr_assert_eq(open_and_load("img/2", true, &err, &c), -EINVAL);
	cr_assert(strstr(err.msg, "pre-dump"), "%s", err.msg);
	cr_assert(strstr(err.msg, "--prev"), "%s", err.msg);
	memset(&err, 0, sizeof(err));
	cr_assert_eq(open_and_load("img/2", false, &err, &c), 0, "%s", err.msg);
}

Test(chain, incremental_without_parent)
{
	struct ckpt_err err = { 0 };
	struct chain c;

	mkset("x", (struct set_spec){ DUMP_KIND__DUMP_INCREMENTAL, "aaa1", NULL, NULL, 0 });
	cr_assert_eq(open_and_load("x", true, &err, &c), -EBADMSG);
	cr_assert(strstr(err.msg, "without a parent"), "%s", err.msg);
}

Test(chain, bad_depth)
{
	struct ckpt_err err = { 0 };
	struct chain c;

	cr_assert_eq(mkdirat(fx_dirfd, "img", 0700), 0);
	mkset("img/1", (struct set_spec){ DUMP_KIND__DUMP_PRE, "aaa1", NULL, NULL, 0 });
	mkset("img/2", (struct set_spec){ DUMP_KIND__DUMP_INCREMENTAL, "aaa2", "../1", "aaa1", 5 });
	cr_assert_eq(open_and_load("img/2", true, &err, &c), -EBADMSG);
	cr_assert(strstr(err.msg, "depth 5"), "%s", err.msg);
}

/* CHAIN_MAX + 1 sets: one too many for the client and for chain_load */
Test(chain, too_deep)
{
	struct ckpt_err err = { 0 };
	struct chain c;
	char name[32], parent[32], id[32], pid[32];
	int fds[CHAIN_MAX + 1];

	for (unsigned i = 0; i <= CHAIN_MAX; i++) {
		snprintf(name, sizeof(name), "%u", i);
		snprintf(id, sizeof(id), "id%u", i);
		snprintf(parent, sizeof(parent), "../%u", i - 1);
		snprintf(pid, sizeof(pid), "id%u", i - 1);
		mkset(name, (struct set_spec){ i ? DUMP_KIND__DUMP_PRE : DUMP_KIND__DUMP_FULL, id,
					       i ? parent : NULL, i ? pid : NULL, i });
	}
	snprintf(name, sizeof(name), "%u", CHAIN_MAX);
	cr_assert_eq(open_and_load(name, false, &err, &c), -E2BIG);
	cr_assert(strstr(err.msg, "merge"), "%s", err.msg);
	for (unsigned i = 0; i <= CHAIN_MAX; i++) {
		snprintf(name, sizeof(name), "%u", CHAIN_MAX - i);
		fds[i] = opendir_at(name);
	}
	memset(&err, 0, sizeof(err));
	cr_assert_eq(chain_load(fds, CHAIN_MAX + 1, false, &c, &err), -E2BIG);
	/* one fewer is allowed */
	snprintf(name, sizeof(name), "%u", CHAIN_MAX - 1);
	memset(&err, 0, sizeof(err));
	cr_assert_eq(open_and_load(name, false, &err, &c), 0, "%s", err.msg);
	for (unsigned i = 0; i <= CHAIN_MAX; i++)
		close(fds[i]);
}
