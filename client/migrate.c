/* ckptctl migrate -t PID --to ADDR:PORT (--tls-... | --insecure-plaintext)
 *                 [--max-rounds N] [--max-downtime MS] [--track T] [--json]
 *
 * Pre-copy live migration (Documentation/migration.md). ckptd does the
 * dumps, as for pre-dump and dump --prev; this process stages each round
 * in memory (a directory on tmpfs, never the source's disk), streams it to
 * ckptctl receive, and frees its page data once sent:
 *
 *   hello       the tree's PIDs: the destination refuses at once if one
 *               is taken there, before anything is dumped;
 *   round 0     a pre-dump (the tree runs on), sent whole;
 *   round k     a pre-dump --prev of what was written meanwhile, until the
 *               written set stops shrinking, fits the downtime budget, or
 *               --max-rounds is reached;
 *   final       a dump --prev with the tree frozen (dump_req.hold): once
 *               the set stands, it is sent, the destination restores it,
 *               and only when it answers that the tree runs there does
 *               ckptd get the verdict to kill the source's tree. Any
 *               failure before that (the link, the destination's restore,
 *               this process killed) resumes the source's tree as it was.
 *
 * Downtime is counted from the final dump's request to the destination's
 * answer that the restored tree runs. */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/commands.h"
#include "client/migrate-proto.h"
#include "client/postcopy.h"
#include "client/proc-tree.h"
#include "client/rpc-client.h"
#include "client/xport.h"
#include "common/protocol.h"
#include "common/util.h"
#include "images/chain.h"
#include "images/img.h"
#include "images/imgset.h"
#include "images/json.h"

#define MIG_ROUNDS_MAX		32	/* --max-rounds' ceiling (and CHAIN_MAX's floor) */
#define ANSWER_TIMEOUT_MS	120000	/* a round stored, or the restore done */
#define CONNECT_TIMEOUT_MS	10000

struct migrate_args {
	long pid;
	const char *to;
	const char *track;
	struct xport_tls tls;
	unsigned max_rounds;		/* pre-copy rounds before the final one */
	unsigned max_downtime_ms;	/* the budget the last round should fit */
	bool postcopy;			/* the final round's lazy pages after the restore */
	bool tcp_established;		/* the final dump's, and the restore's */
	bool ext_unix_sk;		/* likewise */
	bool json;
};

struct round_stat {
	uint64_t pages;			/* pages the dump stored */
	uint64_t bytes;			/* bytes sent */
	uint64_t dump_ms, send_ms;
	uint32_t files;
};

struct migration {
	const struct migrate_args *a;
	struct xport *x;
	char stage[64];			/* tmpfs directory of the rounds */
	int stagefd;
	struct round_stat r[MIG_ROUNDS_MAX + 1];
	unsigned nr;			/* rounds done, the final one included */
	uint64_t t0, final_t0, running_t;
	int dest_pid;
	uint64_t restore_ms;
	struct pc_set pc;		/* --post-copy: the final round's held bytes */
	uint64_t pc_bytes, pc_ms;	/* sent after the restore, in that long */
	struct ckpt_err err;
};

static void migrate_usage(FILE *f)
{
	fprintf(f,
		"Usage: ckptctl migrate -t PID --to ADDR:PORT (--tls-cacert CA --tls-cert CRT\n"
		"                       --tls-key KEY | --insecure-plaintext) [--max-rounds N]\n"
		"                       [--max-downtime MS] [--track T] [--post-copy]\n"
		"                       [--tcp-established] [--ext-unix-sk] [--json]\n"
		"\n"
		"Move the process tree rooted at PID, running, to the ckptctl receive\n"
		"listening at ADDR:PORT. Its memory is copied in rounds while it runs; the\n"
		"tree is frozen only for the last, small round, and killed here only once\n"
		"the destination says it runs there. If anything fails, it runs on here.\n"
		"\n"
		"  -t, --tree PID        root of the process tree\n"
		"      --to ADDR:PORT    the destination (ckptctl receive --listen)\n"
		MIG_TLS_USAGE
		"      --max-rounds N    pre-copy rounds at most before the final one\n"
		"                        (default 8, at most %d)\n"
		"      --max-downtime MS stop iterating once a round fits in MS at the\n"
		"                        link's speed (default 500); an aim, not a bound\n"
		"  -T, --track T         dirty-page tracker (auto, uffd-wp, soft-dirty, hash)\n"
		"      --post-copy       the final round holds back its anonymous memory: the\n"
		"                        destination runs the tree lazily at once and fetches\n"
		"                        those pages after, those it touches first; the tree\n"
		"                        here stays frozen until all are across\n"
		"      --tcp-established the final dump and the destination's restore\n"
		"                        take --tcp-established (root only); a connection\n"
		"                        keeps its addresses (see ckptctl(1))\n"
		"      --ext-unix-sk     unix sockets connected outside the tree are\n"
		"                        connected again to the same paths there\n"
		"  -j, --json            print the result (or the error) as JSON\n"
		"  -h, --help            show this help\n"
		"\n"
		"Exit status: 0 migrated; 9 the destination did not confirm the final round;\n"
		"4 no such tree; 1 any other failure. Unless 0, the tree runs on here.\n",
		MIG_ROUNDS_MAX);
}

