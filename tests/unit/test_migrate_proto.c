/* client/migrate-proto.c over a real plaintext xport pair on 127.0.0.1:
 * a frame's round trip, a payload that fails its checksum, a header
 * with a bad magic, an abort frame where another is wanted, the names a
 * round may hold, and a directory sent whole (one file in two pieces)
 * received byte for byte. */
#include <criterion/criterion.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/migrate-proto.h"
#include "client/postcopy.h"
#include "client/xport.h"
#include "common/util.h"

static const struct xport_tls plain = { .plaintext = true };

/* The two ends of one connection: a plaintext connect completes with the
 * kernel's handshake, so accepting it after needs no thread. */
static void pair(struct xport **a, struct xport **b)
{
	struct ckpt_err err = { 0 };
	_cleanup_close_ int lfd = -EBADF;
	char where[64];
	unsigned port;
	int r;

	r = xport_listen("127.0.0.1:0", &lfd, &port, &err);
	cr_assert_eq(r, 0, "xport_listen: %d %s", r, err.msg);
	snprintf(where, sizeof(where), "127.0.0.1:%u", port);
	r = xport_connect(where, &plain, 5000, a, &err);
	cr_assert_eq(r, 0, "xport_connect: %d %s", r, err.msg);
	r = xport_accept(lfd, &plain, 5000, b, &err);
	cr_assert_eq(r, 0, "xport_accept: %d %s", r, err.msg);
}

/* A header as mig_send makes it, but with the fields given. */
static void send_raw(struct xport *x, uint32_t magic, uint16_t type, const void *payload,
		     uint32_t len, uint32_t xxh32)
{
	uint8_t h[16];

	memcpy(h, &(uint32_t){ htole32(magic) }, 4);
	memcpy(h + 4, &(uint16_t){ htole16(type) }, 2);
	memset(h + 6, 0, 2);
	memcpy(h + 8, &(uint32_t){ htole32(len) }, 4);
	memcpy(h + 12, &(uint32_t){ htole32(xxh32) }, 4);
	cr_assert_eq(xport_send(x, h, sizeof(h)), 0, "%s", xport_errmsg(x));
	if (len)
		cr_assert_eq(xport_send(x, payload, len), 0, "%s", xport_errmsg(x));
}

#define MAGIC 0x474d4b43u	/* "CKMG" */

Test(migrate_proto, frame_round_trip)
{
	struct xport *a, *b;
	struct ckpt_err err = { 0 };
	MigRound round = MIG_ROUND__INIT;
	MigRound *got;
	enum mig_frame t;
	uint8_t *buf = NULL;
	size_t len = 1;
	int r;

	pair(&a, &b);
	round.round = 3;
	round.final = true;
	r = mig_send_msg(a, MIG_ROUND, &round.base, &err);
	cr_assert_eq(r, 0, "mig_send_msg: %d %s", r, err.msg);
	r = mig_send(a, MIG_DONE, NULL, 0, &err);
	cr_assert_eq(r, 0, "mig_send: %d %s", r, err.msg);

	r = mig_recv(b, 5000, &t, &buf, &len, &err);
	cr_assert_eq(r, 0, "mig_recv: %d %s", r, err.msg);
	cr_assert_eq(t, MIG_ROUND);
	got = mig_round__unpack(NULL, len, buf);
	cr_assert(got, "the round does not unpack");
	cr_expect_eq(got->round, 3);
	cr_expect(got->final);
	mig_round__free_unpacked(got, NULL);
	free(buf);

	/* an empty frame: no payload at all */
	buf = (uint8_t *)"x";
	r = mig_recv_want(b, 5000, MIG_DONE, &buf, &len, &err);
	cr_assert_eq(r, 0, "mig_recv_want: %d %s", r, err.msg);
	cr_expect_null(buf);
	cr_expect_eq(len, 0);

	/* the peer gone: -ECONNRESET, saying so */
	xport_close(a);
	r = mig_recv(b, 5000, &t, &buf, &len, &err);
	cr_expect_eq(r, -ECONNRESET);
	cr_expect(strstr(err.msg, "dropped"), "%s", err.msg);
	xport_close(b);
}

