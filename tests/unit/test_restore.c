/* Restore's validation and tree planning (daemon/restore-images.c) on
 * crafted image sets: inventory.img and pstree.img written through
 * libckptimg, then rst_load() must refuse each bad one naming what is
 * wrong, and plan a good tree with children in pstree order. */
#include "img-fixture.h"

#include <signal.h>
#include <sys/wait.h>

#include "daemon/restore-int.h"
#include "inventory.pb-c.h"
#include "pstree.pb-c.h"

static struct kerndat kd;

static void setup(void)
{
	fx_setup();
	memset(&kd, 0, sizeof(kd));
	kd.page_size = 4096;
	kd.xfeatures = 0x7;
	kd.xsave_size = 832;
	kd.clone3_set_tid = true;
}

TestSuite(restore, .init = setup, .fini = fx_teardown);

static void write_inventory(int root, unsigned nr_tasks, uint64_t xfeatures, uint32_t page_size)
{
	InventoryEntry e = INVENTORY_ENTRY__INIT;
	struct img *img;

	e.format_version = IMG_FORMAT_VERSION;
	e.kind = DUMP_KIND__DUMP_FULL;
	e.root_pid = root;
	e.kernel_release = "6.18";
	e.page_size = page_size;
	e.xfeatures = xfeatures;
	e.xsave_size = 832;
	e.nr_tasks = nr_tasks;
	e.ckpt_version = "test";
	cr_assert_eq(img_create(fx_dirfd, IMG_INVENTORY, 0, &img), 0);
	cr_assert_eq(img_write_msg(img, &e.base), 0);
	cr_assert_eq(img_close(img), 0);
}

struct t {
	int pid, ppid, pgid, sid, state, exit_code;
};

static void write_pstree(const struct t *ts, unsigned n)
{
	struct img *img;

	cr_assert_eq(img_create(fx_dirfd, IMG_PSTREE, 0, &img), 0);
	for (unsigned i = 0; i < n; i++) {
		PstreeEntry e = PSTREE_ENTRY__INIT;
		int32_t tid = ts[i].pid;

		e.pid = ts[i].pid;
		e.ppid = ts[i].ppid;
		e.pgid = ts[i].pgid;
		e.sid = ts[i].sid;
		e.state = ts[i].state ? ts[i].state : TASK_STATE__TASK_ALIVE;
		e.n_threads = 1;
		e.threads = &tid;
		if (e.state == TASK_STATE__TASK_ZOMBIE) {
			e.has_exit_code = true;
			e.exit_code = ts[i].exit_code;
		}
		cr_assert_eq(img_write_msg(img, &e.base), 0);
	}
	cr_assert_eq(img_close(img), 0);
}

/* rst_load() on the crafted set; the error message into msg. */
static int load(char *msg, size_t len, struct rst_ctx *out)
{
	static struct restore_opts opts;
	struct ckpt_err err = { 0 };
	struct rst_ctx ctx = {
		.opts = &opts, .kd = &kd, .err = &err, .dirfd = fx_dirfd, .page_size = 4096,
		.max_fd = 2,
	};
	int r = rst_load(&ctx);

	snprintf(msg, len, "%s", err.msg);
	if (out)
		*out = ctx;
	else
		rst_free(&ctx);
	return r;
}

#define EXPECT_REFUSED(want)                                                        \
	do {                                                                        \
		char msg[1024];                                                     \
		int r = load(msg, sizeof(msg), NULL);                               \
		cr_assert_lt(r, 0, "accepted; wanted '%s'", want);                  \
		cr_assert_not_null(strstr(msg, want), "message '%s' lacks '%s'", msg, want); \
	} while (0)

Test(restore, xfeatures_missing)
{
	write_inventory(100, 1, 0x207, 4096);
	EXPECT_REFUSED("XCR0 bits 0x200 missing");
}

Test(restore, page_size)
{
	write_inventory(100, 1, 0x7, 65536);
	EXPECT_REFUSED("page size 65536 differs");
}

Test(restore, task_count)
{
	struct t ts[] = { { 100, 0, 100, 100 } };

	write_inventory(100, 2, 0x7, 4096);
	write_pstree(ts, 1);
	EXPECT_REFUSED("pstree.img holds 1 tasks, inventory.img says 2");
}

Test(restore, parent_order)
{
	struct t ts[] = { { 100, 0, 100, 100 }, { 102, 101, 100, 100 }, { 101, 100, 100, 100 } };

	write_inventory(100, 3, 0x7, 4096);
	write_pstree(ts, 3);
	EXPECT_REFUSED("pid 102: parent 101 does not precede it");
}

Test(restore, duplicate_pid)
{
	struct t ts[] = { { 100, 0, 100, 100 }, { 101, 100, 100, 100 }, { 101, 100, 100, 100 } };

	write_inventory(100, 3, 0x7, 4096);
	write_pstree(ts, 3);
	EXPECT_REFUSED("pid 101 appears twice");
}

Test(restore, zombie_root)
{
	struct t ts[] = { { 100, 0, 100, 100, TASK_STATE__TASK_ZOMBIE, 0 } };

	write_inventory(100, 1, 0x7, 4096);
	write_pstree(ts, 1);
	EXPECT_REFUSED("the root 100 is a zombie");
}

