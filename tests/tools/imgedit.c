/* Rewrite one field of an image set through libckptimg, so restore tests
 * can feed it images from "another machine":
 *
 *	imgedit DIR xfeatures VALUE	inventory.img's xfeatures (XCR0 bits)
 *	imgedit DIR format VALUE	inventory.img's format_version
 *	imgedit DIR start_time VALUE	inventory.img's root_start_time
 *	imgedit DIR boot_id TEXT	inventory.img's boot_id
 *	imgedit DIR vdso PID DELTA	grow mm-PID.img's [vdso] VMA by DELTA bytes
 *					(negative shrinks it)
 *	imgedit DIR xsave PID OFF VALUE	core-PID.img: the 64-bit word at byte OFF
 *					of every thread's xsave area (512: the
 *					header's XSTATE_BV)
 *
 * and to forge one as an attacker would (the security tests of issue 7):
 *
 *	imgedit DIR fs PID root|cwd PATH	fs-PID.img's fs_entry
 *	imgedit DIR core PID FIELD VALUE	core-PID.img's creds: uid, euid,
 *		suid, fsuid, gid, egid, sgid, fsgid, cap_inh, cap_prm, cap_eff,
 *		cap_bnd, cap_amb, securebits, no_new_privs, groups (a,b,c)
 *	imgedit DIR file FD PID PATH		files.img: the file.path of the
 *		description fd FD of pid PID holds
 *	imgedit DIR exe PID PATH		mm-PID.img's exe.path
 *	imgedit DIR vmafile PID OLD NEW		mm-PID.img: every VMA mapping OLD
 *		maps NEW
 *
 * The file is rewritten whole (new checksums and end marker), so only
 * restore's own checks stand in the way. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.pb-c.h"
#include "files.pb-c.h"
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
	/* the records are not freed: an edit may point a field at argv or a
	 * static array, and the tool exits next */
}

struct inv_edit {
	const char *field;
	unsigned long long value;
	char *text;
};

