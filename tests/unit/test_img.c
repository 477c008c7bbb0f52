/* images/img.c and desc.c: round trips of every record kind, and every way
 * a file can be damaged, each rejected with its errno and a message naming
 * the file and the offset where the damage is. */
#include "tests/unit/img-fixture.h"

#include "core.pb-c.h"
#include "files.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"

TestSuite(img, .init = fx_setup, .fini = fx_teardown);

/* Pack m and compare with what was read back. */
static void assert_same(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	size_t la = protobuf_c_message_get_packed_size(a);
	size_t lb = protobuf_c_message_get_packed_size(b);
	uint8_t *pa = malloc(la + 1), *pb = malloc(lb + 1);

	cr_assert_eq(a->descriptor, b->descriptor);
	cr_assert_eq(la, lb, "%s: %zu vs %zu bytes", a->descriptor->name, la, lb);
	protobuf_c_message_pack(a, pa);
	protobuf_c_message_pack(b, pb);
	cr_assert_eq(memcmp(pa, pb, la), 0, "%s differs", a->descriptor->name);
	free(pa);
	free(pb);
}

static void roundtrip(enum img_kind kind, unsigned id, const ProtobufCMessage *const *msgs,
		      unsigned n)
{
	ProtobufCMessage *m;
	struct img *img;

	fx_write(kind, id, msgs, n);
	cr_assert_eq(img_open(fx_dirfd, kind, id, &img), 0, "%s", img_errmsg(img));
	cr_assert_eq(img_get_desc(img)->kind, kind);
	for (unsigned i = 0; i < n; i++) {
		cr_assert_eq(img_read_next(img, &m), 0, "%s", img_errmsg(img));
		cr_assert_not_null(m);
		assert_same(msgs[i], m);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	cr_assert_eq(img_read_next(img, &m), 0, "%s", img_errmsg(img));
	cr_assert_null(m);
	/* reading past the end stays at the end */
	cr_assert_eq(img_read_next(img, &m), 0);
	cr_assert_null(m);
	cr_assert_eq(img_nr_records(img), n);
	cr_assert_eq(img_close(img), 0);
}

Test(img, roundtrip_inventory_pstree_files)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	PstreeEntry p1 = PSTREE_ENTRY__INIT, p2 = PSTREE_ENTRY__INIT;
	FileDescEntry f1 = FILE_DESC_ENTRY__INIT, f2 = FILE_DESC_ENTRY__INIT;
	FileIdentity fid = FILE_IDENTITY__INIT;
	int32_t threads[] = { 100, 101, 102 };
	uint8_t pipe_data[] = { 0, 1, 2, 0xff };

	inv.format_version = 1;
	inv.kind = DUMP_KIND__DUMP_INCREMENTAL;
	inv.root_pid = 100;
	inv.parent = "../prev";
	inv.kernel_release = "6.18.0";
	inv.page_size = 4096;
	inv.xfeatures = 0x7;
	inv.xsave_size = 832;
	inv.nr_tasks = 2;
	inv.dump_time_ns = UINT64_MAX;
	inv.ckpt_version = "0.1";
	roundtrip(IMG_INVENTORY, 0, (const ProtobufCMessage *[]){ &inv.base }, 1);

	p1.pid = 100;
	p1.ppid = 0;
	p1.pgid = p1.sid = 100;
	p1.n_threads = 3;
	p1.threads = threads;
	p1.state = TASK_STATE__TASK_ALIVE;
	p2.pid = 103;
	p2.ppid = 100;
	p2.state = TASK_STATE__TASK_ZOMBIE;
	p2.has_exit_code = true;
	p2.exit_code = 9;
	roundtrip(IMG_PSTREE, 0, (const ProtobufCMessage *[]){ &p1.base, &p2.base }, 2);

	fid.path = "/etc/hosts";
	fid.dev = 2049;
	fid.ino = 12345;
	fid.size = 200;
	fid.mtime_ns = -5;
	f1.id = 1;
	f1.type = FD_TYPE__FD_REG;
	f1.flags = 02;
	f1.has_pos = true;
	f1.pos = 17;
	f1.file = &fid;
	f2.id = 2;
	f2.type = FD_TYPE__FD_PIPE;
	f2.has_pipe_data = true;
	f2.pipe_data.len = sizeof(pipe_data);
	f2.pipe_data.data = pipe_data;
	roundtrip(IMG_FILES, 0, (const ProtobufCMessage *[]){ &f1.base, &f2.base }, 2);
}

