/* daemon/vma.c: maps/smaps/stat/auxv parsers on fixed text. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/util.h"
#include "daemon/pagescan.h"
#include "daemon/vma.h"
#include "mm.pb-c.h"

static struct vma parse(const char *line)
{
	struct vma v;

	cr_assert_eq(vma_parse_maps_line(line, &v), 0, "line: %s", line);
	return v;
}

Test(vma, maps_line_file)
{
	struct vma v = parse("7fc2c1c96000-7fc2c1dec000 r-xp 00026000 fe:00 332835"
			     "                     /usr/lib/x86_64-linux-gnu/libc.so.6\n");

	cr_assert_eq(v.start, 0x7fc2c1c96000ull);
	cr_assert_eq(v.end, 0x7fc2c1dec000ull);
	cr_assert_eq(v.pgoff, 0x26000ull);
	cr_assert_eq(v.prot, PROT_READ | PROT_EXEC);
	cr_assert_eq(v.flags, MAP_PRIVATE);
	cr_assert_eq(v.dev_major, 0xfe);
	cr_assert_eq(v.dev_minor, 0);
	cr_assert_eq(v.ino, 332835);
	cr_assert_str_eq(v.name, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	cr_assert_not(v.deleted);
	free(v.name);
}

Test(vma, maps_line_anon_and_spaces)
{
	struct vma v = parse("7fc2c1bed000-7fc2c1c0f000 rw-p 00000000 00:00 0 \n");

	cr_assert_str_eq(v.name, "");
	cr_assert_eq(v.prot, PROT_READ | PROT_WRITE);
	free(v.name);

	v = parse("10000-11000 rw-s 00001000 00:05 12 /tmp/a file with  spaces (deleted)");
	cr_assert_str_eq(v.name, "/tmp/a file with  spaces (deleted)");
	cr_assert_eq(v.flags, MAP_SHARED);
	cr_assert(v.deleted);
	free(v.name);

	v = parse("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]");
	cr_assert_eq(v.prot, PROT_EXEC);
	cr_assert_str_eq(v.name, "[vsyscall]");
	free(v.name);
}

Test(vma, maps_line_bad)
{
	struct vma v;

	cr_assert_eq(vma_parse_maps_line("", &v), -EINVAL);
	cr_assert_eq(vma_parse_maps_line("Size: 4 kB", &v), -EINVAL);
	cr_assert_eq(vma_parse_maps_line("2000-1000 rw-p 0 00:00 0", &v), -EINVAL);
	cr_assert_eq(vma_parse_maps_line("1000-2000 rw-x 0 00:00 0", &v), -EINVAL);
	cr_assert_eq(vma_parse_maps_line("1000-2000 rw-p 0 00:00", &v), -EINVAL);
}

Test(vma, vmflags)
{
	uint32_t f = vma_parse_vmflags(" rd wr mr mw me gd ac dd dc hg nh mg wf xx abc \n");

	cr_assert_eq(f, VMF_RD | VMF_WR | VMF_MW | VMF_GD | VMF_DD | VMF_DC | VMF_HG | VMF_NH |
			VMF_MG | VMF_WF);
	cr_assert_eq(vma_parse_vmflags("rd wr mr mw me wf dp"),
		     VMF_RD | VMF_WR | VMF_MW | VMF_WF | VMF_DP);
	cr_assert_eq(vma_parse_vmflags(""), 0);
	cr_assert_eq(vma_parse_vmflags("rd mr pf io de dd"), VMF_RD | VMF_PF | VMF_IO | VMF_DD);
}

static struct vma classified(const char *line, const char *vmflags)
{
	struct vma v = parse(line);

	v.vmflags = vma_parse_vmflags(vmflags);
	cr_assert_eq(vma_classify(&v), 0, "line: %s", line);
	return v;
}

Test(vma, classify_kinds)
{
	static const struct {
		const char *line;
		int kind;
		bool pages, special;
	} cases[] = {
		{ "1000-2000 rw-p 0 00:00 0 ", VMA_KIND__VMA_ANON_PRIVATE, true, false },
		{ "1000-2000 rw-p 0 00:00 0 [heap]", VMA_KIND__VMA_HEAP, true, false },
		{ "1000-2000 rw-p 0 00:00 0 [anon:arena]", VMA_KIND__VMA_ANON_PRIVATE, true, false },
		{ "1000-2000 rw-s 0 00:01 7 /dev/zero (deleted)", VMA_KIND__VMA_ANON_SHARED, false, false },
		{ "1000-2000 rw-s 0 00:01 8 /SYSV00001234 (deleted)", VMA_KIND__VMA_ANON_SHARED, false, false },
		{ "1000-2000 rw-s 0 00:01 9 [anon_shmem:x]", VMA_KIND__VMA_ANON_SHARED, false, false },
		{ "1000-2000 rw-p 0 00:05 3 /dev/zero", VMA_KIND__VMA_FILE_PRIVATE, true, false },
		{ "1000-2000 r--p 1000 fe:00 4 /bin/true", VMA_KIND__VMA_FILE_PRIVATE, true, false },
		{ "1000-2000 rw-s 0 fe:00 4 /data", VMA_KIND__VMA_FILE_SHARED, false, false },
		{ "1000-2000 rw-s 0 00:01 5 /memfd:buf (deleted)", VMA_KIND__VMA_FILE_SHARED, false, false },
		{ "1000-2000 r--p 0 00:00 0 [vvar]", VMA_KIND__VMA_VVAR, false, true },
		{ "1000-2000 r--p 0 00:00 0 [vvar_vclock]", VMA_KIND__VMA_VVAR_VCLOCK, false, true },
		{ "1000-2000 r-xp 0 00:00 0 [vdso]", VMA_KIND__VMA_VDSO, false, true },
		{ "1000-2000 --xp 0 00:00 0 [vsyscall]", VMA_KIND__VMA_VSYSCALL, false, true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vma v = classified(cases[i].line, "rd mr");

		cr_expect_eq(v.kind, cases[i].kind, "%s: kind %d", cases[i].line, v.kind);
		cr_expect_eq(vma_wants_pages(&v), cases[i].pages, "%s", cases[i].line);
		cr_expect_eq(vma_is_special(&v), cases[i].special, "%s", cases[i].line);
		free(v.name);
	}
}

Test(vma, classify_flags_and_madvise)
{
	struct vma v = classified("7ffc21e0d000-7ffc21e2e000 rw-p 00000000 00:00 0 [stack]",
				  "rd wr mr mw me gd ac");

	cr_assert_eq(v.kind, VMA_KIND__VMA_STACK);
	cr_assert_eq(v.flags, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN);
	cr_assert_eq(v.madv, 0);
	free(v.name);

	v = classified("1000-2000 rw-p 0 00:00 0 ", "rd wr mr mw me nr dd dc hg mg wf");
	cr_assert_eq(v.flags, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
	cr_assert_eq(v.madv, (1ull << MADV_DONTDUMP) | (1ull << MADV_DONTFORK) |
			     (1ull << MADV_HUGEPAGE) | (1ull << MADV_MERGEABLE) |
			     (1ull << MADV_WIPEONFORK));
	free(v.name);

	v = classified("1000-2000 rw-p 0 00:00 0 ", "rd wr lo");
	cr_assert_eq(v.flags, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED);
	free(v.name);

	v = classified("1000-2000 rw-p 0 00:00 0 ", "rd wr nh");
	cr_assert_eq(v.madv, 1ull << MADV_NOHUGEPAGE);
	free(v.name);

	/* device memory: never read its pages */
	v = classified("1000-2000 rw-p 0 00:05 3 /dev/mem", "rd wr io pf");
	cr_assert_not(vma_wants_pages(&v));
	free(v.name);
}