static int parse_uint(const char *opt, const char *arg, unsigned lo, unsigned hi, bool json,
		      unsigned *ret)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (!*arg || *end || v < lo || v > hi)
		return client_fail("migrate", json, EINVAL, EXIT_USAGE,
				   "%s %s: give a number from %u to %u", opt, arg, lo, hi);
	*ret = v;
	return 0;
}

static int parse_migrate_args(int argc, char **argv, struct migrate_args *a)
{
	enum { OPT_TO = 0x200, OPT_ROUNDS, OPT_DOWNTIME, OPT_POSTCOPY, OPT_TCP_EST, OPT_EXT_UNIX };
	static const struct option opts[] = {
		{ "tree", required_argument, NULL, 't' },
		{ "to", required_argument, NULL, OPT_TO },
		{ "max-rounds", required_argument, NULL, OPT_ROUNDS },
		{ "max-downtime", required_argument, NULL, OPT_DOWNTIME },
		{ "track", required_argument, NULL, 'T' },
		{ "post-copy", no_argument, NULL, OPT_POSTCOPY },
		{ "tcp-established", no_argument, NULL, OPT_TCP_EST },
		{ "ext-unix-sk", no_argument, NULL, OPT_EXT_UNIX },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		MIG_TLS_OPTIONS,
		{}
	};
	char *end;
	int c, r = 0;

	opterr = 0;
	optind = 1;
	while (r == 0 && (c = getopt_long(argc, argv, ":t:T:jh", opts, NULL)) != -1) {
		if (mig_tls_option(c, optarg, &a->tls))
			continue;
		switch (c) {
		case 't':
			a->pid = strtol(optarg, &end, 10);
			if (*end || a->pid <= 0)
				return client_fail("migrate", a->json, EINVAL, EXIT_USAGE,
						   "invalid pid '%s'", optarg);
			break;
		case OPT_TO:
			a->to = optarg;
			break;
		case OPT_ROUNDS:
			r = parse_uint("--max-rounds", optarg, 0, MIG_ROUNDS_MAX, a->json,
				       &a->max_rounds);
			break;
		case OPT_DOWNTIME:
			r = parse_uint("--max-downtime", optarg, 1, 3600000, a->json,
				       &a->max_downtime_ms);
			break;
		case 'T':
			a->track = optarg;
			break;
		case OPT_POSTCOPY:
			a->postcopy = true;
			break;
		case OPT_TCP_EST:
			a->tcp_established = true;
			break;
		case OPT_EXT_UNIX:
			a->ext_unix_sk = true;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			migrate_usage(stdout);
			return EXIT_OK;
		default:
			return client_bad_option("migrate", a->json, c, argv);
		}
	}
	if (r)
		return r;
	if (optind < argc)
		return client_fail("migrate", a->json, EINVAL, EXIT_USAGE,
				   "unexpected argument '%s'", argv[optind]);
	if (!a->pid || !a->to)
		return client_fail("migrate", a->json, EINVAL, EXIT_USAGE,
				   "both -t PID and --to ADDR:PORT are required (see "
				   "'ckptctl migrate --help')");
	return 1;
}

/* --- the staging directory -------------------------------------------------- */

/* Remove the rounds 0..last of a staging directory. */
static void stage_discard_rounds(int stagefd, unsigned last)
{
	char name[16];

	for (unsigned k = 0; k <= last && k <= MIG_ROUNDS_MAX; k++) {
		snprintf(name, sizeof(name), "%u", k);
		imgset_discard(stagefd, name);
	}
}