Test(migrate_proto, bad_checksum)
{
	static const char payload[] = "some bytes of a round";
	struct xport *a, *b;
	struct ckpt_err err = { 0 };
	enum mig_frame t;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	pair(&a, &b);
	send_raw(a, MAGIC, MIG_DATA, payload, sizeof(payload), 0x12345678);
	r = mig_recv(b, 5000, &t, &buf, &len, &err);
	cr_expect_eq(r, -EBADMSG, "mig_recv: %d %s", r, err.msg);
	cr_expect(strstr(err.msg, "checksum"), "%s", err.msg);
	cr_expect(strstr(err.msg, "data frame"), "%s", err.msg);
	cr_expect_null(buf);
	xport_close(a);
	xport_close(b);
}

Test(migrate_proto, bad_magic)
{
	struct xport *a, *b;
	struct ckpt_err err = { 0 };
	enum mig_frame t;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	pair(&a, &b);
	send_raw(a, 0x15030300, MIG_HELLO, NULL, 0, 0);
	r = mig_recv(b, 5000, &t, &buf, &len, &err);
	cr_expect_eq(r, -EBADMSG, "mig_recv: %d %s", r, err.msg);
	cr_expect(strstr(err.msg, "no ckpt migration frame"), "%s", err.msg);
	xport_close(a);
	xport_close(b);

	/* a type past the last one is no frame either */
	pair(&a, &b);
	memset(&err, 0, sizeof(err));
	send_raw(a, MAGIC, MIG_DONE + 1, NULL, 0, 0);
	r = mig_recv(b, 5000, &t, &buf, &len, &err);
	cr_expect_eq(r, -EBADMSG, "mig_recv: %d %s", r, err.msg);
	xport_close(a);
	xport_close(b);
}

Test(migrate_proto, abort_frame)
{
	struct xport *a, *b;
	struct ckpt_err err = { 0 };
	MigAnswer *ans = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	pair(&a, &b);
	mig_send_abort(a, "the disk is full");
	r = mig_recv_want(b, 5000, MIG_ANSWER, &buf, &len, &err);
	cr_expect_eq(r, -ECONNABORTED, "mig_recv_want: %d %s", r, err.msg);
	cr_expect(strstr(err.msg, "gave up: the disk is full"), "%s", err.msg);
	cr_expect_null(buf);

	/* a refusal: -ECONNREFUSED with the reason */
	memset(&err, 0, sizeof(err));
	r = mig_send_answer(b, false, "pid 7 of the tree is taken here", 0, 0, &err);
	cr_assert_eq(r, 0, "mig_send_answer: %d %s", r, err.msg);
	r = mig_recv_answer(a, 5000, &ans, &err);
	cr_expect_eq(r, -ECONNREFUSED, "mig_recv_answer: %d %s", r, err.msg);
	cr_expect(strstr(err.msg, "pid 7 of the tree is taken here"), "%s", err.msg);
	cr_expect_null(ans);
	xport_close(a);
	xport_close(b);
}

Test(migrate_proto, name_ok)
{
	char longname[301];

	memset(longname, 'a', 300);
	longname[300] = '\0';
	cr_expect(mig_name_ok("pages-1.img"));
	cr_expect(mig_name_ok("inventory.img"));
	cr_expect_not(mig_name_ok(""));
	cr_expect_not(mig_name_ok("."));
	cr_expect_not(mig_name_ok(".."));
	cr_expect_not(mig_name_ok("a/b"));
	cr_expect_not(mig_name_ok("/etc"));
	cr_expect_not(mig_name_ok(longname));
}

/* --- a directory sent whole ---------------------------------------------- */

#define BIGFILE	(MIG_FRAME_MAX + MIG_FRAME_MAX / 2)	/* two data frames */

struct sender {
	pthread_t thread;
	struct xport *x;
	int dirfd;
	const struct mig_held *held;	/* one file's, or NULL */
	uint32_t files;
	uint64_t bytes;
	int r;
	struct ckpt_err err;
};

static void *send_dir(void *arg)
{
	struct sender *s = arg;

	s->r = mig_send_dir(s->x, s->dirfd, s->held, s->held ? 1 : 0, &s->files, &s->bytes,
			    &s->err);
	return NULL;
}

static void put_file(int dirfd, const char *name, const uint8_t *buf, size_t len)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL, 0600);

	cr_assert_geq(fd, 0, "cannot create %s", name);
	cr_assert_eq(write_full(fd, buf, len), 0);
}

