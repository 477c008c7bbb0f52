/* What a non-root restore trusts (daemon/restore-creds.c): the requester's
 * credentials read from /proc, the rule that every credential of a
 * restored task is one the requester could set itself, and paths opened
 * and directories entered as the requester, never with root's powers nor
 * through a /proc magic link. The path tests need root (to drop from). */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/restore-creds.h"
#include "daemon/restore-int.h"

static const char status_text[] =
	"Name:\tckptctl\nUmask:\t0022\nState:\tR (running)\nTgid:\t42\nPPid:\t1\nTracerPid:\t0\n"
	"Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n"
	"FDSize:\t64\nGroups:\t4 27 1000 \nNStgid:\t42\n"
	"CapInh:\t0000000000000400\nCapPrm:\t0000000000000000\n"
	"CapEff:\t0000000000000000\nCapBnd:\t000001fffffeffff\n"
	"CapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t0\n";

static struct rst_requester rq;

static void setup(void)
{
	memset(&rq, 0, sizeof(rq));
	rq.uid = 1000;
	rq.gid = 1000;
	cr_assert_eq(rst_requester_parse(status_text, &rq), 0);
}

static void teardown(void)
{
	rst_requester_free(&rq);
}

TestSuite(trust, .init = setup, .fini = teardown);

Test(trust, parse_status)
{
	struct rst_requester bad = { .uid = 5 };

	cr_assert_eq(rq.uid, 1000);
	cr_assert_eq(rq.cap_inh, 0x400);
	cr_assert_eq(rq.cap_bnd, 0x1fffffeffffull);
	cr_assert(rq.no_new_privs);
	cr_assert_eq(rq.nr_groups, 3);
	cr_assert_eq(rq.groups[0], 4);
	cr_assert_eq(rq.groups[2], 1000);
	/* a status without the capability lines is refused, not taken as 0 */
	cr_assert_eq(rst_requester_parse("Name:\tx\nGroups:\t\n", &bad), -EBADMSG);
	cr_assert_eq(bad.uid, 5);
}

/* The creds of a task the requester could have forked. */
static void own_creds(CredsEntry *cr)
{
	static uint32_t groups[] = { 27, 4 };

	creds_entry__init(cr);
	cr->uid = cr->euid = cr->suid = cr->fsuid = 1000;
	cr->gid = cr->egid = cr->sgid = cr->fsgid = 1000;
	cr->groups = groups;
	cr->n_groups = 2;
	cr->cap_inh = 0x400;
	cr->cap_bnd = 0x1fffffeffffull;
	cr->has_no_new_privs = cr->no_new_privs = true;
}

Test(trust, own_creds_pass)
{
	CredsEntry cr;

	own_creds(&cr);
	cr_assert_null(rst_creds_refusal(&cr, &rq));
	/* less is always fine: no group, no inheritable, a smaller bounding
	 * set, securebits that only take privilege away */
	cr.n_groups = 0;
	cr.cap_inh = 0;
	cr.cap_bnd = 0x1ff;
	cr.has_securebits = true;
	cr.securebits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_KEEP_CAPS |
			SECBIT_NO_CAP_AMBIENT_RAISE;
	cr_assert_null(rst_creds_refusal(&cr, &rq));
}

