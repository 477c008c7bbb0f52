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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/chain-open.h"
#include "client/commands.h"
#include "client/migrate-proto.h"
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
	uint64_t left;			/* its bytes still to come */
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
	if (r == 0) {
		snprintf(in->name, sizeof(in->name), "%s", f->name);
		in->left = f->size;
		in->fd = openat(in->dirfd, f->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
				O_NOFOLLOW, 0600);
		if (in->fd < 0)
			r = ckpt_fail(&rv->err, negerrno(), "cannot create %s", f->name);
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
	r = write_full(in->fd, buf, len);
	if (r < 0)
		return ckpt_fail(&rv->err, r, "cannot write %s", in->name);
	in->left -= len;
	in->bytes += len;
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
static int restore_round(struct receiver *rv, unsigned k, char *why, size_t whylen)
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
	rreq.has_lazy = rv->a->lazy;
	rreq.lazy = rv->a->lazy;
	req.type = RPC_TYPE__RPC_RESTORE;
	req.restore = &rreq;
	r = rpc_client_run_why("receive", rv->a->json, &req, fds, chain.nr, why, whylen, &resp);
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
		r = restore_round(rv, k, why, sizeof(why));
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
	return r;
}
