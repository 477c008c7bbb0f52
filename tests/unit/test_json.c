/* images/json.c: string escaping, the writer's commas and nesting, and
 * protobuf-c messages printed through their descriptors; python3 checks
 * that every output parses. */
#include "tests/unit/img-fixture.h"

#include "images/json.h"
#include "core.pb-c.h"
#include "files.pb-c.h"
#include "mm.pb-c.h"
#include "pstree.pb-c.h"

TestSuite(json, .init = fx_setup, .fini = fx_teardown);

static char *str_out(const char *s, size_t len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	json_write_string(f, s, len);
	fclose(f);
	return buf;
}

#define ESC_IS(in, want) do {						\
		char *got = str_out(in, sizeof(in) - 1);		\
		cr_assert_str_eq(got, want);				\
		free(got);						\
	} while (0)

Test(json, escaping)
{
	ESC_IS("plain", "\"plain\"");
	ESC_IS("q\"b\\s/", "\"q\\\"b\\\\s/\"");
	ESC_IS("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
	ESC_IS("\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\"");
	ESC_IS("a\0b", "\"a\\u0000b\"");
	/* valid UTF-8 passes through: é, €, U+1F600 */
	ESC_IS("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	/* bytes that are not UTF-8 become \u00XX: a lone continuation byte,
	 * 0xff, an overlong form, a surrogate, a truncated sequence */
	ESC_IS("\x80", "\"\\u0080\"");
	ESC_IS("\xff" "a", "\"\\u00ffa\"");
	ESC_IS("\xc0\xaf", "\"\\u00c0\\u00af\"");
	ESC_IS("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"");
	ESC_IS("\xe2\x82", "\"\\u00e2\\u0082\"");
	ESC_IS("\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\"");
}

/* Run fn to write one JSON document into a file; return its path. */
static const char *write_doc(void (*fn)(struct json *j), bool pretty)
{
	static char path[128];
	struct json j;
	FILE *f;

	snprintf(path, sizeof(path), "%s/out.json", fx_dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	json_init(&j, f, pretty);
	fn(&j);
	cr_assert_eq(json_finish(&j), 0);
	fclose(f);
	return path;
}

static char *slurp(const char *path)
{
	char *buf;

	cr_assert_eq(read_file_at(AT_FDCWD, path, &buf, NULL), 0);
	return buf;
}

static void writer_doc(struct json *j)
{
	static const uint8_t bytes[] = { 0x00, 0xab, 0xff };

	json_obj_begin(j, NULL);
	json_str(j, "s", "x\"y");
	json_str(j, "null string", NULL);
	json_u64(j, "max", UINT64_MAX);
	json_i64(j, "min", INT64_MIN);
	json_double(j, "half", 0.5);
	json_double(j, "nan", 0.0 / 0.0);
	json_bool(j, "t", true);
	json_null(j, "n");
	json_hex(j, "hex", bytes, sizeof(bytes));
	json_arr_begin(j, "empty");
	json_arr_end(j);
	json_obj_begin(j, "empty obj");
	json_obj_end(j);
	json_arr_begin(j, "arr");
	json_u64(j, NULL, 1);
	json_obj_begin(j, NULL);
	json_arr_begin(j, "deep");
	json_bool(j, NULL, false);
	json_arr_end(j);
	json_obj_end(j);
	json_arr_end(j);
	json_obj_end(j);
}

static const char writer_check[] =
	"d['s']=='x\"y' and d['null string'] is None and d['max']==18446744073709551615 "
	"and d['min']==-9223372036854775808 and d['half']==0.5 and d['nan'] is None "
	"and d['t'] is True and d['n'] is None and d['hex']=='00abff' and d['empty']==[] "
	"and d['empty obj']=={} and d['arr']==[1, {'deep': [False]}]";

Test(json, writer_pretty_and_compact)
{
	const char *path = write_doc(writer_doc, true);
	char *s;

	cr_assert(fx_json_ok(path, writer_check));
	path = write_doc(writer_doc, false);
	cr_assert(fx_json_ok(path, writer_check));
	s = slurp(path);
	cr_assert_str_eq(s, "{\"s\":\"x\\\"y\",\"null string\":null,\"max\":18446744073709551615,"
			 "\"min\":-9223372036854775808,\"half\":0.5,\"nan\":null,\"t\":true,"
			 "\"n\":null,\"hex\":\"00abff\",\"empty\":[],\"empty obj\":{},"
			 "\"arr\":[1,{\"deep\":[false]}]}\n");
	free(s);
}

Test(json, misuse_is_reported)
{
	struct json j;
	FILE *f = fopen("/dev/null", "w");

	json_init(&j, f, false);
	json_obj_begin(&j, NULL);
	cr_assert_eq(json_finish(&j), -EINVAL);		/* still open */
	json_init(&j, f, false);
	json_obj_end(&j);				/* nothing open */
	cr_assert_eq(json_finish(&j), -EINVAL);
	json_init(&j, f, false);
	for (int i = 0; i < JSON_MAX_DEPTH + 2; i++)
		json_arr_begin(&j, NULL);
	cr_assert_eq(json_finish(&j), -E2BIG);
	fclose(f);
}

static void vma_doc(struct json *j)
{
	VmaEntry v = VMA_ENTRY__INIT;
	FileIdentity fid = FILE_IDENTITY__INIT;

	json_arr_begin(j, NULL);
	v.start = 0xffffffffff600000ull;
	v.end = 0xffffffffff601000ull;
	v.kind = VMA_KIND__VMA_VSYSCALL;
	v.name = "[vsyscall]";
	json_msg(j, NULL, &v.base);
	v.kind = 99;				/* not in the schema */
	v.name = NULL;
	v.has_madv = true;
	v.madv = 0;
	fid.path = "/lib/a \"quoted\"\npath\xff";
	fid.mtime_ns = -1;
	fid.has_mode = true;
	fid.mode = 0100644;
	v.file = &fid;
	json_msg(j, NULL, &v.base);
	json_arr_end(j);
}

Test(json, enums_optionals_nested)
{
	const char *path = write_doc(vma_doc, true);
	char *s = slurp(path);

	cr_assert(strstr(s, "\"kind\": \"VMA_VSYSCALL\""), "%s", s);
	cr_assert(strstr(s, "\"start\": 18446744073699065856"), "%s", s);
	cr_assert(fx_json_ok(path,
		"d[0]['kind']=='VMA_VSYSCALL' and d[0]['name']=='[vsyscall]' "
		"and d[0]['start']==0xffffffffff600000 and 'madv' not in d[0] "
		"and 'file' not in d[0] and 'deleted' not in d[0] "
		"and d[1]['kind']==99 and 'name' not in d[1] and d[1]['madv']==0 "
		"and d[1]['file']['path']=='/lib/a \"quoted\"\\npath\\u00ff' "
		"and d[1]['file']['mtime_ns']==-1 and d[1]['file']['mode']==0o100644 "
		"and d[0]['guards']==[] "
		"and list(d[0].keys())==['start','end','pgoff','prot','flags','kind','name',"
		"'guards']"));
	free(s);
}

static void core_doc(struct json *j)
{
	TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
	CredsEntry cr = CREDS_ENTRY__INIT;
	SigactionEntry sa[2] = { SIGACTION_ENTRY__INIT, SIGACTION_ENTRY__INIT };
	SigactionEntry *sap[2] = { &sa[0], &sa[1] };
	ThreadCoreEntry th = THREAD_CORE_ENTRY__INIT;
	X86Regs regs = X86_REGS__INIT;
	SiginfoEntry si = SIGINFO_ENTRY__INIT, *sip = &si;
	uint32_t groups[] = { 4, 27 };
	uint8_t xsave[1024], info[128] = { 0x11 };

	memset(xsave, 0xee, sizeof(xsave));
	tc.comm = "name\twith tab";
	tc.personality = 0;
	tc.creds = &cr;
	cr.uid = 1000;
	cr.n_groups = 2;
	cr.groups = groups;
	cr.cap_eff = 0x1ffffffffffull;
	tc.n_sigactions = 2;
	tc.sigactions = sap;
	sa[0].sig = 10;
	sa[0].handler = 0x401136;
	sa[1].sig = 15;
	sa[1].handler = 1;
	th.tid = 4242;
	th.regs = &regs;
	regs.rip = 0x401000;
	th.xsave.len = sizeof(xsave);
	th.xsave.data = xsave;
	th.n_pending = 1;
	th.pending = &sip;
	si.siginfo.len = sizeof(info);
	si.siginfo.data = info;

	json_obj_begin(j, NULL);
	json_obj_begin(j, "core");
	json_msg_fields(j, &tc.base);
	json_arr_begin(j, "threads");
	json_msg(j, NULL, &th.base);
	json_arr_end(j);
	json_obj_end(j);
	json_obj_end(j);
}

Test(json, nested_repeated_bytes_and_merged_fields)
{
	const char *path = write_doc(core_doc, true);

	cr_assert(fx_json_ok(path,
		"d['core']['comm']=='name\\twith tab' and d['core']['creds']['uid']==1000 "
		"and d['core']['creds']['groups']==[4,27] and d['core']['creds']['cap_eff']==0x1ffffffffff "
		"and [s['handler'] for s in d['core']['sigactions']]==[0x401136,1] "
		"and d['core']['rlimits']==[] and d['core']['posix_timers']==[] "
		"and len(d['core']['threads'])==1 and d['core']['threads'][0]['tid']==4242 "
		"and d['core']['threads'][0]['regs']['rip']==0x401000 "
		"and d['core']['threads'][0]['xsave']=='ee'*1024 "
		"and d['core']['threads'][0]['pending'][0]['siginfo']=='11'+'00'*127 "
		"and 'sigaltstack' not in d['core']['threads'][0]"));
}

static void pstree_doc(struct json *j)
{
	PstreeEntry p = PSTREE_ENTRY__INIT;
	int32_t tids[] = { 7, 8 };

	p.pid = 7;
	p.ppid = -1;
	p.state = TASK_STATE__TASK_STOPPED;
	p.n_threads = 2;
	p.threads = tids;
	p.has_stop_signal = true;
	p.stop_signal = 19;
	json_msg(j, NULL, &p.base);
}

Test(json, signed_fields_and_top_level_message)
{
	const char *path = write_doc(pstree_doc, false);
	char *s = slurp(path);

	cr_assert_str_eq(s, "{\"pid\":7,\"ppid\":-1,\"pgid\":0,\"sid\":0,\"threads\":[7,8],"
			 "\"state\":\"TASK_STOPPED\",\"stop_signal\":19}\n");
	cr_assert(fx_json_ok(path, "d['state']=='TASK_STOPPED'"));
	free(s);
}