static void edit_inventory(ProtobufCMessage *m, unsigned idx, void *arg)
{
	struct inv_edit *e = arg;
	InventoryEntry *inv = (InventoryEntry *)m;

	if (strcmp(e->field, "xfeatures") == 0) {
		inv->xfeatures = e->value;
	} else if (strcmp(e->field, "start_time") == 0) {
		inv->has_root_start_time = true;
		inv->root_start_time = e->value;
	} else if (strcmp(e->field, "boot_id") == 0) {
		inv->boot_id = e->text;
	} else {
		inv->format_version = e->value;
	}
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

struct xsave_edit {
	size_t off;
	uint64_t value;
};

static void edit_xsave(ProtobufCMessage *m, unsigned idx, void *arg)
{
	struct xsave_edit *e = arg;
	ThreadCoreEntry *th;

	if (idx == 0)
		return;
	th = (ThreadCoreEntry *)m;
	if (e->off + sizeof(e->value) > th->xsave.len)
		die("xsave", "offset past the area");
	memcpy(th->xsave.data + e->off, &e->value, sizeof(e->value));
}

struct edit {
	const char *field;
	const char *value;
	unsigned id;
};

static void edit_fs(ProtobufCMessage *m, unsigned idx, void *arg)
{
	struct edit *e = arg;
	FsEntry *fs = (FsEntry *)m;

	if (idx != 0)
		return;
	if (strcmp(e->field, "root") == 0)
		fs->root = (char *)e->value;
	else if (strcmp(e->field, "cwd") == 0)
		fs->cwd = (char *)e->value;
	else
		die(e->field, "unknown fs field");
}

static void edit_creds(ProtobufCMessage *m, unsigned idx, void *arg)
{
	struct edit *e = arg;
	CredsEntry *c;
	unsigned long long v = strtoull(e->value, NULL, 0);
	static uint32_t groups[64];

	if (idx != 0)
		return;
	c = ((TaskCoreEntry *)m)->creds;
#define F(name) else if (strcmp(e->field, #name) == 0) c->name = v
	if (0)
		;
	F(uid); F(euid); F(suid); F(fsuid); F(gid); F(egid); F(sgid); F(fsgid);
	F(cap_inh); F(cap_prm); F(cap_eff); F(cap_bnd); F(cap_amb);
	else if (strcmp(e->field, "securebits") == 0) {
		c->has_securebits = true;
		c->securebits = v;
	} else if (strcmp(e->field, "no_new_privs") == 0) {
		c->has_no_new_privs = true;
		c->no_new_privs = v != 0;
	} else if (strcmp(e->field, "groups") == 0) {
		char *s = strdup(e->value), *tok, *save = NULL;

		c->n_groups = 0;
		for (tok = strtok_r(s, ",", &save); tok && c->n_groups < 64;
		     tok = strtok_r(NULL, ",", &save))
			groups[c->n_groups++] = strtoul(tok, NULL, 0);
		c->groups = groups;
	} else
		die(e->field, "unknown creds field");
#undef F
}

static unsigned desc_of_fd(int dirfd, unsigned pid, unsigned fd)
{
	struct img *in = NULL;
	ProtobufCMessage *m;
	unsigned idx = 0;

	if (img_open(dirfd, IMG_FS, pid, &in) < 0)
		die("fs image", in ? img_errmsg(in) : strerror(errno));
	while (img_read_next(in, &m) == 0 && m) {
		if (idx++ > 0 && ((FdEntry *)m)->fd == fd)
			return ((FdEntry *)m)->desc_id;
	}
	die("fs image", "no such fd");
	return 0;
}

static void edit_file(ProtobufCMessage *m, unsigned idx, void *arg)
{
	struct edit *e = arg;
	FileDescEntry *fe = (FileDescEntry *)m;

	if (fe->id == e->id && fe->file)
		fe->file->path = (char *)e->value;
}

static void edit_exe(ProtobufCMessage *m, unsigned idx, void *arg)
{
	struct edit *e = arg;
	MmEntry *mm = (MmEntry *)m;

	if (idx == 0 && mm->exe)
		mm->exe->path = (char *)e->value;
}

static void edit_vmafile(ProtobufCMessage *m, unsigned idx, void *arg)
{
	struct edit *e = arg;
	VmaEntry *v = (VmaEntry *)m;

	if (idx > 0 && v->file && strcmp(v->file->path, e->field) == 0)
		v->file->path = (char *)e->value;
}

int main(int argc, char **argv)
{
	struct edit fe = { 0 };
	int dirfd;

	if (argc < 4) {
		fprintf(stderr, "usage: imgedit DIR xfeatures|format|start_time|boot_id VALUE"
				" | DIR vdso PID DELTA"
				" | DIR xsave PID OFF VALUE"
				" | DIR fs|core PID FIELD VALUE | DIR file FD PID PATH"
				" | DIR exe PID PATH | DIR vmafile PID OLD NEW\n");
		return 2;
	}
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		die(argv[1], strerror(errno));
	if (strcmp(argv[2], "xfeatures") == 0 || strcmp(argv[2], "format") == 0 ||
	    strcmp(argv[2], "start_time") == 0 || strcmp(argv[2], "boot_id") == 0) {
		struct inv_edit e = { argv[2], strtoull(argv[3], NULL, 0), argv[3] };

		rewrite(dirfd, IMG_INVENTORY, 0, edit_inventory, &e);
	} else if (strcmp(argv[2], "vdso") == 0 && argc == 5) {
		long long delta = strtoll(argv[4], NULL, 0);

		rewrite(dirfd, IMG_MM, strtoul(argv[3], NULL, 0), edit_vdso, &delta);
	} else if (strcmp(argv[2], "xsave") == 0 && argc == 6) {
		struct xsave_edit e = { strtoul(argv[4], NULL, 0), strtoull(argv[5], NULL, 0) };

		rewrite(dirfd, IMG_CORE, strtoul(argv[3], NULL, 0), edit_xsave, &e);
	} else if (strcmp(argv[2], "fs") == 0 && argc == 6) {
		fe = (struct edit){ argv[4], argv[5], 0 };
		rewrite(dirfd, IMG_FS, strtoul(argv[3], NULL, 0), edit_fs, &fe);
	} else if (strcmp(argv[2], "core") == 0 && argc == 6) {
		fe = (struct edit){ argv[4], argv[5], 0 };
		rewrite(dirfd, IMG_CORE, strtoul(argv[3], NULL, 0), edit_creds, &fe);
	} else if (strcmp(argv[2], "file") == 0 && argc == 6) {
		fe.value = argv[5];
		fe.id = desc_of_fd(dirfd, strtoul(argv[4], NULL, 0), strtoul(argv[3], NULL, 0));
		rewrite(dirfd, IMG_FILES, 0, edit_file, &fe);
	} else if (strcmp(argv[2], "exe") == 0 && argc == 5) {
		fe.value = argv[4];
		rewrite(dirfd, IMG_MM, strtoul(argv[3], NULL, 0), edit_exe, &fe);
	} else if (strcmp(argv[2], "vmafile") == 0 && argc == 6) {
		fe = (struct edit){ argv[4], argv[5], 0 };
		rewrite(dirfd, IMG_MM, strtoul(argv[3], NULL, 0), edit_vmafile, &fe);
	} else {
		die(argv[2], "unknown edit");
	}
	return 0;
}
