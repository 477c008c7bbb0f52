/* client/show.c: ckptctl show on a whole set written with libckptimg, on
 * single files, and on damaged sets: exit code 5, nothing on stdout, one
 * line on stderr naming the file and the offset. show.c is included so the
 * test can call show_path with its own streams. */
#include "tests/unit/img-fixture.h"

#include "client/show.c"
#include "client/show-chain.c"
#include "client/show-pages.c"
#include "client/show-summary.c"

#include "core.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"

TestSuite(show, .init = fx_setup, .fini = fx_teardown);

#define PS 4096u

static void write_inventory(DumpKind kind)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;

	inv.format_version = 1;
	inv.kind = kind;
	inv.root_pid = 100;
	inv.kernel_release = "6.18.0";
	inv.page_size = PS;
	inv.xsave_size = 832;
	inv.nr_tasks = 2;
	inv.ckpt_version = "test";
	fx_write(IMG_INVENTORY, 0, (const ProtobufCMessage *[]){ &inv.base }, 1);
}

static void write_task(int pid)
{
	TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
	CredsEntry cr = CREDS_ENTRY__INIT;
	ThreadCoreEntry th = THREAD_CORE_ENTRY__INIT;
	X86Regs regs = X86_REGS__INIT;
	MmEntry mm = MM_ENTRY__INIT;
	VmaEntry v = VMA_ENTRY__INIT;
	FsEntry fs = FS_ENTRY__INIT;
	FdEntry fd = FD_ENTRY__INIT;
	struct page_writer *w;
	uint8_t xsave[832] = { 1 }, pages[3 * PS];

	tc.comm = "sleepy";
	tc.creds = &cr;
	th.tid = pid;
	th.regs = &regs;
	th.xsave.len = sizeof(xsave);
	th.xsave.data = xsave;
	fx_write(IMG_CORE, pid, (const ProtobufCMessage *[]){ &tc.base, &th.base }, 2);

	mm.nr_vmas = 1;
	mm.has_pages_id = true;
	mm.pages_id = pid;
	v.start = 0x10000;
	v.end = 0x20000;
	v.prot = 3;
	v.kind = VMA_KIND__VMA_ANON_PRIVATE;
	fx_write(IMG_MM, pid, (const ProtobufCMessage *[]){ &mm.base, &v.base }, 2);

	memset(pages, pid, sizeof(pages));
	cr_assert_eq(pagew_open(fx_dirfd, pid, pid, PS, &w), 0);
	cr_assert_eq(pagew_add_block(w, 0x10000, pages, 3, pages_block_hash(pages, 3 * PS)), 0);
	cr_assert_eq(pagew_add_hole(w, 0x13000, 4, PE_ZERO), 0);
	cr_assert_eq(pagew_add_block(w, 0x1f000, pages, 1, pages_block_hash(pages, PS)), 0);
	cr_assert_eq(pagew_close(w), 0);

	fs.cwd = "/tmp";
	fs.root = "/";
	fd.fd = 0;
	fd.desc_id = 1;
	fx_write(IMG_FS, pid, (const ProtobufCMessage *[]){ &fs.base, &fd.base }, 2);
}

static void write_set(void)
{
	PstreeEntry p1 = PSTREE_ENTRY__INIT, p2 = PSTREE_ENTRY__INIT, p3 = PSTREE_ENTRY__INIT;
	FileDescEntry f = FILE_DESC_ENTRY__INIT;
	GhostHead gh = GHOST_HEAD__INIT;
	GhostChunk gc = GHOST_CHUNK__INIT;

	write_inventory(DUMP_KIND__DUMP_FULL);
	p1.pid = 100;
	p1.state = TASK_STATE__TASK_ALIVE;
	p2.pid = 101;
	p2.ppid = 100;
	p2.state = TASK_STATE__TASK_ALIVE;
	p3.pid = 102;
	p3.ppid = 100;
	p3.state = TASK_STATE__TASK_ZOMBIE;
	fx_write(IMG_PSTREE, 0, (const ProtobufCMessage *[]){ &p1.base, &p2.base, &p3.base }, 3);
	f.id = 1;
	f.type = FD_TYPE__FD_CHR;
	fx_write(IMG_FILES, 0, (const ProtobufCMessage *[]){ &f.base }, 1);
	write_task(100);
	write_task(101);
	gh.id = 2;
	gh.size = 10;
	gc.data.len = 10;
	gc.data.data = (uint8_t *)"0123456789";
	fx_write(IMG_GHOST, 2, (const ProtobufCMessage *[]){ &gh.base, &gc.base, &gc.base }, 3);
}

