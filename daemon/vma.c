/* Parsers for the /proc text that describes a task's memory.
 *
 * smaps is read as a stream (never whole: with 65530 VMAs it is tens of
 * MiB); each VMA costs one struct vma and its name, so the list grows with
 * the number of VMAs, never with the amount of memory. */
#include "daemon/vma.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/util.h"
#include "mm.pb-c.h"

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

int vma_parse_maps_line(const char *line, struct vma *v)
{
	char perms[5];
	unsigned long long start, end, off, ino;
	unsigned maj, min;
	const char *name;
	size_t len;
	int n = -1;

	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu%n",
		   &start, &end, perms, &off, &maj, &min, &ino, &n) != 7 || n < 0)
		return -EINVAL;
	if (start >= end || strlen(perms) != 4 || (perms[3] != 'p' && perms[3] != 's'))
		return -EINVAL;

	name = line + n;
	while (*name == ' ' || *name == '\t')
		name++;
	len = strcspn(name, "\n");

	memset(v, 0, sizeof(*v));
	v->name = strndup(name, len);
	if (!v->name)
		return -ENOMEM;
	v->start = start;
	v->end = end;
	v->pgoff = off;
	v->dev_major = maj;
	v->dev_minor = min;
	v->ino = ino;
	v->prot = (perms[0] == 'r' ? PROT_READ : 0) |
		  (perms[1] == 'w' ? PROT_WRITE : 0) |
		  (perms[2] == 'x' ? PROT_EXEC : 0);
	v->flags = perms[3] == 's' ? MAP_SHARED : MAP_PRIVATE;
	v->deleted = path_is_deleted(v->name);
	return 0;
}

static const struct {
	char mn[3];
	uint32_t bit;
} vmflag_names[] = {
	{ "rd", VMF_RD }, { "wr", VMF_WR }, { "ex", VMF_EX }, { "sh", VMF_SH },
	{ "gd", VMF_GD }, { "pf", VMF_PF }, { "io", VMF_IO }, { "dd", VMF_DD },
	{ "dc", VMF_DC }, { "hg", VMF_HG }, { "nh", VMF_NH }, { "mg", VMF_MG },
	{ "wf", VMF_WF }, { "ht", VMF_HT }, { "nr", VMF_NR }, { "lo", VMF_LO },
	{ "mw", VMF_MW }, { "dp", VMF_DP },
};

uint32_t vma_parse_vmflags(const char *value)
{
	uint32_t bits = 0;
	const char *p = value;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n')
			break;
		size_t len = strcspn(p, " \t\n");
		if (len == 2) {
			for (size_t i = 0; i < ARRAY_SIZE(vmflag_names); i++)
				if (!memcmp(p, vmflag_names[i].mn, 2))
					bits |= vmflag_names[i].bit;
		}
		p += len;
	}
	return bits;
}

static const struct {
	uint32_t vmf;
	int advice;
} madv_flags[] = {
	{ VMF_DD, MADV_DONTDUMP }, { VMF_DC, MADV_DONTFORK },
	{ VMF_HG, MADV_HUGEPAGE }, { VMF_NH, MADV_NOHUGEPAGE },
	{ VMF_MG, MADV_MERGEABLE }, { VMF_WF, MADV_WIPEONFORK },
};

