/* ckptctl receive --listen ADDR:PORT -D DIR (--tls-... | --insecure-plaintext) [--json]
 *
 * The destination of ckptctl migrate (Documentation/migration.md): accept
 * one source, check that every PID of its tree is free here, store each
 * round it sends as a normal image set DIR/0, DIR/1... (each a child of
 * the one before, so ckptctl show and restore read the chain after), and
 * restore the final one through ckptd as ckptctl restore does. The tree
 * restored here is kept only when the source confirms it killed its own
 * (MIG_DONE); if the source gives up, hangs up or goes silent first, the
 * restored tree is killed here and the source's runs on. Whatever fails,
 * what was received is removed and the exit status is non-zero.
 *
 * A round arrives into DIR/.N.part and becomes DIR/N only once whole. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/chain-open.h"
#include "client/commands.h"
#include "client/migrate-proto.h"
#include "client/postcopy.h"
#include "client/proc-tree.h"
#include "client/rpc-client.h"
#include "client/xport.h"
#include "common/util.h"
#include "images/imgset.h"
#include "images/json.h"

#define IDLE_TIMEOUT_MS		120000	/* a source silent this long is gone */
#define ROUNDS_MAX		64

struct receive_args {
	const char *listen;
	const char *dir;
	struct xport_tls tls;
	bool lazy;
	bool json;
};

struct receiver {
	const struct receive_args *a;
	struct xport *x;
	int dirfd;
	bool made_dir;
	unsigned rounds;		/* whole rounds stored */
	uint64_t bytes;
	int pid;			/* the restored root */
	sigset_t sigmask;		/* the mask before mig_defer_signals */
	bool deferred;			/* from the answer that the tree runs here */
	uint64_t restore_ms;
	int lazy_server;		/* --lazy: the process serving its pages */
	uint64_t lazy_pages;
	struct pc_set pc;		/* post-copy: the final round's held bytes */
	bool postcopy;
	bool tcp_established, ext_unix_sk;	/* the final round's (migrate's options) */
	uint64_t postcopy_ms;		/* from the restore to the last held byte */
	char source[256];
	struct ckpt_err err;
};

static void receive_usage(FILE *f)
{
	fprintf(f,
		"Usage: ckptctl receive --listen ADDR:PORT -D DIR (--tls-cacert CA --tls-cert CRT\n"
		"                       --tls-key KEY | --insecure-plaintext) [--lazy] [--json]\n"
		"\n"
		"Wait at ADDR:PORT for one ckptctl migrate, store the rounds it sends as an\n"
		"image chain in DIR (created, or empty), and restore the tree from it.\n"
		"Prints the restored root's PID, as restore does, once the source has\n"
		"killed its own copy. If anything fails, nothing is left here: the chain is\n"
		"removed, a tree restored here is killed, and the source's runs on.\n"
		"\n"
		"  -l, --listen ADDR:PORT  where to listen (PORT 0: any; the port is printed)\n"
		"  -D, --images-dir DIR    where the chain goes\n"
		MIG_TLS_USAGE
		"      --lazy              restore the final round lazily (restore --lazy):\n"
		"                          the tree runs here as soon as its threads exist,\n"
		"                          its memory brought in from DIR behind it; the\n"
		"                          source's downtime ends sooner\n"
		"  -j, --json              print the result (or the error) as JSON\n"
		"  -h, --help              show this help\n");
}

static int parse_receive_args(int argc, char **argv, struct receive_args *a)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "images-dir", required_argument, NULL, 'D' },
		{ "lazy", no_argument, NULL, 'L' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		MIG_TLS_OPTIONS,
		{}
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":l:D:jh", opts, NULL)) != -1) {
		if (mig_tls_option(c, optarg, &a->tls))
			continue;
		switch (c) {
		case 'l':
			a->listen = optarg;
			break;
		case 'D':
			a->dir = optarg;
			break;
		case 'L':
			a->lazy = true;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			receive_usage(stdout);
			return EXIT_OK;
		default:
			return client_bad_option("receive", a->json, c, argv);
		}
	}
	if (optind < argc)
		return client_fail("receive", a->json, EINVAL, EXIT_USAGE,
				   "unexpected argument '%s'", argv[optind]);
	if (!a->listen || !a->dir)
		return client_fail("receive", a->json, EINVAL, EXIT_USAGE,
				   "both --listen ADDR:PORT and -D DIR are required (see "
				   "'ckptctl receive --help')");
	return 1;
}