/* What a migration killed mid-way left in base: ckpt-migrate-PID-* of a
 * PID that is gone. */
static void stage_sweep(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[4096], proc[64];
		long pid;
		int fd;

		if (sscanf(e->d_name, "ckpt-migrate-%ld-", &pid) != 1 || pid <= 0)
			continue;
		snprintf(proc, sizeof(proc), "/proc/%ld", pid);
		if (access(proc, F_OK) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", base, e->d_name);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		stage_discard_rounds(fd, MIG_ROUNDS_MAX);
		close(fd);
		rmdir(path);
	}
	closedir(d);
}

static int stage_open(struct migration *m)
{
	static const char *const bases[] = { "/dev/shm", "/run" };

	for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
		stage_sweep(bases[i]);
		snprintf(m->stage, sizeof(m->stage), "%s/ckpt-migrate-%d-XXXXXX", bases[i],
			 getpid());
		if (!mkdtemp(m->stage))
			continue;
		m->stagefd = open(m->stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (m->stagefd >= 0)
			return 0;
		rmdir(m->stage);
	}
	m->stage[0] = '\0';
	return ckpt_fail(&m->err, -errno, "cannot make a staging directory in /dev/shm or /run");
}

static void stage_remove(struct migration *m)
{
	if (!m->stage[0])
		return;
	stage_discard_rounds(m->stagefd, m->nr);
	close(m->stagefd);
	rmdir(m->stage);
	m->stage[0] = '\0';
}

/* A round sent is needed here only as the next round's parent, which reads
 * its pagemaps, never its page data: punch the data out of the pages files
 * (tmpfs frees it; their size, which the reader checks, stays). */
static void stage_drop_pages(struct migration *m, int dirfd)
{
	DIR *d = fd_opendir(dirfd);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		_cleanup_close_ int pf = -EBADF;
		struct stat st;

		if (strncmp(e->d_name, "pages-", 6))
			continue;
		pf = openat(dirfd, e->d_name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		if (pf >= 0 && fstat(pf, &st) == 0 && st.st_size > IMG_PAGES_DATA_OFF)
			fallocate(pf, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  IMG_PAGES_DATA_OFF, st.st_size - IMG_PAGES_DATA_OFF);
	}
	closedir(d);
}

/* --- rounds ----------------------------------------------------------------- */