/* The kind of an area the kernel names in brackets, or 0 if unknown. */
static int bracket_kind(const struct vma *v)
{
	static const struct {
		const char *name;
		int kind;
	} names[] = {
		{ "[heap]", VMA_KIND__VMA_HEAP },
		{ "[stack]", VMA_KIND__VMA_STACK },
		{ "[vdso]", VMA_KIND__VMA_VDSO },
		{ "[vvar]", VMA_KIND__VMA_VVAR },
		{ "[vvar_vclock]", VMA_KIND__VMA_VVAR_VCLOCK },
		{ "[vsyscall]", VMA_KIND__VMA_VSYSCALL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(v->name, names[i].name))
			return names[i].kind;
	/* prctl(PR_SET_VMA_ANON_NAME) names */
	if (has_prefix(v->name, "[anon_shmem:"))
		return VMA_KIND__VMA_ANON_SHARED;
	if (has_prefix(v->name, "[anon:"))
		return (v->flags & MAP_SHARED) ? VMA_KIND__VMA_ANON_SHARED
					       : VMA_KIND__VMA_ANON_PRIVATE;
	return 0;
}

/* Shared anonymous memory shows as the shmem file behind it: "/dev/zero
 * (deleted)" for mmap(MAP_SHARED|MAP_ANONYMOUS) and for a shared mapping
 * of /dev/zero, "/SYSV<key> (deleted)" for shmat(). */
static bool is_shmem_name(const struct vma *v)
{
	return (v->flags & MAP_SHARED) &&
	       (!strcmp(v->name, "/dev/zero" PATH_DELETED_SUFFIX) ||
		(has_prefix(v->name, "/SYSV") && v->deleted));
}

/* Anonymous hugetlb memory (mmap(MAP_ANONYMOUS|MAP_HUGETLB), private or
 * shared): the kernel names it after its hugetlbfs file. */
static bool is_hugetlb_anon(const struct vma *v)
{
	return !strcmp(v->name, "/anon_hugepage" PATH_DELETED_SUFFIX);
}

/* MAP_HUGETLB with the page size (log2 in the MAP_HUGE_SHIFT bits), or 0
 * for a page size mmap cannot name. */
uint32_t vma_hugetlb_flags(uint64_t page_kb)
{
	unsigned shift = 0;

	if (page_kb < 64 || (page_kb & (page_kb - 1)))
		return 0;
	while ((1ull << shift) < page_kb * 1024)
		shift++;
	return MAP_HUGETLB | ((uint32_t)shift << MAP_HUGE_SHIFT);
}

/* An io_setup() ring (aio): "/[aio] (deleted)", on the aio pseudo-fs. */
static bool is_aio_ring(const struct vma *v)
{
	return !strcmp(v->name, "/[aio]" PATH_DELETED_SUFFIX);
}

int vma_classify(struct vma *v)
{
	bool shared = v->flags & MAP_SHARED;

	/* hugetlb, in pages of the same size from the destination's pool:
	 * private anonymous memory as such, shared anonymous memory as one
	 * object per shmid (restore-files.c), a file on a hugetlbfs mount by
	 * path, a MFD_HUGETLB memfd or an unlinked hugetlbfs file from its
	 * ghost image (restore-hugetlb.c) */
	if ((v->vmflags & VMF_HT) && (v->name[0] != '/' || !vma_hugetlb_flags(v->page_kb)))
		return -EOPNOTSUPP;
	if (v->vmflags & VMF_HT) {
		if (is_hugetlb_anon(v) || is_shmem_name(v))
			v->kind = shared ? VMA_KIND__VMA_ANON_SHARED : VMA_KIND__VMA_ANON_PRIVATE;
		else
			v->kind = shared ? VMA_KIND__VMA_FILE_SHARED : VMA_KIND__VMA_FILE_PRIVATE;
		v->flags |= vma_hugetlb_flags(v->page_kb);
		if (!vma_has_file(v))
			v->flags |= MAP_ANONYMOUS;
		goto flags;
	}
	if (v->name[0] == '[') {
		v->kind = bracket_kind(v);
		if (!v->kind)
			return -EOPNOTSUPP;
	} else if (!v->name[0]) {
		v->kind = shared ? VMA_KIND__VMA_ANON_SHARED : VMA_KIND__VMA_ANON_PRIVATE;
	} else if (v->name[0] != '/' || is_aio_ring(v)) {
		return -EOPNOTSUPP;	/* anon_inode:..., socket:...: driver memory */
	} else if (is_shmem_name(v)) {
		v->kind = VMA_KIND__VMA_ANON_SHARED;
	} else {
		v->kind = shared ? VMA_KIND__VMA_FILE_SHARED : VMA_KIND__VMA_FILE_PRIVATE;
	}

	switch (v->kind) {
	case VMA_KIND__VMA_ANON_PRIVATE:
	case VMA_KIND__VMA_ANON_SHARED:
	case VMA_KIND__VMA_STACK:
	case VMA_KIND__VMA_HEAP:
		v->flags |= MAP_ANONYMOUS;
		break;
	}
flags:
	if (v->vmflags & VMF_GD)
		v->flags |= MAP_GROWSDOWN;
	if (v->vmflags & VMF_NR)
		v->flags |= MAP_NORESERVE;
	if (v->vmflags & VMF_LO)
		v->flags |= MAP_LOCKED;		/* mlock()ed: map it locked again */
	if ((v->vmflags & VMF_DP) && v->kind == VMA_KIND__VMA_ANON_PRIVATE)
		v->flags |= MAP_DROPPABLE;	/* mapped droppable again */
	v->madv = 0;
	for (size_t i = 0; i < ARRAY_SIZE(madv_flags); i++)
		if (v->vmflags & madv_flags[i].vmf)
			v->madv |= 1ull << madv_flags[i].advice;
	return 0;
}

const char *vma_refusal(const struct vma *v)
{
	if (v->vmflags & VMF_HT)
		return "hugetlb memory of a page size mmap() cannot ask for, or not backed by a "
		       "file ckpt can name, cannot be restored; unmap it before the dump";
	if (v->name[0] == '[')
		return "a kernel-provided area ckpt does not know";
	if (is_aio_ring(v))
		return "an io_setup() aio ring, which ckpt cannot restore; io_destroy() it "
		       "before the dump";
	return "driver memory (anon_inode, socket or device) cannot be recreated";
}

bool vma_is_special(const struct vma *v)
{
	switch (v->kind) {
	case VMA_KIND__VMA_VDSO:
	case VMA_KIND__VMA_VVAR:
	case VMA_KIND__VMA_VVAR_VCLOCK:
	case VMA_KIND__VMA_VSYSCALL:
		return true;
	}
	return false;
}

bool vma_wants_pages(const struct vma *v)
{
	if (v->vmflags & (VMF_IO | VMF_PF))
		return false;	/* device memory: no struct pages to copy */
	switch (v->kind) {
	case VMA_KIND__VMA_ANON_PRIVATE:
	case VMA_KIND__VMA_STACK:
	case VMA_KIND__VMA_HEAP:
	case VMA_KIND__VMA_FILE_PRIVATE:
		return true;
	}
	return false;
}

bool vma_is_shared_anon(const struct vma *v)
{
	return v->kind == VMA_KIND__VMA_ANON_SHARED;
}

bool vma_has_file(const struct vma *v)
{
	return v->kind == VMA_KIND__VMA_FILE_PRIVATE || v->kind == VMA_KIND__VMA_FILE_SHARED;
}

int vma_list_push(struct vma_list *l, struct vma *v)
{
	if (l->nr == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct vma *nv = realloc(l->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->nr++] = *v;
	return 0;
}

void vma_list_free(struct vma_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		free(l->v[i].name);
	free(l->v);
	l->v = NULL;
	l->nr = l->cap = 0;
}

/* A header line starts "hex-hex "; field lines start "Key:". */
static bool is_vma_header(const char *line)
{
	const char *p = line;

	while (isxdigit((unsigned char)*p))
		p++;
	return p != line && *p == '-';
}

static int parse_kb(const char *value, uint64_t *ret)
{
	char *end;
	unsigned long long kb;

	errno = 0;
	kb = strtoull(value, &end, 10);
	if (errno || end == value)
		return -EINVAL;
	*ret = kb;
	return 0;
}

/* One "Key: value" line of the VMA being read. Unknown keys are fine:
 * smaps grows fields over kernel versions. */
static int parse_smaps_field(const char *line, struct vma *v)
{
	const char *colon = strchr(line, ':');
	const char *value;

	if (!colon)
		return -EINVAL;
	value = colon + 1;
	if (has_prefix(line, "VmFlags:"))
		v->vmflags = vma_parse_vmflags(value);
	else if (has_prefix(line, "Anonymous:"))
		return parse_kb(value, &v->anon_kb);
	else if (has_prefix(line, "Swap:"))
		return parse_kb(value, &v->swap_kb);
	else if (has_prefix(line, "KernelPageSize:"))
		return parse_kb(value, &v->page_kb);
	return 0;
}

int vma_list_read_smaps(FILE *f, struct vma_list *l, unsigned *ret_line)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0, head_line = 0;
	struct vma *cur = NULL;
	int r = 0;

	for (;;) {
		errno = 0;
		ssize_t n = getline(&line, &cap, f);
		if (n < 0) {
			if (errno)
				r = negerrno();
			break;
		}
		lineno++;
		if (is_vma_header(line)) {
			struct vma v;

			if (cur) {
				r = vma_classify(cur);
				if (r < 0) {
					lineno = head_line;
					break;
				}
			}
			r = vma_parse_maps_line(line, &v);
			if (r < 0)
				break;
			if (l->nr && v.start < l->v[l->nr - 1].end) {
				free(v.name);
				r = -EINVAL;	/* not in address order */
				break;
			}
			r = vma_list_push(l, &v);
			if (r < 0) {
				free(v.name);
				break;
			}
			cur = &l->v[l->nr - 1];
			head_line = lineno;
			continue;
		}
		if (!cur) {
			r = -EINVAL;
			break;
		}
		r = parse_smaps_field(line, cur);
		if (r < 0)
			break;
	}
	if (!r && cur) {
		r = vma_classify(cur);
		lineno = head_line;
	}
	if (r < 0 && ret_line)
		*ret_line = lineno;
	return r;
}

/* Fields are numbered from 1 as in proc(5); parsing starts after the last
 * ')' that closes comm (field 2), at field 3. */
int mm_parse_stat(const char *text, struct mm_stat *ret)
{
	static const struct {
		unsigned field;
		size_t off;
	} want[] = {
		{ 26, offsetof(struct mm_stat, start_code) },
		{ 27, offsetof(struct mm_stat, end_code) },
		{ 28, offsetof(struct mm_stat, start_stack) },
		{ 45, offsetof(struct mm_stat, start_data) },
		{ 46, offsetof(struct mm_stat, end_data) },
		{ 47, offsetof(struct mm_stat, start_brk) },
		{ 48, offsetof(struct mm_stat, arg_start) },
		{ 49, offsetof(struct mm_stat, arg_end) },
		{ 50, offsetof(struct mm_stat, env_start) },
		{ 51, offsetof(struct mm_stat, env_end) },
	};
	struct mm_stat st = { 0 };
	const char *p = strrchr(text, ')');
	unsigned field = 3;
	size_t w = 0;

	if (!p)
		return -EINVAL;
	p++;
	while (w < ARRAY_SIZE(want)) {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			return -EINVAL;	/* too few fields */
		size_t len = strcspn(p, " \n");
		if (field == want[w].field) {
			char *end;
			unsigned long long x;

			errno = 0;
			x = strtoull(p, &end, 10);
			if (errno || end != p + len)
				return -EINVAL;
			*(uint64_t *)((char *)&st + want[w].off) = x;
			w++;
		}
		p += len;
		field++;
	}
	*ret = st;
	return 0;
}

int mm_parse_auxv(const void *buf, size_t len, uint64_t *out, size_t max, size_t *ret_n)
{
	const unsigned char *b = buf;
	size_t n = len / 8;

	for (size_t i = 0; i + 1 < n; i += 2) {
		uint64_t type, val;

		memcpy(&type, b + i * 8, 8);
		memcpy(&val, b + i * 8 + 8, 8);
		if (i + 2 > max)
			return -E2BIG;
		out[i] = type;
		out[i + 1] = val;
		if (type == 0) {	/* AT_NULL */
			*ret_n = i + 2;
			return 0;
		}
	}
	return -EINVAL;
}
