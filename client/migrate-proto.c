/* Frames over a migration's connection (client/migrate-proto.h). */
#include "client/migrate-proto.h"

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "client/xport.h"
#include "common/util.h"
#include "migrate.pb-c.h"

#define MIG_MAGIC	0x474d4b43u	/* "CKMG" */

struct frame_hdr {
	uint32_t magic;
	uint16_t type;
	uint16_t zero;
	uint32_t len;
	uint32_t xxh32;
};

const char *mig_frame_name(enum mig_frame t)
{
	static const char *const names[] = {
		[MIG_HELLO] = "hello", [MIG_ANSWER] = "answer", [MIG_ROUND] = "round",
		[MIG_FILE] = "file", [MIG_DATA] = "data", [MIG_ROUND_END] = "round end",
		[MIG_ABORT] = "abort", [MIG_DONE] = "done", [MIG_PAGES] = "pages",
		[MIG_WANT] = "want", [MIG_PAGES_END] = "pages end",
	};

	return (unsigned)t < ARRAY_SIZE(names) && names[t] ? names[t] : "unknown";
}

/* Set by the handler, hence global (as rpc-client's cancel flag). */
static volatile sig_atomic_t mig_signal;
static const int mig_signals[] = { SIGINT, SIGTERM, SIGHUP };

static void on_mig_signal(int sig)
{
	mig_signal = sig;
}

void mig_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_mig_signal };
	struct sigaction old;

	sigemptyset(&sa.sa_mask);
	/* a signal ignored from the start (nohup) stays ignored */
	for (size_t i = 0; i < ARRAY_SIZE(mig_signals); i++)
		if (sigaction(mig_signals[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(mig_signals[i], &sa, NULL);
}

void mig_defer_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(mig_signals); i++)
		sigaddset(&set, mig_signals[i]);
	sigprocmask(SIG_BLOCK, &set, old);
}

/* A signal came, and is not deferred. */
static bool signalled(void)
{
	sigset_t cur;

	return mig_signal && !(sigprocmask(SIG_BLOCK, NULL, &cur) == 0 &&
			       sigismember(&cur, SIGTERM));
}

static int interrupted(struct xport *x, const char *what, struct ckpt_err *err)
{
	return ckpt_fail(err, -EINTR, "%s while %s (with %s)",
			 mig_signal ? strsignal(mig_signal) : "a signal", what, xport_peer(x));
}

static int xport_failed(struct xport *x, int r, const char *what, struct ckpt_err *err)
{
	const char *why = xport_errmsg(x);

	if (r == -EINTR)
		return interrupted(x, what, err);
	if (r == -ECONNRESET || r == -EPIPE)
		return ckpt_fail(err, -ECONNRESET, "the connection to %s dropped while %s",
				 xport_peer(x), what);
	if (r == -ETIMEDOUT)
		return ckpt_fail(err, r, "%s did not answer in time while %s", xport_peer(x),
				 what);
	return ckpt_fail(err, r, "%s: %s%s%s", xport_peer(x), what, why && *why ? ": " : "",
			 why ? why : "");
}

int mig_send(struct xport *x, enum mig_frame type, const void *payload, size_t len,
	     struct ckpt_err *err)
{
	struct frame_hdr h = {
		.magic = htole32(MIG_MAGIC),
		.type = htole16(type),
		.len = htole32((uint32_t)len),
		.xxh32 = htole32(XXH32(payload, len, 0)),
	};
	int r;

	if (len > MIG_FRAME_MAX)
		return ckpt_fail(err, -E2BIG, "a %s frame of %zu bytes is over %u",
				 mig_frame_name(type), len, MIG_FRAME_MAX);
	if (signalled())
		return interrupted(x, "sending", err);
	r = xport_send(x, &h, sizeof(h));
	if (r == 0 && len)
		r = xport_send(x, payload, len);
	if (r < 0)
		return xport_failed(x, r, "sending", err);
	return 0;
}

