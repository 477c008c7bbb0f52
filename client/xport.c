/* ckptctl migrate's and ckptctl receive's one connection (xport.h): TCP
 * tuned so that a dead peer shows within XPORT_DEAD_MS, and TLS 1.3 over
 * it (GnuTLS) unless --insecure-plaintext.
 *
 * Both ends load the same three PEM files' kinds: the CA, their own
 * certificate and its key; each requires the other's certificate and
 * verifies it against the CA (host names are not checked: the CA is the
 * trust). In TLS 1.3 a client's handshake ends once it has sent its
 * certificate, before the server has judged it, so a refused client would
 * learn so only at its first read. Hence the server, once it has verified
 * the client, sends one byte (XPORT_ACK) and xport_connect waits for it:
 * a refused client fails in xport_connect, with the server's alert. That
 * costs one round trip per connection; nothing else is added to the
 * stream. */
#include "client/xport.h"

#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define XPORT_PRIORITY	"NORMAL:-VERS-ALL:+VERS-TLS1.3"
#define XPORT_ACK	'K'		/* the server accepted our certificate */
#define XPORT_BACKLOG	8

struct xport {
	int fd;
	gnutls_session_t tls;			/* NULL: --insecure-plaintext */
	gnutls_certificate_credentials_t cred;
	int alert;				/* the last TLS alert received, or -1 */
	char peer[512];				/* "ADDR:PORT" or "ADDR:PORT (SUBJECT)" */
	char errmsg[512];
};

static void freeaddrinfop(struct addrinfo **ai)
{
	if (*ai)
		freeaddrinfo(*ai);
}

static void gnutls_datum_freep(gnutls_datum_t *d)
{
	gnutls_free(d->data);
}

static void xport_closep(struct xport **x)
{
	xport_close(*x);
}

static void credp(gnutls_certificate_credentials_t *cred)
{
	if (*cred)
		gnutls_certificate_free_credentials(*cred);
}

static void set_errmsg(struct xport *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_errmsg(struct xport *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->errmsg, sizeof(x->errmsg), fmt, ap);
	va_end(ap);
}

/* Milliseconds left until deadline_us (0: none, -1 returned). */
static int ms_left(uint64_t deadline_us)
{
	uint64_t now = now_us();

	if (!deadline_us)
		return -1;
	return now >= deadline_us ? 0 : (int)((deadline_us - now + 999) / 1000);
}

static uint64_t deadline_after(int timeout_ms)
{
	return timeout_ms < 0 ? 0 : now_us() + (uint64_t)timeout_ms * 1000;
}

/* ---- addresses ----------------------------------------------------------- */

/* "A.B.C.D:PORT", "[V6]:PORT" or "HOST:PORT" into host and port. */
static int split_where(const char *where, char *host, size_t hostsz, char *port, size_t portsz,
		       struct ckpt_err *err)
{
	const char *h = where, *colon;
	size_t hlen, plen;

	if (!where || !*where)
		return ckpt_fail(err, -EINVAL, "no address given: expected ADDR:PORT");
	if (*where == '[') {
		const char *end = strchr(where, ']');

		if (!end || end[1] != ':')
			return ckpt_fail(err, -EINVAL, "address '%s': expected [IPV6]:PORT", where);
		h = where + 1;
		hlen = end - h;
		colon = end + 1;
	} else {
		colon = strrchr(where, ':');
		if (!colon || memchr(where, ':', colon - where))
			return ckpt_fail(err, -EINVAL, "address '%s': expected ADDR:PORT (an IPv6 "
					 "address in brackets: [::1]:7000)", where);
		hlen = colon - where;
	}
	plen = strlen(colon + 1);
	if (!hlen || hlen >= hostsz)
		return ckpt_fail(err, -EINVAL, "address '%s': no host before ':PORT'", where);
	if (!plen || plen >= portsz || strspn(colon + 1, "0123456789") != plen ||
	    atoi(colon + 1) > 65535)
		return ckpt_fail(err, -EINVAL, "address '%s': the port must be a number from 0 to "
				 "65535", where);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memcpy(port, colon + 1, plen + 1);
	return 0;
}