/* DIR, created or empty: never mixed with what is there already. */
static int open_dir(struct receiver *rv)
{
	const char *dir = rv->a->dir;
	struct dirent *e;
	DIR *d;
	int fd;

	if (mkdir(dir, 0700) == 0)
		rv->made_dir = true;
	else if (errno != EEXIST)
		return client_fail("receive", rv->a->json, errno, EXIT_FAIL,
				   "cannot create %s: %s", dir, strerror(errno));
	rv->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rv->dirfd < 0)
		return client_fail("receive", rv->a->json, errno, EXIT_FAIL,
				   "cannot open %s: %s", dir, strerror(errno));
	fd = dup(rv->dirfd);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d)
		return client_fail("receive", rv->a->json, errno, EXIT_FAIL,
				   "cannot read %s: %s", dir, strerror(errno));
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			break;
	closedir(d);
	if (e)
		return client_fail("receive", rv->a->json, EEXIST, EXIT_EXISTS,
				   "%s is not empty: a migration goes into an empty directory", dir);
	return 0;
}

/* Remove every round received (whole or not), and DIR if made here. */
static void remove_received(struct receiver *rv)
{
	char name[32];

	if (rv->dirfd < 0)
		return;
	for (unsigned k = 0; k <= rv->rounds && k < ROUNDS_MAX; k++) {
		snprintf(name, sizeof(name), "%u", k);
		imgset_discard(rv->dirfd, name);
		snprintf(name, sizeof(name), ".%u.part", k);
		imgset_discard(rv->dirfd, name);
	}
	close(rv->dirfd);
	rv->dirfd = -1;
	if (rv->made_dir)
		rmdir(rv->a->dir);
}

/* hello: every PID the tree needs must be free in this PID namespace. */
static int take_hello(struct receiver *rv)
{
	_cleanup_free_ uint8_t *buf = NULL;
	char why[512] = "", proc[64];
	MigHello *h;
	size_t len;
	int r;

	r = mig_recv_want(rv->x, IDLE_TIMEOUT_MS, MIG_HELLO, &buf, &len, &rv->err);
	if (r < 0)
		return r;
	h = mig_hello__unpack(NULL, len, buf);
	if (!h)
		return ckpt_fail(&rv->err, -EBADMSG, "a malformed hello from %s",
				 xport_peer(rv->x));
	snprintf(rv->source, sizeof(rv->source), "%s", h->source ? h->source : "?");
	if (h->version != MIG_VERSION)
		snprintf(why, sizeof(why), "protocol version %u, this ckptctl speaks %u",
			 h->version, MIG_VERSION);
	for (size_t i = 0; !why[0] && i < h->n_pids; i++) {
		snprintf(proc, sizeof(proc), "/proc/%d", h->pids[i]);
		if (h->pids[i] <= 0 || access(proc, F_OK) == 0)
			snprintf(why, sizeof(why), "pid %d of the tree is taken here", h->pids[i]);
	}
	mig_hello__free_unpacked(h, NULL);
	if (why[0]) {
		mig_send_answer(rv->x, false, why, 0, 0, &rv->err);
		return ckpt_fail(&rv->err, -EEXIST, "refused the migration from %s: %s",
				 xport_peer(rv->x), why);
	}
	return mig_send_answer(rv->x, true, NULL, 0, 0, &rv->err);
}