Test(img, roundtrip_core_mm_fs_ghost_pagemap)
{
	TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
	CredsEntry cr = CREDS_ENTRY__INIT;
	ThreadCoreEntry th = THREAD_CORE_ENTRY__INIT;
	X86Regs regs = X86_REGS__INIT;
	MmEntry mm = MM_ENTRY__INIT;
	VmaEntry v1 = VMA_ENTRY__INIT, v2 = VMA_ENTRY__INIT;
	FsEntry fs = FS_ENTRY__INIT;
	FdEntry fd = FD_ENTRY__INIT;
	GhostHead gh = GHOST_HEAD__INIT;
	GhostChunk gc = GHOST_CHUNK__INIT;
	PagemapHead ph = PAGEMAP_HEAD__INIT;
	PagemapEntry pe = PAGEMAP_ENTRY__INIT;
	static uint8_t xsave[1088];
	uint64_t auxv[] = { 6, 4096, 0, 0 };

	memset(xsave, 0xa5, sizeof(xsave));
	tc.comm = "target";
	tc.creds = &cr;
	th.tid = 100;
	th.regs = &regs;
	regs.rip = 0x401000;
	regs.rsp = 0x7ffc00000000;
	th.xsave.len = sizeof(xsave);
	th.xsave.data = xsave;
	th.sigmask = 1ull << 63;
	roundtrip(IMG_CORE, 100, (const ProtobufCMessage *[]){ &tc.base, &th.base, &th.base }, 3);

	mm.nr_vmas = 2;
	mm.n_auxv = 4;
	mm.auxv = auxv;
	v1.start = 0x400000;
	v1.end = 0x401000;
	v1.prot = 5;
	v1.kind = VMA_KIND__VMA_FILE_PRIVATE;
	v2.start = 0xffffffffff600000ull;
	v2.end = 0xffffffffff601000ull;
	v2.kind = VMA_KIND__VMA_VSYSCALL;
	roundtrip(IMG_MM, 100, (const ProtobufCMessage *[]){ &mm.base, &v1.base, &v2.base }, 3);

	fs.cwd = "/";
	fs.root = "/";
	fs.umask = 022;
	fd.fd = 3;
	fd.desc_id = 1;
	fd.cloexec = true;
	roundtrip(IMG_FS, 100, (const ProtobufCMessage *[]){ &fs.base, &fd.base }, 2);

	gh.id = 1;
	gh.size = 3;
	gh.mode = 0100600;
	gc.data.len = 3;
	gc.data.data = (uint8_t *)"abc";
	roundtrip(IMG_GHOST, 1, (const ProtobufCMessage *[]){ &gh.base, &gc.base }, 2);

	ph.pages_id = 1;
	ph.page_size = 4096;
	ph.max_block_pages = 512;
	pe.vaddr = 0x1000;
	pe.nr_pages = 1;
	pe.flags = 4;
	roundtrip(IMG_PAGEMAP, 100, (const ProtobufCMessage *[]){ &ph.base, &pe.base }, 2);
}

Test(img, many_and_large_records)
{
	GhostHead gh = GHOST_HEAD__INIT;
	GhostChunk gc = GHOST_CHUNK__INIT;
	size_t big = 300 << 10;
	uint8_t *data = malloc(big);
	ProtobufCMessage *m;
	struct img *img;

	for (size_t i = 0; i < big; i++)
		data[i] = i * 7;
	gh.id = 5;
	gc.data.data = data;
	cr_assert_eq(img_create(fx_dirfd, IMG_GHOST, 5, &img), 0);
	cr_assert_eq(img_write_msg(img, &gh.base), 0);
	/* small records across buffer boundaries, then records larger than it */
	for (unsigned i = 0; i < 5000; i++) {
		gc.off = i;
		gc.data.len = i % 97;
		cr_assert_eq(img_write_msg(img, &gc.base), 0);
	}
	for (unsigned i = 0; i < 3; i++) {
		gc.off = i;
		gc.data.len = big - i;
		cr_assert_eq(img_write_msg(img, &gc.base), 0);
	}
	cr_assert_eq(img_close(img), 0);

	cr_assert_eq(img_open(fx_dirfd, IMG_GHOST, 5, &img), 0);
	cr_assert_eq(img_read_next(img, &m), 0);
	protobuf_c_message_free_unpacked(m, NULL);
	for (unsigned i = 0; i < 5003; i++) {
		GhostChunk *c;

		cr_assert_eq(img_read_next(img, &m), 0, "%s", img_errmsg(img));
		c = (GhostChunk *)m;
		if (i < 5000) {
			cr_assert_eq(c->data.len, i % 97);
		} else {
			cr_assert_eq(c->data.len, big - (i - 5000));
			cr_assert_eq(memcmp(c->data.data, data, c->data.len), 0);
		}
		protobuf_c_message_free_unpacked(m, NULL);
	}
	cr_assert_eq(img_read_next(img, &m), 0);
	cr_assert_null(m);
	img_close(img);
	free(data);
}

