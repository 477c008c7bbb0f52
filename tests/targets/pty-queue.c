/* Bytes queued in pty pairs, both ways: three pairs, each with output the
 * slave wrote that the master did not read (with a NUL, \r, \n, 0x03 and
 * bytes > 0x7f, turned by ONLCR on the way), and input written on the
 * master that the slave did not read:
 *   canon:   canonical mode, echo on: complete lines (one edited with
 *            VERASE, one with \r mapped by ICRNL, one with bytes quoted
 *            by VLNEXT, one ended by VEOF, an empty one ended by VEOF) and
 *            an unfinished line (with a quoted \n and ^R in it);
 *   raw:     non-canonical, ICRNL and INLCR, VMIN 5: bytes, mapped;
 *   noslave: canonical, its slave closed (held by no task) once written;
 *   packet:  canonical, its master in packet mode (each read() of it
 *            begins with TIOCPKT_DATA);
 *   big:     canonical, 8000 bytes of output and 3000 of input in lines.
 * After SIGUSR1 each pair must read exactly that, its termios unchanged:
 * the master its output once (no echo of a write-back), the slave its
 * lines one read() each, then the unfinished line with ICANON cleared.
 * Usage: pty-queue */
#include "target.h"

#include <poll.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <termios.h>

#define S(x) x, sizeof(x) - 1

static const char OUT[] = "out\0put\r\n\x03 \xff\x80\xe9 end\n";

#define BIG_OUT		8000
#define BIG_LINES	60
#define BIG_LINE	50	/* with its \n */
static char big_out[BIG_OUT], big_in[BIG_LINES * BIG_LINE + BIG_LINE];

struct pair {
	const char *name;
	int m, s;
	struct termios tio;
};

static void open_pair(struct pair *p, const char *name)
{
	p->name = name;
	p->m = posix_openpt(O_RDWR | O_NOCTTY);
	if (p->m < 0 || grantpt(p->m) < 0 || unlockpt(p->m) < 0)
		target_fail("%s: posix_openpt: %m", name);
	p->s = open(ptsname(p->m), O_RDWR | O_NOCTTY);
	if (p->s < 0)
		target_fail("%s: open %s: %m", name, ptsname(p->m));
}

static void put(int fd, const char *what, const void *b, size_t n)
{
	if (write(fd, b, n) != (ssize_t)n)
		target_fail("write %s: %m", what);
}

/* Read everything fd gives within quiet_ms of silence (fd non-blocking). */
static size_t drain(int fd, char *buf, size_t cap, int quiet_ms)
{
	size_t got = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, quiet_ms) <= 0 || !(p.revents & POLLIN))
			return got;
		n = read(fd, buf + got, cap - got);
		if (n <= 0)
			return got;
		got += n;
		if (got == cap)
			return got;
	}
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* The echo of what was typed: read now, so that only OUT stays queued. */
static void setup_out(struct pair *p, const char *in, size_t n, const char *out, size_t nout)
{
	char junk[16384];

	if (tcgetattr(p->s, &p->tio) < 0)
		target_fail("%s: tcgetattr: %m", p->name);
	put(p->m, p->name, in, n);
	nonblock(p->m);
	drain(p->m, junk, sizeof(junk), 200);
	put(p->s, p->name, out, nout);
}

static void setup(struct pair *p, const char *in, size_t n)
{
	setup_out(p, in, n, OUT, sizeof(OUT) - 1);
}

static void dump_hex(char *dst, size_t cap, const char *b, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 4 < cap; i++)
		o += snprintf(dst + o, cap - o, "%02x", (unsigned char)b[i]);
}

static void same(const struct pair *p, const char *what, const char *got, size_t ng,
		 const char *want, size_t nw)
{
	char hg[256] = "", hw[256] = "";

	if (ng == nw && memcmp(got, want, nw) == 0)
		return;
	dump_hex(hg, sizeof(hg), got, ng);
	dump_hex(hw, sizeof(hw), want, nw);
	target_fail("%s: %s: read %zu bytes %s, want %zu bytes %s", p->name, what, ng, hg, nw, hw);
}

static void check_tio(const struct pair *p, int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t) < 0)
		target_fail("%s: tcgetattr: %m", p->name);
	if (t.c_iflag != p->tio.c_iflag || t.c_oflag != p->tio.c_oflag ||
	    t.c_cflag != p->tio.c_cflag || t.c_lflag != p->tio.c_lflag ||
	    memcmp(t.c_cc, p->tio.c_cc, sizeof(t.c_cc)) != 0)
		target_fail("%s: termios changed: iflag %#x oflag %#x lflag %#x, were %#x %#x %#x",
			    p->name, t.c_iflag, t.c_oflag, t.c_lflag, p->tio.c_iflag,
			    p->tio.c_oflag, p->tio.c_lflag);
}

/* In packet mode: each read()'s leading TIOCPKT_DATA taken out. */
static size_t drain_packets(const struct pair *p, char *buf, size_t cap)
{
	char chunk[4096];
	size_t got = 0;

	for (;;) {
		struct pollfd pf = { .fd = p->m, .events = POLLIN };
		ssize_t n;

		if (poll(&pf, 1, 150) <= 0 || !(pf.revents & POLLIN))
			return got;
		n = read(p->m, chunk, sizeof(chunk));
		if (n <= 0)
			return got;
		if (chunk[0] != TIOCPKT_DATA)
			target_fail("%s: a packet with status %#x", p->name, chunk[0]);
		if (got + n - 1 > cap)
			return got;
		memcpy(buf + got, chunk + 1, n - 1);
		got += n - 1;
	}
}