struct run {
	int code;
	char out[1 << 18];
	char err[4096];
};

/* show_path into temporary streams, read back into r. */
static void run_show(struct run *r, const char *path, bool verify)
{
	FILE *out = tmpfile(), *err = tmpfile();
	size_t n;

	cr_assert(out && err);
	r->code = show_path(path, verify, out, err);
	rewind(out);
	n = fread(r->out, 1, sizeof(r->out) - 1, out);
	cr_assert(feof(out), "output larger than the test buffer");
	r->out[n] = '\0';
	rewind(err);
	n = fread(r->err, 1, sizeof(r->err) - 1, err);
	r->err[n] = '\0';
	fclose(out);
	fclose(err);
}

/* The output parses as JSON and check (over d) holds. */
static bool json_ok(struct run *r, const char *check)
{
	char path[128];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/out.json", fx_dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(r->out, f);
	fclose(f);
	ok = fx_json_ok(path, check);
	unlink(path);
	return ok;
}

Test(show, whole_set)
{
	struct run r;

	write_set();
	run_show(&r, fx_dir, true);
	cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
	cr_assert_str_eq(r.err, "");
	cr_assert(json_ok(&r,
		"list(d.keys())==['inventory','pstree','files','tasks','ghosts'] "
		"and d['inventory']['kind']=='DUMP_FULL' and d['inventory']['page_size']==4096 "
		"and [p['pid'] for p in d['pstree']]==[100,101,102] "
		"and d['pstree'][2]['state']=='TASK_ZOMBIE' "
		"and d['files'][0]['type']=='FD_CHR' "
		"and sorted(d['tasks'].keys())==['100','101'] "
		"and d['tasks']['101']['core']['comm']=='sleepy' "
		"and d['tasks']['101']['core']['threads'][0]['tid']==101 "
		"and d['tasks']['101']['core']['threads'][0]['xsave'].startswith('01000000') "
		"and d['tasks']['100']['mm']['pages_id']==100 "
		"and d['tasks']['100']['mm']['vmas'][0]['kind']=='VMA_ANON_PRIVATE' "
		"and d['tasks']['100']['pagemap']['head']=={'pages_id':100,'page_size':4096,'max_block_pages':512} "
		"and [(e['vaddr'],e['nr_pages'],e['flags'],e.get('off')) for e in d['tasks']['100']['pagemap']['entries']]"
		"   ==[(0x10000,3,1,0),(0x13000,4,4,None),(0x1f000,1,1,3)] "
		"and d['tasks']['100']['fs']['cwd']=='/tmp' and d['tasks']['100']['fs']['fds'][0]['desc_id']==1 "
		"and d['ghosts']=={'2':{'head':{'id':2,'size':10,'mode':0},'chunks':2,'bytes':20}}"));
}

/* The summary: the same set, for a person; the page counts per VMA. */
Test(show, summary)
{
	struct show_opts o = { .verify = true, .mode = SHOW_SUMMARY };
	FILE *out = tmpfile(), *err = tmpfile();
	char buf[1 << 14];
	size_t n;

	write_set();
	cr_assert(out && err);
	cr_assert_eq(show_path_opts(fx_dir, &o, out, err), EXIT_OK);
	rewind(out);
	n = fread(buf, 1, sizeof(buf) - 1, out);
	buf[n] = '\0';
	fclose(out);
	fclose(err);
	cr_assert(strstr(buf, "  kind      full dump, format 1\n"), "%s", buf);
	cr_assert(strstr(buf, "\n      100       0       0       0       0  alive                "
			 "sleepy\n"), "%s", buf);
	cr_assert(strstr(buf, "\n      102     100       0       0       0  zombie (status 0)    -\n"),
		  "%s", buf);
	cr_assert(strstr(buf, "\n    10000-20000     64 KiB  rw-p  anon private       4       4"
			 "       0\n"), "%s", buf);
	cr_assert(strstr(buf, "\n        0  char    r                      ?\n"), "%s", buf);
	cr_assert(strstr(buf, "\nSizes:    8 pages stored (32 KiB), 8 zero, 0 left in the parent;"),
		  "%s", buf);
	cr_assert(strstr(buf, "\nChecked:  ") && strstr(buf, ", 6 pagemap entries, 4 page block "
							  "checksums (32 KiB): all good\n"), "%s", buf);
}