struct incoming {
	int dirfd;			/* DIR/.N.part */
	int fd;				/* the file being received, or -1 */
	char name[256];
	uint64_t left;			/* its bytes still to come now */
	uint64_t pos;			/* where the next come */
	size_t held;			/* post-copy: its ranges in rv->pc.files[held - 1]
					   (0: none), skipped */
	uint32_t files;
	uint64_t bytes;
};

static int take_file(struct receiver *rv, struct incoming *in, const uint8_t *buf, size_t len)
{
	MigFile *f = mig_file__unpack(NULL, len, buf);
	int r = 0;

	if (!f)
		return ckpt_fail(&rv->err, -EBADMSG, "a malformed file header from %s",
				 xport_peer(rv->x));
	if (in->fd >= 0)
		r = ckpt_fail(&rv->err, -EBADMSG, "%s: %llu bytes missing before the next file",
			      in->name, (unsigned long long)in->left);
	else if (!mig_name_ok(f->name))
		r = ckpt_fail(&rv->err, -EBADMSG, "a file name that is not a plain name: '%s'",
			      f->name);
	else if (f->n_held && (!rv->postcopy || f->n_held % 2))
		r = ckpt_fail(&rv->err, -EBADMSG, "%s: held ranges outside a post-copy round",
			      f->name);
	else if (f->n_held)
		r = pc_add_file(&rv->pc, f->name, f->size, f->held, f->n_held / 2, &rv->err);
	if (r == 0) {
		snprintf(in->name, sizeof(in->name), "%s", f->name);
		in->left = f->size;
		in->pos = 0;
		in->held = f->n_held ? rv->pc.nr_files : 0;
		for (size_t k = 0; in->held && k < f->n_held; k += 2)
			in->left -= f->held[k + 1];
		in->fd = openat(in->dirfd, f->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
				O_NOFOLLOW, 0600);
		if (in->fd < 0)
			r = ckpt_fail(&rv->err, negerrno(), "cannot create %s", f->name);
		else if (in->held && ftruncate(in->fd, f->size) < 0)
			r = ckpt_fail(&rv->err, negerrno(), "cannot size %s", f->name);
	}
	mig_file__free_unpacked(f, NULL);
	if (r == 0 && in->left == 0) {
		close(in->fd);
		in->fd = -1;
		in->files++;
	}
	return r;
}

static int take_data(struct receiver *rv, struct incoming *in, const uint8_t *buf, size_t len)
{
	int r;

	if (in->fd < 0 || len > in->left)
		return ckpt_fail(&rv->err, -EBADMSG, "%zu bytes of data beyond the file they "
				 "belong to (%s)", len, in->fd < 0 ? "none" : in->name);
	while (len) {	/* up to the next held range, then past it */
		const struct mig_held *h = in->held ? &rv->pc.files[in->held - 1] : NULL;
		uint64_t n = len;
		size_t i, k;

		if (h && pc_find(&rv->pc, h->name, in->pos, &i, &k)) {
			in->pos = h->pairs[2 * k] + h->pairs[2 * k + 1];
			continue;
		}
		for (k = 0; h && k < h->n; k++)
			if (h->pairs[2 * k] > in->pos) {
				n = MIN(n, h->pairs[2 * k] - in->pos);
				break;
			}
		r = pwrite_full(in->fd, buf, n, in->pos);
		if (r < 0)
			return ckpt_fail(&rv->err, r, "cannot write %s", in->name);
		in->pos += n;
		in->left -= n;
		in->bytes += n;
		buf += n;
		len -= n;
	}
	if (in->left == 0) {
		close(in->fd);
		in->fd = -1;
		in->files++;
	}
	return 0;
}