Test(vma, classify_refused)
{
	static const char *const lines[] = {
		"1000-2000 r-xp 0 00:00 0 [uprobes]",
		"1000-2000 rw-s 0 00:0e 17 anon_inode:[io_uring]",
		"1000-2000 rw-s 0 00:08 44 socket:[1234]",
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct vma v = parse(lines[i]);

		cr_expect_eq(vma_classify(&v), -EOPNOTSUPP, "%s", lines[i]);
		cr_expect(strstr(vma_refusal(&v), i ? "driver memory" : "kernel-provided"));
		free(v.name);
	}

	struct vma v = parse("1000-2000 rw-p 0 00:10 3 /anon_hugepage (deleted)");
	v.vmflags = vma_parse_vmflags("rd wr ht");
	cr_expect_eq(vma_classify(&v), -EOPNOTSUPP);
	cr_expect(strstr(vma_refusal(&v), "hugetlb"));
	free(v.name);
}

/* hugetlb: private anonymous memory of a known page size is anonymous
 * private memory mapped MAP_HUGETLB with its size; shared anonymous memory
 * is one shared object, a memfd or a hugetlbfs file a file mapping, each
 * with its page size; a page size mmap cannot name is refused by name. */
Test(vma, classify_hugetlb)
{
	static const struct {
		const char *line;
		int kind;
	} kinds[] = {
		{ "200000-400000 rw-s 0 00:10 3 /anon_hugepage (deleted)", VMA_KIND__VMA_ANON_SHARED },
		{ "200000-400000 rw-s 0 00:10 4 /memfd:big (deleted)", VMA_KIND__VMA_FILE_SHARED },
		{ "200000-400000 rw-p 0 00:10 4 /memfd:big (deleted)", VMA_KIND__VMA_FILE_PRIVATE },
		{ "200000-400000 rw-s 0 00:2a 5 /mnt/huge/f", VMA_KIND__VMA_FILE_SHARED },
	};
	struct vma v = parse("200000-600000 rw-p 0 00:10 3 /anon_hugepage (deleted)");

	v.vmflags = vma_parse_vmflags("rd wr mr mw me de ht");
	v.page_kb = 2048;
	cr_assert_eq(vma_classify(&v), 0);
	cr_expect_eq(v.kind, VMA_KIND__VMA_ANON_PRIVATE);
	cr_expect_eq(v.flags, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (21u << MAP_HUGE_SHIFT));
	free(v.name);
	cr_expect_eq(vma_hugetlb_flags(1048576), MAP_HUGETLB | (30u << MAP_HUGE_SHIFT));
	cr_expect_eq(vma_hugetlb_flags(4), 0);
	cr_expect_eq(vma_hugetlb_flags(3000), 0);

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		v = parse(kinds[i].line);
		v.vmflags = vma_parse_vmflags("rd wr sh mr mw me ms de ht");
		v.page_kb = 2048;
		cr_expect_eq(vma_classify(&v), 0, "%s", kinds[i].line);
		cr_expect_eq(v.kind, kinds[i].kind, "%s", kinds[i].line);
		cr_expect(v.flags & MAP_HUGETLB, "%s", kinds[i].line);
		cr_expect_eq(!!(v.flags & MAP_ANONYMOUS), kinds[i].kind == VMA_KIND__VMA_ANON_SHARED,
			     "%s", kinds[i].line);
		free(v.name);
	}
	v = parse(kinds[0].line);
	v.vmflags = vma_parse_vmflags("rd wr sh ht");
	v.page_kb = 3000;
	cr_expect_eq(vma_classify(&v), -EOPNOTSUPP);
	cr_expect(strstr(vma_refusal(&v), "hugetlb"));
	free(v.name);
}