int mig_send_msg(struct xport *x, enum mig_frame type, const ProtobufCMessage *m,
		 struct ckpt_err *err)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	_cleanup_free_ uint8_t *buf = malloc(len ? len : 1);

	if (!buf)
		return ckpt_fail(err, -ENOMEM, "out of memory");
	protobuf_c_message_pack(m, buf);
	return mig_send(x, type, buf, len, err);
}

int mig_recv(struct xport *x, int timeout_ms, enum mig_frame *type, uint8_t **ret,
	     size_t *ret_len, struct ckpt_err *err)
{
	_cleanup_free_ uint8_t *buf = NULL;
	struct frame_hdr h;
	uint32_t len;
	int r;

	if (signalled())
		return interrupted(x, "waiting for a frame", err);
	r = xport_recv(x, &h, sizeof(h), timeout_ms);
	if (r < 0)
		return xport_failed(x, r, "waiting for a frame", err);
	len = le32toh(h.len);
	if (le32toh(h.magic) != MIG_MAGIC || h.zero || len > MIG_FRAME_MAX ||
	    !le16toh(h.type) || le16toh(h.type) > MIG_FRAME_LAST)
		return ckpt_fail(err, -EBADMSG, "%s sent no ckpt migration frame (magic %#x, "
				 "type %u, length %u): not a ckptctl migrate/receive?",
				 xport_peer(x), le32toh(h.magic), le16toh(h.type), len);
	if (len) {
		buf = malloc(len);
		if (!buf)
			return ckpt_fail(err, -ENOMEM, "out of memory");
		r = xport_recv(x, buf, len, timeout_ms);
		if (r < 0)
			return xport_failed(x, r, "receiving a frame", err);
	}
	if (XXH32(buf, len, 0) != le32toh(h.xxh32))
		return ckpt_fail(err, -EBADMSG, "a %s frame of %u bytes from %s fails its "
				 "checksum", mig_frame_name(le16toh(h.type)), len, xport_peer(x));
	*type = le16toh(h.type);
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

int mig_aborted(struct xport *x, const uint8_t *buf, size_t len, struct ckpt_err *err)
{
	MigAbort *a = mig_abort__unpack(NULL, len, buf);
	int r;

	r = ckpt_fail(err, -ECONNABORTED, "%s gave up: %s", xport_peer(x),
		      a ? a->error : "(no reason given)");
	if (a)
		mig_abort__free_unpacked(a, NULL);
	return r;
}

int mig_recv_want(struct xport *x, int timeout_ms, enum mig_frame want, uint8_t **ret,
		  size_t *ret_len, struct ckpt_err *err)
{
	_cleanup_free_ uint8_t *buf = NULL;
	enum mig_frame t;
	size_t len;
	int r;

	r = mig_recv(x, timeout_ms, &t, &buf, &len, err);
	if (r < 0)
		return r;
	if (t == MIG_ABORT)
		return mig_aborted(x, buf, len, err);
	if (t != want)
		return ckpt_fail(err, -EBADMSG, "%s sent a %s frame where a %s frame belongs",
				 xport_peer(x), mig_frame_name(t), mig_frame_name(want));
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

bool mig_name_ok(const char *name)
{
	return name[0] && strlen(name) < 256 && !strchr(name, '/') && strcmp(name, ".") &&
	       strcmp(name, "..");
}

static int send_file(struct xport *x, int dirfd, const char *name, const struct mig_held *h,
		     uint64_t *bytes, struct ckpt_err *err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	_cleanup_free_ uint8_t *buf = NULL;
	MigFile f = MIG_FILE__INIT;
	struct stat st;
	uint64_t pos = 0;
	size_t k = 0;
	int r;

	if (fd < 0 || fstat(fd, &st) < 0)
		return ckpt_fail(err, negerrno(), "cannot open %s of the round to send", name);
	f.name = (char *)name;
	f.size = st.st_size;
	f.n_held = h ? 2 * h->n : 0;
	f.held = h ? h->pairs : NULL;
	r = mig_send_msg(x, MIG_FILE, &f.base, err);
	if (r < 0)
		return r;
	buf = malloc(MIG_FRAME_MAX);
	if (!buf)
		return ckpt_fail(err, -ENOMEM, "out of memory");
	while (pos < (uint64_t)st.st_size) {
		uint64_t stop = st.st_size;
		size_t n;

		if (h && k < h->n && h->pairs[2 * k] <= pos) {	/* a held range: skip it */
			pos = MAX(pos, h->pairs[2 * k] + h->pairs[2 * k + 1]);
			k++;
			continue;
		}
		if (h && k < h->n)
			stop = MIN(stop, h->pairs[2 * k]);
		n = MIN(stop - pos, (uint64_t)MIG_FRAME_MAX);
		r = pread_full(fd, buf, n, pos);
		if (r < 0)
			return ckpt_fail(err, r, "cannot read %s of the round to send", name);
		r = mig_send(x, MIG_DATA, buf, n, err);
		if (r < 0)
			return r;
		pos += n;
		*bytes += n;
	}
	return 0;
}

int mig_send_dir(struct xport *x, int dirfd, const struct mig_held *held, size_t nr_held,
		 uint32_t *files, uint64_t *bytes, struct ckpt_err *err)
{
	DIR *d = fd_opendir(dirfd);
	struct dirent *e;
	int r = 0;

	if (!d)
		return ckpt_fail(err, -errno, "cannot list the round's image set");
	while (r == 0 && (e = readdir(d))) {
		const struct mig_held *h = NULL;

		if (e->d_type != DT_REG || !mig_name_ok(e->d_name))
			continue;
		for (size_t i = 0; i < nr_held && !h; i++)
			if (!strcmp(held[i].name, e->d_name))
				h = &held[i];
		r = send_file(x, dirfd, e->d_name, h, bytes, err);
		if (r == 0)
			(*files)++;
	}
	closedir(d);
	return r;
}

int mig_send_answer(struct xport *x, bool ok, const char *error, int pid, uint64_t restore_ms,
		    struct ckpt_err *err)
{
	MigAnswer a = MIG_ANSWER__INIT;

	a.ok = ok;
	a.error = (char *)error;
	a.has_pid = pid > 0;
	a.pid = pid;
	a.has_restore_ms = pid > 0;
	a.restore_ms = restore_ms;
	return mig_send_msg(x, MIG_ANSWER, &a.base, err);
}

int mig_recv_answer(struct xport *x, int timeout_ms, MigAnswer **ret, struct ckpt_err *err)
{
	_cleanup_free_ uint8_t *buf = NULL;
	MigAnswer *a;
	size_t len;
	int r;

	r = mig_recv_want(x, timeout_ms, MIG_ANSWER, &buf, &len, err);
	if (r < 0)
		return r;
	a = mig_answer__unpack(NULL, len, buf);
	if (!a)
		return ckpt_fail(err, -EBADMSG, "a malformed answer from %s", xport_peer(x));
	if (!a->ok) {
		r = ckpt_fail(err, -ECONNREFUSED, "the destination refused: %s",
			      a->error ? a->error : "(no reason given)");
		mig_answer__free_unpacked(a, NULL);
		return r;
	}
	*ret = a;
	return 0;
}

void mig_send_abort(struct xport *x, const char *why)
{
	struct ckpt_err ignored = { 0 };
	MigAbort a = MIG_ABORT__INIT;

	a.error = (char *)why;
	mig_send_msg(x, MIG_ABORT, &a.base, &ignored);
}

int mig_tls_option(int c, const char *arg, struct xport_tls *tls)
{
	switch (c) {
	case MIG_OPT_CACERT:
		tls->cacert = arg;
		return 1;
	case MIG_OPT_CERT:
		tls->cert = arg;
		return 1;
	case MIG_OPT_KEY:
		tls->key = arg;
		return 1;
	case MIG_OPT_PLAINTEXT:
		tls->plaintext = true;
		return 1;
	default:
		return 0;
	}
}