Test(show, trailing_slash_and_file_in_the_current_directory)
{
	struct run r;
	char path[128];
	int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	write_set();
	snprintf(path, sizeof(path), "%s/", fx_dir);
	run_show(&r, path, true);
	cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
	cr_assert_eq(fchdir(fx_dirfd), 0);
	fx_flip("mm-101.img", 30, 0x20);
	run_show(&r, "mm-101.img", true);
	cr_assert_eq(fchdir(cwd), 0);
	close(cwd);
	cr_assert_eq(r.code, EXIT_BADIMAGE);
	cr_assert_str_eq(r.err, "ckptctl show: mm-101.img at offset 16: record checksum mismatch "
			 "(record 0, 26 bytes)\n");
}

static void expect_bad(const char *what, int code)
{
	struct run r;
	char want[512];

	run_show(&r, fx_dir, true);
	cr_assert_eq(r.code, code, "exit %d: %s", r.code, r.err);
	cr_assert_str_eq(r.out, "", "stdout not empty on failure");
	snprintf(want, sizeof(want), "ckptctl show: %s", what);
	cr_assert_eq(strncmp(r.err, want, strlen(want)), 0, "'%s' is not '%s...'", r.err, want);
	cr_assert_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1, "one line: %s", r.err);
}

Test(show, record_checksum)
{
	char want[256];
	off_t rec1;

	write_set();
	{
		/* the size of the task record, the way the reader sees it */
		TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
		CredsEntry cr = CREDS_ENTRY__INIT;

		tc.comm = "sleepy";
		tc.creds = &cr;
		rec1 = IMG_HDR_SIZE + 8 + protobuf_c_message_get_packed_size(&tc.base);
	}
	fx_flip("core-101.img", rec1 + 8 + 40, 0x01);
	snprintf(want, sizeof(want), "%s/core-101.img at offset %lld: record checksum mismatch (record 1, ",
		 fx_dir, (long long)rec1);
	expect_bad(want, EXIT_BADIMAGE);
}

Test(show, page_block_checksum_and_no_verify)
{
	char want[256];
	struct run r;

	write_set();
	fx_flip("pages-100.img", IMG_PAGES_DATA_OFF + 3 * PS + 1, 0x01);	/* the 0x1f000 page */
	snprintf(want, sizeof(want), "%s/pages-100.img at offset %u: block checksum mismatch (1 pages at 0x1f000",
		 fx_dir, IMG_PAGES_DATA_OFF + 3 * PS);
	expect_bad(want, EXIT_BADIMAGE);
	run_show(&r, fx_dir, false);
	cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
	cr_assert(json_ok(&r, "len(d['tasks']['100']['pagemap']['entries'])==3"));
}

Test(show, truncated_pages_file_is_caught_even_without_verify)
{
	char want[256];
	struct run r;

	write_set();
	fx_truncate("pages-101.img", IMG_PAGES_DATA_OFF + 2 * PS);
	snprintf(want, sizeof(want), "%s/pagemap-101.img at offset ", fx_dir);
	run_show(&r, fx_dir, false);
	cr_assert_eq(r.code, EXIT_BADIMAGE);
	cr_assert(strstr(r.err, want) && strstr(r.err, "entry 0: block at page 0 (12288 bytes) runs past"),
		  "%s", r.err);
	cr_assert_str_eq(r.out, "");
}