/* MAP_DROPPABLE: private anonymous memory mapped droppable again. */
Test(vma, classify_droppable)
{
	struct vma v = parse("1000-5000 rw-p 0 00:00 0 ");

	v.vmflags = vma_parse_vmflags("rd wr mr mw me nr wf dp");
	cr_assert_eq(vma_classify(&v), 0);
	cr_expect_eq(v.kind, VMA_KIND__VMA_ANON_PRIVATE);
	cr_expect(v.flags & MAP_DROPPABLE);
	cr_expect(v.madv & (1ull << MADV_WIPEONFORK));
	free(v.name);
}

static const char smaps_text[] =
	"55ba653f8000-55ba653fa000 r--p 00000000 fe:00 247134                     /usr/bin/cat\n"
	"Size:                  8 kB\n"
	"Rss:                   8 kB\n"
	"Anonymous:             0 kB\n"
	"Swap:                  0 kB\n"
	"THPeligible:           0\n"
	"VmFlags: rd mr mw me \n"
	"55ba6e0b7000-55ba6e0d8000 rw-p 00000000 00:00 0                          [heap]\n"
	"Size:                132 kB\n"
	"Anonymous:            12 kB\n"
	"Swap:                  8 kB\n"
	"VmFlags: rd wr mr mw me ac \n"
	"7fadd2ff6000-7fadd2ffa000 r--p 00000000 00:00 0                          [vvar]\n"
	"Size:                 16 kB\n"
	"VmFlags: rd mr pf io de dd \n"
	"7ffe63721000-7ffe63742000 rw-p 00000000 00:00 0                          [stack]\n"
	"Anonymous:            16 kB\n"
	"VmFlags: rd wr mr mw me gd ac \n";

