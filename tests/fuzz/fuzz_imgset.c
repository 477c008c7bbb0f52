/* A whole image set, through the two readers that take a set: `ckptctl
 * show DIR` (every file, the page reader, the block checksums) and the
 * daemon's restore validation (restore_validate: every image read and
 * every field checked, nothing created).
 *
 * Input: a sequence of files, each
 *	u8 kind (modulo the number of kinds), le32 id, le32 length, bytes
 * (the last file takes what is left when its length runs past the end).
 * tests/fuzz/mkseed packs a real set in this form. The validation runs
 * as for a root requester, never touching a process. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "client/commands.h"
#include "common/err.h"
#include "daemon/kerndat.h"
#include "daemon/restore.h"
#include "images/img.h"
#include "tests/fuzz/fuzz.h"

#define MAX_FILES 64

static void put_files(struct fuzz_in *in)
{
	for (unsigned n = 0; in->left && n < MAX_FILES; n++) {
		enum img_kind kind = fuzz_u8(in) % IMG__MAX;
		unsigned id = fuzz_u32(in);
		size_t want = fuzz_u32(in), len;
		const uint8_t *p;
		char name[64];

		len = fuzz_take(in, want, &p);
		if (img_filename(kind, id, name, sizeof(name)) < 0)
			abort();
		fuzz_write(name, p, len);
	}
}

/* This machine as probed (its vdso layout is checked against the image's),
 * but offering every xsave feature an image may need and clone3's set_tid:
 * the widest path through the checks. Probed once per process. */
static const struct kerndat *machine(void)
{
	static struct kerndat kd;
	static bool probed;

	if (!probed) {
		kerndat_probe(&kd);
		kd.page_size = sysconf(_SC_PAGESIZE);
		kd.clone3_set_tid = true;
		kd.xfeatures = ~0ull;
		kd.xsave_size = 0;	/* no limit */
		probed = true;
	}
	return &kd;
}

static void validate(void)
{
	struct restore_opts opts = { .requester = getpid() };
	struct ckpt_err err = { 0 };
	int r;

	r = restore_validate(&opts, machine(), fuzz_dirfd(), &err);
	/* how far a seed gets: FUZZ_VERBOSE=1 build/fuzz-gcc/fuzz_imgset SEED */
	if (getenv("FUZZ_VERBOSE"))
		dprintf(2, "restore_validate: %s\n", r < 0 ? ckpt_err_msg(&err, r) : "valid");
	if (r > 0 || (r < 0 && !ckpt_err_msg(&err, r)[0]))
		abort();	/* not 0 or -errno, or a refusal without a message */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };

	fuzz_quiet();
	fuzz_dir_clear();
	put_files(&in);
	cmd_show(2, (char *[]){ "show", (char *)fuzz_dir(), NULL });
	validate();
	return 0;
}