/* The master reads OUT as ONLCR made it, and nothing more. */
static void check_master_out(const struct pair *p, bool packet, const char *out, size_t n)
{
	static char want[2 * BIG_OUT], got[2 * BIG_OUT + 4096];
	size_t nw = 0, ng;

	for (size_t i = 0; i < n; i++) {
		if (out[i] == '\n')
			want[nw++] = '\r';
		want[nw++] = out[i];
	}
	nonblock(p->m);
	ng = packet ? drain_packets(p, got, sizeof(got)) : drain(p->m, got, sizeof(got), 150);
	same(p, "master", got, ng, want, nw);
}

static void check_master(const struct pair *p, bool packet)
{
	check_master_out(p, packet, OUT, sizeof(OUT) - 1);
}

/* One read() must return exactly this line. */
static void check_line(const struct pair *p, int s, const char *want, size_t n)
{
	struct pollfd pf = { .fd = s, .events = POLLIN };
	char got[4096];
	ssize_t r;

	if (poll(&pf, 1, 1000) <= 0)
		target_fail("%s: no line to read where %zu bytes were expected", p->name, n);
	r = read(s, got, sizeof(got));
	if (r < 0)
		target_fail("%s: read: %m", p->name);
	same(p, "line", got, r, want, n);
}

/* What is left with ICANON cleared, then the termios back. */
static void check_rest(const struct pair *p, int s, const char *want, size_t n)
{
	struct termios t = p->tio;
	char got[4096];
	size_t ng;

	t.c_lflag &= ~ICANON;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(s, TCSANOW, &t) < 0)
		target_fail("%s: tcsetattr: %m", p->name);
	ng = drain(s, got, sizeof(got), 150);
	same(p, "unfinished line", got, ng, want, n);
	tcsetattr(s, TCSANOW, &p->tio);
}

static void check_canon(const struct pair *p, int s)
{
	check_line(p, s, S("first line\n"));
	check_line(p, s, S("abd\n"));
	check_line(p, s, S("second\n"));
	check_line(p, s, S("lit\x7f\x04x\n"));
	check_line(p, s, S("eofline"));
	check_line(p, s, "", 0);
	check_rest(p, s, S("part \xff\x80 \n\x12tail"));
}

static const char CANON_IN[] = "first line\nabc\x7f" "d\nsecond\rlit\x16\x7f\x16\x04x\n"
			       "eofline\x04\x04part \xff\x80 \x16\n\x16\x12tail";
static const char RAW_IN[] = "raw\x03\x00\r\n\xff\x7f\x04\x16z";
static const char RAW_WANT[] = "raw\x03\x00\n\r\xff\x7f\x04\x16z";
static const char HIDDEN_IN[] = "hidden line\nhalf a line";

int main(void)
{
	struct pair canon, raw, noslave, packet, big;
	struct termios t;
	char path[64];
	int s, one = 1, v = 0;

	target_init();
	open_pair(&canon, "canon");
	setup(&canon, S(CANON_IN));

	open_pair(&raw, "raw");
	if (tcgetattr(raw.s, &t) < 0)
		target_fail("raw: tcgetattr: %m");
	t.c_lflag &= ~(ICANON | ECHO | ISIG | IEXTEN);
	t.c_iflag |= ICRNL | INLCR;
	t.c_cc[VMIN] = 5;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(raw.s, TCSANOW, &t) < 0)
		target_fail("raw: tcsetattr: %m");
	setup(&raw, S(RAW_IN));

	open_pair(&noslave, "noslave");
	setup(&noslave, S(HIDDEN_IN));
	close(noslave.s);

	open_pair(&packet, "packet");
	if (ioctl(packet.m, TIOCPKT, &one) < 0)
		target_fail("packet: TIOCPKT: %m");
	setup(&packet, S(CANON_IN));

	open_pair(&big, "big");
	for (size_t i = 0; i < BIG_OUT; i++)
		big_out[i] = (char)(i * 7 + i / 251);
	for (size_t i = 0; i < sizeof(big_in); i++)
		big_in[i] = i % BIG_LINE == BIG_LINE - 1 ? '\n' : 'a' + i % 26;
	setup_out(&big, big_in, sizeof(big_in) - 1, big_out, BIG_OUT);

	target_ready();
	target_wait();

	check_master(&canon, false);
	check_tio(&canon, canon.s);
	nonblock(canon.s);
	check_canon(&canon, canon.s);

	check_master(&raw, false);
	check_tio(&raw, raw.s);
	{
		char got[256];
		size_t ng;

		nonblock(raw.s);
		ng = drain(raw.s, got, sizeof(got), 150);
		same(&raw, "input", got, ng, RAW_WANT, sizeof(RAW_WANT) - 1);
	}

	check_master(&noslave, false);
	check_tio(&noslave, noslave.m);
	snprintf(path, sizeof(path), "%s", ptsname(noslave.m));
	s = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (s < 0)
		target_fail("noslave: open %s: %m", path);
	check_line(&noslave, s, S("hidden line\n"));
	check_rest(&noslave, s, S("half a line"));

	if (ioctl(packet.m, TIOCGPKT, &v) < 0 || !v)
		target_fail("packet: not in packet mode (%d): %m", v);
	check_master(&packet, true);
	check_tio(&packet, packet.s);
	nonblock(packet.s);
	check_canon(&packet, packet.s);

	check_master_out(&big, false, big_out, BIG_OUT);
	check_tio(&big, big.s);
	nonblock(big.s);
	for (unsigned i = 0; i < BIG_LINES; i++)
		check_line(&big, big.s, big_in + i * BIG_LINE, BIG_LINE);
	check_rest(&big, big.s, big_in + BIG_LINES * BIG_LINE, BIG_LINE - 1);
	target_pass();
}
