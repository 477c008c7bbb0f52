/* Seccomp filters at restore (daemon/restore-seccomp.c): a core image's
 * filters and chains are checked before anything is forked, and laid out
 * for the blob with each distinct program copied once, every thread's
 * chain in order pointing at it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/filter.h>
#include <string.h>

#include "daemon/restore-seccomp.h"

#define INSN(k) { BPF_RET | BPF_K, 0, 0, (k) }

static struct sock_filter prog_a[2] = { INSN(1), INSN(2) };
static struct sock_filter prog_b[1] = { INSN(3) };

struct fixture {
	PstreeEntry pe;
	TaskCoreEntry core;
	SeccompFilterEntry f[2];
	SeccompFilterEntry *fp[2];
	ThreadCoreEntry th[2];
	ThreadCoreEntry *thp[2];
	uint32_t chain0[2], chain1[1];
	struct rst_task t;
	struct ckpt_err err;
	struct rst_ctx ctx;
};

static void build(struct fixture *x)
{
	memset(x, 0, sizeof(*x));
	x->pe = (PstreeEntry)PSTREE_ENTRY__INIT;
	x->pe.pid = 42;
	x->core = (TaskCoreEntry)TASK_CORE_ENTRY__INIT;
	for (int i = 0; i < 2; i++) {
		x->f[i] = (SeccompFilterEntry)SECCOMP_FILTER_ENTRY__INIT;
		x->fp[i] = &x->f[i];
		x->th[i] = (ThreadCoreEntry)THREAD_CORE_ENTRY__INIT;
		x->thp[i] = &x->th[i];
		x->th[i].tid = 42 + i;
		x->th[i].has_seccomp_mode = true;
		x->th[i].seccomp_mode = 2;
	}
	x->f[0].filter.data = (uint8_t *)prog_a;
	x->f[0].filter.len = sizeof(prog_a);
	x->f[1].filter.data = (uint8_t *)prog_b;
	x->f[1].filter.len = sizeof(prog_b);
	x->f[1].has_flags = true;
	x->f[1].flags = 2;	/* SECCOMP_FILTER_FLAG_LOG */
	x->core.seccomp_filters = x->fp;
	x->core.n_seccomp_filters = 2;
	/* thread 0: a then b; thread 1: a only (shared with thread 0) */
	x->chain0[0] = 0;
	x->chain0[1] = 1;
	x->chain1[0] = 0;
	x->th[0].seccomp_chain = x->chain0;
	x->th[0].n_seccomp_chain = 2;
	x->th[1].seccomp_chain = x->chain1;
	x->th[1].n_seccomp_chain = 1;
	x->t.pe = &x->pe;
	x->t.core = &x->core;
	x->t.threads = x->thp;
	x->t.nr_threads = 2;
	x->ctx.err = &x->err;
}

Test(seccomp, good_image_passes)
{
	struct fixture x;

	build(&x);
	cr_assert_eq(rst_check_seccomp(&x.ctx, &x.t), 0);
	cr_assert(rst_has_seccomp(&x.t));
}

Test(seccomp, bad_index_refused)
{
	struct fixture x;

	build(&x);
	x.chain1[0] = 2;
	cr_assert_eq(rst_check_seccomp(&x.ctx, &x.t), -EBADMSG);
	cr_assert(strstr(x.err.msg, "core-42.img: tid 43: seccomp filter 2 of 2"), "%s", x.err.msg);
}

Test(seccomp, partial_instruction_refused)
{
	struct fixture x;

	build(&x);
	x.f[0].filter.len = 12;
	cr_assert_eq(rst_check_seccomp(&x.ctx, &x.t), -EBADMSG);
	cr_assert(strstr(x.err.msg, "seccomp filter 0 is 12 bytes"), "%s", x.err.msg);
}

Test(seccomp, strict_and_empty_refused)
{
	struct fixture x;

	build(&x);
	x.th[1].seccomp_mode = 1;
	cr_assert_eq(rst_check_seccomp(&x.ctx, &x.t), -EBADMSG);
	cr_assert(strstr(x.err.msg, "tid 43: seccomp mode 1"), "%s", x.err.msg);
	build(&x);
	x.th[1].n_seccomp_chain = 0;
	cr_assert_eq(rst_check_seccomp(&x.ctx, &x.t), -EBADMSG);
	cr_assert(strstr(x.err.msg, "filter mode without a filter"), "%s", x.err.msg);
}

Test(seccomp, layout_shares_programs)
{
	struct fixture x;
	uint64_t area[512] = { 0 };
	struct restore_args *a = (void *)area;
	struct restore_thread rt[2] = { 0 };
	uint64_t insns = 1024, descs;
	const struct restore_seccomp *d;

	build(&x);
	descs = insns + rst_seccomp_insns_len(&x.t);
	cr_assert_eq(rst_seccomp_insns_len(&x.t), 24);	/* 16 + 8 */
	cr_assert_eq(rst_seccomp_descs_len(&x.t), 3 * sizeof(struct restore_seccomp));
	cr_assert_eq(rst_fill_seccomp(&x.t, a, rt, insns, descs), 0);
	cr_assert_eq(rt[0].nr_seccomp, 2);
	cr_assert_eq(rt[1].nr_seccomp, 1);
	d = (const void *)((char *)a + rt[0].seccomp_off);
	cr_assert_eq(d[0].insns_off, insns);		/* oldest first: a */
	cr_assert_eq(d[0].nr_insns, 2);
	cr_assert_eq(d[0].flags, 0);
	cr_assert_eq(d[1].insns_off, insns + 16);	/* then b, with its flag */
	cr_assert_eq(d[1].nr_insns, 1);
	cr_assert_eq(d[1].flags, 2);
	d = (const void *)((char *)a + rt[1].seccomp_off);
	cr_assert_eq(d[0].insns_off, insns);		/* a, shared */
	cr_assert_eq(memcmp((char *)a + insns, prog_a, sizeof(prog_a)), 0);
	cr_assert_eq(memcmp((char *)a + insns + 16, prog_b, sizeof(prog_b)), 0);
}

Test(seccomp, unknown_flags_refused)
{
	struct fixture x;

	build(&x);
	x.f[1].flags = 1;	/* SECCOMP_FILTER_FLAG_TSYNC: never dumped */
	cr_assert_eq(rst_check_seccomp(&x.ctx, &x.t), -EBADMSG);
	cr_assert(strstr(x.err.msg, "seccomp filter 1 has flags 0x1"), "%s", x.err.msg);
}