Test(trust, every_field_checked)
{
	CredsEntry cr;

	own_creds(&cr);
	cr.suid = 0;
	cr_assert_str_eq(rst_creds_refusal(&cr, &rq), "uids");
	own_creds(&cr);
	cr.fsuid = 0;
	cr_assert_str_eq(rst_creds_refusal(&cr, &rq), "uids");
	own_creds(&cr);
	cr.sgid = 0;
	cr_assert_str_eq(rst_creds_refusal(&cr, &rq), "gids");
	own_creds(&cr);
	cr.fsgid = 42;
	cr_assert_str_eq(rst_creds_refusal(&cr, &rq), "gids");
	own_creds(&cr);
	cr.groups[1] = 0;
	cr_assert_str_eq(rst_creds_refusal(&cr, &rq), "groups");
	cr.groups[1] = 4;
	own_creds(&cr);
	cr.cap_amb = 0x400;
	cr_assert_str_eq(rst_creds_refusal(&cr, &rq), "capabilities");
	own_creds(&cr);
	cr.cap_prm = 1;
	cr_assert_str_eq(rst_creds_refusal(&cr, &rq), "capabilities");
	/* CAP_DAC_READ_SEARCH inheritable: with a +ei file it reads anything */
	own_creds(&cr);
	cr.cap_inh = 0x404;
	cr_assert_str_eq(rst_creds_refusal(&cr, &rq), "inheritable capabilities");
	own_creds(&cr);
	cr.cap_bnd = 0x1ffffffffffull;	/* CAP_SYS_MODULE back */
	cr_assert_str_eq(rst_creds_refusal(&cr, &rq), "bounding set");
	own_creds(&cr);
	cr.has_securebits = true;
	cr.securebits = SECBIT_NO_SETUID_FIXUP;
	cr_assert_str_eq(rst_creds_refusal(&cr, &rq), "securebits");
	cr.securebits = 1u << 20;	/* unknown */
	cr_assert_str_eq(rst_creds_refusal(&cr, &rq), "securebits");
	own_creds(&cr);
	cr.no_new_privs = false;
	cr_assert_str_eq(rst_creds_refusal(&cr, &rq), "no_new_privs");
	cr.has_no_new_privs = false;	/* an image without the field */
	cr_assert_str_eq(rst_creds_refusal(&cr, &rq), "no_new_privs");
	/* a requester without no_new_privs may restore either */
	rq.no_new_privs = false;
	cr_assert_null(rst_creds_refusal(&cr, &rq));
}

/* capset(2)'s rule: an inheritable capability may come from the permitted
 * set, within the bounding set; anything within it with CAP_SETPCAP. */
Test(trust, inheritable_from_permitted)
{
	CredsEntry cr;

	own_creds(&cr);
	cr.cap_inh = 0x404;
	rq.cap_prm = 0x4;
	cr_assert_null(rst_creds_refusal(&cr, &rq));
	rq.cap_bnd &= ~0x4ull;
	cr.cap_bnd = rq.cap_bnd;
	cr_assert_str_eq(rst_creds_refusal(&cr, &rq), "inheritable capabilities");
	rq.cap_prm = 0;
	rq.cap_eff = 1ull << CAP_SETPCAP;
	rq.cap_bnd |= 0x4;
	cr.cap_bnd = rq.cap_bnd;
	cr_assert_null(rst_creds_refusal(&cr, &rq));
}

/* rst_check_creds reads the requester from /proc and fails closed. */
Test(trust, requester_gone)
{
	struct restore_opts opts = { .requester = 0x3fffff, .requester_uid = 1000,
				     .requester_gid = 1000 };
	struct ckpt_err err = { 0 };
	struct rst_ctx ctx = { .opts = &opts, .err = &err };

	cr_assert_eq(rst_check_creds(&ctx), -EPERM);
	cr_assert_not_null(strstr(err.msg, "cannot read the credentials of the requesting"),
			   "%s", err.msg);
}

/* ---- paths as the requester ---------------------------------------------- */

static char dir[64];

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root");
}

