/* Image file framing: header, checksummed length-prefixed records, end
 * marker. Writes are buffered; reads are buffered and bound every length
 * before allocating, so a hostile file costs at most IMG_MAX_RECORD. */
#include "img.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "common/util.h"

#define IMG_BUF_SIZE (64u << 10)

struct img {
	int fd;
	const struct img_desc *desc;
	bool writing;
	bool failed;
	int code;		/* the first failure's -errno */
	bool at_end;		/* reader saw the end marker */
	bool finished;		/* writer: end marker written, fd closed */
	char name[256];
	off_t off;		/* file offset of buf[0] (reader) / of next byte (writer) */
	off_t size;		/* reader: the file's size when opened, -1 if unknown */
	unsigned nr_records;
	uint8_t *buf;
	size_t buf_cap;
	size_t buf_len;		/* bytes valid in buf */
	size_t buf_pos;		/* reader: next byte to consume */
	char err[256];
};

static int img_fail(struct img *img, off_t off, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int img_fail(struct img *img, off_t off, int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	img->failed = true;
	if (img->err[0])
		return code;
	img->code = code;
	n = snprintf(img->err, sizeof(img->err), "%s at offset %lld: ", img->name,
		     (long long)off);
	va_start(ap, fmt);
	vsnprintf(img->err + n, sizeof(img->err) - n, fmt, ap);
	va_end(ap);
	return code;
}

static struct img *img_new(int fd, const char *name, const struct img_desc *d, bool writing)
{
	struct img *img = calloc(1, sizeof(*img));

	if (!img)
		return NULL;
	img->buf = malloc(IMG_BUF_SIZE);
	if (!img->buf) {
		free(img);
		return NULL;
	}
	img->buf_cap = IMG_BUF_SIZE;
	img->size = -1;
	img->fd = fd;
	img->desc = d;
	img->writing = writing;
	snprintf(img->name, sizeof(img->name), "%s", name);
	return img;
}

static void img_free(struct img *img)
{
	if (img->fd >= 0)
		close(img->fd);
	free(img->buf);
	free(img);
}

/* ---- writer ---- */

static int img_flush(struct img *img)
{
	int r;

	if (!img->buf_len)
		return 0;
	r = write_full(img->fd, img->buf, img->buf_len);
	if (r < 0)
		return img_fail(img, img->off, r, "write of %zu bytes failed", img->buf_len);
	img->off += img->buf_len;
	img->buf_len = 0;
	return 0;
}

static int img_put(struct img *img, const void *p, size_t len)
{
	const uint8_t *s = p;
	int r;

	while (len) {
		size_t n = MIN(len, IMG_BUF_SIZE - img->buf_len);

		memcpy(img->buf + img->buf_len, s, n);
		img->buf_len += n;
		s += n;
		len -= n;
		if (img->buf_len == IMG_BUF_SIZE) {
			r = img_flush(img);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int img_create(int dirfd, enum img_kind kind, unsigned id, struct img **ret)
{
	const struct img_desc *d = img_desc_get(kind);
	uint32_t hdr[4];
	char name[64];
	struct img *img;
	int fd, r;

	if (!d)
		return -EINVAL;
	r = img_filename(kind, id, name, sizeof(name));
	if (r < 0)
		return r;
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return negerrno();
	img = img_new(fd, name, d, true);
	if (!img) {
		close(fd);
		return -ENOMEM;
	}
	hdr[0] = htole32(IMG_SET_MAGIC);
	hdr[1] = htole32(d->magic);
	hdr[2] = htole32(IMG_FORMAT_VERSION);
	hdr[3] = 0;
	r = img_put(img, hdr, sizeof(hdr));
	if (r == 0 && kind == IMG_PAGES) {
		static const uint8_t zero[IMG_PAGES_DATA_OFF - IMG_HDR_SIZE];
		r = img_put(img, zero, sizeof(zero));
	}
	if (r < 0) {
		img_free(img);
		return r;
	}
	*ret = img;
	return 0;
}

int img_write_msg(struct img *img, const ProtobufCMessage *msg)
{
	uint8_t stackbuf[4096];
	uint8_t *p = stackbuf;
	uint32_t rec[2];
	size_t len;
	int r;

	if (!img->writing || img->failed || img->finished || !img->desc->head)
		return -EINVAL;
	if (!protobuf_c_message_check(msg))
		return img_fail(img, img_offset(img), -EINVAL,
				"record %u: %s message lacks a required field", img->nr_records,
				msg->descriptor->name);
	len = protobuf_c_message_get_packed_size(msg);
	if (len > IMG_MAX_RECORD)
		return img_fail(img, img_offset(img), -E2BIG,
				"record of %zu bytes exceeds the limit of %u", len, IMG_MAX_RECORD);
	if (len > sizeof(stackbuf)) {
		p = malloc(len);
		if (!p)
			return -ENOMEM;
	}
	protobuf_c_message_pack(msg, p);
	rec[0] = htole32((uint32_t)len);
	rec[1] = htole32(XXH32(p, len, 0));
	r = img_put(img, rec, sizeof(rec));
	if (r == 0)
		r = img_put(img, p, len);
	if (p != stackbuf)
		free(p);
	if (r == 0)
		img->nr_records++;
	return r;
}

int img_write_raw(struct img *img, const void *buf, size_t len)
{
	int r;

	if (!img->writing || img->failed || img->finished || img->desc->head)
		return -EINVAL;
	/* small pieces (an incremental dump's scattered single pages) are
	 * gathered in the buffer: one write per 64 KiB, not per page */
	if (len <= IMG_BUF_SIZE / 4)
		return img_put(img, buf, len);
	r = img_flush(img);
	if (r < 0)
		return r;
	r = write_full(img->fd, buf, len);
	if (r < 0)
		return img_fail(img, img->off, r, "write of %zu bytes failed", len);
	img->off += len;
	return 0;
}

int img_finish(struct img *img)
{
	int r = 0;

	if (!img->writing)
		return 0;
	if (img->finished || img->failed)
		return img->code;
	if (img->desc->head) {
		uint32_t eof[2] = { htole32(IMG_EOF_MARK), htole32(img->nr_records) };

		r = img_put(img, eof, sizeof(eof));
	}
	if (r == 0)
		r = img_flush(img);
	if (r == 0 && close(img->fd) < 0)
		r = img_fail(img, img->off, negerrno(), "close failed");
	img->fd = -1;
	img->finished = true;
	return r;
}

int img_close(struct img *img)
{
	int r;

	if (!img)
		return 0;
	r = img_finish(img);
	img_free(img);
	return r;
}

void img_abort(struct img *img)
{
	if (img)
		img_free(img);
}

/* ---- reader ---- */

/* Make len bytes available at buf[buf_pos]; -ENODATA at EOF before that. */
static int img_fill(struct img *img, size_t len)
{
	size_t have = img->buf_len - img->buf_pos;

	if (have >= len)
		return 0;
	if (img->buf_pos) {
		memmove(img->buf, img->buf + img->buf_pos, have);
		img->off += img->buf_pos;
		img->buf_pos = 0;
		img->buf_len = have;
	}
	while (img->buf_len < len) {
		ssize_t n = read(img->fd, img->buf + img->buf_len, img->buf_cap - img->buf_len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negerrno();
		}
		if (n == 0)
			return -ENODATA;
		img->buf_len += n;
	}
	return 0;
}

static off_t img_pos(const struct img *img)
{
	return img->off + img->buf_pos;
}

static int img_check_header(struct img *img, const struct img_desc *want)
{
	uint32_t hdr[4], magic, kind, version, flags;
	int r;

	r = img_fill(img, IMG_HDR_SIZE);
	if (r == -ENODATA)
		return img_fail(img, 0, -ENODATA,
				"truncated header: the file has %zu of its %u header bytes",
				img->buf_len, IMG_HDR_SIZE);
	if (r < 0)
		return img_fail(img, 0, r, "cannot read the header");
	memcpy(hdr, img->buf, sizeof(hdr));
	magic = le32toh(hdr[0]);
	kind = le32toh(hdr[1]);
	version = le32toh(hdr[2]);
	flags = le32toh(hdr[3]);
	if (magic != IMG_SET_MAGIC)
		return img_fail(img, 0, -EPROTO, "not a ckpt image (magic 0x%08x, want 0x%08x)",
				magic, IMG_SET_MAGIC);
	if (!want) {
		want = img_desc_by_magic(kind);
		if (!want)
			return img_fail(img, 4, -EPROTO, "unknown image kind magic 0x%08x", kind);
		img->desc = want;
	} else if (kind != want->magic) {
		const struct img_desc *is = img_desc_by_magic(kind);

		return img_fail(img, 4, -EPROTO, "kind magic 0x%08x (%s) is not a %s image (0x%08x)",
				kind, is ? is->name : "unknown", want->name, want->magic);
	}
	if (version > IMG_FORMAT_VERSION)
		return img_fail(img, 8, -EPROTONOSUPPORT,
				"format version %u is newer than this ckpt reads (%u)",
				version, IMG_FORMAT_VERSION);
	if (version == 0)
		return img_fail(img, 8, -EPROTO, "format version 0 is invalid");
	/* version 1 (ckpt 0.1's first images) checksummed page blocks with
	 * XXH64: no release ever wrote it, so it is refused, not converted */
	if (version < IMG_FORMAT_VERSION)
		return img_fail(img, 8, -EPROTONOSUPPORT,
				"format version %u is older than this ckpt reads (%u)",
				version, IMG_FORMAT_VERSION);
	if (flags)
		return img_fail(img, 12, -EPROTONOSUPPORT, "unknown header flags 0x%08x", flags);
	img->buf_pos = IMG_HDR_SIZE;
	return 0;
}

/* An image is a regular file named in the set's directory, nothing else: a
 * FIFO would block the open (and a whole daemon handler with it) until
 * someone writes to it, a device could do anything on read, and a symlink
 * could name a file of someone else's. O_NONBLOCK makes the open of a FIFO
 * return at once; O_NOFOLLOW refuses a symlink (ELOOP); the fstat refuses
 * the rest; then reads block as usual. */
int img_open_regular(int dirfd, const char *name, int *ret_fd, const char **ret_why)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	int flags;

	*ret_fd = -EBADF;
	*ret_why = "cannot open";
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0 && errno == ELOOP)
		*ret_why = "is a symbolic link, not an image file";
	if (fd < 0)
		return negerrno();
	if (fstat(fd, &st) < 0)
		return negerrno();
	if (!S_ISREG(st.st_mode)) {
		*ret_why = S_ISFIFO(st.st_mode) ? "is a FIFO, not an image file" :
			   "is not a regular file";
		return -EINVAL;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
		return negerrno();
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* Open name in dirfd and check its header. On failure *ret still gets an img
 * that holds the message (unless memory ran out); the caller aborts it. */
static int img_open_name(int dirfd, const char *name, const struct img_desc *d,
			 struct img **ret)
{
	const char *why;
	struct img *img;
	struct stat st;
	int fd, r;

	*ret = NULL;
	r = img_open_regular(dirfd, name, &fd, &why);
	img = img_new(fd, name, d, false);
	if (!img) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	*ret = img;
	if (r < 0) {
		img->failed = true;
		img->code = r;
		snprintf(img->err, sizeof(img->err), "%.200s: %s", img->name, why);
		return r;
	}
	img->size = fstat(fd, &st) == 0 ? st.st_size : -1;
	return img_check_header(img, d);
}

int img_open(int dirfd, enum img_kind kind, unsigned id, struct img **ret)
{
	const struct img_desc *d = img_desc_get(kind);
	char name[64];
	int r;

	*ret = NULL;
	if (!d)
		return -EINVAL;
	r = img_filename(kind, id, name, sizeof(name));
	if (r < 0)
		return r;
	return img_open_name(dirfd, name, d, ret);
}

int img_open_any(int dirfd, const char *name, struct img **ret, char *errbuf, size_t errlen)
{
	struct img *img = NULL;
	int r;

	r = img_open_name(dirfd, name, NULL, &img);
	if (r < 0) {
		if (errbuf)
			snprintf(errbuf, errlen, "%s", img ? img->err : "out of memory");
		img_abort(img);
		return r;
	}
	*ret = img;
	return 0;
}

/* After the end marker nothing may follow. */
static int img_read_end(struct img *img, off_t at, uint32_t count)
{
	int r;

	if (count != img->nr_records)
		return img_fail(img, at, -EBADMSG, "end marker counts %u records, the file has %u",
				count, img->nr_records);
	img->buf_pos += 2 * sizeof(uint32_t);
	r = img_fill(img, 1);
	if (r == 0)
		return img_fail(img, img_pos(img), -EBADMSG, "unexpected data after the end marker");
	if (r != -ENODATA)
		return img_fail(img, img_pos(img), r, "cannot read");
	img->at_end = true;
	return 0;
}

/* Make room for a whole record (bounded by IMG_MAX_RECORD). */
static int img_reserve(struct img *img, size_t len)
{
	size_t cap;
	uint8_t *nb;

	if (len <= img->buf_cap)
		return 0;
	cap = len + IMG_BUF_SIZE;
	nb = realloc(img->buf, cap);
	if (!nb)
		return -ENOMEM;
	img->buf = nb;
	img->buf_cap = cap;
	return 0;
}

int img_read_msg(struct img *img, const ProtobufCMessageDescriptor *desc,
		 ProtobufCMessage **ret)
{
	uint32_t rec[2], len, sum;
	off_t at = img_pos(img);
	ProtobufCMessage *m;
	int r;

	*ret = NULL;
	if (img->writing || img->failed || !img->desc->head)
		return -EINVAL;
	if (img->at_end)
		return 0;
	r = img_fill(img, sizeof(rec));
	if (r == -ENODATA)
		return img_fail(img, at, -ENODATA,
				"truncated: the file ends without its end marker after %u records",
				img->nr_records);
	if (r < 0)
		return img_fail(img, at, r, "cannot read");
	memcpy(rec, img->buf + img->buf_pos, sizeof(rec));
	len = le32toh(rec[0]);
	sum = le32toh(rec[1]);
	if (len == IMG_EOF_MARK)
		return img_read_end(img, at, sum);
	if (len > IMG_MAX_RECORD)
		return img_fail(img, at, -EBADMSG,
				"record %u: length %u exceeds the limit of %u bytes",
				img->nr_records, len, IMG_MAX_RECORD);
	/* A length past the end of the file costs no allocation. */
	if (img->size >= 0 && (off_t)(sizeof(rec) + len) > img->size - at)
		return img_fail(img, at, -ENODATA,
				"truncated: record %u of %u bytes runs past the end of the file",
				img->nr_records, len);
	r = img_reserve(img, sizeof(rec) + len);
	if (r < 0)
		return img_fail(img, at, r, "record %u of %u bytes", img->nr_records, len);
	r = img_fill(img, sizeof(rec) + len);
	if (r == -ENODATA)
		return img_fail(img, at, -ENODATA,
				"truncated: record %u of %u bytes runs past the end of the file",
				img->nr_records, len);
	if (r < 0)
		return img_fail(img, at, r, "cannot read");
	if (XXH32(img->buf + img->buf_pos + sizeof(rec), len, 0) != sum)
		return img_fail(img, at, -EBADMSG, "record checksum mismatch (record %u, %u bytes)",
				img->nr_records, len);
	m = protobuf_c_message_unpack(desc, NULL, len, img->buf + img->buf_pos + sizeof(rec));
	if (!m)
		return img_fail(img, at, -EBADMSG, "record %u is not a valid %s message",
				img->nr_records, desc->name);
	img->buf_pos += sizeof(rec) + len;
	img->nr_records++;
	*ret = m;
	return 0;
}

int img_read_next(struct img *img, ProtobufCMessage **ret)
{
	const ProtobufCMessageDescriptor *d;

	if (!img->desc->head)
		return -EINVAL;
	d = img->nr_records ? img->desc->entry : img->desc->head;
	return img_read_msg(img, d, ret);
}

int img_fd(const struct img *img)
{
	return img->fd;
}

const char *img_name(const struct img *img)
{
	return img->name;
}

const struct img_desc *img_get_desc(const struct img *img)
{
	return img->desc;
}

off_t img_offset(const struct img *img)
{
	return img->writing ? img->off + (off_t)img->buf_len : img_pos(img);
}

unsigned img_nr_records(const struct img *img)
{
	return img->nr_records;
}

const char *img_errmsg(const struct img *img)
{
	if (!img)
		return "out of memory";
	return img->err[0] ? img->err : "no error";
}

bool img_failed(const struct img *img)
{
	return !img || img->err[0];
}