static int resolve(const char *where, bool passive, struct addrinfo **ret, struct ckpt_err *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0) };
	char host[256], port[8];
	int r;

	r = split_where(where, host, sizeof(host), port, sizeof(port), err);
	if (r < 0)
		return r;
	r = getaddrinfo(host, port, &hints, ret);
	if (r == 0)
		return 0;
	return ckpt_fail(err, r == EAI_SYSTEM ? negerrno() : r == EAI_MEMORY ? -ENOMEM :
			 r == EAI_AGAIN ? -EAGAIN : -EINVAL,
			 "address '%s': cannot resolve '%s': %s", where, host, gai_strerror(r));
}

/* "1.2.3.4:5678" or "[::1]:5678". */
static void format_addr(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	char host[NI_MAXHOST], port[NI_MAXSERV];

	if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(buf, size, "?");
		return;
	}
	snprintf(buf, size, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

/* A connected socket: no Nagle delay (frames are written whole), and a
 * dead peer noticed within XPORT_DEAD_MS whether we send (the user
 * timeout: data unacknowledged that long fails the socket) or only wait
 * (keepalive probes from half that time on, every second). */
static int tcp_tune(int fd)
{
	const int one = 1, idle = XPORT_DEAD_MS / 2000, intvl = 1,
		  cnt = XPORT_DEAD_MS / 2000, user = XPORT_DEAD_MS;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user, sizeof(user)) < 0)
		return negerrno();
	return 0;
}

static int set_blocking(int fd, bool blocking)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, blocking ? fl & ~O_NONBLOCK : fl | O_NONBLOCK) < 0)
		return negerrno();
	return 0;
}

/* ---- credentials --------------------------------------------------------- */

static int load_pem(const char *opt, const char *path, char **ret_buf, gnutls_datum_t *ret,
		    struct ckpt_err *err)
{
	size_t len;
	int r;

	r = read_file_at(AT_FDCWD, path, ret_buf, &len);
	if (r < 0)
		return ckpt_fail(err, r, "%s %s: cannot read it", opt, path);
	if (!len)
		return ckpt_fail(err, -EINVAL, "%s %s: the file is empty (a PEM file is needed)",
				 opt, path);
	*ret = (gnutls_datum_t){ (unsigned char *)*ret_buf, len };
	return 0;
}

/* Whether the certificate and the key parse on their own, so that a
 * failure names the right file. */