Test(show, foreign_and_newer_files)
{
	char want[256];

	write_set();
	fx_put32("fs-100.img", 4, img_desc_get(IMG_MM)->magic);
	snprintf(want, sizeof(want), "%s/fs-100.img at offset 4: kind magic", fx_dir);
	expect_bad(want, EXIT_BADIMAGE);
	fx_put32("fs-100.img", 4, img_desc_get(IMG_FS)->magic);
	fx_put32("inventory.img", 8, 3);
	snprintf(want, sizeof(want), "%s/inventory.img at offset 8: format version 3 is newer", fx_dir);
	expect_bad(want, EXIT_BADIMAGE);
}

Test(show, missing_task_file)
{
	char want[256];
	struct run r;

	write_set();
	write_task(1102);	/* files of a task pstree.img does not list are ignored */
	run_show(&r, fx_dir, true);
	cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
	cr_assert(json_ok(&r, "'1102' not in d['tasks']"));
	unlinkat(fx_dirfd, "fs-101.img", 0);
	snprintf(want, sizeof(want), "%s/fs-101.img: cannot open: No such file or directory", fx_dir);
	expect_bad(want, EXIT_BADIMAGE);
}

Test(show, duplicate_pid)
{
	PstreeEntry p = PSTREE_ENTRY__INIT;
	char want[256];

	write_set();
	unlinkat(fx_dirfd, "pstree.img", 0);
	p.pid = 100;
	p.state = TASK_STATE__TASK_ALIVE;
	fx_write(IMG_PSTREE, 0, (const ProtobufCMessage *[]){ &p.base, &p.base }, 2);
	snprintf(want, sizeof(want), "%s/pstree.img at offset %zu: pid 100 appears again", fx_dir,
		 IMG_HDR_SIZE + 8 + protobuf_c_message_get_packed_size(&p.base));
	expect_bad(want, EXIT_BADIMAGE);
}

Test(show, empty_inventory_and_pstree)
{
	char want[256];

	write_set();
	unlinkat(fx_dirfd, "pstree.img", 0);
	fx_write(IMG_PSTREE, 0, NULL, 0);
	snprintf(want, sizeof(want), "%s/pstree.img: no process", fx_dir);
	expect_bad(want, EXIT_BADIMAGE);
	unlinkat(fx_dirfd, "inventory.img", 0);
	fx_write(IMG_INVENTORY, 0, NULL, 0);
	snprintf(want, sizeof(want), "%s/inventory.img: no record", fx_dir);
	expect_bad(want, EXIT_BADIMAGE);
}

Test(show, ghost_truncated)
{
	char want[256];

	write_set();
	fx_truncate("ghost-2.img", fx_size("ghost-2.img") - 8);
	snprintf(want, sizeof(want), "%s/ghost-2.img at offset %lld: truncated", fx_dir,
		 (long long)fx_size("ghost-2.img"));
	expect_bad(want, EXIT_BADIMAGE);
}

Test(show, predump_without_core_and_fs)
{
	struct run r;

	write_set();
	unlinkat(fx_dirfd, "inventory.img", 0);
	write_inventory(DUMP_KIND__DUMP_PRE);
	unlinkat(fx_dirfd, "core-100.img", 0);
	unlinkat(fx_dirfd, "fs-100.img", 0);
	unlinkat(fx_dirfd, "files.img", 0);
	run_show(&r, fx_dir, true);
	cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
	cr_assert(json_ok(&r, "'core' not in d['tasks']['100'] and 'fs' not in d['tasks']['100'] "
			  "and 'core' in d['tasks']['101'] and 'files' not in d"));
}

Test(show, not_a_set)
{
	struct run r;
	char path[128];

	/* no set there: exit 5, as ckptctl(1) says */
	run_show(&r, fx_dir, true);
	cr_assert_eq(r.code, EXIT_BADIMAGE);
	cr_assert(strstr(r.err, "inventory.img: No such file or directory (not an image set"), "%s", r.err);
	cr_assert_str_eq(r.out, "");
	snprintf(path, sizeof(path), "%s/nonexistent", fx_dir);
	run_show(&r, path, true);
	cr_assert_eq(r.code, EXIT_BADIMAGE);
	cr_assert(strstr(r.err, "nonexistent: No such file or directory"), "%s", r.err);
}