Test(img, pages_kind_is_raw)
{
	struct img *img;
	uint8_t page[4096] = { 1 };
	FsEntry fs = FS_ENTRY__INIT;

	fs.cwd = fs.root = "/";
	cr_assert_eq(img_create(fx_dirfd, IMG_PAGES, 3, &img), 0);
	cr_assert_eq(img_offset(img), IMG_PAGES_DATA_OFF);
	cr_assert_eq(img_write_msg(img, &fs.base), -EINVAL);
	cr_assert_eq(img_write_raw(img, page, sizeof(page)), 0);
	cr_assert_eq(img_offset(img), IMG_PAGES_DATA_OFF + 4096);
	cr_assert_eq(img_close(img), 0);
	cr_assert_eq(fx_size("pages-3.img"), IMG_PAGES_DATA_OFF + 4096);
	cr_assert_eq(img_open(fx_dirfd, IMG_PAGES, 3, &img), 0);
	img_close(img);

	/* and record kinds refuse raw writes */
	cr_assert_eq(img_create(fx_dirfd, IMG_FS, 1, &img), 0);
	cr_assert_eq(img_write_raw(img, page, 1), -EINVAL);
	img_abort(img);
}

Test(img, create_refuses_existing_and_incomplete_messages)
{
	struct img *img;
	FsEntry fs = FS_ENTRY__INIT;	/* cwd and root missing */

	cr_assert_eq(img_create(fx_dirfd, IMG_FS, 1, &img), 0);
	cr_assert_eq(img_write_msg(img, &fs.base), -EINVAL);
	cr_assert(strstr(img_errmsg(img), "fs-1.img at offset 16: record 0: fs_entry"),
		  "%s", img_errmsg(img));
	/* a failed writer fails its close too, with the first failure */
	cr_assert_eq(img_close(img), -EINVAL);
	cr_assert_eq(img_create(fx_dirfd, IMG_FS, 1, &img), -EEXIST);
}