static int read_smaps(const char *text, struct vma_list *l, unsigned *line)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	cr_assert(f);
	r = vma_list_read_smaps(f, l, line);
	fclose(f);
	return r;
}

Test(vma, smaps_list)
{
	struct vma_list l = { 0 };

	cr_assert_eq(read_smaps(smaps_text, &l, NULL), 0);
	cr_assert_eq(l.nr, 4);
	cr_assert_eq(l.v[0].kind, VMA_KIND__VMA_FILE_PRIVATE);
	cr_assert_eq(l.v[1].kind, VMA_KIND__VMA_HEAP);
	cr_assert_eq(l.v[1].anon_kb, 12);
	cr_assert_eq(l.v[1].swap_kb, 8);
	cr_assert_eq(l.v[2].kind, VMA_KIND__VMA_VVAR);
	cr_assert_eq(l.v[2].madv, 1ull << MADV_DONTDUMP);
	cr_assert_eq(l.v[3].kind, VMA_KIND__VMA_STACK);
	cr_assert(l.v[3].flags & MAP_GROWSDOWN);
	cr_assert_eq(l.v[3].anon_kb, 16);
	vma_list_free(&l);
	cr_assert_eq(l.nr, 0);
}

Test(vma, smaps_errors)
{
	struct vma_list l = { 0 };
	unsigned line = 0;

	/* a field before any VMA */
	cr_assert_eq(read_smaps("Size: 4 kB\n", &l, &line), -EINVAL);
	cr_assert_eq(line, 1);
	vma_list_free(&l);

	/* a bad number */
	cr_assert_eq(read_smaps("1000-2000 rw-p 0 00:00 0\nAnonymous: x kB\n", &l, &line), -EINVAL);
	cr_assert_eq(line, 2);
	vma_list_free(&l);

	/* out of order */
	cr_assert_eq(read_smaps("3000-4000 rw-p 0 00:00 0\n1000-2000 rw-p 0 00:00 0\n",
				&l, &line), -EINVAL);
	cr_assert_eq(line, 2);
	vma_list_free(&l);

	/* an unknown special area names its header line */
	cr_assert_eq(read_smaps("1000-2000 rw-p 0 00:00 0\nVmFlags: rd\n"
				"3000-4000 r-xp 0 00:00 0 [uprobes]\nVmFlags: rd ex\n"
				"5000-6000 rw-p 0 00:00 0\n", &l, &line), -EOPNOTSUPP);
	cr_assert_eq(line, 3);
	cr_assert_str_eq(l.v[l.nr - 1].name, "[uprobes]");
	vma_list_free(&l);
}

