/* The tracker interface (track.h): names, what this kernel offers, run
 * lists, and the dispatch of a round to the live backends (soft-dirty.c,
 * uffd-wp.c). The hash tracker has no live state and no backend here: the
 * dump's page path drives it (hash.c). */
#include "daemon/track/track.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/compat.h"
#include "common/util.h"
#include "daemon/kerndat.h"
#include "daemon/track/backend.h"
#include "daemon/vma.h"

static const char *const names[] = {
	[TRACK_NONE] = "none",
	[TRACK_SOFT_DIRTY] = "soft-dirty",
	[TRACK_UFFD_WP] = "uffd-wp",
	[TRACK_HASH] = "hash",
};

const char *track_name(enum track_kind k)
{
	if ((unsigned)k < ARRAY_SIZE(names) && names[k])
		return names[k];
	return "unknown";
}

int track_parse(const char *name, const struct kerndat *kd, enum track_kind *ret)
{
	if (!name)
		return -EINVAL;
	if (strcmp(name, "auto") == 0) {
		if (!kd)
			return -EINVAL;
		*ret = track_auto(kd);
		return 0;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(name, names[i]) == 0) {
			*ret = i;
			return 0;
		}
	return -EINVAL;
}

static const char *uffd_wp_missing(const struct kerndat *kd)
{
	if (!kd->uffd)
		return "userfaultfd() is refused (no CONFIG_USERFAULTFD, or no CAP_SYS_PTRACE "
		       "with vm.unprivileged_userfaultfd=0)";
	if (!kd->uffd_wp_async)
		return "UFFD_FEATURE_WP_ASYNC is refused (Linux < 6.7)";
	if (!kd->uffd_wp_unpopulated)
		return "UFFD_FEATURE_WP_UNPOPULATED is refused (Linux < 6.4)";
	if (!kd->pagemap_scan)
		return "the PAGEMAP_SCAN ioctl is refused (Linux < 6.7)";
	if (!kd->pidfd_getfd)
		return "pidfd_getfd() is refused (Linux < 5.6)";
	return NULL;
}

bool track_available(enum track_kind k, const struct kerndat *kd, const char **why)
{
	const char *missing = NULL;

	switch (k) {
	case TRACK_NONE:
	case TRACK_HASH:
		break;
	case TRACK_SOFT_DIRTY:
		if (!kd->soft_dirty)
			missing = "CONFIG_MEM_SOFT_DIRTY is off: pagemap bit 55 stayed clear "
				  "after a write";
		break;
	case TRACK_UFFD_WP:
		missing = uffd_wp_missing(kd);
		break;
	default:
		missing = "no such tracker";
	}
	if (why)
		*why = missing;
	return !missing;
}

enum track_kind track_auto(const struct kerndat *kd)
{
	if (track_available(TRACK_UFFD_WP, kd, NULL))
		return TRACK_UFFD_WP;
	if (track_available(TRACK_SOFT_DIRTY, kd, NULL))
		return TRACK_SOFT_DIRTY;
	return TRACK_HASH;
}

/* --- run lists ------------------------------------------------------------ */

static int run_list_grow(struct run_list *l)
{
	size_t cap = l->cap ? l->cap * 2 : 64;
	struct page_run *r;

	if (l->nr < l->cap)
		return 0;
	r = realloc(l->r, cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	l->r = r;
	l->cap = cap;
	return 0;
}

/* The common case, in ascending order, costs O(1); an earlier run is
 * inserted in place (O(n)) and merged with what it touches. */
int run_list_add(struct run_list *l, uint64_t start, uint64_t end)
{
	size_t i, j;
	int r;

	if (start >= end)
		return 0;
	if (l->nr && start >= l->r[l->nr - 1].start) {
		struct page_run *last = &l->r[l->nr - 1];

		if (start <= last->end) {
			last->end = MAX(last->end, end);
			return 0;
		}
	} else if (l->nr) {
		/* first run that ends at or after start */
		for (i = 0; i < l->nr && l->r[i].end < start; i++)
			;
		if (i < l->nr && l->r[i].start <= end) {
			l->r[i].start = MIN(l->r[i].start, start);
			l->r[i].end = MAX(l->r[i].end, end);
			for (j = i + 1; j < l->nr && l->r[j].start <= l->r[i].end; j++)
				l->r[i].end = MAX(l->r[i].end, l->r[j].end);
			memmove(&l->r[i + 1], &l->r[j], (l->nr - j) * sizeof(*l->r));
			l->nr -= j - i - 1;
			return 0;
		}
		r = run_list_grow(l);
		if (r < 0)
			return r;
		memmove(&l->r[i + 1], &l->r[i], (l->nr - i) * sizeof(*l->r));
		l->r[i] = (struct page_run){ start, end };
		l->nr++;
		return 0;
	}
	r = run_list_grow(l);
	if (r < 0)
		return r;
	l->r[l->nr++] = (struct page_run){ start, end };
	return 0;
}

void run_list_free(struct run_list *l)
{
	free(l->r);
	l->r = NULL;
	l->nr = l->cap = 0;
}

/* --- helpers the backends share ------------------------------------------- */

int track_read_vmas(pid_t pid, struct vma_list *ret)
{
	_cleanup_free_ char *maps = NULL;
	struct vma_list l = { 0 };
	char path[64], *line, *save = NULL;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	r = read_file_at(AT_FDCWD, path, &maps, NULL);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct vma v = { 0 };

		r = vma_parse_maps_line(line, &v);
		if (r < 0)
			goto fail;
		if (vma_classify(&v) < 0 || vma_is_special(&v) || !vma_wants_pages(&v)) {
			free(v.name);
			continue;
		}
		r = vma_list_push(&l, &v);
		if (r < 0) {
			free(v.name);
			goto fail;
		}
	}
	*ret = l;
	return 0;
fail:
	vma_list_free(&l);
	return r;
}

