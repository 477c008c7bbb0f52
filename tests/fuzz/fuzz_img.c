/* One image file of any kind, through every reader that takes a file alone.
 *
 * Input: one byte choosing the file's name (its kind, and whether the
 * reader is told the kind or learns it from the magic), then the file's
 * bytes. The file is read
 *	- by img_open(kind) and img_read_next to the end marker: the framing,
 *	  the record checksums and the typed protobuf decoding restore uses;
 *	- by `ckptctl show FILE`: img_open_any, the JSON printer of every
 *	  record, and for a pagemap the page reader (which then finds no
 *	  pages file, or the one the scratch directory happens to hold: none).
 * Nothing may crash, leak or read out of bounds; every refusal must leave
 * a message naming the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "client/commands.h"
#include "images/img.h"
#include "tests/fuzz/fuzz.h"

/* The typed reader, as restore and the tools use it. */
static void read_typed(enum img_kind kind, unsigned id)
{
	struct img *img = NULL;
	ProtobufCMessage *m;
	int r;

	r = img_open(fuzz_dirfd(), kind, id, &img);
	while (r == 0 && img_get_desc(img)->head) {
		r = img_read_next(img, &m);
		if (r < 0 || !m)
			break;
		protobuf_c_message_free_unpacked(m, NULL);
	}
	if (r < 0 && img && !strstr(img_errmsg(img), img_name(img)))
		abort();	/* a refusal that does not name the file */
	img_abort(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	char name[64], path[4200];
	const uint8_t *file;
	enum img_kind kind;
	unsigned id;
	size_t len;
	uint8_t sel;

	fuzz_quiet();
	fuzz_dir_clear();
	sel = fuzz_u8(&in);
	kind = (sel & 0x0f) % IMG__MAX;
	id = 1;
	len = fuzz_take(&in, in.left, &file);
	if (img_filename(kind, id, name, sizeof(name)) < 0)
		abort();
	fuzz_write(name, file, len);

	read_typed(kind, id);
	snprintf(path, sizeof(path), "%s/%s", fuzz_dir(), name);
	cmd_show(sel & 0x10 ? 3 : 2, (char *[]){ "show", path, "--no-verify", NULL });
	return 0;
}
