/* The frames ckptctl migrate and ckptctl receive exchange over their one
 * connection (client/xport.h); the messages are proto/migrate.proto's.
 *
 * A frame is a 16-byte header, little-endian: "CKMG", the type (u16), 0
 * (u16), the payload's length (u32, at most MIG_FRAME_MAX) and its XXH32
 * (u32); then the payload. A bad magic, type, length or checksum is
 * -EBADMSG with the frame's number in the message: the connection is then
 * useless and both sides give up. Nothing here prints. */
#ifndef CKPT_MIGRATE_PROTO_H
#define CKPT_MIGRATE_PROTO_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "common/err.h"
#include "migrate.pb-c.h"

struct xport;

#define MIG_VERSION	2	/* 2: post-copy */
#define MIG_FRAME_MAX	(1u << 20)	/* a file travels in pieces of this */

enum mig_frame {
	MIG_HELLO = 1,		/* mig_hello */
	MIG_ANSWER = 2,		/* mig_answer */
	MIG_ROUND = 3,		/* mig_round */
	MIG_FILE = 4,		/* mig_file, then its MIG_DATA pieces */
	MIG_DATA = 5,		/* raw bytes of the current file */
	MIG_ROUND_END = 6,	/* mig_round_end */
	MIG_ABORT = 7,		/* mig_abort: the sender gives up */
	MIG_DONE = 8,		/* no payload: the source's tree is gone, all is done */
	MIG_PAGES = 9,		/* mig_pages: post-copy, held-back bytes */
	MIG_WANT = 10,		/* mig_want: post-copy, the destination needs these */
	MIG_PAGES_END = 11,	/* mig_pages_end: post-copy, all held bytes sent */
};
#define MIG_FRAME_LAST	MIG_PAGES_END
#define MIG_PAGES_MAX	(512u << 10)	/* bytes of one MIG_PAGES */

const char *mig_frame_name(enum mig_frame t);

int mig_send(struct xport *x, enum mig_frame type, const void *payload, size_t len,
	     struct ckpt_err *err);
int mig_send_msg(struct xport *x, enum mig_frame type, const ProtobufCMessage *m,
		 struct ckpt_err *err);
/* One frame: its type, and its payload malloc'ed into *ret (NULL when
 * empty; free it). timeout_ms -1: forever. -ECONNRESET: the peer hung up. */
int mig_recv(struct xport *x, int timeout_ms, enum mig_frame *type, uint8_t **ret,
	     size_t *ret_len, struct ckpt_err *err);
/* A MIG_ABORT frame's payload as a failure: -ECONNABORTED, the reason. */
int mig_aborted(struct xport *x, const uint8_t *buf, size_t len, struct ckpt_err *err);
/* One frame that must be of type want (a MIG_ABORT instead is -ECONNABORTED
 * with the peer's reason). */
int mig_recv_want(struct xport *x, int timeout_ms, enum mig_frame want, uint8_t **ret,
		  size_t *ret_len, struct ckpt_err *err);

/* Byte ranges of one file held back (post-copy, client/postcopy.h). */
struct mig_held {
	char name[64];
	uint64_t *pairs;	/* offset, length, ... ascending */
	size_t n;		/* pairs */
};

/* Send every regular file of dirfd (a finished image set) as MIG_FILE and
 * MIG_DATA frames, but the ranges of held[] (nr_held files; NULL: none);
 * *files and *bytes add up what went. */
int mig_send_dir(struct xport *x, int dirfd, const struct mig_held *held, size_t nr_held,
		 uint32_t *files, uint64_t *bytes, struct ckpt_err *err);
/* Whether name may be created in a round's directory: a plain name. */
bool mig_name_ok(const char *name);

/* The answers, both ways. */
int mig_send_answer(struct xport *x, bool ok, const char *error, int pid, uint64_t restore_ms,
		    struct ckpt_err *err);
/* -ECONNREFUSED with the destination's reason when it said no. */
int mig_recv_answer(struct xport *x, int timeout_ms, MigAnswer **ret,
		    struct ckpt_err *err);
/* Best effort: tell the peer why we give up. */
void mig_send_abort(struct xport *x, const char *why);

/* SIGINT, SIGTERM and SIGHUP end a migration cleanly on either side: the
 * handler only notes the signal and interrupts (no SA_RESTART) the wait of
 * a send or a receive, which fails with -EINTR; once one came, mig_send
 * and mig_recv fail so at once. The caller cleans up as for a dropped
 * connection. A ckptd request in progress (rpc-client) catches them
 * itself meanwhile, as a cancel. */
void mig_catch_signals(void);
/* Once the source may have killed its tree, only the last frames (the
 * destination's answer, the source's MIG_DONE) tell where the tree lives:
 * a signal must not cut them. While these signals are blocked (from
 * mig_defer_signals until the mask in *old is set back), they wait, and
 * mig_send and mig_recv ignore one that came. */
void mig_defer_signals(sigset_t *old);

/* The connection options migrate and receive share, as getopt_long
 * entries (MIG_TLS_OPTIONS) and their handling: 1 when c was one of them
 * (stored into tls), 0 when not. */
enum {
	MIG_OPT_CACERT = 0x100,
	MIG_OPT_CERT,
	MIG_OPT_KEY,
	MIG_OPT_PLAINTEXT,
};
#define MIG_TLS_OPTIONS							\
	{ "tls-cacert", required_argument, NULL, MIG_OPT_CACERT },	\
	{ "tls-cert", required_argument, NULL, MIG_OPT_CERT },		\
	{ "tls-key", required_argument, NULL, MIG_OPT_KEY },		\
	{ "insecure-plaintext", no_argument, NULL, MIG_OPT_PLAINTEXT }
#define MIG_TLS_USAGE							\
	"      --tls-cacert CA    the CA (PEM) the peer's certificate must chain to\n" \
	"      --tls-cert CRT     this side's certificate (PEM), signed by that CA\n" \
	"      --tls-key KEY      its private key (PEM)\n"			\
	"      --insecure-plaintext  no TLS (both sides must say so): only on a\n" \
	"                         trusted link, since the destination runs as root\n" \
	"                         whatever it receives\n"
struct xport_tls;
int mig_tls_option(int c, const char *arg, struct xport_tls *tls);

#endif