Test(show, single_files)
{
	struct run r;
	char path[128];

	write_set();
	snprintf(path, sizeof(path), "%s/core-100.img", fx_dir);
	run_show(&r, path, true);
	cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
	cr_assert(json_ok(&r, "d['file']=='core-100.img' and d['kind']=='core' "
			  "and d['records'][0]['comm']=='sleepy' and d['records'][1]['tid']==100"));

	snprintf(path, sizeof(path), "%s/pagemap-100.img", fx_dir);
	run_show(&r, path, true);
	cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
	cr_assert(json_ok(&r, "d['kind']=='pagemap' and d['records'][0]['page_size']==4096 "
			  "and len(d['records'])==4 and len(d['pages']['entries'])==3"));

	snprintf(path, sizeof(path), "%s/pages-100.img", fx_dir);
	run_show(&r, path, true);
	cr_assert_eq(r.code, EXIT_OK, "%s", r.err);
	cr_assert(json_ok(&r, "d=={'file':'pages-100.img','kind':'pages','size':4096*5,'data_bytes':4096*4}"));

	/* a single pagemap file still has its blocks checked */
	fx_flip("pages-100.img", IMG_PAGES_DATA_OFF, 0x01);
	snprintf(path, sizeof(path), "%s/pagemap-100.img", fx_dir);
	run_show(&r, path, true);
	cr_assert_eq(r.code, EXIT_BADIMAGE);
	cr_assert(strstr(r.err, "pages-100.img at offset 4096: block checksum mismatch"), "%s", r.err);

	/* a file that is no image at all */
	snprintf(path, sizeof(path), "%s/junk", fx_dir);
	{
		FILE *f = fopen(path, "w");

		fputs("hello, world, this is not an image", f);
		fclose(f);
	}
	run_show(&r, path, true);
	cr_assert_eq(r.code, EXIT_BADIMAGE);
	snprintf(path, sizeof(path), "ckptctl show: %s/junk at offset 0: not a ckpt image", fx_dir);
	cr_assert(strstr(r.err, path), "%s", r.err);
}

/* cmd_show as ckptctl calls it, in a child so its stdout can be captured. */
static int run_cmd(char **argv, char *out, size_t len)
{
	int p[2], st, argc = 0;
	ssize_t n, got = 0;
	pid_t pid;

	while (argv[argc])
		argc++;
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(p[1], 1);
		freopen("/dev/null", "w", stderr);
		st = cmd_show(argc, argv);
		fflush(stdout);
		_exit(st);
	}
	close(p[1]);
	while ((n = read(p[0], out + got, len - 1 - got)) > 0)
		got += n;
	out[got] = '\0';
	close(p[0]);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(show, command_line)
{
	static char out[1 << 16];

	write_set();
	cr_assert_eq(run_cmd((char *[]){ "show", "--help", NULL }, out, sizeof(out)), EXIT_OK);
	cr_assert(strstr(out, "Usage: ckptctl show"));
	cr_assert_eq(run_cmd((char *[]){ "show", NULL }, out, sizeof(out)), EXIT_USAGE);
	cr_assert_eq(run_cmd((char *[]){ "show", "--bogus", fx_dir, NULL }, out, sizeof(out)),
		     EXIT_USAGE);
	cr_assert_eq(run_cmd((char *[]){ "show", fx_dir, "extra", NULL }, out, sizeof(out)),
		     EXIT_USAGE);
	cr_assert_eq(run_cmd((char *[]){ "show", fx_dir, "--json", "--no-verify", NULL }, out,
			     sizeof(out)), EXIT_OK);
	cr_assert(strstr(out, "\"inventory\": {"));
	cr_assert_eq(run_cmd((char *[]){ "show", "-D", fx_dir, NULL }, out, sizeof(out)), EXIT_OK);
	fx_flip("pages-101.img", IMG_PAGES_DATA_OFF, 0x01);
	cr_assert_eq(run_cmd((char *[]){ "show", fx_dir, NULL }, out, sizeof(out)), EXIT_BADIMAGE);
	cr_assert_str_eq(out, "");
	cr_assert_eq(run_cmd((char *[]){ "show", "--no-verify", fx_dir, NULL }, out, sizeof(out)),
		     EXIT_OK);
}
