/* A task's VMAs as /proc/PID/smaps shows them, and the other /proc text
 * mem.c needs (stat's mm fields, auxv). Pure parsers: nothing here opens
 * /proc or prints, so the unit tests feed them fixed strings. */
#ifndef CKPT_VMA_H
#define CKPT_VMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Linux 6.11: a private anonymous mapping the kernel may drop under
 * memory pressure (a mapping type, not a flag: it replaces MAP_PRIVATE) */
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE	0x08
#endif

/* VmFlags mnemonics mem.c cares about (fs/proc/task_mmu.c show_smap_vma_flags) */
enum {
	VMF_RD = 1u << 0,	/* rd: readable */
	VMF_WR = 1u << 1,	/* wr */
	VMF_EX = 1u << 2,	/* ex */
	VMF_SH = 1u << 3,	/* sh: shared */
	VMF_GD = 1u << 4,	/* gd: grows down */
	VMF_PF = 1u << 5,	/* pf: PFN map */
	VMF_IO = 1u << 6,	/* io: memory-mapped I/O */
	VMF_DD = 1u << 7,	/* dd: MADV_DONTDUMP */
	VMF_DC = 1u << 8,	/* dc: MADV_DONTFORK */
	VMF_HG = 1u << 9,	/* hg: MADV_HUGEPAGE */
	VMF_NH = 1u << 10,	/* nh: MADV_NOHUGEPAGE */
	VMF_MG = 1u << 11,	/* mg: MADV_MERGEABLE */
	VMF_WF = 1u << 12,	/* wf: MADV_WIPEONFORK */
	VMF_HT = 1u << 13,	/* ht: hugetlb */
	VMF_NR = 1u << 14,	/* nr: MAP_NORESERVE */
	VMF_LO = 1u << 15,	/* lo: mlocked */
	VMF_MW = 1u << 16,	/* mw: may write (a shared view mprotect may make writable) */
	VMF_DP = 1u << 17,	/* dp: MAP_DROPPABLE */
};

struct vma {
	uint64_t start, end;
	uint64_t pgoff;			/* bytes into the file */
	uint32_t prot;			/* PROT_* */
	uint32_t flags;			/* MAP_* as far as /proc tells */
	int kind;			/* VmaKind (mm.proto); 0 until classified */
	uint32_t vmflags;		/* VMF_* */
	uint64_t madv;			/* (1ull << MADV_*) bits */
	uint32_t dev_major, dev_minor;
	uint64_t ino;
	uint64_t anon_kb, swap_kb;	/* smaps Anonymous:, Swap: */
	uint64_t page_kb;		/* smaps KernelPageSize: (2048 for 2 MiB hugetlb) */
	bool deleted;			/* name ends with " (deleted)" */
	char *name;			/* as maps shows it; "" when none */
};

struct vma_list {
	struct vma *v;
	size_t nr, cap;
};

/* "start-end perms offset major:minor inode   name" into *v (name is
 * allocated; kind is left for vma_classify). 0 or -EINVAL / -ENOMEM. */
int vma_parse_maps_line(const char *line, struct vma *v);
/* The value of a "VmFlags:" line ("rd wr mr mw me gd ac") into VMF_* bits. */
uint32_t vma_parse_vmflags(const char *value);
/* Set kind, flags and madv from name, perms and vmflags. -EOPNOTSUPP for
 * mappings ckpt cannot save (hugetlb, unknown kernel-special areas). */
int vma_classify(struct vma *v);

/* MAP_HUGETLB | MAP_HUGE_<size> for hugetlb pages of page_kb KiB, or 0
 * when page_kb is not a power of two of at least 64. */
uint32_t vma_hugetlb_flags(uint64_t page_kb);

/* Why vma_classify() refused v: "hugetlb memory", ... */
const char *vma_refusal(const struct vma *v);

/* Read a whole smaps stream into l (appending), classifying each VMA.
 * On failure *ret_line (if given) is the 1-based line that was wrong and
 * l holds what was read so far (free it with vma_list_free). */
int vma_list_read_smaps(FILE *f, struct vma_list *l, unsigned *ret_line);
/* Append *v (its name is then the list's); -ENOMEM. */
int vma_list_push(struct vma_list *l, struct vma *v);
void vma_list_free(struct vma_list *l);

/* Kernel-provided areas whose contents are never saved. */
bool vma_is_special(const struct vma *v);
/* Whether the VMA's own pages go into pages-N.img (anonymous memory and
 * the COW copies of private file mappings). */
bool vma_wants_pages(const struct vma *v);
/* Shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS, SysV shm). */
bool vma_is_shared_anon(const struct vma *v);
/* A file behind the mapping (including deleted files and memfds). */
bool vma_has_file(const struct vma *v);

/* The mm fields of /proc/PID/stat. */
struct mm_stat {
	uint64_t start_code, end_code, start_stack;		/* fields 26-28 */
	uint64_t start_data, end_data, start_brk;		/* 45-47 */
	uint64_t arg_start, arg_end, env_start, env_end;	/* 48-51 */
};

/* Parse the text of /proc/PID/stat (comm may hold spaces and parens). */
int mm_parse_stat(const char *text, struct mm_stat *ret);
/* /proc/PID/auxv bytes as u64 pairs up to and including AT_NULL, copied
 * into out (room for max values); their number into *ret_n. -EINVAL if no
 * AT_NULL ends them, -E2BIG if they don't fit. */
int mm_parse_auxv(const void *buf, size_t len, uint64_t *out, size_t max, size_t *ret_n);

#endif
