/* One TCP connection between ckptctl migrate (the source) and ckptctl
 * receive (the destination), which restores whatever arrives as root: TLS
 * 1.3 (GnuTLS) with X.509 certificates verified on both sides against one
 * CA, or, only when the user says --insecure-plaintext, no TLS at all.
 * Framed messages ride on it (client/migrate-proto.h).
 *
 * A dead peer must show: the socket has TCP keepalive and TCP_USER_TIMEOUT
 * (XPORT_DEAD_MS), so a cut link fails a send or a receive within that
 * time even when no RST arrives. Nothing here prints: failures go to err,
 * naming the address, the file (certificate, key) or what the peer lacked. */
#ifndef CKPT_XPORT_H
#define CKPT_XPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

#define XPORT_DEAD_MS		10000	/* a peer silent this long with data unacknowledged is gone */

struct xport_tls {
	const char *cacert;	/* PEM file: the CA the peer's certificate must chain to */
	const char *cert;	/* PEM file: our certificate (signed by that CA) */
	const char *key;	/* PEM file: its private key */
	bool plaintext;		/* --insecure-plaintext: no TLS; the three above unused */
};

struct xport;

/* Check tls before anything is sent or bound: plaintext, or all three files
 * given and loadable (and the key matching the certificate). -EINVAL with a
 * message naming the missing option (--tls-cacert...) or the bad file. */
int xport_tls_check(const struct xport_tls *tls, struct ckpt_err *err);

/* Listen on "ADDR:PORT" ("127.0.0.1:7000", "[::1]:7000", "0.0.0.0:7000";
 * PORT 0: any free port). *ret_port is the port bound. */
int xport_listen(const char *where, int *ret_fd, unsigned *ret_port, struct ckpt_err *err);
/* Accept one peer on lfd (waiting at most timeout_ms, -1: forever) and run
 * the server side of the handshake (which must end within XPORT_DEAD_MS);
 * the peer must present a certificate the CA signed (else -EACCES, and
 * nothing is read from it). The files are loaded before any peer is
 * waited for. */
int xport_accept(int lfd, const struct xport_tls *tls, int timeout_ms, struct xport **ret,
		 struct ckpt_err *err);
/* Connect to "ADDR:PORT" and run the client side: the server's certificate
 * must chain to the CA (host names are not checked: the CA is the trust).
 * timeout_ms bounds the connection and the handshake together (-1: the
 * kernel's connect timeout, then XPORT_DEAD_MS); it returns only once the
 * server has accepted our certificate (else -EACCES). */
int xport_connect(const char *where, const struct xport_tls *tls, int timeout_ms,
		  struct xport **ret, struct ckpt_err *err);

/* All len bytes, or -errno (-EPIPE/-ECONNRESET/-ETIMEDOUT when the peer
 * is gone). Never SIGPIPE. Here and in xport_recv (and connect, accept),
 * a signal whose handler interrupts the wait gives -EINTR: the stream may
 * then be mid-message, so close it. */
int xport_send(struct xport *x, const void *buf, size_t len);
/* Exactly len bytes, waiting at most timeout_ms for each piece (-1:
 * forever); -ECONNRESET on end of stream, -ETIMEDOUT on the timeout. */
int xport_recv(struct xport *x, void *buf, size_t len, int timeout_ms);
/* Whether bytes already read from the socket wait (TLS buffers a whole
 * record): poll() on xport_fd() would not say so. A caller that polls the
 * connection with other fds looks here first. */
bool xport_pending(struct xport *x);
int xport_fd(const struct xport *x);
/* "1.2.3.4:5678" and, with TLS, the peer certificate's subject. */
const char *xport_peer(const struct xport *x);
/* The last failure's text (TLS alerts, the peer's certificate problem). */
const char *xport_errmsg(const struct xport *x);
/* Close (a TLS close_notify first, best effort); NULL is fine. */
void xport_close(struct xport *x);

#endif
