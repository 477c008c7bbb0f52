/* Target: a log held open for appending, and a reader following it.
 *
 *	applog LOG
 *
 * Writes one line to LOG through an O_APPEND fd and reads it back through
 * a second, read-only fd, which stays at the end (its offset is the
 * length of that line). The harness dumps it --leave-running, appends to
 * LOG as another writer would (and puts the same bytes in LOG.grown), kills
 * it and restores it. After SIGUSR1 it appends a second line, and checks
 * that its writer still appends, that the reader picks up exactly what was
 * added (the grown bytes, then its own line) and that the file holds its
 * first line, the grown bytes and its second line, in that order.
 *
 * Notes "writer FD", "reader FD OFFSET" in $CKPT_STATUS.info. */
#include <fcntl.h>
#include <sys/stat.h>

#include "target.h"

static char *read_all(int fd, off_t off, size_t *ret_len)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	while (buf) {
		n = off >= 0 ? pread(fd, buf + len, cap - len, off + len)
			     : read(fd, buf + len, cap - len);
		if (n < 0)
			target_fail("read: %s", strerror(errno));
		if (n == 0)
			break;
		len += n;
		if (len == cap)
			buf = realloc(buf, cap *= 2);
	}
	if (!buf)
		target_fail("out of memory");
	*ret_len = len;
	return buf;
}

static void expect(const char *what, const char *got, size_t got_len, const char *want)
{
	if (got_len != strlen(want) || memcmp(got, want, got_len) != 0)
		target_fail("%s: %zu bytes '%.*s', expected %zu bytes '%s'", what, got_len,
			    (int)(got_len < 300 ? got_len : 300), got, strlen(want), want);
}

int main(int argc, char **argv)
{
	char line1[128], line2[128], grown_path[4200], want[8192];
	size_t len, glen;
	char *got, *grown;
	int w, r, g;
	off_t off;

	if (argc != 2)
		target_fail("usage: applog LOG");
	target_init();
	snprintf(line1, sizeof(line1), "applog %d: written before the dump\n", getpid());
	snprintf(line2, sizeof(line2), "applog %d: written after the restore\n", getpid());
	w = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (w < 0 || write(w, line1, strlen(line1)) != (ssize_t)strlen(line1))
		target_fail("cannot write %s: %s", argv[1], strerror(errno));
	r = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (r < 0)
		target_fail("cannot open %s: %s", argv[1], strerror(errno));
	got = read_all(r, -1, &len);
	expect("the first line", got, len, line1);
	free(got);
	off = lseek(r, 0, SEEK_CUR);
	target_note("writer %d", w);
	target_note("reader %d %lld", r, (long long)off);

	target_ready();
	target_wait();

	if (!(fcntl(w, F_GETFL) & O_APPEND))
		target_fail("the writer lost O_APPEND");
	if (lseek(r, 0, SEEK_CUR) != off)
		target_fail("the reader is at %lld, not %lld", (long long)lseek(r, 0, SEEK_CUR),
			    (long long)off);
	snprintf(grown_path, sizeof(grown_path), "%s.grown", argv[1]);
	g = open(grown_path, O_RDONLY | O_CLOEXEC);
	if (g < 0)
		target_fail("cannot open %s: %s", grown_path, strerror(errno));
	grown = read_all(g, 0, &glen);
	close(g);
	if (glen + strlen(line1) + strlen(line2) >= sizeof(want))
		target_fail("%s is too long", grown_path);

	if (write(w, line2, strlen(line2)) != (ssize_t)strlen(line2))
		target_fail("cannot append to %s: %s", argv[1], strerror(errno));
	snprintf(want, sizeof(want), "%.*s%s", (int)glen, grown, line2);
	got = read_all(r, -1, &len);
	expect("what the reader found", got, len, want);
	free(got);
	snprintf(want, sizeof(want), "%s%.*s%s", line1, (int)glen, grown, line2);
	g = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (g < 0)
		target_fail("cannot open %s again: %s", argv[1], strerror(errno));
	got = read_all(g, 0, &len);
	expect("the log", got, len, want);
	free(got);
	free(grown);
	target_pass();
}
