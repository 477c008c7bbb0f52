/* libckptimg: the only code that reads or writes image files.
 *
 * Every image file starts with a 16-byte header:
 *	le32 set magic "CKPT", le32 kind magic, le32 format version, le32 flags.
 * Record files (all kinds but pages) then hold records:
 *	le32 length, le32 XXH32(payload), payload (one packed protobuf message),
 * and end with an end marker: le32 0xffffffff, le32 number of records.
 * A file without its end marker is truncated; bytes after it are refused.
 * Pages files hold raw page data from offset IMG_PAGES_DATA_OFF on; their
 * checksums live in the pagemap entries that describe them.
 *
 * Functions return 0 or -errno. Nothing here prints: a failure on a file
 * leaves a message in the img naming the file and the offset (img_errmsg).
 * Messages say where and what, never strerror(-r): the reporter appends
 * that (ckpt_fail does). The format is described in
 * Documentation/image-format.md. */
#ifndef CKPT_IMG_H
#define CKPT_IMG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <protobuf-c/protobuf-c.h>

#define IMG_SET_MAGIC		0x54504b43u	/* "CKPT" */
#define IMG_FORMAT_VERSION	2u
#define IMG_HDR_SIZE		16u
#define IMG_EOF_MARK		0xffffffffu
#define IMG_MAX_RECORD		(64u << 20)
#define IMG_PAGES_DATA_OFF	4096u

enum img_kind {
	IMG_INVENTORY,
	IMG_PSTREE,
	IMG_CORE,
	IMG_MM,
	IMG_PAGEMAP,
	IMG_PAGES,
	IMG_FILES,
	IMG_FS,
	IMG_GHOST,
	IMG_HASHES,
	IMG__MAX,
};

/* One line of the image-kind table (images/desc.c). */
struct img_desc {
	enum img_kind kind;
	const char *name;	/* "core" */
	const char *fmt;	/* "core-%u.img", or "inventory.img" */
	bool per_id;		/* fmt takes an id (pid, pages id, ghost id) */
	uint32_t magic;
	/* the first record's type, and every later record's type (NULL: raw) */
	const ProtobufCMessageDescriptor *head;
	const ProtobufCMessageDescriptor *entry;
};

const struct img_desc *img_desc_get(enum img_kind kind);
/* The kind whose magic this is, or NULL. */
const struct img_desc *img_desc_by_magic(uint32_t magic);
/* File name of (kind, id) into buf. */
int img_filename(enum img_kind kind, unsigned id, char *buf, size_t len);
/* The kind and id a file name stands for ("core-12.img" -> IMG_CORE, 12);
 * -EINVAL if it names no image file. */
int img_parse_name(const char *name, enum img_kind *ret_kind, unsigned *ret_id);

struct img;

/* Create (O_EXCL) the file of (kind, id) in dirfd and write its header. */
int img_create(int dirfd, enum img_kind kind, unsigned id, struct img **ret);
/* Open the file of (kind, id) and check its header. On failure *ret still
 * holds an img carrying the message (or NULL if memory ran out; img_errmsg
 * and img_abort accept NULL), so a caller does:
 *	r = img_open(dirfd, IMG_CORE, pid, &img);
 *	if (r < 0) {
 *		ckpt_fail(err, r, "%s", img_errmsg(img));
 *		img_abort(img);
 *		return r;
 *	}
 * -ENOENT: no such file; -EPROTO: not a ckpt image or another kind;
 * -EPROTONOSUPPORT: a newer format; -ENODATA: truncated header. */
int img_open(int dirfd, enum img_kind kind, unsigned id, struct img **ret);
/* Open name in dirfd read-only if it is a regular file, never following a
 * symlink and never blocking on a FIFO (-ELOOP, -EINVAL otherwise); what
 * was wrong into *ret_why ("is a FIFO, not an image file"). For a caller
 * that reads an image file raw (pages-N.img). */
int img_open_regular(int dirfd, const char *name, int *ret_fd, const char **ret_why);
/* Open a file by name and learn its kind from its magic (ckptctl show).
 * On failure errbuf (if given) gets a message naming file and offset and
 * *ret is untouched. */
int img_open_any(int dirfd, const char *name, struct img **ret,
		 char *errbuf, size_t errlen);

/* Append one message. */
int img_write_msg(struct img *img, const ProtobufCMessage *msg);
/* Read the next message of type desc into *ret (free with
 * protobuf_c_message_free_unpacked(m, NULL)). At the end marker returns 0
 * with *ret == NULL (and checks its count and that nothing follows).
 * -EBADMSG: corrupt (checksum, length over IMG_MAX_RECORD, not a valid
 * message, wrong end marker, data after it); -ENODATA: truncated. After a
 * failure every later read returns -EINVAL. */
int img_read_msg(struct img *img, const ProtobufCMessageDescriptor *desc,
		 ProtobufCMessage **ret);
/* Like img_read_msg with the kind's head type for the first record and its
 * entry type for the rest. */
int img_read_next(struct img *img, ProtobufCMessage **ret);

/* Writers: write the end marker, flush and close the fd, without freeing
 * img, so that img_errmsg can say what failed (a full disk shows here).
 * Readers: nothing. Returns the writer's first failure, if any. */
int img_finish(struct img *img);
/* img_finish, then free img. Always frees img; NULL is fine. */
int img_close(struct img *img);
/* Close without the end marker, e.g. on a failed dump. Frees img. */
void img_abort(struct img *img);

/* Raw access for pages files (the only kind without records): data starts
 * at IMG_PAGES_DATA_OFF; img_create writes the header and the zero padding
 * up to there. img_write_raw refuses record kinds; it gathers pieces of up
 * to 16 KiB in the writer's buffer (img_offset counts them), so write to
 * the fd of a writer only through it. */
int img_fd(const struct img *img);
int img_write_raw(struct img *img, const void *buf, size_t len);

const char *img_name(const struct img *img);
const struct img_desc *img_get_desc(const struct img *img);
off_t img_offset(const struct img *img);
unsigned img_nr_records(const struct img *img);
/* "core-12.img at offset 4096: record checksum mismatch" after a failure,
 * "no error" before one. */
const char *img_errmsg(const struct img *img);
/* Whether img holds a failure's message (NULL: true, out of memory). */
bool img_failed(const struct img *img);

#endif