int track_pagemap(struct track_task *tt)
{
	char path[64];

	if (tt->pagemap >= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", tt->pid);
	tt->pagemap = open(path, O_RDONLY | O_CLOEXEC);
	if (tt->pagemap < 0)
		return errno == ENOENT ? -ESRCH : negerrno();
	return 0;
}

int track_scan_begin(struct track_task *tt, struct vma_list *ret, struct ckpt_err *err)
{
	int r = track_read_vmas(tt->pid, ret);

	if (r < 0)
		return ckpt_fail(err, r, "pid %d: cannot read its VMAs (/proc/%d/maps)",
				 tt->pid, tt->pid);
	r = track_pagemap(tt);
	if (r < 0) {
		vma_list_free(ret);
		return ckpt_fail(err, r, "pid %d: cannot open /proc/%d/pagemap", tt->pid, tt->pid);
	}
	return 0;
}

int track_pagemap_scan(struct track_task *tt, const struct pm_scan_arg *how, uint64_t start,
		       uint64_t end, struct run_list *out)
{
	struct page_region v[TRACK_SCAN_REGIONS];

	while (start < end) {
		struct pm_scan_arg arg = *how;
		long n;

		arg.size = sizeof(arg);
		arg.start = start;
		arg.end = end;
		arg.vec = out ? (uintptr_t)v : 0;
		arg.vec_len = out ? TRACK_SCAN_REGIONS : 0;
		n = ioctl(tt->pagemap, PAGEMAP_SCAN, &arg);
		if (n < 0)
			return negerrno();
		for (long i = 0; out && i < n; i++) {
			int r = run_list_add(out, v[i].start, v[i].end);

			if (r < 0)
				return r;
		}
		if (arg.walk_end <= start)
			return -EIO;	/* no progress: never loop forever */
		start = arg.walk_end;
	}
	return 0;
}

/* --- a round ---------------------------------------------------------------- */

static const struct track_backend *backend_of(enum track_kind k)
{
	switch (k) {
	case TRACK_SOFT_DIRTY:
		return &track_soft_dirty_backend;
	case TRACK_UFFD_WP:
		return &track_uffd_wp_backend;
	default:
		return NULL;
	}
}

int track_task_open(enum track_kind k, const struct kerndat *kd, pid_t pid, bool first,
		    struct track_task **ret, char *lost, size_t lostlen, struct ckpt_err *err)
{
	const struct track_backend *be = backend_of(k);
	_cleanup_free_ struct track_task *tt = NULL;
	char why_lost[256];
	const char *why;
	int r;

	if (!lost || lostlen < 2) {
		lost = why_lost;
		lostlen = sizeof(why_lost);
	}
	lost[0] = '\0';
	if (k == TRACK_HASH)
		return ckpt_fail(err, -EOPNOTSUPP, "pid %d: the hash tracker keeps no live state "
				 "(the dump's page path drives it)", pid);
	if (!be)
		return ckpt_fail(err, -EINVAL, "pid %d: no live tracker \"%s\"", pid, track_name(k));
	if (!track_available(k, kd, &why))
		return ckpt_fail(err, -EOPNOTSUPP, "%s tracking is not available on this kernel "
				 "(%s); use --track %s", track_name(k), why,
				 k == TRACK_SOFT_DIRTY ? "uffd-wp or hash" : "soft-dirty or hash");
	tt = calloc(1, sizeof(*tt));
	if (!tt)
		return -ENOMEM;
	*tt = (struct track_task){ .be = be, .kd = kd, .pid = pid, .pagemap = -1, .uffd = -1 };
	r = be->open(tt, first, lost, lostlen, err);
	if (r < 0 || lost[0]) {
		if (tt->pagemap >= 0)
			close(tt->pagemap);
		if (tt->uffd >= 0)
			close(tt->uffd);
		if (r == 0)
			*ret = NULL;
		return r;
	}
	*ret = TAKE_PTR(tt);
	return 0;
}

bool track_scans_running(enum track_kind k)
{
	const struct track_backend *be = backend_of(k);

	return k == TRACK_NONE || k == TRACK_HASH || (be && be->scans_running);
}

int track_task_collect(struct track_task *tt, struct run_list *out, struct ckpt_err *err)
{
	return tt->be->collect(tt, out, err);
}

int track_task_arm(struct track_task *tt, struct ckpt_err *err)
{
	return tt->be->arm(tt, err);
}

void track_task_close(struct track_task *tt, bool keep)
{
	if (!tt)
		return;
	tt->be->close(tt, keep);
	if (tt->pagemap >= 0)
		close(tt->pagemap);
	if (tt->uffd >= 0)
		close(tt->uffd);
	free(tt);
}

int track_forget(pid_t pid)
{
	return keeper_stop(pid);
}

int track_list(struct track_entry **ret, size_t *ret_nr)
{
	_cleanup_free_ struct keeper *k = NULL;
	struct track_entry *e;
	size_t nr;
	int r;

	r = keeper_list(&k, &nr);
	if (r < 0)
		return r;
	e = nr ? calloc(nr, sizeof(*e)) : NULL;
	if (nr && !e)
		return -ENOMEM;
	for (size_t i = 0; i < nr; i++) {
		e[i].pid = k[i].target;
		e[i].keeper = k[i].pid;
		if (track_parse(k[i].tracker, NULL, &e[i].kind) < 0 || e[i].kind == TRACK_NONE)
			e[i].kind = TRACK_NONE;
	}
	*ret = e;
	*ret_nr = nr;
	return 0;
}