static int check_cert_key(const struct xport_tls *tls, const gnutls_datum_t *cert,
			  const gnutls_datum_t *key, struct ckpt_err *err)
{
	gnutls_x509_crt_t *crts = NULL;
	gnutls_x509_privkey_t k;
	unsigned n = 0;
	int r;

	r = gnutls_x509_crt_list_import2(&crts, &n, cert, GNUTLS_X509_FMT_PEM, 0);
	if (r < 0)
		return ckpt_fail(err, -EINVAL, "--tls-cert %s: cannot load: %s", tls->cert,
				 gnutls_strerror(r));
	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	if (gnutls_x509_privkey_init(&k) < 0)
		return -ENOMEM;
	r = gnutls_x509_privkey_import2(k, key, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_x509_privkey_deinit(k);
	if (r < 0)
		return ckpt_fail(err, -EINVAL, "--tls-key %s: cannot load: %s (an unencrypted PEM "
				 "private key is needed)", tls->key, gnutls_strerror(r));
	return 0;
}

static int cred_fill(gnutls_certificate_credentials_t cred, const struct xport_tls *tls,
		     struct ckpt_err *err)
{
	_cleanup_free_ char *ca_buf = NULL, *cert_buf = NULL, *key_buf = NULL;
	gnutls_datum_t ca, cert, key;
	int r;

	if ((r = load_pem("--tls-cacert", tls->cacert, &ca_buf, &ca, err)) < 0 ||
	    (r = load_pem("--tls-cert", tls->cert, &cert_buf, &cert, err)) < 0 ||
	    (r = load_pem("--tls-key", tls->key, &key_buf, &key, err)) < 0)
		return r;
	r = gnutls_certificate_set_x509_trust_mem(cred, &ca, GNUTLS_X509_FMT_PEM);
	if (r <= 0)
		return ckpt_fail(err, -EINVAL, "--tls-cacert %s: cannot load: %s", tls->cacert,
				 r < 0 ? gnutls_strerror(r) : "no PEM certificate in it");
	r = check_cert_key(tls, &cert, &key, err);
	if (r < 0)
		return r;
	r = gnutls_certificate_set_x509_key_mem(cred, &cert, &key, GNUTLS_X509_FMT_PEM);
	if (r == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
		return ckpt_fail(err, -EINVAL, "--tls-key %s is not the key of --tls-cert %s",
				 tls->key, tls->cert);
	if (r < 0)
		return ckpt_fail(err, -EINVAL, "--tls-cert %s, --tls-key %s: cannot load: %s",
				 tls->cert, tls->key, gnutls_strerror(r));
	/* GnuTLS's default checks, nothing relaxed: the chain to our CA, the
	 * dates, no version 1 CA, no weak signature */
	gnutls_certificate_set_verify_flags(cred, 0);
	return 0;
}

static int cred_load(const struct xport_tls *tls, gnutls_certificate_credentials_t *ret,
		     struct ckpt_err *err)
{
	static const char *const opts[] = { "--tls-cacert", "--tls-cert", "--tls-key" };
	const char *paths[] = { tls->cacert, tls->cert, tls->key };
	gnutls_certificate_credentials_t cred;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (!paths[i] || !*paths[i])
			return ckpt_fail(err, -EINVAL, "%s is missing: a migration needs "
					 "--tls-cacert, --tls-cert and --tls-key on both sides "
					 "(or --insecure-plaintext on both, on a trusted link only)",
					 opts[i]);
	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return -ENOMEM;
	r = cred_fill(cred, tls, err);
	if (r < 0) {
		gnutls_certificate_free_credentials(cred);
		return r;
	}
	*ret = cred;
	return 0;
}

int xport_tls_check(const struct xport_tls *tls, struct ckpt_err *err)
{
	gnutls_certificate_credentials_t cred;
	int r;

	if (tls->plaintext)
		return 0;
	r = cred_load(tls, &cred, err);
	if (r < 0)
		return r;
	gnutls_certificate_free_credentials(cred);
	return 0;
}

/* ---- the TLS handshake --------------------------------------------------- */

/* Alerts a peer sends when it refuses our certificate. */
static bool alert_is_refusal(int alert)
{
	switch (alert) {
	case GNUTLS_A_BAD_CERTIFICATE:
	case GNUTLS_A_UNSUPPORTED_CERTIFICATE:
	case GNUTLS_A_CERTIFICATE_REVOKED:
	case GNUTLS_A_CERTIFICATE_EXPIRED:
	case GNUTLS_A_CERTIFICATE_UNKNOWN:
	case GNUTLS_A_UNKNOWN_CA:
	case GNUTLS_A_ACCESS_DENIED:
	case GNUTLS_A_CERTIFICATE_REQUIRED:
	case GNUTLS_A_DECRYPT_ERROR:
		return true;
	}
	return false;
}

/* The first certificate's subject the peer sent, or "". */
static void peer_subject(gnutls_session_t s, char *buf, size_t size)
{
	const gnutls_datum_t *certs;
	gnutls_datum_t dn = { NULL, 0 };
	gnutls_x509_crt_t crt;
	unsigned n = 0;

	buf[0] = '\0';
	certs = gnutls_certificate_get_peers(s, &n);
	if (!certs || !n || gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0 &&
	    gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0)
		snprintf(buf, size, "%.*s", (int)dn.size, dn.data);
	gnutls_free(dn.data);
	gnutls_x509_crt_deinit(crt);
}

/* What is wrong with the peer's certificate, from a verification status. */
static void describe_status(unsigned status, const char *cacert, char *buf, size_t size)
{
	gnutls_datum_t out __attribute__((cleanup(gnutls_datum_freep))) = { NULL, 0 };

	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
		snprintf(buf, size, "it is not signed by --tls-cacert %s", cacert);
	else if (status & GNUTLS_CERT_EXPIRED)
		snprintf(buf, size, "it has expired");
	else if (status & GNUTLS_CERT_NOT_ACTIVATED)
		snprintf(buf, size, "it is not valid yet (are both clocks right?)");
	else if (status & GNUTLS_CERT_SIGNER_NOT_CA)
		snprintf(buf, size, "its signer is not a CA");
	else if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
		snprintf(buf, size, "it is signed with an insecure algorithm");
	else if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) == 0)
		snprintf(buf, size, "%.*s", (int)out.size, out.data);
	else
		snprintf(buf, size, "verification status 0x%x", status);
}