Test(restore, foreign_session)
{
	/* 101 is in session 50, led by no task of the tree and not its parent's */
	struct t ts[] = { { 100, 0, 100, 100 }, { 101, 100, 101, 50 } };

	write_inventory(100, 2, 0x7, 4096);
	write_pstree(ts, 2);
	EXPECT_REFUSED("pid 101: session 50 differs from its parent 100's");
}

Test(restore, group_in_other_session)
{
	/* 102 leads its own session; 103 (its child) can't join group 101 */
	struct t ts[] = { { 100, 0, 100, 100 }, { 101, 100, 101, 100 }, { 102, 100, 102, 102 },
			  { 103, 102, 101, 102 } };

	write_inventory(100, 4, 0x7, 4096);
	write_pstree(ts, 4);
	EXPECT_REFUSED("pid 103: process group 101 belongs to another session");
}

Test(restore, zombie_status)
{
	struct t ts[] = { { 100, 0, 100, 100 }, { 101, 100, 100, 100, TASK_STATE__TASK_ZOMBIE,
					       0x137f } };

	write_inventory(100, 2, 0x7, 4096);
	write_pstree(ts, 2);
	EXPECT_REFUSED("zombie 101: wait status 0x137f is neither an exit nor a signal");
}

/* A session or group led from outside the dumper's pid namespace reads as
 * 0 in /proc: a valid tree (the tasks join the restorer's session). */
Test(restore, session_outside_namespace)
{
	struct t ts[] = { { 2, 0, 0, 0 }, { 3, 2, 0, 0 } };
	char msg[1024];

	write_inventory(2, 2, 0x7, 4096);
	write_pstree(ts, 2);
	cr_assert_lt(load(msg, sizeof(msg), NULL), 0);
	cr_assert_not_null(strstr(msg, "core-2.img is missing"), "%s", msg);
}

Test(restore, session_negative)
{
	struct t ts[] = { { 100, 0, 100, -1 } };

	write_inventory(100, 1, 0x7, 4096);
	write_pstree(ts, 1);
	EXPECT_REFUSED("pstree.img: pid 100: pid/ppid/pgid/sid out of bounds");
}

Test(restore, plan)
{
	struct t ts[] = {
		{ 100, 0, 100, 100 },
		{ 101, 100, 101, 100 },				/* own group */
		{ 102, 101, 101, 100, TASK_STATE__TASK_ZOMBIE, 42 << 8 },
		{ 103, 100, 101, 100 },				/* joins 101's group */
		{ 104, 100, 104, 104 },				/* session leader */
	};
	struct rst_ctx ctx;
	char msg[1024];

	write_inventory(100, 5, 0x7, 4096);
	write_pstree(ts, 5);
	/* the tree is fine: loading stops at the first task's missing core */
	cr_assert_lt(load(msg, sizeof(msg), &ctx), 0);
	cr_assert_not_null(strstr(msg, "core-100.img is missing"), "%s", msg);
	cr_assert_eq(ctx.nr_tasks, 5);
	cr_assert_eq(ctx.nr_alive, 4);
	cr_assert_eq(ctx.tasks[0].nr_children, 3);
	cr_assert_eq(ctx.tasks[0].children[0]->pe->pid, 101);
	cr_assert_eq(ctx.tasks[0].children[1]->pe->pid, 103);
	cr_assert_eq(ctx.tasks[0].children[2]->pe->pid, 104);
	cr_assert_eq(ctx.tasks[1].nr_children, 1);
	cr_assert_eq(ctx.tasks[1].children[0]->pe->pid, 102);
	cr_assert_eq(ctx.tasks[2].parent, &ctx.tasks[1]);
	cr_assert_eq(rst_find(&ctx, 103), &ctx.tasks[3]);
	rst_free(&ctx);
}

/* Anyone but root restores only processes of its own identity. */
Test(restore, creds_authorization)
{
	CredsEntry cr = CREDS_ENTRY__INIT;
	TaskCoreEntry core = TASK_CORE_ENTRY__INIT;
	PstreeEntry pe = PSTREE_ENTRY__INIT;
	struct rst_task t = { .pe = &pe, .core = &core };
	struct restore_opts opts = { .requester = getpid(), .requester_uid = 1000,
				     .requester_gid = 1000 };
	struct ckpt_err err = { 0 };
	struct rst_ctx ctx = { .opts = &opts, .kd = &kd, .err = &err, .tasks = &t,
			       .nr_tasks = 1 };

	pe.pid = 100;
	core.creds = &cr;
	cr.uid = cr.euid = cr.suid = cr.fsuid = 1000;
	cr.gid = cr.egid = cr.sgid = cr.fsgid = 1000;
	cr_assert_eq(rst_check_creds(&ctx), 0, "%s", err.msg);

	cr.euid = 0;
	cr_assert_eq(rst_check_creds(&ctx), -EPERM);
	cr_assert_not_null(strstr(err.msg, "pid 100 ran as uid 0"), "%s", err.msg);

	memset(&err, 0, sizeof(err));
	cr.euid = 1000;
	cr.cap_eff = 1;
	cr_assert_eq(rst_check_creds(&ctx), -EPERM);
	cr_assert_not_null(strstr(err.msg, "held capabilities"), "%s", err.msg);

	/* root may restore anything */
	memset(&err, 0, sizeof(err));
	opts.requester_uid = 0;
	cr_assert_eq(rst_check_creds(&ctx), 0);
}