Test(migrate_proto, send_dir)
{
	static const char small[] = "inventory of a round";
	_cleanup_free_ uint8_t *big = malloc(BIGFILE), *got_big = calloc(1, BIGFILE);
	char dir[] = "/tmp/test_migrate_proto.XXXXXX", got_small[sizeof(small)] = "";
	struct sender s = { 0 };
	struct xport *b;
	uint64_t at = 0, want = 0;
	unsigned files = 0, pieces = 0;
	uint8_t *cur = NULL;
	bool small_seen = false, big_seen = false;

	cr_assert(big && got_big);
	for (size_t i = 0; i < BIGFILE; i++)
		big[i] = (uint8_t)(i * 131 + (i >> 12));
	cr_assert(mkdtemp(dir));
	s.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(s.dirfd, 0);
	put_file(s.dirfd, "inventory.img", (const uint8_t *)small, sizeof(small));
	put_file(s.dirfd, "pages-1.img", big, BIGFILE);
	cr_assert_eq(mkdirat(s.dirfd, "subdir", 0700), 0);	/* not a regular file: skipped */

	pair(&s.x, &b);
	cr_assert_eq(pthread_create(&s.thread, NULL, send_dir, &s), 0);
	while (files < 2) {
		_cleanup_free_ uint8_t *buf = NULL;
		struct ckpt_err err = { 0 };
		enum mig_frame t;
		size_t len;
		int r = mig_recv(b, 5000, &t, &buf, &len, &err);

		cr_assert_eq(r, 0, "mig_recv: %d %s", r, err.msg);
		if (t == MIG_FILE) {
			MigFile *f = mig_file__unpack(NULL, len, buf);

			cr_assert(f);
			cr_assert_eq(at, want, "the file before ended early");
			if (!strcmp(f->name, "inventory.img")) {
				cr_assert_eq(f->size, sizeof(small));
				cr_assert_not(small_seen);
				small_seen = true;
				cur = (uint8_t *)got_small;
			} else {
				cr_assert_str_eq(f->name, "pages-1.img");
				cr_assert_eq(f->size, BIGFILE);
				cr_assert_not(big_seen);
				big_seen = true;
				cur = got_big;
			}
			at = 0;
			want = f->size;
			mig_file__free_unpacked(f, NULL);
		} else {
			cr_assert_eq(t, MIG_DATA, "a %s frame", mig_frame_name(t));
			cr_assert_leq(at + len, want, "data beyond the file");
			memcpy(cur + at, buf, len);
			at += len;
			pieces += cur == got_big;
		}
		if (at == want && cur) {
			files++;
			cur = NULL;
		}
	}
	pthread_join(s.thread, NULL);
	cr_assert_eq(s.r, 0, "mig_send_dir: %d %s", s.r, s.err.msg);
	cr_expect_eq(s.files, 2);
	cr_expect_eq(s.bytes, sizeof(small) + BIGFILE);
	cr_expect_eq(pieces, 2, "the big file came in %u pieces", pieces);
	cr_expect_eq(memcmp(got_small, small, sizeof(small)), 0);
	cr_expect_eq(memcmp(got_big, big, BIGFILE), 0, "the big file differs");
	xport_close(s.x);
	xport_close(b);
	unlinkat(s.dirfd, "inventory.img", 0);
	unlinkat(s.dirfd, "pages-1.img", 0);
	unlinkat(s.dirfd, "subdir", AT_REMOVEDIR);
	close(s.dirfd);
	rmdir(dir);
}

/* --- post-copy: held ranges -------------------------------------------------- */

/* A file sent with ranges held back: its MIG_FILE lists them, its data
 * frames carry every other byte in order, and nothing of the held ones. */