Test(img, names)
{
	enum img_kind k;
	unsigned id;
	char buf[64];

	cr_assert_eq(img_parse_name("core-12.img", &k, &id), 0);
	cr_assert_eq(k, IMG_CORE);
	cr_assert_eq(id, 12);
	cr_assert_eq(img_parse_name("inventory.img", &k, &id), 0);
	cr_assert_eq(k, IMG_INVENTORY);
	cr_assert_eq(img_parse_name("pages-4294967295.img", &k, &id), 0);
	cr_assert_eq(k, IMG_PAGES);
	cr_assert_eq(id, 4294967295u);
	cr_assert_eq(img_parse_name("pages-4294967296.img", &k, &id), -EINVAL);
	cr_assert_eq(img_parse_name("core-012.img", &k, &id), -EINVAL);
	cr_assert_eq(img_parse_name("core-.img", &k, &id), -EINVAL);
	cr_assert_eq(img_parse_name("core-1.img.bak", &k, &id), -EINVAL);
	cr_assert_eq(img_parse_name("core--1.img", &k, &id), -EINVAL);
	cr_assert_eq(img_parse_name("mm-7.img", &k, &id), 0);
	cr_assert_eq(k, IMG_MM);
	cr_assert_eq(img_filename(IMG_GHOST, 7, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "ghost-7.img");
	for (unsigned i = 0; i < IMG__MAX; i++) {
		const struct img_desc *d = img_desc_get(i);

		cr_assert_eq(img_desc_by_magic(d->magic), d);
		cr_assert_eq(img_filename(i, 42, buf, sizeof(buf)), 0);
		cr_assert_eq(img_parse_name(buf, &k, &id), 0);
		cr_assert_eq(k, i);
		cr_assert_eq(id, d->per_id ? 42u : 0u);
	}
}

/* ---- damage ---- */

/* core-1.img with a task record and a thread record; the records' offsets
 * into rec[0], rec[1], the end marker's into rec[2]. */
static void write_core(off_t rec[3])
{
	TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
	CredsEntry cr = CREDS_ENTRY__INIT;
	ThreadCoreEntry th = THREAD_CORE_ENTRY__INIT;
	X86Regs regs = X86_REGS__INIT;
	uint8_t xsave[800] = { 0 };

	tc.comm = "victim";
	tc.creds = &cr;
	th.tid = 1;
	th.regs = &regs;
	th.xsave.len = sizeof(xsave);
	th.xsave.data = xsave;
	fx_write(IMG_CORE, 1, (const ProtobufCMessage *[]){ &tc.base, &th.base }, 2);
	rec[0] = IMG_HDR_SIZE;
	rec[1] = rec[0] + 8 + protobuf_c_message_get_packed_size(&tc.base);
	rec[2] = rec[1] + 8 + protobuf_c_message_get_packed_size(&th.base);
	cr_assert_eq(fx_size("core-1.img"), rec[2] + 8);
}

static void expect_bad(int want, const char *where, const char *what)
{
	char msg[512];
	unsigned nr;
	int r;

	r = fx_read_all(IMG_CORE, 1, msg, sizeof(msg), &nr);
	cr_assert_eq(r, want, "got %d (%s), want %d", r, msg, want);
	cr_assert(strstr(msg, where), "'%s' lacks '%s'", msg, where);
	cr_assert(strstr(msg, what), "'%s' lacks '%s'", msg, what);
}

static char *at(off_t off)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "core-1.img at offset %lld: ", (long long)off);
	return buf;
}

Test(img, intact)
{
	off_t rec[3];
	unsigned nr;

	write_core(rec);
	cr_assert_eq(fx_read_all(IMG_CORE, 1, NULL, 0, &nr), 0);
	cr_assert_eq(nr, 2);
}

Test(img, truncated_header)
{
	off_t rec[3];

	write_core(rec);
	fx_truncate("core-1.img", 10);
	expect_bad(-ENODATA, at(0), "10 of its 16 header bytes");
	fx_truncate("core-1.img", 0);
	expect_bad(-ENODATA, at(0), "0 of its 16");
}

Test(img, truncated_record)
{
	off_t rec[3];

	write_core(rec);
	fx_truncate("core-1.img", rec[1] + 20);
	expect_bad(-ENODATA, at(rec[1]), "record 1 of");
	/* cut inside the record header itself */
	fx_truncate("core-1.img", rec[1] + 3);
	expect_bad(-ENODATA, at(rec[1]), "without its end marker after 1 records");
}

Test(img, missing_end_marker)
{
	off_t rec[3];

	write_core(rec);
	fx_truncate("core-1.img", rec[2]);
	expect_bad(-ENODATA, at(rec[2]), "without its end marker after 2 records");
}

Test(img, payload_bit_flip)
{
	off_t rec[3];

	write_core(rec);
	fx_flip("core-1.img", rec[1] + 8 + 100, 0x10);
	expect_bad(-EBADMSG, at(rec[1]), "record checksum mismatch (record 1, ");
}

Test(img, checksum_field_flip)
{
	off_t rec[3];

	write_core(rec);
	fx_flip("core-1.img", rec[0] + 4, 0x01);
	expect_bad(-EBADMSG, at(rec[0]), "record checksum mismatch (record 0, ");
}

Test(img, bad_set_magic)
{
	off_t rec[3];

	write_core(rec);
	fx_put32("core-1.img", 0, 0x464c457f);
	expect_bad(-EPROTO, at(0), "not a ckpt image");
}

Test(img, foreign_kind_magic)
{
	off_t rec[3];

	write_core(rec);
	fx_put32("core-1.img", 4, img_desc_get(IMG_MM)->magic);
	expect_bad(-EPROTO, at(4), "(mm) is not a core image");
	fx_put32("core-1.img", 4, 0x12345678);
	expect_bad(-EPROTO, at(4), "(unknown) is not a core image");
}