/* A directory only root may search, a file in it, and one anyone may read. */
static void make_tree(void)
{
	char p[128];
	int fd;

	strcpy(dir, "/tmp/ckpt-trust-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	chmod(dir, 0755);
	snprintf(p, sizeof(p), "%s/private", dir);
	cr_assert_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/private/secret", dir);
	fd = open(p, O_CREAT | O_WRONLY, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/public", dir);
	fd = open(p, O_CREAT | O_WRONLY, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
}

static void rm_tree(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static bool dac_override_effective(void)
{
	cap_t c = cap_get_proc();
	cap_value_t v = CAP_DAC_OVERRIDE;
	cap_flag_value_t f = CAP_CLEAR;

	cap_get_flag(c, v, CAP_EFFECTIVE, &f);
	cap_free(c);
	return f == CAP_SET;
}

Test(trust, open_as_requester)
{
	struct restore_opts opts = { .requester = getpid(), .requester_uid = 65534,
				     .requester_gid = 65534 };
	struct rst_ctx ctx = { .opts = &opts };
	char p[128];
	int fd;

	need_root();
	make_tree();
	snprintf(p, sizeof(p), "%s/public", dir);
	fd = rst_open_path(&ctx, p, O_RDONLY, 0);
	cr_assert_geq(fd, 0, "%s", strerror(-fd));
	close(fd);
	snprintf(p, sizeof(p), "%s/private/secret", dir);
	cr_assert_eq(rst_open_path(&ctx, p, O_RDONLY, 0), -EACCES);
	cr_assert_eq(rst_open_path(&ctx, "/proc/self/root/etc/passwd", O_RDONLY, 0), -ELOOP);
	cr_assert_eq(rst_open_path(&ctx, "etc/passwd", O_RDONLY, 0), -EINVAL);
	/* and back to root's powers afterwards */
	cr_assert_eq(setfsuid(-1), 0);
	cr_assert_eq(setfsgid(-1), 0);
	cr_assert(dac_override_effective());
	/* root opens what it likes, but a relative path still not */
	opts.requester_uid = 0;
	fd = rst_open_path(&ctx, p, O_RDONLY, 0);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(rst_open_path(&ctx, "etc/passwd", O_RDONLY, 0), -EINVAL);
	rm_tree();
}

/* rst_enter_fs in a child (it changes root and directory): 0 or -errno. */
static int enter_fs(uid_t uid, const char *root, const char *cwd, char *cwd_after)
{
	struct restore_opts opts = { .requester = getpid(), .requester_uid = uid,
				     .requester_gid = uid };
	int pfd[2], st;
	pid_t p;

	cr_assert_eq(pipe(pfd), 0);
	p = fork();
	if (p == 0) {
		struct ckpt_err err = { 0 };
		struct rst_ctx ctx = { .opts = &opts, .err = &err };
		char buf[256] = "";
		int r = rst_enter_fs(&ctx, 100, root, cwd);

		if (r == 0 && !getcwd(buf, sizeof(buf)))
			r = -errno;
		if (write(pfd[1], buf, sizeof(buf)) != sizeof(buf))
			_exit(255);
		_exit(-r);
	}
	close(pfd[1]);
	if (read(pfd[0], cwd_after, 256) != 256)
		cwd_after[0] = 0;
	close(pfd[0]);
	cr_assert_eq(waitpid(p, &st, 0), p);
	return -WEXITSTATUS(st);
}

Test(trust, enter_fs_as_requester)
{
	char p[128], got[256];

	need_root();
	make_tree();
	cr_assert_eq(enter_fs(65534, "/", dir, got), 0);
	cr_assert_str_eq(got, dir);
	snprintf(p, sizeof(p), "%s/private", dir);
	/* a cwd the requester may not search */
	cr_assert_eq(enter_fs(65534, "/", p, got), -EACCES);
	cr_assert_eq(enter_fs(0, "/", p, got), 0);
	/* no /proc magic link, not even to itself */
	cr_assert_eq(enter_fs(65534, "/", "/proc/self/cwd", got), -ELOOP);
	/* a root that is neither / nor the requester's own */
	cr_assert_eq(enter_fs(65534, dir, "/", got), -EPERM);
	/* root may chroot anywhere; the cwd is a path from ckptd's root, as
	 * the dump read it: the new root itself reads "/" from inside */
	cr_assert_eq(enter_fs(0, dir, dir, got), 0);
	cr_assert_str_eq(got, "/");
	/* a cwd outside the root (a chroot without chdir) is entered too:
	 * getcwd then fails, as it does for such a process */
	cr_assert_eq(enter_fs(0, dir, "/", got), -ENOENT);
	rm_tree();
}