Test(vma, stat_fields)
{
	/* comm with spaces and parentheses; fields 3..52 */
	static const char text[] =
		"1234 (a) b (c) S 1 1234 1234 0 -1 4194304 100 0 0 0 1 2 0 0 20 0 1 0 "
		"555 1000000 200 18446744073709551615 "
		"94000000000000 94000000100000 140730000000000 "
		"0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 "
		"94000000200000 94000000210000 94000001000000 "
		"140730000010000 140730000010100 140730000010100 140730000010200 0\n";
	struct mm_stat st;

	cr_assert_eq(mm_parse_stat(text, &st), 0);
	cr_assert_eq(st.start_code, 94000000000000ull);
	cr_assert_eq(st.end_code, 94000000100000ull);
	cr_assert_eq(st.start_stack, 140730000000000ull);
	cr_assert_eq(st.start_data, 94000000200000ull);
	cr_assert_eq(st.end_data, 94000000210000ull);
	cr_assert_eq(st.start_brk, 94000001000000ull);
	cr_assert_eq(st.arg_start, 140730000010000ull);
	cr_assert_eq(st.arg_end, 140730000010100ull);
	cr_assert_eq(st.env_start, 140730000010100ull);
	cr_assert_eq(st.env_end, 140730000010200ull);

	cr_assert_eq(mm_parse_stat("1234 (x) S 1 2 3\n", &st), -EINVAL);
	cr_assert_eq(mm_parse_stat("no parens", &st), -EINVAL);
}

Test(vma, auxv)
{
	uint64_t in[] = { 33, 0x7fff0000, 6, 4096, 0, 0, 99, 99 }, out[8];
	size_t n = 0;

	cr_assert_eq(mm_parse_auxv(in, sizeof(in), out, 8, &n), 0);
	cr_assert_eq(n, 6);
	cr_assert_eq(out[1], 0x7fff0000);
	cr_assert_eq(out[3], 4096);
	cr_assert_eq(mm_parse_auxv(in, 4 * 8, out, 8, &n), -EINVAL);	/* no AT_NULL */
	cr_assert_eq(mm_parse_auxv(in, sizeof(in), out, 4, &n), -E2BIG);
}

Test(vma, pagemap_word_selection)
{
	const uint64_t present = 1ull << 63, swapped = 1ull << 62, file = 1ull << 61;

	cr_assert(pagescan_word_wanted(present | 1234, 77));
	cr_assert(pagescan_word_wanted(swapped | 77, 77));	/* swap entry, not a PFN */
	cr_assert_not(pagescan_word_wanted(present | 77, 77));	/* the zero page */
	cr_assert(pagescan_word_wanted(present, 0));		/* PFNs hidden */
	cr_assert_not(pagescan_word_wanted(present | file | 5, 77));
	cr_assert_not(pagescan_word_wanted(0, 77));
	cr_assert_not(pagescan_word_wanted(1ull << 55, 77));	/* soft-dirty only */
}

/* The one " (deleted)" helper (common/util.c) maps, fd links and restore use. */
Test(vma, path_deleted_suffix)
{
	char a[] = "/tmp/x (deleted)", b[] = "/tmp/x", c[] = " (deleted)",
	     d[] = "/tmp/x (deleted) (deleted)";

	cr_assert(path_is_deleted(a) && path_strip_deleted(a));
	cr_assert_str_eq(a, "/tmp/x");
	cr_assert(!path_is_deleted(b) && !path_strip_deleted(b));
	cr_assert_str_eq(b, "/tmp/x");
	cr_assert(!path_strip_deleted(c), "no name left: not a deleted file's");
	cr_assert(path_strip_deleted(d));
	cr_assert_str_eq(d, "/tmp/x (deleted)", "only the kernel's suffix goes");
}