static int refuse_peer(struct xport *x, unsigned status, const char *cacert, struct ckpt_err *err)
{
	char subject[256], why[512];

	peer_subject(x->tls, subject, sizeof(subject));
	describe_status(status, cacert, why, sizeof(why));
	return ckpt_fail(err, -EACCES, "refused the peer at %s: its certificate%s%s%s: %s",
			 x->peer, subject[0] ? " (" : "", subject, subject[0] ? ")" : "", why);
}

/* Report a failed handshake (r, a GnuTLS error) with what it means. */
static int handshake_failed(struct xport *x, int r, const struct xport_tls *tls, int timeout_ms,
			    struct ckpt_err *err)
{
	switch (r) {
	case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
		gnutls_alert_send_appropriate(x->tls, r);
		return refuse_peer(x, gnutls_session_get_verify_cert_status(x->tls), tls->cacert,
				   err);
	case GNUTLS_E_NO_CERTIFICATE_FOUND:
	case GNUTLS_E_CERTIFICATE_REQUIRED:
		gnutls_alert_send_appropriate(x->tls, r);
		return ckpt_fail(err, -EACCES, "refused the peer at %s: it sent no certificate "
				 "(it needs --tls-cert and --tls-key)", x->peer);
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		x->alert = gnutls_alert_get(x->tls);
		if (alert_is_refusal(x->alert))
			return ckpt_fail(err, -EACCES, "the peer at %s refused our certificate "
					 "(--tls-cert %s): TLS alert '%s' (is it signed by the CA "
					 "the peer trusts?)", x->peer, tls->cert,
					 gnutls_alert_get_name(x->alert));
		return ckpt_fail(err, -ECONNRESET, "TLS handshake with %s: the peer sent alert '%s'",
				 x->peer, gnutls_alert_get_name(x->alert));
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PUSH_ERROR:
		return ckpt_fail(err, -ECONNRESET, "TLS handshake with %s: the peer closed the "
				 "connection (does it use --insecure-plaintext, or refuse us?)",
				 x->peer);
	case GNUTLS_E_TIMEDOUT:
		return ckpt_fail(err, -ETIMEDOUT, "TLS handshake with %s: no answer within %d ms",
				 x->peer, timeout_ms);
	case GNUTLS_E_INTERRUPTED:
		return ckpt_fail(err, -EINTR, "TLS handshake with %s", x->peer);
	}
	gnutls_alert_send_appropriate(x->tls, r);
	return ckpt_fail(err, -EPROTO, "TLS handshake with %s failed: %s (does the peer use "
			 "--insecure-plaintext, or no TLS 1.3?)", x->peer, gnutls_strerror(r));
}

/* The handshake, with x->cred loaded. */
static int tls_start(struct xport *x, const struct xport_tls *tls, unsigned role, int timeout_ms,
		     struct ckpt_err *err)
{
	int r;

	if (gnutls_init(&x->tls, role | GNUTLS_NO_SIGNAL | GNUTLS_NO_TICKETS) < 0)
		return -ENOMEM;
	r = gnutls_priority_set_direct(x->tls, XPORT_PRIORITY, NULL);
	if (r < 0)
		return ckpt_fail(err, -EPROTONOSUPPORT, "GnuTLS refuses '%s': %s", XPORT_PRIORITY,
				 gnutls_strerror(r));
	gnutls_credentials_set(x->tls, GNUTLS_CRD_CERTIFICATE, x->cred);
	if (role == GNUTLS_SERVER) {
		gnutls_certificate_server_set_request(x->tls, GNUTLS_CERT_REQUIRE);
		/* no list of acceptable CAs: a client picks no certificate by it,
		 * so a wrong one comes to us and is refused for what it is */
		gnutls_certificate_send_x509_rdn_sequence(x->tls, 1);
	}
	/* no host name: any certificate our CA signed will do, both ways */
	gnutls_session_set_verify_cert(x->tls, NULL, 0);
	gnutls_transport_set_int(x->tls, x->fd);
	gnutls_handshake_set_timeout(x->tls, MAX(timeout_ms, 1));
	do
		r = gnutls_handshake(x->tls);
	while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_WARNING_ALERT_RECEIVED);
	if (r < 0)
		return handshake_failed(x, r, tls, timeout_ms, err);
	return 0;
}

/* The server side: the handshake, the client's certificate checked again
 * here (the handshake's own check is GnuTLS's to make; this one is ours),
 * then XPORT_ACK. */