/* Round k's set in the staging directory, opened; or -errno, reported. */
static int round_open(struct migration *m, unsigned k)
{
	char name[16];
	int fd;

	snprintf(name, sizeof(name), "%u", k);
	fd = openat(m->stagefd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ckpt_fail(&m->err, negerrno(), "round %u: its set is not in %s", k,
				 m->stage);
	return fd;
}

/* Send round k's set (already in the staging directory). */
static int send_round(struct migration *m, unsigned k, bool final)
{
	MigRound round = MIG_ROUND__INIT;
	MigRoundEnd end = MIG_ROUND_END__INIT;
	_cleanup_close_ int dirfd = -EBADF;
	MigAnswer *ans = NULL;
	uint64_t t0 = now_us();
	int r;

	dirfd = round_open(m, k);
	if (dirfd < 0)
		return dirfd;
	round.round = k;
	round.final = final;
	round.has_postcopy = final && m->a->postcopy;
	round.postcopy = round.has_postcopy;
	round.has_tcp_established = final && m->a->tcp_established;
	round.tcp_established = round.has_tcp_established;
	round.has_ext_unix_sk = final && m->a->ext_unix_sk;
	round.ext_unix_sk = round.has_ext_unix_sk;
	r = round.postcopy ? pc_plan(dirfd, &m->pc, &m->err) : 0;
	if (r == 0)
		r = mig_send_msg(m->x, MIG_ROUND, &round.base, &m->err);
	if (r == 0)
		r = mig_send_dir(m->x, dirfd, m->pc.files, m->pc.nr_files, &m->r[k].files,
				 &m->r[k].bytes, &m->err);
	if (r < 0)
		return r;
	end.round = k;
	end.files = m->r[k].files;
	end.bytes = m->r[k].bytes;
	r = mig_send_msg(m->x, MIG_ROUND_END, &end.base, &m->err);
	if (r < 0)
		return r;
	if (!final) {
		r = mig_recv_answer(m->x, ANSWER_TIMEOUT_MS, &ans, &m->err);
		if (r < 0)
			return r;
		mig_answer__free_unpacked(ans, NULL);
		stage_drop_pages(m, dirfd);
	}
	m->r[k].send_ms = (now_us() - t0) / 1000;
	return 0;
}

/* Post-copy: the held bytes of round k go while the destination
 * restores; then its two answers (the tree runs, all is in). */
static int post_copy(struct migration *m, unsigned k)
{
	_cleanup_close_ int dirfd = -EBADF;
	struct pc_runs runs = { 0 };
	uint64_t t0 = now_us();
	int r;

	dirfd = round_open(m, k);
	if (dirfd < 0)
		return dirfd;
	r = pc_stream(m->x, dirfd, &m->pc, &m->pc_bytes, &runs, &m->err);
	if (r == 0 && !runs.got)
		r = pc_answer(m->x, &runs, &m->err);
	if (r == 0) {
		m->running_t = runs.t;
		m->dest_pid = runs.pid;
		m->restore_ms = runs.restore_ms;
		r = pc_answer(m->x, &runs, &m->err);	/* every held byte is in */
	}
	m->pc_ms = (now_us() - t0) / 1000;
	return r;
}

static int on_held(void *opaque)
{
	struct migration *m = opaque;
	unsigned k = m->nr;
	MigAnswer *ans = NULL;
	int r;

	m->r[k].dump_ms = (now_us() - m->final_t0) / 1000;
	r = send_round(m, k, true);
	if (r == 0 && m->a->postcopy) {
		r = post_copy(m, k);
		if (r == 0)
			return 1;
	} else if (r == 0) {
		r = mig_recv_answer(m->x, ANSWER_TIMEOUT_MS, &ans, &m->err);
	}
	if (r < 0) {
		/* the daemon's own message says the tree runs on; this says why */
		fprintf(stderr, "ckptctl migrate: %s\n", ckpt_err_msg(&m->err, r));
		return 0;
	}
	m->running_t = now_us();
	m->dest_pid = ans->has_pid ? ans->pid : 0;
	m->restore_ms = ans->has_restore_ms ? ans->restore_ms : 0;
	mig_answer__free_unpacked(ans, NULL);
	return 1;
}

/* One dump into the staging directory's round k: a pre-dump, or the final
 * dump held until on_held() says the destination runs the tree. 0 or the
 * exit code, reported. */
static int dump_round(struct migration *m, unsigned k, bool final)
{
	const struct migrate_args *a = m->a;
	DumpReq dreq = DUMP_REQ__INIT;
	RpcRequest req = RPC_REQUEST__INIT;
	struct rpc_hold hold = { on_held, m };
	struct ckpt_err err = { 0 };
	int fds[RPC_FDS_MAX];
	char name[16], prev[24];
	RpcResponse *resp = NULL;
	unsigned nr = 1, n = 0;
	uint64_t t0 = now_us();
	int r;

	snprintf(name, sizeof(name), "%u", k);
	snprintf(prev, sizeof(prev), "../%u", k - 1);
	if (mkdirat(m->stagefd, name, 0700) < 0 ||
	    (fds[0] = openat(m->stagefd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return client_fail("migrate", a->json, errno, EXIT_FAIL,
				   "cannot make %s/%s: %s", m->stage, name, strerror(errno));
	if (k) {
		fds[1] = openat(fds[0], prev, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = fds[1] < 0 ? negerrno() :
			chain_open_parents(fds[1], fds + 2, RPC_FDS_MAX - 2, &n, &err);
		if (r < 0) {
			if (fds[1] >= 0)
				close(fds[1]);
			close(fds[0]);
			return client_fail("migrate", a->json, -r, EXIT_FAIL,
					   "round %u: its parent %s/%u: %s", k, m->stage, k - 1,
					   ckpt_err_msg(&err, r));
		}
		nr = 2 + n;
	}
	dreq.pid = a->pid;
	dreq.has_pre = true;
	dreq.pre = !final;
	dreq.track = k || final ? NULL : (char *)a->track;
	dreq.prev = k ? prev : NULL;
	dreq.has_hold = final;
	dreq.hold = final;
	dreq.has_tcp_established = final && a->tcp_established;
	dreq.tcp_established = dreq.has_tcp_established;
	dreq.has_ext_unix_sk = final && a->ext_unix_sk;
	dreq.ext_unix_sk = dreq.has_ext_unix_sk;
	dreq.has_hold_timeout_ms = final;
	dreq.hold_timeout_ms = 2 * ANSWER_TIMEOUT_MS;
	req.type = RPC_TYPE__RPC_DUMP;
	req.dump = &dreq;
	if (final) {
		m->final_t0 = t0;
		r = rpc_client_run_hold("migrate", a->json, &req, fds, nr, &hold, &resp);
	} else {
		r = rpc_client_run_fds("migrate", a->json, &req, fds, nr, &resp);
	}
	for (unsigned i = 0; i < nr; i++)
		close(fds[i]);
	if (r)
		return r;
	m->r[k].pages = resp->dump->pages;
	if (!final)	/* the final round's is taken when held (on_held) */
		m->r[k].dump_ms = (now_us() - t0) / 1000;
	rpc_response__free_unpacked(resp, NULL);
	return 0;
}

static void print_round(const struct migration *m, unsigned k, bool final)
{
	const struct round_stat *s = &m->r[k];

	if (m->a->json)
		return;
	fprintf(stderr, "%s %u: %llu pages%s, %.1f MiB sent; dump %llu ms, send %llu ms\n",
		final ? "final round" : "round", k, (unsigned long long)s->pages,
		k ? " written since the round before" : "", s->bytes / 1048576.0,
		(unsigned long long)s->dump_ms, (unsigned long long)s->send_ms);
}

/* Whether round k (a pre-copy round, k >= 1) is the last before the
 * final one: the written set stopped shrinking, or fits the downtime
 * budget at the speed round 0 was sent at. */
static bool converged(const struct migration *m, unsigned k)
{
	const struct round_stat *first = &m->r[0], *s = &m->r[k];
	uint64_t bps = first->send_ms ? first->bytes * 1000 / first->send_ms : first->bytes;
	uint64_t budget = bps * m->a->max_downtime_ms / 1000 / 2;

	if (s->pages >= m->r[k - 1].pages)
		return true;
	return s->bytes <= MAX(budget, (uint64_t)(1u << 20));
}

/* hello: the destination checks every PID of the tree is free there. */
static int say_hello(struct migration *m)
{
	MigHello h = MIG_HELLO__INIT;
	_cleanup_free_ pid_t *ids = NULL;
	MigAnswer *ans = NULL;
	char host[256] = "";
	size_t nr;
	int r;

	r = proc_tree_ids(m->a->pid, true, &ids, &nr);
	if (r < 0)
		return ckpt_fail(&m->err, r, "pid %ld: cannot list its tree in /proc",
				 m->a->pid);
	gethostname(host, sizeof(host) - 1);
	h.version = MIG_VERSION;
	h.root_pid = m->a->pid;
	h.n_pids = nr;
	h.pids = ids;
	h.source = host;
	r = mig_send_msg(m->x, MIG_HELLO, &h.base, &m->err);
	if (r == 0)
		r = mig_recv_answer(m->x, ANSWER_TIMEOUT_MS, &ans, &m->err);
	if (ans)
		mig_answer__free_unpacked(ans, NULL);
	return r;
}

/* The pre-copy rounds and the final one; 0 or an exit code, reported. */
static int run_rounds(struct migration *m)
{
	const struct migrate_args *a = m->a;
	unsigned k;
	int r;

	for (k = 0; k < a->max_rounds; k++) {
		r = dump_round(m, k, false);
		if (r)
			return r;
		if (send_round(m, k, false) < 0)
			return client_fail("migrate", a->json, -m->err.code, EXIT_FAIL,
					   "round %u: %s; the tree runs on here", k,
					   ckpt_err_msg(&m->err, m->err.code));
		m->nr = k + 1;
		print_round(m, k, false);
		if (k && converged(m, k))
			break;
	}
	k = m->nr;
	r = dump_round(m, k, true);
	if (r)
		return r;
	m->nr = k + 1;
	print_round(m, k, true);
	return 0;
}

static void print_result(const struct migration *m)
{
	uint64_t pages = 0, bytes = 0;
	uint64_t downtime = (m->running_t - m->final_t0) / 1000;
	uint64_t total = (now_us() - m->t0) / 1000;
	struct json j;

	for (unsigned k = 0; k < m->nr; k++) {
		pages += m->r[k].pages;
		bytes += m->r[k].bytes;
	}
	bytes += m->pc_bytes;
	if (!m->a->json) {
		printf("migrated pid %ld to %s (pid %d there): %u rounds, %llu pages "
		       "(%.1f MiB) sent; downtime %llu ms (restore %llu ms), total %llu ms\n",
		       m->a->pid, m->a->to, m->dest_pid, m->nr, (unsigned long long)pages,
		       bytes / 1048576.0, (unsigned long long)downtime,
		       (unsigned long long)m->restore_ms, (unsigned long long)total);
		if (m->a->postcopy)
			printf("post-copy: %.1f MiB after the restore, in %llu ms\n",
			       m->pc_bytes / 1048576.0, (unsigned long long)m->pc_ms);
		return;
	}
	json_init(&j, stdout, false);
	json_obj_begin(&j, NULL);
	json_i64(&j, "pid", m->a->pid);
	json_str(&j, "to", m->a->to);
	json_i64(&j, "dest_pid", m->dest_pid);
	json_u64(&j, "rounds", m->nr);
	json_u64(&j, "pages_sent", pages);
	json_u64(&j, "bytes_sent", bytes);
	json_u64(&j, "downtime_ms", downtime);
	json_u64(&j, "restore_ms", m->restore_ms);
	json_u64(&j, "total_ms", total);
	if (m->a->postcopy) {
		json_u64(&j, "postcopy_bytes", m->pc_bytes);
		json_u64(&j, "postcopy_ms", m->pc_ms);
	}
	json_arr_begin(&j, "round");
	for (unsigned k = 0; k < m->nr; k++) {
		json_obj_begin(&j, NULL);
		json_u64(&j, "pages", m->r[k].pages);
		json_u64(&j, "bytes", m->r[k].bytes);
		json_u64(&j, "dump_ms", m->r[k].dump_ms);
		json_u64(&j, "send_ms", m->r[k].send_ms);
		json_bool(&j, "final", k + 1 == m->nr);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_finish(&j);
}

int cmd_migrate(int argc, char **argv)
{
	struct migrate_args a = {
		.json = args_want_json(argc, argv),
		.max_rounds = 8,
		.max_downtime_ms = 500,
	};
	struct migration m = { .a = &a, .stagefd = -1 };
	int r;

	r = parse_migrate_args(argc, argv, &a);
	if (r != 1)
		return r;
	m.t0 = now_us();
	mig_catch_signals();
	r = xport_tls_check(&a.tls, &m.err);
	if (r < 0)
		return client_fail("migrate", a.json, -r, EXIT_USAGE, "%s",
				   ckpt_err_msg(&m.err, r));
	if (kill(a.pid, 0) < 0 && errno == ESRCH)
		return client_fail("migrate", a.json, ESRCH, EXIT_NOTARGET,
				   "pid %ld: no such process", a.pid);
	r = xport_connect(a.to, &a.tls, CONNECT_TIMEOUT_MS, &m.x, &m.err);
	if (r == 0)
		r = say_hello(&m);
	if (r == 0)
		r = stage_open(&m);
	if (r < 0) {
		/* a TLS peer resets a plaintext hello, or answers it with an alert */
		bool tls_peer = a.tls.plaintext && (r == -ECONNRESET || r == -EBADMSG);

		xport_close(m.x);
		return client_fail("migrate", a.json, -r, r == -ESRCH ? EXIT_NOTARGET : EXIT_FAIL,
				   "%s%s; nothing was dumped", ckpt_err_msg(&m.err, r),
				   tls_peer ? " (does the destination's receive use TLS? "
				   "--insecure-plaintext must be given on both sides)" : "");
	}
	r = run_rounds(&m);
	if (r) {
		mig_send_abort(m.x, m.err.code ? ckpt_err_msg(&m.err, m.err.code) :
			       "the source gave up (see its ckptctl migrate's output); its tree "
			       "runs on there");
	} else {
		struct ckpt_err ignored = { 0 };
		sigset_t old;

		/* the tree is gone here: the destination keeps its own, told so
		 * even when a signal came meanwhile */
		mig_defer_signals(&old);
		mig_send(m.x, MIG_DONE, NULL, 0, &ignored);
		sigprocmask(SIG_SETMASK, &old, NULL);
		print_result(&m);
	}
	xport_close(m.x);
	stage_remove(&m);
	pc_free(&m.pc);
	return r;
}