Test(migrate_proto, send_dir_holds_back_ranges)
{
	uint64_t pairs[] = { 4096, 8192, MIG_FRAME_MAX + 3 * 4096, 4096, BIGFILE - 4096, 4096 };
	struct mig_held h = { .name = "pages-1.img", .pairs = pairs, .n = 3 };
	_cleanup_free_ uint8_t *big = malloc(BIGFILE), *got = calloc(1, BIGFILE);
	char dir[] = "/tmp/test_migrate_proto.XXXXXX";
	struct sender s = { .held = &h };
	struct pc_set set = { 0 };
	struct ckpt_err err = { 0 };
	uint64_t pos = 0, sent = 0;
	struct xport *b;
	bool ended = false;

	cr_assert(big && got);
	for (size_t i = 0; i < BIGFILE; i++)
		big[i] = (uint8_t)(i * 7 + (i >> 12) + 1);
	cr_assert(mkdtemp(dir));
	s.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	put_file(s.dirfd, "pages-1.img", big, BIGFILE);
	pair(&s.x, &b);
	cr_assert_eq(pthread_create(&s.thread, NULL, send_dir, &s), 0);
	while (!ended) {
		_cleanup_free_ uint8_t *buf = NULL;
		enum mig_frame t;
		size_t len, i, k;
		int r = mig_recv(b, 5000, &t, &buf, &len, &err);

		cr_assert_eq(r, 0, "mig_recv: %d %s", r, err.msg);
		if (t == MIG_FILE) {
			MigFile *f = mig_file__unpack(NULL, len, buf);

			cr_assert(f && f->n_held == 6, "the held ranges are not in the header");
			cr_assert_eq(pc_add_file(&set, f->name, f->size, f->held, 3, &err), 0,
				     "%s", err.msg);
			mig_file__free_unpacked(f, NULL);
			continue;
		}
		cr_assert_eq(t, MIG_DATA);
		for (size_t off = 0; off < len;) {	/* as receive's take_data */
			size_t n = len - off;

			if (pc_find(&set, "pages-1.img", pos, &i, &k)) {
				pos = pairs[2 * k] + pairs[2 * k + 1];
				continue;
			}
			for (k = 0; k < 3; k++)
				if (pairs[2 * k] > pos) {
					n = MIN(n, pairs[2 * k] - pos);
					break;
				}
			memcpy(got + pos, buf + off, n);
			pos += n;
			off += n;
		}
		sent += len;
		ended = sent == BIGFILE - 4096 * 4;
	}
	pthread_join(s.thread, NULL);
	cr_assert_eq(s.r, 0, "mig_send_dir: %d %s", s.r, s.err.msg);
	cr_expect_eq(s.bytes, BIGFILE - 4096 * 4);
	for (size_t k = 0; k < 3; k++) {
		cr_expect_eq(memcmp(got + pairs[2 * k], (uint8_t[8192]){ 0 }, pairs[2 * k + 1]), 0,
			     "held range %zu was sent", k);
		memcpy(got + pairs[2 * k], big + pairs[2 * k], pairs[2 * k + 1]);
	}
	cr_expect_eq(memcmp(got, big, BIGFILE), 0, "the bytes not held differ");
	pc_free(&set);
	xport_close(s.x);
	xport_close(b);
	unlinkat(s.dirfd, "pages-1.img", 0);
	close(s.dirfd);
	rmdir(dir);
}

Test(migrate_proto, held_ranges_are_checked)
{
	uint64_t ok[] = { 0, 4096, 8192, 4096 }, back[] = { 8192, 4096, 0, 4096 },
		 out[] = { 8192, 8192 }, empty[] = { 0, 0 };
	struct pc_set s = { 0 };
	struct ckpt_err err = { 0 };
	size_t i, k;

	cr_expect_lt(pc_add_file(&s, "pages-1.img", 12288, back, 2, &err), 0);
	cr_expect_lt(pc_add_file(&s, "pages-1.img", 12288, out, 1, &err), 0);
	cr_expect_lt(pc_add_file(&s, "pages-1.img", 12288, empty, 1, &err), 0);
	cr_expect(strstr(err.msg, "pages-1.img"), "%s", err.msg);
	cr_assert_eq(pc_add_file(&s, "pages-2.img", 12288, ok, 2, &err), 0, "%s", err.msg);
	cr_expect_eq(s.ranges, 2);
	cr_expect_eq(s.bytes, 8192);
	cr_expect(pc_find(&s, "pages-2.img", 8192 + 4095, &i, &k) && k == 1);
	cr_expect_not(pc_find(&s, "pages-2.img", 4096, &i, &k));
	cr_expect_not(pc_find(&s, "pages-1.img", 0, &i, &k));
	pc_free(&s);
}