static int tls_server(struct xport *x, const struct xport_tls *tls, struct ckpt_err *err)
{
	char subject[256];
	unsigned status = 0;
	int r;

	r = tls_start(x, tls, GNUTLS_SERVER, XPORT_DEAD_MS, err);
	if (r < 0)
		return r;
	r = gnutls_certificate_verify_peers2(x->tls, &status);
	if (r < 0 || status) {
		gnutls_alert_send(x->tls, GNUTLS_AL_FATAL, GNUTLS_A_BAD_CERTIFICATE);
		if (r < 0)
			return ckpt_fail(err, -EACCES, "refused the peer at %s: %s", x->peer,
					 gnutls_strerror(r));
		return refuse_peer(x, status, tls->cacert, err);
	}
	r = xport_send(x, &(char){ XPORT_ACK }, 1);
	if (r < 0)
		return ckpt_fail(err, r, "TLS with %s: %s", x->peer, x->errmsg);
	peer_subject(x->tls, subject, sizeof(subject));
	snprintf(x->peer + strlen(x->peer), sizeof(x->peer) - strlen(x->peer), " (%s)", subject);
	return 0;
}

/* The client side: the handshake (the server's certificate checked by
 * GnuTLS against the CA), then the server's XPORT_ACK. */
static int tls_client(struct xport *x, const struct xport_tls *tls, uint64_t deadline,
		      struct ckpt_err *err)
{
	int timeout_ms = deadline ? ms_left(deadline) : XPORT_DEAD_MS;
	char subject[256], ack = 0;
	int r;

	r = tls_start(x, tls, GNUTLS_CLIENT, timeout_ms, err);
	if (r < 0)
		return r;
	r = xport_recv(x, &ack, 1, deadline ? ms_left(deadline) : XPORT_DEAD_MS);
	if (r < 0 && alert_is_refusal(x->alert))
		return ckpt_fail(err, -EACCES, "the peer at %s refused our certificate (--tls-cert "
				 "%s): TLS alert '%s' (is it signed by the CA the peer trusts?)",
				 x->peer, tls->cert, gnutls_alert_get_name(x->alert));
	if (r < 0)
		return ckpt_fail(err, r, "TLS with %s: %s", x->peer, x->errmsg);
	if (ack != XPORT_ACK)
		return ckpt_fail(err, -EPROTO, "TLS with %s: the peer did not acknowledge our "
				 "certificate (is it a ckptctl receive?)", x->peer);
	peer_subject(x->tls, subject, sizeof(subject));
	snprintf(x->peer + strlen(x->peer), sizeof(x->peer) - strlen(x->peer), " (%s)", subject);
	return 0;
}

/* ---- listen, accept, connect --------------------------------------------- */

static struct xport *xport_new(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct xport *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->fd = fd;
	x->alert = -1;
	format_addr(sa, len, x->peer, sizeof(x->peer));
	return x;
}

int xport_listen(const char *where, int *ret_fd, unsigned *ret_port, struct ckpt_err *err)
{
	_cleanup_(freeaddrinfop) struct addrinfo *ai = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const int one = 1;
	int r;

	r = resolve(where, true, &ai, err);
	if (r < 0)
		return r;
	r = -EADDRNOTAVAIL;
	for (struct addrinfo *p = ai; p; p = p->ai_next) {
		fd = socket(p->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			r = negerrno();
			continue;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
		    bind(fd, p->ai_addr, p->ai_addrlen) == 0 && listen(fd, XPORT_BACKLOG) == 0)
			break;
		r = negerrno();
		closep(&fd);
		fd = -EBADF;
	}
	if (fd < 0)
		return ckpt_fail(err, r, "cannot listen on %s", where);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return ckpt_fail(err, negerrno(), "cannot listen on %s: getsockname", where);
	*ret_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
			  ((struct sockaddr_in *)&ss)->sin_port);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* Wait for a peer on lfd and take its connection (close-on-exec, blocking). */
static int accept_one(int lfd, int timeout_ms, struct xport **ret, struct ckpt_err *err)
{
	uint64_t deadline = deadline_after(timeout_ms);
	struct sockaddr_storage ss;
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	for (;;) {
		socklen_t len = sizeof(ss);
		struct xport *x;
		int fd, r;

		r = poll(&p, 1, ms_left(deadline));
		if (r == 0)
			return ckpt_fail(err, -ETIMEDOUT, "no peer connected within %d ms",
					 timeout_ms);
		if (r < 0)
			return ckpt_fail(err, negerrno(), "waiting for a peer");
		fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
		if (fd < 0 && (errno == EAGAIN || errno == ECONNABORTED))
			continue;
		if (fd < 0)
			return ckpt_fail(err, negerrno(), "accepting a peer");
		x = xport_new(fd, (struct sockaddr *)&ss, len);
		if (!x) {
			close(fd);
			return -ENOMEM;
		}
		*ret = x;
		return 0;
	}
}