Test(img, open_any_learns_the_kind)
{
	off_t rec[3];
	struct img *img = NULL;
	char msg[256];

	write_core(rec);
	cr_assert_eq(img_open_any(fx_dirfd, "core-1.img", &img, msg, sizeof(msg)), 0);
	cr_assert_eq(img_get_desc(img)->kind, IMG_CORE);
	img_close(img);
	img = NULL;
	fx_put32("core-1.img", 4, 0x12345678);
	cr_assert_eq(img_open_any(fx_dirfd, "core-1.img", &img, msg, sizeof(msg)), -EPROTO);
	cr_assert_null(img);
	cr_assert(strstr(msg, "core-1.img at offset 4: unknown image kind magic 0x12345678"),
		  "%s", msg);
	cr_assert_eq(img_open_any(fx_dirfd, "nope.img", &img, msg, sizeof(msg)), -ENOENT);
	cr_assert_str_eq(msg, "nope.img: cannot open");
}

Test(img, newer_format_version)
{
	off_t rec[3];

	write_core(rec);
	fx_put32("core-1.img", 8, IMG_FORMAT_VERSION + 1);
	expect_bad(-EPROTONOSUPPORT, at(8), "is newer than this ckpt reads");
	fx_put32("core-1.img", 8, IMG_FORMAT_VERSION - 1);
	expect_bad(-EPROTONOSUPPORT, at(8), "format version 1 is older than this ckpt reads (2)");
	fx_put32("core-1.img", 8, 0);
	expect_bad(-EPROTO, at(8), "format version 0");
}

Test(img, unknown_header_flags)
{
	off_t rec[3];

	write_core(rec);
	fx_put32("core-1.img", 12, 1);
	expect_bad(-EPROTONOSUPPORT, at(12), "unknown header flags");
}

Test(img, length_over_the_limit)
{
	off_t rec[3];

	write_core(rec);
	fx_put32("core-1.img", rec[1], IMG_MAX_RECORD + 1);
	expect_bad(-EBADMSG, at(rec[1]), "exceeds the limit");
	/* a length within the limit but past the end of the file */
	fx_put32("core-1.img", rec[1], IMG_MAX_RECORD);
	expect_bad(-ENODATA, at(rec[1]), "runs past the end of the file");
}

Test(img, data_after_end_marker)
{
	off_t rec[3];

	write_core(rec);
	fx_append("core-1.img", "x", 1);
	expect_bad(-EBADMSG, at(rec[2] + 8), "unexpected data after the end marker");
}

Test(img, wrong_end_marker_count)
{
	off_t rec[3];

	write_core(rec);
	fx_put32("core-1.img", rec[2] + 4, 3);
	expect_bad(-EBADMSG, at(rec[2]), "end marker counts 3 records, the file has 2");
}

Test(img, invalid_protobuf_with_valid_checksum)
{
	static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff };
	uint32_t len = sizeof(junk), zero = 0;

	fx_craft("core-1.img", img_desc_get(IMG_CORE)->magic,
		 (const void *[]){ junk }, &len, 1, 1);
	expect_bad(-EBADMSG, at(16), "record 0 is not a valid task_core_entry message");
	/* well-formed protobuf lacking the required fields */
	fx_craft("core-1.img", img_desc_get(IMG_CORE)->magic,
		 (const void *[]){ junk }, &zero, 1, 1);
	expect_bad(-EBADMSG, at(16), "not a valid task_core_entry");
}

Test(img, no_reading_after_a_failure)
{
	off_t rec[3];
	ProtobufCMessage *m;
	struct img *img;

	write_core(rec);
	fx_flip("core-1.img", rec[0] + 10, 0x80);
	cr_assert_eq(img_open(fx_dirfd, IMG_CORE, 1, &img), 0);
	cr_assert_not(img_failed(img));
	cr_assert_eq(img_read_next(img, &m), -EBADMSG);
	cr_assert_null(m);
	cr_assert(img_failed(img));
	cr_assert_eq(img_read_next(img, &m), -EINVAL);
	cr_assert(strstr(img_errmsg(img), "checksum mismatch"));
	img_close(img);
}

Test(img, missing_file)
{
	struct img *img = NULL;

	cr_assert_eq(img_open(fx_dirfd, IMG_CORE, 77, &img), -ENOENT);
	cr_assert_not_null(img);
	cr_assert_str_eq(img_errmsg(img), "core-77.img: cannot open");
	img_abort(img);
	cr_assert_str_eq(img_errmsg(NULL), "out of memory");
}