static int take_end(struct receiver *rv, struct incoming *in, unsigned k, const uint8_t *buf,
		    size_t len)
{
	MigRoundEnd *e = mig_round_end__unpack(NULL, len, buf);
	bool whole = e && e->round == k && e->files == in->files && e->bytes == in->bytes &&
		     in->fd < 0;
	int r = 0;

	if (!whole)
		r = ckpt_fail(&rv->err, -EBADMSG, "round %u arrived incomplete: %u files, %llu "
			      "bytes, where the source sent %u and %llu", k, in->files,
			      (unsigned long long)in->bytes, e ? e->files : 0,
			      (unsigned long long)(e ? e->bytes : 0));
	if (e)
		mig_round_end__free_unpacked(e, NULL);
	return r;
}

/* Round k's files into DIR/.k.part, then renamed DIR/k once whole. */
static int take_round(struct receiver *rv, unsigned k)
{
	struct incoming in = { .fd = -1 };
	char part[32], name[16];
	int r = 0;

	snprintf(part, sizeof(part), ".%u.part", k);
	snprintf(name, sizeof(name), "%u", k);
	if (mkdirat(rv->dirfd, part, 0700) < 0 ||
	    (in.dirfd = openat(rv->dirfd, part, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return ckpt_fail(&rv->err, negerrno(), "cannot make %s/%s", rv->a->dir, part);
	for (;;) {
		_cleanup_free_ uint8_t *buf = NULL;
		enum mig_frame t;
		size_t len;

		r = mig_recv(rv->x, IDLE_TIMEOUT_MS, &t, &buf, &len, &rv->err);
		if (r < 0)
			break;
		if (t == MIG_FILE)
			r = take_file(rv, &in, buf, len);
		else if (t == MIG_DATA)
			r = take_data(rv, &in, buf, len);
		else if (t == MIG_ROUND_END)
			r = take_end(rv, &in, k, buf, len);
		else if (t == MIG_ABORT)
			r = mig_aborted(rv->x, buf, len, &rv->err);
		else
			r = ckpt_fail(&rv->err, -EBADMSG, "a %s frame in the middle of round %u",
				      mig_frame_name(t), k);
		if (r < 0 || t == MIG_ROUND_END)
			break;
	}
	if (in.fd >= 0)
		close(in.fd);
	close(in.dirfd);
	if (r == 0 && renameat(rv->dirfd, part, rv->dirfd, name) < 0)
		r = ckpt_fail(&rv->err, negerrno(), "cannot rename %s/%s to %s", rv->a->dir,
			      part, name);
	if (r == 0) {
		rv->rounds = k + 1;
		rv->bytes += in.bytes;
	}
	return r;
}

/* Restore DIR/k through ckptd, as ckptctl restore does; 0 or the exit
 * code (reported by the RPC layer). */
static int restore_round(struct receiver *rv, unsigned k, int feed, char *why, size_t whylen)
{
	RestoreReq rreq = RESTORE_REQ__INIT;
	RpcRequest req = RPC_REQUEST__INIT;
	char path[4096];
	int fds[CHAIN_MAX];
	struct chain chain;
	RpcResponse *resp;
	uint64_t t0 = now_us();
	int r;

	snprintf(path, sizeof(path), "%s/%u", rv->a->dir, k);
	r = client_open_chain("receive", rv->a->json, path, true, fds, &chain);
	if (r)
		return r;
	rreq.has_detach = true;
	rreq.detach = true;
	rreq.has_lazy = true;
	rreq.lazy = rv->a->lazy || feed >= 0;
	rreq.has_postcopy = feed >= 0;
	rreq.postcopy = feed >= 0;
	rreq.has_tcp_established = rv->tcp_established;
	rreq.tcp_established = rv->tcp_established;
	rreq.has_ext_unix_sk = rv->ext_unix_sk;
	rreq.ext_unix_sk = rv->ext_unix_sk;
	req.type = RPC_TYPE__RPC_RESTORE;
	req.restore = &rreq;
	fds[chain.nr] = feed;	/* post-copy: the lazy server's line to us, last */
	r = rpc_client_run_why("receive", rv->a->json, &req, fds, chain.nr + (feed >= 0), why,
			       whylen, &resp);
	client_close_chain(&chain);
	if (r)
		return r;
	rv->pid = resp->restore->pid;
	rv->restore_ms = (now_us() - t0) / 1000;
	if (resp->restore->has_lazy_server) {
		rv->lazy_server = resp->restore->lazy_server;
		rv->lazy_pages = resp->restore->lazy_pages;
	}
	rpc_response__free_unpacked(resp, NULL);
	return 0;
}

static const char *restore_exit_why(int code);

/* A post-copy final round's restore, run by a thread of its own while the
 * main one takes the held bytes in (pc_serve) and feeds the lazy server,
 * which the restore may already need. */
struct pc_job {
	struct receiver *rv;
	unsigned k;
	int feed;			/* the server's end, passed to ckptd */
	int done[2];			/* a byte once the restore returned */
	pthread_t th;
	bool joined;
	int r;
	char why[1024];
};

static void *pc_restore_thread(void *opaque)
{
	struct pc_job *j = opaque;
	sigset_t mask;

	/* the main thread's pc_serve gets SIGINT, SIGTERM and SIGHUP */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	j->r = restore_round(j->rv, j->k, j->feed, j->why, sizeof(j->why));
	if (write(j->done[1], "", 1) != 1)
		j->r = j->r ? j->r : EXIT_FAIL;
	return NULL;
}

static int pc_join(struct pc_job *j)
{
	if (!j->joined) {
		pthread_join(j->th, NULL);
		j->joined = true;
	}
	return j->r;
}

/* The restore returned: say so to the source (it runs, or why not). */
static int pc_restored(void *opaque)
{
	struct pc_job *j = opaque;
	struct receiver *rv = j->rv;
	char msg[1200];
	int r = pc_join(j);

	if (r) {
		snprintf(msg, sizeof(msg), "the restore failed on the destination: %s",
			 j->why[0] ? j->why : restore_exit_why(r));
		mig_send_answer(rv->x, false, msg, 0, 0, &rv->err);
		return r;
	}
	return mig_send_answer(rv->x, true, NULL, rv->pid, rv->restore_ms, &rv->err);
}

/* A post-copy final round: restore it lazily, fed by us, while its held
 * bytes come; the source hears that the tree runs as soon as the restore
 * returns, and the final answer (take_rounds) then says they are all in.
 * 0, the exit code of a failed restore (told to the source), or -errno in
 * rv->err (a tree restored meanwhile is left in rv->pid: serve kills it). */
static int restore_postcopy(struct receiver *rv, unsigned k)
{
	struct pc_job j = { .rv = rv, .k = k, .done = { -1, -1 } };
	_cleanup_free_ char *dir = NULL;
	int sv[2], dirfd = -1, r;
	bool done = false;
	uint64_t t0 = now_us();

	if (asprintf(&dir, "%u", k) < 0 ||
	    (dirfd = openat(rv->dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return ckpt_fail(&rv->err, -errno, "cannot open %s/%u", rv->a->dir, k);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		close(dirfd);
		return ckpt_fail(&rv->err, negerrno(), "cannot make the lazy server's feed");
	}
	j.feed = sv[1];
	if (pipe2(j.done, O_CLOEXEC) < 0 || (errno = pthread_create(&j.th, NULL,
								     pc_restore_thread, &j))) {
		r = ckpt_fail(&rv->err, -errno, "cannot start the restore");
		close(sv[0]);
		goto out;
	}
	r = pc_serve(rv->x, dirfd, &rv->pc, sv[0], j.done[0], pc_restored, &j,
		     IDLE_TIMEOUT_MS, &done, &rv->err);
	if (!done)	/* the feed is closed: the server fails, the restore ends */
		pc_join(&j);
	rv->postcopy_ms = (now_us() - t0) / 1000;
	rv->bytes += rv->pc.bytes_done;
out:
	close(sv[1]);
	if (j.done[0] >= 0)
		close(j.done[0]);
	if (j.done[1] >= 0)
		close(j.done[1]);
	close(dirfd);
	return r;
}

/* Why a restore failed when ckptd gave no message (the RPC layer reported
 * it here only): what its exit code means, for the source. */
static const char *restore_exit_why(int code)
{
	switch (code) {
	case EXIT_NODAEMON:
		return "no ckptd answers there and no one-shot ckptd could be started";
	case EXIT_BADIMAGE:
		return "the image chain it received does not read back";
	case EXIT_PROTOCOL:
		return "its ckptctl and ckptd do not understand each other";
	default:
		return "(its ckptctl receive says why)";
	}
}

/* Rounds until the final one, restored; 0, a -errno in rv->err, or (> 0)
 * the exit code of a failed restore, reported. */
static int take_rounds(struct receiver *rv)
{
	for (unsigned k = 0; k < ROUNDS_MAX; k++) {
		_cleanup_free_ uint8_t *buf = NULL;
		char why[1024] = "";
		MigRound *round;
		bool final;
		size_t len;
		int r;

		r = mig_recv_want(rv->x, IDLE_TIMEOUT_MS, MIG_ROUND, &buf, &len, &rv->err);
		if (r < 0)
			return r;
		round = mig_round__unpack(NULL, len, buf);
		if (!round || round->round != k) {
			if (round)
				mig_round__free_unpacked(round, NULL);
			return ckpt_fail(&rv->err, -EBADMSG, "round %u expected from %s", k,
					 xport_peer(rv->x));
		}
		final = round->final;
		rv->postcopy = final && round->has_postcopy && round->postcopy;
		rv->tcp_established = final && round->has_tcp_established &&
				      round->tcp_established;
		rv->ext_unix_sk = final && round->has_ext_unix_sk && round->ext_unix_sk;
		mig_round__free_unpacked(round, NULL);
		r = take_round(rv, k);
		if (r < 0)
			return r;
		if (!final) {
			r = mig_send_answer(rv->x, true, NULL, 0, 0, &rv->err);
			if (r < 0)
				return r;
			continue;
		}
		if (rv->postcopy) {
			r = restore_postcopy(rv, k);
			if (r)	/* the source was told; a tree restored: serve() kills it */
				return r;
		} else {
			r = restore_round(rv, k, -1, why, sizeof(why));
		}
		if (r) {
			char msg[1200];

			snprintf(msg, sizeof(msg), "the restore failed on the destination: %s",
				 why[0] ? why : restore_exit_why(r));
			mig_send_answer(rv->x, false, msg, 0, 0, &rv->err);
			return r;
		}
		/* the tree runs here: the source may kill its own on this answer */
		mig_defer_signals(&rv->sigmask);
		rv->deferred = true;
		return mig_send_answer(rv->x, true, NULL, rv->pid, rv->restore_ms, &rv->err);
	}
	return ckpt_fail(&rv->err, -E2BIG, "more than %u rounds", ROUNDS_MAX);
}

/* The source's word that its tree is gone; without it, ours goes. */
static int await_done(struct receiver *rv)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;

	return mig_recv_want(rv->x, IDLE_TIMEOUT_MS, MIG_DONE, &buf, &len, &rv->err);
}

static void print_result(const struct receiver *rv)
{
	struct json j;

	if (!rv->a->json) {
		printf("%d\n", rv->pid);
		fprintf(stderr, "ckptctl receive: pid %d from %s (%s): %u rounds, %.1f MiB; "
			"restored in %llu ms\n", rv->pid, xport_peer(rv->x), rv->source,
			rv->rounds, rv->bytes / 1048576.0, (unsigned long long)rv->restore_ms);
		if (rv->lazy_server)
			fprintf(stderr, "ckptctl receive: %llu MiB arrive lazily, served by pid %d\n",
				(unsigned long long)(rv->lazy_pages * 4096 >> 20), rv->lazy_server);
		if (rv->postcopy)
			fprintf(stderr, "ckptctl receive: post-copy: %.1f MiB came after the "
				"restore, in %llu ms\n", rv->pc.bytes_done / 1048576.0,
				(unsigned long long)rv->postcopy_ms);
		return;
	}
	json_init(&j, stdout, false);
	json_obj_begin(&j, NULL);
	json_i64(&j, "pid", rv->pid);
	json_str(&j, "from", xport_peer(rv->x));
	json_u64(&j, "rounds", rv->rounds);
	json_u64(&j, "bytes", rv->bytes);
	json_u64(&j, "restore_ms", rv->restore_ms);
	if (rv->lazy_server) {
		json_i64(&j, "lazy_server", rv->lazy_server);
		json_u64(&j, "lazy_pages", rv->lazy_pages);
	}
	if (rv->postcopy) {
		json_u64(&j, "postcopy_bytes", rv->pc.bytes_done);
		json_u64(&j, "postcopy_ms", rv->postcopy_ms);
	}
	json_obj_end(&j);
	json_finish(&j);
}

static int serve(struct receiver *rv, int lfd)
{
	int r;

	r = xport_accept(lfd, &rv->a->tls, -1, &rv->x, &rv->err);
	if (r == 0)
		r = take_hello(rv);
	if (r == 0)
		r = take_rounds(rv);
	if (r > 0)
		return r;	/* the restore failed, and said so */
	if (r == 0)
		r = await_done(rv);
	if (rv->deferred)
		sigprocmask(SIG_SETMASK, &rv->sigmask, NULL);
	if (r == 0)
		return 0;
	if (rv->pid > 0) {
		if (proc_tree_kill(rv->pid) < 0)
			fprintf(stderr, "ckptctl receive: cannot kill the tree restored as pid "
				"%d\n", rv->pid);
		return client_fail("receive", rv->a->json, -r, EXIT_FAIL,
				   "the source did not confirm that its tree is gone (%s): the "
				   "tree restored here (pid %d) was killed, the source's runs on",
				   ckpt_err_msg(&rv->err, r), rv->pid);
	}
	if (rv->x && r != -ECONNABORTED && r != -ECONNRESET)
		mig_send_abort(rv->x, ckpt_err_msg(&rv->err, r));
	/* no hello: a TLS ClientHello is no frame */
	return client_fail("receive", rv->a->json, -r, EXIT_FAIL, "%s%s",
			   ckpt_err_msg(&rv->err, r),
			   rv->a->tls.plaintext && r == -EBADMSG && !rv->source[0] ?
			   " (does the source's migrate use TLS? --insecure-plaintext must be "
			   "given on both sides)" : "");
}

int cmd_receive(int argc, char **argv)
{
	struct receive_args a = { .json = args_want_json(argc, argv) };
	struct receiver rv = { .a = &a, .dirfd = -1 };
	_cleanup_close_ int lfd = -EBADF;
	unsigned port;
	int r;

	r = parse_receive_args(argc, argv, &a);
	if (r != 1)
		return r;
	mig_catch_signals();
	r = xport_tls_check(&a.tls, &rv.err);
	if (r < 0)
		return client_fail("receive", a.json, -r, EXIT_USAGE, "%s",
				   ckpt_err_msg(&rv.err, r));
	r = open_dir(&rv);
	if (r) {
		if (rv.dirfd >= 0)
			close(rv.dirfd);
		return r;
	}
	r = xport_listen(a.listen, &lfd, &port, &rv.err);
	if (r < 0) {
		remove_received(&rv);
		return client_fail("receive", a.json, -r, EXIT_FAIL, "%s",
				   ckpt_err_msg(&rv.err, r));
	}
	fprintf(stderr, "ckptctl receive: listening on %s (port %u)\n", a.listen, port);
	r = serve(&rv, lfd);
	if (r == 0)
		print_result(&rv);
	else
		remove_received(&rv);
	if (rv.dirfd >= 0)
		close(rv.dirfd);
	xport_close(rv.x);
	pc_free(&rv.pc);
	return r;
}