int xport_accept(int lfd, const struct xport_tls *tls, int timeout_ms, struct xport **ret,
		 struct ckpt_err *err)
{
	_cleanup_(credp) gnutls_certificate_credentials_t cred = NULL;
	_cleanup_(xport_closep) struct xport *x = NULL;
	int r;

	/* a bad file is said before any peer is waited for */
	if (!tls->plaintext && (r = cred_load(tls, &cred, err)) < 0)
		return r;
	r = accept_one(lfd, timeout_ms, &x, err);
	if (r < 0)
		return r;
	x->cred = TAKE_PTR(cred);
	r = tcp_tune(x->fd);
	if (r < 0)
		return ckpt_fail(err, r, "peer %s: cannot set the socket's TCP options", x->peer);
	if (!tls->plaintext) {
		r = tls_server(x, tls, err);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(x);
	return 0;
}

/* One TCP connection to sa, within the deadline. */
static int connect_one(const struct addrinfo *ai, uint64_t deadline, int *ret_fd)
{
	_cleanup_close_ int fd = -EBADF;
	struct pollfd p;
	int r, soerr = 0;
	socklen_t len = sizeof(soerr);

	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return negerrno();
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS)
			return negerrno();
		p = (struct pollfd){ .fd = fd, .events = POLLOUT };
		r = poll(&p, 1, ms_left(deadline));
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0)
			return negerrno();
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			return negerrno();
		if (soerr)
			return -soerr;
	}
	r = set_blocking(fd, true);
	if (r < 0)
		return r;
	r = tcp_tune(fd);
	if (r < 0)
		return r;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int xport_connect(const char *where, const struct xport_tls *tls, int timeout_ms,
		  struct xport **ret, struct ckpt_err *err)
{
	_cleanup_(credp) gnutls_certificate_credentials_t cred = NULL;
	_cleanup_(freeaddrinfop) struct addrinfo *ai = NULL;
	_cleanup_(xport_closep) struct xport *x = NULL;
	uint64_t deadline = deadline_after(timeout_ms);
	const struct addrinfo *p;
	int r, fd = -EBADF;

	/* a bad file is said before anything goes out */
	if (!tls->plaintext && (r = cred_load(tls, &cred, err)) < 0)
		return r;
	r = resolve(where, false, &ai, err);
	if (r < 0)
		return r;
	for (p = ai, r = -EADDRNOTAVAIL; p; p = p->ai_next) {
		r = connect_one(p, deadline, &fd);
		if (r == 0 || r == -ETIMEDOUT || r == -EINTR)
			break;
	}
	if (r == -ETIMEDOUT)
		return ckpt_fail(err, r, "cannot connect to %s: no answer within %d ms", where,
				 timeout_ms);
	if (r < 0)
		return ckpt_fail(err, r, "cannot connect to %s", where);
	x = xport_new(fd, p->ai_addr, p->ai_addrlen);
	if (!x) {
		close(fd);
		return -ENOMEM;
	}
	x->cred = TAKE_PTR(cred);
	if (!tls->plaintext) {
		r = tls_client(x, tls, deadline, err);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(x);
	return 0;
}

/* ---- sending and receiving ----------------------------------------------- */

/* errno after a failed push or pull, as one of the "peer gone" codes. */
static int gone_errno(int fallback)
{
	switch (errno) {
	case ECONNRESET:
	case EPIPE:
	case ETIMEDOUT:
	case ECONNABORTED:
	case EHOSTUNREACH:
	case ENETUNREACH:
		return -errno;
	}
	return fallback;
}

static int tls_error(struct xport *x, int r, const char *what)
{
	int code;

	switch (r) {
	case GNUTLS_E_TIMEDOUT:
		set_errmsg(x, "%s %s: nothing came in time", what, x->peer);
		return -ETIMEDOUT;
	case GNUTLS_E_INTERRUPTED:
		set_errmsg(x, "%s %s: interrupted by a signal", what, x->peer);
		return -EINTR;
	case GNUTLS_E_PREMATURE_TERMINATION:
		set_errmsg(x, "%s %s: the peer closed the connection (without a TLS close_notify)",
			   what, x->peer);
		return -ECONNRESET;
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PUSH_ERROR:
		code = gone_errno(r == GNUTLS_E_PULL_ERROR ? -ECONNRESET : -EPIPE);
		set_errmsg(x, "%s %s: %s", what, x->peer, strerror(-code));
		return code;
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		x->alert = gnutls_alert_get(x->tls);
		set_errmsg(x, "%s %s: the peer sent TLS alert '%s'", what, x->peer,
			   gnutls_alert_get_name(x->alert));
		return -ECONNRESET;
	}
	set_errmsg(x, "%s %s: %s", what, x->peer, gnutls_strerror(r));
	return -EPROTO;
}

int xport_send(struct xport *x, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n;

		errno = 0;
		if (x->tls) {
			n = gnutls_record_send(x->tls, p, len);
			if (n == GNUTLS_E_AGAIN)
				continue;
			if (n < 0)
				return tls_error(x, n, "sending to");
		} else {
			n = send(x->fd, p, len, MSG_NOSIGNAL);
			if (n < 0 && errno == EAGAIN)
				continue;
			if (n < 0) {
				int r = negerrno();

				set_errmsg(x, "sending to %s: %s", x->peer, strerror(-r));
				return r;
			}
		}
		p += n;
		len -= n;
	}
	return 0;
}

