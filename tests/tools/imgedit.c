/* Rewrite one field of an image set through libckptimg, so restore tests
 * can feed it images from "another machine":
 *
 *	imgedit DIR xfeatures VALUE	inventory.img's xfeatures (XCR0 bits)
 *	imgedit DIR format VALUE	inventory.img's format_version
 *	imgedit DIR vdso PID DELTA	grow mm-PID.img's [vdso] VMA by DELTA bytes
 *					(negative shrinks it)
 *
 * The file is rewritten whole (new checksums and end marker). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/img.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"

static void die(const char *what, const char *why)
{
	fprintf(stderr, "imgedit: %s: %s\n", what, why);
	exit(1);
}

typedef void (*edit_fn)(ProtobufCMessage *m, unsigned idx, void *arg);

/* Read every record of (kind, id), edit each, write them back. */
static void rewrite(int dirfd, enum img_kind kind, unsigned id, edit_fn fn, void *arg)
{
	ProtobufCMessage *msgs[70000];
	struct img *in = NULL, *out = NULL;
	char name[64], tmp[64];
	unsigned n = 0;
	int tfd;

	img_filename(kind, id, name, sizeof(name));
	if (img_open(dirfd, kind, id, &in) < 0)
		die(name, in ? img_errmsg(in) : strerror(errno));
	for (;;) {
		ProtobufCMessage *m;

		if (img_read_next(in, &m) < 0)
			die(name, img_errmsg(in));
		if (!m)
			break;
		if (n == sizeof(msgs) / sizeof(msgs[0]))
			die(name, "too many records");
		msgs[n++] = m;
	}
	img_close(in);
	for (unsigned i = 0; i < n; i++)
		fn(msgs[i], i, arg);

	snprintf(tmp, sizeof(tmp), ".imgedit-%d", getpid());
	if (mkdirat(dirfd, tmp, 0700) < 0)
		die(tmp, strerror(errno));
	tfd = openat(dirfd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0 || img_create(tfd, kind, id, &out) < 0)
		die(name, "cannot create the new file");
	for (unsigned i = 0; i < n; i++)
		if (img_write_msg(out, msgs[i]) < 0)
			die(name, img_errmsg(out));
	if (img_close(out) < 0)
		die(name, "write failed");
	if (renameat(tfd, name, dirfd, name) < 0)
		die(name, strerror(errno));
	close(tfd);
	unlinkat(dirfd, tmp, AT_REMOVEDIR);
	for (unsigned i = 0; i < n; i++)
		protobuf_c_message_free_unpacked(msgs[i], NULL);
}

struct inv_edit {
	const char *field;
	unsigned long long value;
};

static void edit_inventory(ProtobufCMessage *m, unsigned idx, void *arg)
{
	struct inv_edit *e = arg;
	InventoryEntry *inv = (InventoryEntry *)m;

	if (strcmp(e->field, "xfeatures") == 0)
		inv->xfeatures = e->value;
	else
		inv->format_version = e->value;
}

static void edit_vdso(ProtobufCMessage *m, unsigned idx, void *arg)
{
	long long delta = *(long long *)arg;
	VmaEntry *v;

	if (idx == 0)
		return;
	v = (VmaEntry *)m;
	if (v->kind == VMA_KIND__VMA_VDSO)
		v->end += delta;
}

int main(int argc, char **argv)
{
	int dirfd;

	if (argc < 4) {
		fprintf(stderr, "usage: imgedit DIR xfeatures|format VALUE | DIR vdso PID DELTA\n");
		return 2;
	}
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		die(argv[1], strerror(errno));
	if (strcmp(argv[2], "xfeatures") == 0 || strcmp(argv[2], "format") == 0) {
		struct inv_edit e = { argv[2], strtoull(argv[3], NULL, 0) };

		rewrite(dirfd, IMG_INVENTORY, 0, edit_inventory, &e);
	} else if (strcmp(argv[2], "vdso") == 0 && argc == 5) {
		long long delta = strtoll(argv[4], NULL, 0);

		rewrite(dirfd, IMG_MM, strtoul(argv[3], NULL, 0), edit_vdso, &delta);
	} else {
		die(argv[2], "unknown edit");
	}
	return 0;
}