/* Wait until something can be read; with TLS, a record GnuTLS holds
 * already decrypted counts. */
static int wait_readable(struct xport *x, int timeout_ms)
{
	struct pollfd p = { .fd = x->fd, .events = POLLIN };
	int r;

	if (x->tls && gnutls_record_check_pending(x->tls))
		return 0;
	r = poll(&p, 1, timeout_ms);
	if (r > 0)
		return 0;
	r = r == 0 ? -ETIMEDOUT : negerrno();
	set_errmsg(x, "receiving from %s: %s", x->peer,
		   r == -ETIMEDOUT ? "nothing came in time" : strerror(-r));
	return r;
}

/* One piece: > 0 bytes, or -errno. */
static ssize_t recv_some(struct xport *x, char *buf, size_t len, int timeout_ms)
{
	ssize_t n;

	errno = 0;
	if (x->tls) {
		/* a record that came only in part is waited for no longer either */
		gnutls_record_set_timeout(x->tls, timeout_ms < 0 ? 0 : MAX(timeout_ms, 1));
		n = gnutls_record_recv(x->tls, buf, len);
		if (n < 0 && n != GNUTLS_E_AGAIN)
			return tls_error(x, n, "receiving from");
	} else {
		n = recv(x->fd, buf, len, 0);
		if (n < 0 && errno != EAGAIN) {
			int r = negerrno();

			set_errmsg(x, "receiving from %s: %s", x->peer, strerror(-r));
			return r;
		}
	}
	if (n == 0) {
		set_errmsg(x, "receiving from %s: the peer closed the connection", x->peer);
		return -ECONNRESET;
	}
	return n < 0 ? 0 : n;
}

int xport_recv(struct xport *x, void *buf, size_t len, int timeout_ms)
{
	char *p = buf;

	while (len) {
		ssize_t n;
		int r;

		r = wait_readable(x, timeout_ms);
		if (r < 0)
			return r;
		n = recv_some(x, p, len, timeout_ms);
		if (n < 0)
			return n;
		p += n;
		len -= n;
	}
	return 0;
}

bool xport_pending(struct xport *x)
{
	return x->tls && gnutls_record_check_pending(x->tls) > 0;
}

int xport_fd(const struct xport *x)
{
	return x->fd;
}

const char *xport_peer(const struct xport *x)
{
	return x->peer;
}

const char *xport_errmsg(const struct xport *x)
{
	return x->errmsg;
}

void xport_close(struct xport *x)
{
	if (!x)
		return;
	if (x->tls) {
		/* close_notify if it goes out at once: a dead peer must not hold us */
		if (set_blocking(x->fd, false) == 0)
			gnutls_bye(x->tls, GNUTLS_SHUT_WR);
		gnutls_deinit(x->tls);
	}
	if (x->cred)
		gnutls_certificate_free_credentials(x->cred);
	if (x->fd >= 0)
		close(x->fd);
	free(x);
}
