/* Restore, phase 1: read the whole image set and check every field before
 * anything is created. A bad image is refused naming the file and offset
 * (img_errmsg / pager_errmsg) or the pid and field that is out of bounds. */
#include "daemon/restore-int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "common/util.h"
#include "daemon/proc.h"
#include "daemon/restore-creds.h"
#include "images/img.h"


#define RST_MAX_TASKS	4096u
#define RST_MAX_THREADS	4096u
#define RST_MAX_VMAS	65536u
#define RST_MAX_FDS	65536u
#define RST_MAX_FD	(1u << 20)
#define RST_MAX_DESCS	(1u << 20)
#define RST_TASK_SIZE	0x7ffffffff000ull	/* x86-64 4-level user space */
#define RST_XSAVE_MAX	(64u << 10)

/* Read every record of (kind, id) into *ret (head first), at most max. */
static int read_records(struct rst_ctx *ctx, enum img_kind kind, unsigned id, unsigned max,
			ProtobufCMessage ***ret, unsigned *nr)
{
	ProtobufCMessage **v = NULL, *m;
	struct img *img = NULL;
	unsigned n = 0, cap = 0;
	char name[64];
	int r;

	img_filename(kind, id, name, sizeof(name));
	r = img_open(ctx->dirfd, kind, id, &img);
	if (r < 0) {
		/* -ENODATA: the set is incomplete, which ckptctl tells apart
		 * from a file the set refers to being gone (-ENOENT) */
		if (r == -ENOENT)
			r = ckpt_fail(ctx->err, -ENODATA, "%s is missing from the image set", name);
		else
			r = ckpt_fail(ctx->err, r, "%s", img ? img_errmsg(img) : name);
		goto out;
	}
	for (;;) {
		r = img_read_next(img, &m);
		if (r < 0) {
			r = ckpt_fail(ctx->err, r, "%s", img_errmsg(img));
			goto out;
		}
		if (!m)
			break;
		if (n == max) {
			protobuf_c_message_free_unpacked(m, NULL);
			r = ckpt_fail(ctx->err, -EBADMSG, "%s at offset %lld: more than %u records",
				      name, (long long)img_offset(img), max);
			goto out;
		}
		if (n == cap) {
			ProtobufCMessage **nv;

			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				protobuf_c_message_free_unpacked(m, NULL);
				r = -ENOMEM;
				goto out;
			}
			v = nv;
		}
		v[n++] = m;
	}
	if (n == 0 && kind != IMG_FILES) {
		r = ckpt_fail(ctx->err, -EBADMSG, "%s holds no record", name);
		goto out;
	}
	*ret = v;
	*nr = n;
	v = NULL;
	n = 0;
out:
	for (unsigned i = 0; i < n; i++)
		protobuf_c_message_free_unpacked(v[i], NULL);
	free(v);
	if (img)
		img_close(img);
	return r;
}

static int load_inventory(struct rst_ctx *ctx)
{
	ProtobufCMessage **v;
	InventoryEntry *inv;
	unsigned n;
	uint64_t missing;
	int r;

	r = read_records(ctx, IMG_INVENTORY, 0, 1, &v, &n);
	if (r < 0)
		return r;
	inv = ctx->inv = (InventoryEntry *)v[0];
	free(v);
	if (inv->format_version > IMG_FORMAT_VERSION)
		return ckpt_fail(ctx->err, -EPROTONOSUPPORT,
				 "inventory.img: format version %u is newer than this ckpt reads (%u)",
				 inv->format_version, IMG_FORMAT_VERSION);
	if (inv->format_version == 0)
		return ckpt_fail(ctx->err, -EBADMSG, "inventory.img: format version 0 is invalid");
	if (inv->kind == DUMP_KIND__DUMP_PRE)
		return ckpt_fail(ctx->err, -EINVAL,
				 "inventory.img: this is a pre-dump; restore its final dump instead");
	if (inv->page_size != ctx->page_size)
		return ckpt_fail(ctx->err, -EINVAL,
				 "inventory.img: page size %u differs from this machine's %ld",
				 inv->page_size, ctx->page_size);
	missing = inv->xfeatures & ~ctx->kd->xfeatures;
	if (missing)
		return ckpt_fail(ctx->err, -EOPNOTSUPP,
				 "inventory.img: the image needs xsave features 0x%llx (XCR0 bits "
				 "0x%llx missing); this CPU has 0x%llx",
				 (unsigned long long)inv->xfeatures, (unsigned long long)missing,
				 (unsigned long long)ctx->kd->xfeatures);
	if (inv->xsave_size > RST_XSAVE_MAX)
		return ckpt_fail(ctx->err, -EBADMSG, "inventory.img: xsave size %u is too large",
				 inv->xsave_size);
	if (inv->nr_tasks == 0 || inv->nr_tasks > RST_MAX_TASKS)
		return ckpt_fail(ctx->err, -EBADMSG, "inventory.img: %u tasks is out of bounds",
				 inv->nr_tasks);
	return 0;
}

struct rst_task *rst_find(struct rst_ctx *ctx, pid_t pid)
{
	for (unsigned i = 0; i < ctx->nr_tasks; i++)
		if (ctx->tasks[i].pe->pid == pid)
			return &ctx->tasks[i];
	return NULL;
}

static bool pid_ok(int32_t pid)
{
	return pid > 0 && pid < (1 << 22);
}

/* A group or session id of 0: its leader is not visible to the dumper
 * (outside its pid namespace, as for a container's shell) or there is none
 * (session 0 of a PID 1 that never called setsid, as on some CI runners).
 * Such a task joins the restorer's group and session, like any leader
 * outside the tree. */
static bool pgid_ok(int32_t id)
{
	return id == 0 || pid_ok(id);
}

/* One pstree entry's own fields. */
static int check_pstree_entry(struct rst_ctx *ctx, PstreeEntry *pe)
{
	if (!pid_ok(pe->pid) || pe->ppid < 0 || !pgid_ok(pe->pgid) || !pgid_ok(pe->sid))
		return ckpt_fail(ctx->err, -EBADMSG,
				 "pstree.img: pid %d: pid/ppid/pgid/sid out of bounds", pe->pid);
	switch (pe->state) {
	case TASK_STATE__TASK_ZOMBIE:
		if (!pe->has_exit_code)
			return ckpt_fail(ctx->err, -EBADMSG,
					 "pstree.img: zombie %d has no exit status", pe->pid);
		if (!WIFEXITED(pe->exit_code) && !WIFSIGNALED(pe->exit_code))
			return ckpt_fail(ctx->err, -EBADMSG,
					 "pstree.img: zombie %d: wait status 0x%x is neither an exit "
					 "nor a signal", pe->pid, pe->exit_code);
		if (WIFSIGNALED(pe->exit_code) &&
		    (WTERMSIG(pe->exit_code) == SIGSTOP || WTERMSIG(pe->exit_code) > SIGRTMAX))
			return ckpt_fail(ctx->err, -EBADMSG, "pstree.img: zombie %d: bad signal %d",
					 pe->pid, WTERMSIG(pe->exit_code));
		return 0;
	case TASK_STATE__TASK_STOPPED:
		if (!pe->has_stop_signal || pe->stop_signal < 1 || pe->stop_signal > SIGRTMAX)
			return ckpt_fail(ctx->err, -EBADMSG,
					 "pstree.img: stopped task %d has no valid stop signal",
					 pe->pid);
		/* fall through */
	case TASK_STATE__TASK_ALIVE:
		break;
	default:
		return ckpt_fail(ctx->err, -EBADMSG, "pstree.img: pid %d: unknown state %d",
				 pe->pid, pe->state);
	}
	if (pe->n_threads == 0 || pe->n_threads > RST_MAX_THREADS || pe->threads[0] != pe->pid)
		return ckpt_fail(ctx->err, -EBADMSG,
				 "pstree.img: pid %d: thread list must start with the pid (%zu threads)",
				 pe->pid, pe->n_threads);
	for (size_t i = 0; i < pe->n_threads; i++)
		if (!pid_ok(pe->threads[i]))
			return ckpt_fail(ctx->err, -EBADMSG, "pstree.img: pid %d: tid %d out of bounds",
					 pe->pid, pe->threads[i]);
	return 0;
}

static int add_child(struct rst_task *p, struct rst_task *c)
{
	struct rst_task **nc = realloc(p->children, (p->nr_children + 1) * sizeof(*nc));

	if (!nc)
		return -ENOMEM;
	nc[p->nr_children++] = c;
	p->children = nc;
	return 0;
}

/* Sessions and groups this engine can rebuild: a session is created by its
 * leader (setsid) and otherwise inherited from the parent; a group is one
 * of the tree's tasks' (joined once all exist) or inherited. */
static int check_session(struct rst_ctx *ctx, struct rst_task *t)
{
	PstreeEntry *pe = t->pe;
	struct rst_task *g;

	if (!t->parent || pe->sid == pe->pid)
		return 0;
	if (pe->sid != t->parent->pe->sid)
		return ckpt_fail(ctx->err, -EOPNOTSUPP,
				 "pid %d: session %d differs from its parent %d's (%d) and it is not "
				 "the leader: this session can't be restored",
				 pe->pid, pe->sid, t->parent->pe->pid, t->parent->pe->sid);
	if (pe->pgid == pe->pid)
		return 0;
	g = rst_find(ctx, pe->pgid);
	if (!g && pe->pgid != t->parent->pe->pgid)
		return ckpt_fail(ctx->err, -EOPNOTSUPP,
				 "pid %d: process group %d is outside the tree and not its parent's",
				 pe->pid, pe->pgid);
	if (g && g->pe->sid != pe->sid)
		return ckpt_fail(ctx->err, -EBADMSG,
				 "pid %d: process group %d belongs to another session", pe->pid,
				 pe->pgid);
	return 0;
}

static int load_pstree(struct rst_ctx *ctx)
{
	ProtobufCMessage **v;
	unsigned n;
	int r;

	r = read_records(ctx, IMG_PSTREE, 0, RST_MAX_TASKS, &v, &n);
	if (r < 0)
		return r;
	ctx->pstree = (PstreeEntry **)v;
	ctx->nr_tasks = n;
	if (n != ctx->inv->nr_tasks)
		return ckpt_fail(ctx->err, -EBADMSG,
				 "pstree.img holds %u tasks, inventory.img says %u", n,
				 ctx->inv->nr_tasks);
	ctx->tasks = calloc(n, sizeof(*ctx->tasks));
	if (!ctx->tasks)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		struct rst_task *t = &ctx->tasks[i];
		PstreeEntry *pe = ctx->pstree[i];

		t->pe = pe;
		r = check_pstree_entry(ctx, pe);
		if (r < 0)
			return r;
		if (i == 0) {
			if (pe->pid != ctx->inv->root_pid || pe->ppid != 0)
				return ckpt_fail(ctx->err, -EBADMSG,
						 "pstree.img: the first task %d (ppid %d) is not the "
						 "root %d", pe->pid, pe->ppid, ctx->inv->root_pid);
			if (pe->state == TASK_STATE__TASK_ZOMBIE)
				return ckpt_fail(ctx->err, -EBADMSG,
						 "pstree.img: the root %d is a zombie", pe->pid);
			continue;
		}
		for (unsigned j = 0; j < i; j++) {
			if (ctx->tasks[j].pe->pid == pe->pid)
				return ckpt_fail(ctx->err, -EBADMSG,
						 "pstree.img: pid %d appears twice", pe->pid);
			if (ctx->tasks[j].pe->pid == pe->ppid)
				t->parent = &ctx->tasks[j];
		}
		if (!t->parent)
			return ckpt_fail(ctx->err, -EBADMSG,
					 "pstree.img: pid %d: parent %d does not precede it", pe->pid,
					 pe->ppid);
		if (t->parent->pe->state == TASK_STATE__TASK_ZOMBIE)
			return ckpt_fail(ctx->err, -EBADMSG,
					 "pstree.img: pid %d: parent %d is a zombie", pe->pid, pe->ppid);
		r = add_child(t->parent, t);
		if (r < 0)
			return r;
	}
	for (unsigned i = 0; i < n; i++) {
		r = check_session(ctx, &ctx->tasks[i]);
		if (r < 0)
			return r;
		if (ctx->tasks[i].pe->state != TASK_STATE__TASK_ZOMBIE)
			ctx->nr_alive++;
	}
	/* every tid is unique across the tree */
	for (unsigned i = 0; i < n; i++)
		for (size_t a = 0; a < ctx->tasks[i].pe->n_threads; a++)
			for (unsigned j = i; j < n; j++)
				for (size_t b = (j == i ? a + 1 : 0); b < ctx->tasks[j].pe->n_threads; b++)
					if (ctx->tasks[i].pe->threads[a] == ctx->tasks[j].pe->threads[b])
						return ckpt_fail(ctx->err, -EBADMSG,
								 "pstree.img: tid %d appears twice",
								 ctx->tasks[j].pe->threads[b]);
	return 0;
}

static int check_thread(struct rst_ctx *ctx, struct rst_task *t, unsigned i)
{
	ThreadCoreEntry *th = t->threads[i];
	size_t xmin = 512 + 64;

	if (th->tid != t->pe->threads[i])
		return ckpt_fail(ctx->err, -EBADMSG,
				 "core-%d.img: thread record %u is tid %d, pstree.img says %d",
				 t->pe->pid, i, th->tid, t->pe->threads[i]);
	if (th->xsave.len < xmin || th->xsave.len > RST_XSAVE_MAX ||
	    (ctx->inv->xsave_size && th->xsave.len > ctx->inv->xsave_size))
		return ckpt_fail(ctx->err, -EBADMSG,
				 "core-%d.img: tid %d: xsave area of %zu bytes is out of bounds",
				 t->pe->pid, th->tid, th->xsave.len);
	if (th->xsave.len > ctx->kd->xsave_size && ctx->kd->xsave_size)
		return ckpt_fail(ctx->err, -EOPNOTSUPP,
				 "core-%d.img: tid %d: xsave area of %zu bytes exceeds this CPU's %u",
				 t->pe->pid, th->tid, th->xsave.len, ctx->kd->xsave_size);
	if (th->regs->rip >= RST_TASK_SIZE || th->regs->rsp >= RST_TASK_SIZE)
		return ckpt_fail(ctx->err, -EBADMSG,
				 "core-%d.img: tid %d: rip 0x%llx / rsp 0x%llx outside user space",
				 t->pe->pid, th->tid, (unsigned long long)th->regs->rip,
				 (unsigned long long)th->regs->rsp);
	if (th->regs->cs != 0x33 || th->regs->ss != 0x2b)
		return ckpt_fail(ctx->err, -EOPNOTSUPP,
				 "core-%d.img: tid %d: only 64-bit code can be restored (cs 0x%llx)",
				 t->pe->pid, th->tid, (unsigned long long)th->regs->cs);
	return 0;
}

static int load_core(struct rst_ctx *ctx, struct rst_task *t)
{
	ProtobufCMessage **v;
	TaskCoreEntry *c;
	unsigned n;
	int r;

	r = read_records(ctx, IMG_CORE, t->pe->pid, RST_MAX_THREADS + 1, &v, &n);
	if (r < 0)
		return r;
	t->core = c = (TaskCoreEntry *)v[0];
	t->threads = (ThreadCoreEntry **)(v + 1);
	t->nr_threads = n - 1;
	if (t->nr_threads != t->pe->n_threads)
		return ckpt_fail(ctx->err, -EBADMSG,
				 "core-%d.img holds %u threads, pstree.img says %zu", t->pe->pid,
				 t->nr_threads, t->pe->n_threads);
	for (unsigned i = 0; i < t->nr_threads; i++) {
		r = check_thread(ctx, t, i);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < c->n_sigactions; i++) {
		unsigned sig = c->sigactions[i]->sig;

		if ((sig == SIGKILL || sig == SIGSTOP) && c->sigactions[i]->handler == 0)
			continue;	/* their action is fixed; recorded for completeness */
		if (sig < 1 || sig > 64 || sig == SIGKILL || sig == SIGSTOP)
			return ckpt_fail(ctx->err, -EBADMSG,
					 "core-%d.img: sigaction for invalid signal %u", t->pe->pid,
					 sig);
	}
	for (size_t i = 0; i < c->n_rlimits; i++)
		if (c->rlimits[i]->resource >= RLIM_NLIMITS)
			return ckpt_fail(ctx->err, -EBADMSG, "core-%d.img: rlimit %u is unknown",
					 t->pe->pid, c->rlimits[i]->resource);
	if (c->has_exit_signal && (c->exit_signal < 0 || c->exit_signal > 64))
		return ckpt_fail(ctx->err, -EBADMSG, "core-%d.img: exit signal %d is invalid",
				 t->pe->pid, c->exit_signal);
	return 0;
}

/* Every path of an image is absolute: a relative one would be resolved
 * from wherever ckptd runs. file: the image, rec: the record, field: its
 * name. */
static int check_abs_path(struct rst_ctx *ctx, const char *file, const char *rec,
			  const char *field, const char *path)
{
	if (path && path[0] == '/')
		return 0;
	return ckpt_fail(ctx->err, -EBADMSG, "%s: %s: %s is not an absolute path", file, rec,
			 field);
}

static int check_vma(struct rst_ctx *ctx, struct rst_task *t, unsigned i)
{
	VmaEntry *v = t->vmas[i];
	uint64_t pmask = ctx->page_size - 1;
	pid_t pid = t->pe->pid;

	if (v->kind < VMA_KIND__VMA_ANON_PRIVATE || v->kind > VMA_KIND__VMA_VSYSCALL)
		return ckpt_fail(ctx->err, -EBADMSG, "mm-%d.img: VMA %u has unknown kind %d", pid,
				 i, v->kind);
	if ((v->start & pmask) || (v->end & pmask) || v->start >= v->end || (v->pgoff & pmask))
		return ckpt_fail(ctx->err, -EBADMSG,
				 "mm-%d.img: VMA %u [0x%llx-0x%llx) is not page-aligned or empty", pid,
				 i, (unsigned long long)v->start, (unsigned long long)v->end);
	if (v->kind == VMA_KIND__VMA_VSYSCALL)
		return 0;
	if (v->end > RST_TASK_SIZE)
		return ckpt_fail(ctx->err, -EBADMSG,
				 "mm-%d.img: VMA [0x%llx-0x%llx) lies outside user space", pid,
				 (unsigned long long)v->start, (unsigned long long)v->end);
	if (i > 0 && t->vmas[i - 1]->end > v->start)
		return ckpt_fail(ctx->err, -EBADMSG,
				 "mm-%d.img: VMA at 0x%llx overlaps or precedes the one before it",
				 pid, (unsigned long long)v->start);
	if (v->prot & ~(uint32_t)(PROT_READ | PROT_WRITE | PROT_EXEC))
		return ckpt_fail(ctx->err, -EBADMSG, "mm-%d.img: VMA at 0x%llx: bad prot 0x%x",
				 pid, (unsigned long long)v->start, v->prot);
	switch (v->kind) {
	case VMA_KIND__VMA_FILE_PRIVATE:
	case VMA_KIND__VMA_FILE_SHARED:
		if (!v->file)
			return ckpt_fail(ctx->err, -EBADMSG,
					 "mm-%d.img: file VMA at 0x%llx names no file", pid,
					 (unsigned long long)v->start);
		if (v->deleted && !v->has_ghost_id)
			return ckpt_fail(ctx->err, -EBADMSG,
					 "mm-%d.img: VMA at 0x%llx maps a deleted file with no ghost "
					 "image", pid, (unsigned long long)v->start);
		break;
	case VMA_KIND__VMA_ANON_SHARED:
		if (!v->has_shmid)
			return ckpt_fail(ctx->err, -EBADMSG,
					 "mm-%d.img: shared anonymous VMA at 0x%llx has no shmid",
					 pid, (unsigned long long)v->start);
		break;
	default:
		break;
	}
	if (v->file && (v->kind == VMA_KIND__VMA_FILE_PRIVATE ||
			v->kind == VMA_KIND__VMA_FILE_SHARED)) {
		char file[32], rec[64];

		snprintf(file, sizeof(file), "mm-%d.img", pid);
		snprintf(rec, sizeof(rec), "VMA %u at 0x%llx", i, (unsigned long long)v->start);
		return check_abs_path(ctx, file, rec, "file.path", v->file->path);
	}
	return 0;
}

/* The kernel's own areas must have this kernel's sizes to be moved into
 * the image's places. */
static int check_vdso(struct rst_ctx *ctx, struct rst_task *t)
{
	static const struct {
		VmaKind kind;
		const char *name;
		size_t off;
	} k[] = {
		{ VMA_KIND__VMA_VDSO, "[vdso]", offsetof(struct kerndat, vdso_size) },
		{ VMA_KIND__VMA_VVAR, "[vvar]", offsetof(struct kerndat, vvar_size) },
		{ VMA_KIND__VMA_VVAR_VCLOCK, "[vvar_vclock]",
		  offsetof(struct kerndat, vvar_vclock_size) },
	};

	for (size_t j = 0; j < ARRAY_SIZE(k); j++) {
		uint64_t want = *(const uint64_t *)((const char *)ctx->kd + k[j].off);
		uint64_t have = 0;

		for (unsigned i = 0; i < t->nr_vmas; i++)
			if (t->vmas[i]->kind == k[j].kind)
				have += t->vmas[i]->end - t->vmas[i]->start;
		if (have != want)
			return ckpt_fail(ctx->err, -EOPNOTSUPP,
					 "mm-%d.img: the image's %s is %llu bytes, this kernel's is "
					 "%llu: the vdso layout differs", t->pe->pid, k[j].name,
					 (unsigned long long)have, (unsigned long long)want);
	}
	return 0;
}

static int load_mm(struct rst_ctx *ctx, struct rst_task *t)
{
	ProtobufCMessage **v;
	unsigned n;
	int r;

	r = read_records(ctx, IMG_MM, t->pe->pid, RST_MAX_VMAS + 1, &v, &n);
	if (r < 0)
		return r;
	t->mm = (MmEntry *)v[0];
	t->vmas = (VmaEntry **)(v + 1);
	t->nr_vmas = n - 1;
	if (t->mm->nr_vmas != t->nr_vmas)
		return ckpt_fail(ctx->err, -EBADMSG, "mm-%d.img holds %u VMAs, its head says %u",
				 t->pe->pid, t->nr_vmas, t->mm->nr_vmas);
	if (t->mm->n_auxv > 128 || (t->mm->n_auxv & 1))
		return ckpt_fail(ctx->err, -EBADMSG, "mm-%d.img: %zu auxv words", t->pe->pid,
				 t->mm->n_auxv);
	if (t->mm->exe) {
		char file[32];

		snprintf(file, sizeof(file), "mm-%d.img", t->pe->pid);
		r = check_abs_path(ctx, file, "mm_entry", "exe.path", t->mm->exe->path);
		if (r < 0)
			return r;
	}
	for (unsigned i = 0; i < t->nr_vmas; i++) {
		r = check_vma(ctx, t, i);
		if (r < 0)
			return r;
	}
	return check_vdso(ctx, t);
}

/* The restorable VMA holding addr, or NULL. */
static VmaEntry *data_vma(struct rst_task *t, uint64_t a)
{
	for (unsigned i = 0; i < t->nr_vmas; i++) {
		VmaEntry *v = t->vmas[i];

		if (v->start <= a && a < v->end)
			return v->kind == VMA_KIND__VMA_VSYSCALL || v->kind == VMA_KIND__VMA_VDSO ||
			       v->kind == VMA_KIND__VMA_VVAR ||
			       v->kind == VMA_KIND__VMA_VVAR_VCLOCK ? NULL : v;
	}
	return NULL;
}

static int add_page_entry(struct rst_task *t, const struct page_entry *e, size_t *cap)
{
	if (t->nr_pages == *cap) {
		struct page_entry *np;

		*cap = *cap ? *cap * 2 : 64;
		np = realloc(t->pages, *cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		t->pages = np;
	}
	t->pages[t->nr_pages++] = *e;
	if (e->flags & PE_PRESENT)
		t->nr_present += e->nr_pages;
	return 0;
}

/* Each entry the blob gets lies inside one VMA: a block that spans several
 * is verified whole here and split, each piece with its own checksum. */
static int add_split(struct rst_ctx *ctx, struct rst_task *t, struct page_reader *pr,
		     const struct page_entry *e, size_t *cap)
{
	_cleanup_free_ uint8_t *buf = NULL;
	uint64_t ps = ctx->page_size, a = e->vaddr, end = e->vaddr + (uint64_t)e->nr_pages * ps;
	int r;

	if (e->flags & PE_PRESENT) {
		buf = malloc((size_t)e->nr_pages * ps);
		if (!buf)
			return -ENOMEM;
		r = pager_read(pr, e, buf);
		if (r < 0)
			return ckpt_fail(ctx->err, r, "%s", pager_errmsg(pr));
	}
	while (a < end) {
		VmaEntry *v = data_vma(t, a);
		struct page_entry piece = *e;
		uint64_t pend;

		if (!v)
			return ckpt_fail(ctx->err, -EBADMSG,
					 "pagemap-%d.img: page 0x%llx lies outside every restorable "
					 "VMA", t->pe->pid, (unsigned long long)a);
		pend = MIN(end, v->end);
		piece.vaddr = a;
		piece.nr_pages = (pend - a) / ps;
		if (e->flags & PE_PRESENT) {
			piece.data_off = e->data_off + (a - e->vaddr);
			piece.xxh3 = pages_block_hash(buf + (a - e->vaddr), pend - a);
		}
		r = add_page_entry(t, &piece, cap);
		if (r < 0)
			return r;
		a = pend;
	}
	return 0;
}

static int load_pagemap(struct rst_ctx *ctx, struct rst_task *t)
{
	struct page_reader *pr = NULL;
	struct page_entry e;
	size_t cap = 0;
	int r;

	r = pager_open(ctx->dirfd, t->pe->pid, &pr);
	if (r < 0) {
		r = ckpt_fail(ctx->err, r == -ENOENT ? -ENODATA : r, "pid %d: %s", t->pe->pid,
			      pr ? pager_errmsg(pr) : "cannot open its pagemap image");
		goto out;
	}
	if (pager_page_size(pr) != ctx->page_size) {
		r = ckpt_fail(ctx->err, -EBADMSG, "pagemap-%d.img: page size %u is not %ld",
			      t->pe->pid, pager_page_size(pr), ctx->page_size);
		goto out;
	}
	t->pages_id = pager_pages_id(pr);
	while ((r = pager_next(pr, &e)) > 0) {
		uint64_t len = (uint64_t)e.nr_pages * ctx->page_size;
		VmaEntry *v = data_vma(t, e.vaddr);

		if (e.flags & PE_IN_PARENT) {
			r = ckpt_fail(ctx->err, -EOPNOTSUPP,
				      "pagemap-%d.img: pages at 0x%llx live in the parent image "
				      "set; incremental images can't be restored yet",
				      t->pe->pid, (unsigned long long)e.vaddr);
			goto out;
		}
		if (v && e.vaddr + len <= v->end)
			r = add_page_entry(t, &e, &cap);
		else
			r = add_split(ctx, t, pr, &e, &cap);
		if (r < 0)
			goto out;
	}
	if (r < 0)
		r = ckpt_fail(ctx->err, r, "%s", pager_errmsg(pr));
	ctx->pages += t->nr_present;
out:
	if (pr)
		pager_close(pr);
	return r;
}

static int load_fs(struct rst_ctx *ctx, struct rst_task *t)
{
	ProtobufCMessage **v;
	char file[32];
	unsigned n;
	int r;

	r = read_records(ctx, IMG_FS, t->pe->pid, RST_MAX_FDS + 1, &v, &n);
	if (r < 0)
		return r;
	t->fs = (FsEntry *)v[0];
	t->fds = (FdEntry **)(v + 1);
	t->nr_fds = n - 1;
	if (t->fs->umask & ~0777u)
		return ckpt_fail(ctx->err, -EBADMSG, "fs-%d.img: umask 0%o is invalid", t->pe->pid,
				 t->fs->umask);
	snprintf(file, sizeof(file), "fs-%d.img", t->pe->pid);
	r = check_abs_path(ctx, file, "fs_entry", "cwd", t->fs->cwd);
	if (r == 0)
		r = check_abs_path(ctx, file, "fs_entry", "root", t->fs->root);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < t->nr_fds; i++) {
		FdEntry *f = t->fds[i];

		if (f->fd >= RST_MAX_FD)
			return ckpt_fail(ctx->err, -EBADMSG, "fs-%d.img: fd %u is out of bounds",
					 t->pe->pid, f->fd);
		for (unsigned j = 0; j < i; j++)
			if (t->fds[j]->fd == f->fd)
				return ckpt_fail(ctx->err, -EBADMSG, "fs-%d.img: fd %u appears twice",
						 t->pe->pid, f->fd);
		if ((int)f->fd > ctx->max_fd)
			ctx->max_fd = f->fd;
	}
	return 0;
}

static int load_files(struct rst_ctx *ctx)
{
	ProtobufCMessage **v;
	unsigned n;
	int r;

	/* a tree with no fd at all may come without files.img */
	if (faccessat(ctx->dirfd, "files.img", F_OK, 0) < 0 && errno == ENOENT)
		return 0;
	r = read_records(ctx, IMG_FILES, 0, RST_MAX_DESCS, &v, &n);
	if (r < 0)
		return r;
	ctx->descs = calloc(n, sizeof(*ctx->descs));
	if (!ctx->descs) {
		for (unsigned i = 0; i < n; i++)
			protobuf_c_message_free_unpacked(v[i], NULL);
		free(v);
		return -ENOMEM;
	}
	ctx->nr_descs = n;
	for (unsigned i = 0; i < n; i++) {
		ctx->descs[i].fe = (FileDescEntry *)v[i];
		ctx->descs[i].fd = -1;
	}
	free(v);
	for (unsigned i = 0; i < n; i++) {
		FileDescEntry *fe = ctx->descs[i].fe;

		for (unsigned j = 0; j < i; j++)
			if (ctx->descs[j].fe->id == fe->id)
				return ckpt_fail(ctx->err, -EBADMSG, "files.img: id %u appears twice",
						 fe->id);
		if (fe->type < FD_TYPE__FD_REG || fe->type > FD_TYPE__FD_OTHER)
			return ckpt_fail(ctx->err, -EBADMSG, "files.img: id %u has unknown type %d",
					 fe->id, fe->type);
		/* the kinds restore opens by path (or recreates next to it) */
		if (fe->file && (fe->type == FD_TYPE__FD_REG || fe->type == FD_TYPE__FD_DIR ||
				 fe->type == FD_TYPE__FD_FIFO || fe->type == FD_TYPE__FD_CHR)) {
			char rec[64];

			snprintf(rec, sizeof(rec), "file description %u", fe->id);
			r = check_abs_path(ctx, "files.img", rec, "file.path", fe->file->path);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

struct rst_desc *rst_desc_find(struct rst_ctx *ctx, uint32_t id)
{
	for (unsigned i = 0; i < ctx->nr_descs; i++)
		if (ctx->descs[i].fe->id == id)
			return &ctx->descs[i];
	return NULL;
}

static const char *fd_kind_name(FdType type)
{
	switch (type) {
	case FD_TYPE__FD_SOCKET:
		return "sockets";
	case FD_TYPE__FD_TTY:
		return "terminals";
	case FD_TYPE__FD_ANON:
		return "anonymous-inode files other than eventfd, epoll, signalfd and timerfd";
	default:
		return "files of this kind";
	}
}

/* Every fd must name a description of files.img this engine can recreate. */
static int check_fds(struct rst_ctx *ctx, struct rst_task *t)
{
	for (unsigned i = 0; i < t->nr_fds; i++) {
		FdEntry *f = t->fds[i];
		struct rst_desc *d = rst_desc_find(ctx, f->desc_id);
		FileDescEntry *fe;

		if (!d)
			return ckpt_fail(ctx->err, -EBADMSG,
					 "fs-%d.img: fd %u names file description %u, which "
					 "files.img lacks", t->pe->pid, f->fd, f->desc_id);
		fe = d->fe;
		switch (fe->type) {
		case FD_TYPE__FD_ANON:
			if (rst_anon_supported(fe))
				break;
			/* fall through */
		case FD_TYPE__FD_SOCKET:
		case FD_TYPE__FD_TTY:
		case FD_TYPE__FD_OTHER:
			return ckpt_fail(ctx->err, -EOPNOTSUPP,
					 "pid %d fd %u: %s can't be restored yet%s%s%s", t->pe->pid,
					 f->fd, fd_kind_name(fe->type), fe->anon_name ? " (" : "",
					 fe->anon_name ? fe->anon_name : "", fe->anon_name ? ")" : "");
		case FD_TYPE__FD_PIPE:
			if (!fe->has_pipe_ino)
				return ckpt_fail(ctx->err, -EBADMSG,
						 "files.img: pipe %u has no pipe inode", fe->id);
			break;
		case FD_TYPE__FD_MEMFD:
			if (!fe->has_ghost_id)
				return ckpt_fail(ctx->err, -EBADMSG,
						 "files.img: memfd %u has no ghost image", fe->id);
			break;
		default:
			if (!fe->file)
				return ckpt_fail(ctx->err, -EBADMSG,
						 "files.img: file description %u names no file",
						 fe->id);
			if (fe->deleted && !fe->has_ghost_id)
				return ckpt_fail(ctx->err, -EBADMSG,
						 "files.img: deleted file %u has no ghost image",
						 fe->id);
			break;
		}
	}
	return 0;
}

uint64_t rst_encode_dev(dev_t dev)
{
	uint64_t ma = major(dev), mi = minor(dev);

	return (mi & 0xff) | (ma << 8) | ((mi & ~0xffull) << 12);
}

/* The path as the image saw it, without a " (deleted)" suffix. */
void rst_clean_path(const char *in, char *out, size_t len)
{
	const char *suf = " (deleted)";
	size_t n = strlen(in), s = strlen(suf);

	snprintf(out, len, "%s", in);
	if (n > s && n < len && strcmp(in + n - s, suf) == 0)
		out[n - s] = 0;
}

/* --- files the image refers to --------------------------------------------
 *
 * How closely a file on disk must match what the dump saw depends on how the
 * process uses it and on --file-validation. Pages of the executable and of a
 * mapped file come from the file itself, so it must be the very one, unchanged
 * (device, inode, size, mtime). A file held open only through an fd may have
 * grown and been written since (a log): what would go wrong is another file
 * under the path, or bytes before the saved offset gone. "strict" wants every
 * file unchanged; "path" takes a file of the same type at the same path (a copy
 * on another host), mapped files of the same size. */

static const char *const fv_names[] = {
	[RESTORE_FV_DEFAULT] = "default",
	[RESTORE_FV_STRICT] = "strict",
	[RESTORE_FV_PATH] = "path",
};

int restore_file_validation_parse(const char *name, enum restore_file_validation *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(fv_names); i++)
		if (strcmp(name, fv_names[i]) == 0) {
			*ret = (enum restore_file_validation)i;
			return 0;
		}
	return -EINVAL;
}

const char *restore_file_validation_name(enum restore_file_validation fv)
{
	return (unsigned)fv < ARRAY_SIZE(fv_names) ? fv_names[fv] : "unknown";
}

static enum restore_file_validation fv_mode(const struct rst_ctx *ctx)
{
	return ctx->opts ? ctx->opts->file_validation : RESTORE_FV_DEFAULT;
}

static const char *type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFLNK:
		return "a symbolic link";
	default:
		return "a file of unknown type";
	}
}

/* The file now (fd, or the saved path when fd < 0) into *st; the path as
 * the image saw it into path. */
static int stat_saved(struct rst_ctx *ctx, const char *what, int fd, const FileIdentity *id,
		      char *path, size_t len, struct stat *st)
{
	_cleanup_close_ int pfd = -EBADF;

	rst_clean_path(id->path, path, len);
	/* looked up as the requester (restore-creds.c) */
	if (fd < 0) {
		pfd = rst_open_path(ctx, path, O_PATH, 0);
		if (pfd < 0)
			return ckpt_fail(ctx->err, pfd, "%s: file %s %s", what, path,
					 pfd == -ENOENT ? "is gone" : "cannot be reached");
		fd = pfd;
	}
	if (fstat(fd, st) < 0)
		return ckpt_fail(ctx->err, negerrno(), "%s: file %s is gone", what, path);
	return 0;
}

static int same_inode(struct rst_ctx *ctx, const char *what, const char *path,
		      const struct stat *st, const FileIdentity *id)
{
	if (rst_encode_dev(st->st_dev) == id->dev && st->st_ino == id->ino)
		return 0;
	return ckpt_fail(ctx->err, -ESTALE,
			 "%s: file %s was replaced (device/inode %llx/%llu, the image has "
			 "%llx/%llu); --file-validation=path accepts a copy at the same path",
			 what, path, (unsigned long long)rst_encode_dev(st->st_dev),
			 (unsigned long long)st->st_ino, (unsigned long long)id->dev,
			 (unsigned long long)id->ino);
}

/* want: the saved st_mode (0: not recorded, any type will do). */
static int same_type(struct rst_ctx *ctx, const char *what, const char *path,
		     const struct stat *st, mode_t want)
{
	if (!(want & S_IFMT) || (st->st_mode & S_IFMT) == (want & S_IFMT))
		return 0;
	return ckpt_fail(ctx->err, -ESTALE, "%s: file %s is now %s, the image has %s", what,
			 path, type_name(st->st_mode), type_name(want));
}

/* Devices, FIFOs and directories change size and times freely. */
static int same_size(struct rst_ctx *ctx, const char *what, const char *path,
		     const struct stat *st, const FileIdentity *id, const char *hint)
{
	if (!S_ISREG(st->st_mode) || (uint64_t)st->st_size == id->size)
		return 0;
	return ckpt_fail(ctx->err, -ESTALE,
			 "%s: file %s changed size (%lld bytes, the image has %llu)%s", what, path,
			 (long long)st->st_size, (unsigned long long)id->size, hint);
}

static int same_mtime(struct rst_ctx *ctx, const char *what, const char *path,
		      const struct stat *st, const FileIdentity *id, const char *hint)
{
	int64_t mt = (int64_t)st->st_mtim.tv_sec * 1000000000ll + st->st_mtim.tv_nsec;

	if (!S_ISREG(st->st_mode) || mt == id->mtime_ns)
		return 0;
	return ckpt_fail(ctx->err, -ESTALE,
			 "%s: file %s was modified since the dump (mtime differs)%s", what, path,
			 hint);
}

/* Every byte that lay before the saved offset at the dump must still be
 * there: else a reader resumes past the end and a writer leaves a hole of
 * zeros where they were. An append-only writer is spared: each of its
 * writes goes to the end, wherever that is now (a log truncated by
 * logrotate's copytruncate). */
static int offset_inside(struct rst_ctx *ctx, const char *what, const char *path,
			 const struct stat *st, const FileDescEntry *fe)
{
	uint64_t pos = fe->has_pos ? fe->pos : 0;

	if (!S_ISREG(st->st_mode) || (uint64_t)st->st_size >= MIN(pos, fe->file->size))
		return 0;
	if ((fe->flags & O_APPEND) && (fe->flags & O_ACCMODE) == O_WRONLY)
		return 0;
	return ckpt_fail(ctx->err, -ESTALE,
			 "%s: file %s was truncated: the saved offset %llu lies past its end "
			 "(%lld bytes, %llu at the dump)", what, path, (unsigned long long)pos,
			 (long long)st->st_size, (unsigned long long)fe->file->size);
}

/* The type an fd's file had: recorded, or implied by its fd type. */
static mode_t saved_mode(const FileDescEntry *fe)
{
	if (fe->file->has_mode)
		return fe->file->mode;
	switch (fe->type) {
	case FD_TYPE__FD_REG:
		return S_IFREG;
	case FD_TYPE__FD_DIR:
		return S_IFDIR;
	case FD_TYPE__FD_CHR:
		return S_IFCHR;
	case FD_TYPE__FD_FIFO:
		return S_IFIFO;
	default:
		return 0;
	}
}

int rst_check_identity(struct rst_ctx *ctx, const char *what, int fd, const FileIdentity *id)
{
	char path[4096];
	struct stat st;
	int r;

	r = stat_saved(ctx, what, fd, id, path, sizeof(path), &st);
	if (r < 0)
		return r;
	if (fv_mode(ctx) == RESTORE_FV_PATH) {
		r = same_type(ctx, what, path, &st, id->has_mode ? id->mode : 0);
		return r < 0 ? r : same_size(ctx, what, path, &st, id, "");
	}
	r = same_inode(ctx, what, path, &st, id);
	if (r == 0)
		r = same_size(ctx, what, path, &st, id, "");
	if (r == 0)
		r = same_mtime(ctx, what, path, &st, id, "");
	return r;
}

int rst_check_open_file(struct rst_ctx *ctx, const char *what, int fd, const FileDescEntry *fe)
{
	static const char hint[] = "; --file-validation=default lets a file that is only "
				   "held open change";
	char path[4096];
	struct stat st;
	int r;

	r = stat_saved(ctx, what, fd, fe->file, path, sizeof(path), &st);
	if (r < 0)
		return r;
	switch (fv_mode(ctx)) {
	case RESTORE_FV_STRICT:
		r = same_inode(ctx, what, path, &st, fe->file);
		if (r == 0)
			r = same_size(ctx, what, path, &st, fe->file, hint);
		if (r == 0)
			r = same_mtime(ctx, what, path, &st, fe->file, hint);
		return r;
	case RESTORE_FV_PATH:
		r = same_type(ctx, what, path, &st, saved_mode(fe));
		break;
	default:
		r = same_inode(ctx, what, path, &st, fe->file);
		break;
	}
	return r < 0 ? r : offset_inside(ctx, what, path, &st, fe);
}

/* Files that must still be there, as --file-validation wants: the exe,
 * mapped files, files held open. */
static int check_task_files(struct rst_ctx *ctx, struct rst_task *t)
{
	char what[96];
	int r;

	if (t->mm->exe) {
		snprintf(what, sizeof(what), "pid %d executable", t->pe->pid);
		r = rst_check_identity(ctx, what, -1, t->mm->exe);
		if (r < 0)
			return r;
	}
	for (unsigned i = 0; i < t->nr_vmas; i++) {
		VmaEntry *v = t->vmas[i];

		if (!v->file || v->deleted)
			continue;
		snprintf(what, sizeof(what), "pid %d mapping at 0x%llx", t->pe->pid,
			 (unsigned long long)v->start);
		r = rst_check_identity(ctx, what, -1, v->file);
		if (r < 0)
			return r;
	}
	for (unsigned i = 0; i < t->nr_fds; i++) {
		FileDescEntry *fe = rst_desc_find(ctx, t->fds[i]->desc_id)->fe;

		if (!fe->file || fe->deleted || fe->type == FD_TYPE__FD_MEMFD ||
		    fe->type == FD_TYPE__FD_PIPE)
			continue;
		snprintf(what, sizeof(what), "pid %d fd %u", t->pe->pid, t->fds[i]->fd);
		r = rst_check_open_file(ctx, what, -1, fe);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Read a ghost image through once: head and chunk bounds. */
static int check_ghost(struct rst_ctx *ctx, uint32_t id)
{
	ProtobufCMessage *m;
	struct img *img = NULL;
	GhostHead *h = NULL;
	int r;

	r = img_open(ctx->dirfd, IMG_GHOST, id, &img);
	if (r < 0) {
		r = ckpt_fail(ctx->err, r == -ENOENT ? -ENODATA : r, "ghost-%u.img: %s", id,
			      img ? img_errmsg(img) : "missing");
		goto out;
	}
	r = img_read_next(img, &m);
	if (r < 0 || !m) {
		r = ckpt_fail(ctx->err, r < 0 ? r : -EBADMSG, "%s", img_errmsg(img));
		goto out;
	}
	h = (GhostHead *)m;
	if (h->id != id || (h->mode & ~07777u & ~S_IFMT)) {
		r = ckpt_fail(ctx->err, -EBADMSG, "ghost-%u.img: head names id %u / mode 0%o", id,
			      h->id, h->mode);
		goto out;
	}
	for (;;) {
		GhostChunk *c;

		r = img_read_next(img, &m);
		if (r < 0) {
			r = ckpt_fail(ctx->err, r, "%s", img_errmsg(img));
			goto out;
		}
		if (!m)
			break;
		c = (GhostChunk *)m;
		if (c->off > h->size || c->data.len > h->size - c->off)
			r = ckpt_fail(ctx->err, -EBADMSG,
				      "ghost-%u.img at offset %lld: chunk [%llu, +%zu) lies past the "
				      "file's %llu bytes", id, (long long)img_offset(img),
				      (unsigned long long)c->off, c->data.len,
				      (unsigned long long)h->size);
		protobuf_c_message_free_unpacked(m, NULL);
		if (r < 0)
			goto out;
	}
out:
	if (h)
		protobuf_c_message_free_unpacked(&h->base, NULL);
	if (img)
		img_close(img);
	return r;
}

static int check_ghosts(struct rst_ctx *ctx)
{
	int r;

	for (unsigned i = 0; i < ctx->nr_descs; i++) {
		FileDescEntry *fe = ctx->descs[i].fe;

		if (fe->has_ghost_id && (fe->deleted || fe->type == FD_TYPE__FD_MEMFD)) {
			r = check_ghost(ctx, fe->ghost_id);
			if (r < 0)
				return r;
		}
	}
	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		struct rst_task *t = &ctx->tasks[i];

		for (unsigned j = 0; j < t->nr_vmas; j++)
			if (t->vmas[j]->has_ghost_id) {
				r = check_ghost(ctx, t->vmas[j]->ghost_id);
				if (r < 0)
					return r;
			}
	}
	return 0;
}

int rst_load(struct rst_ctx *ctx)
{
	int r;

	r = load_inventory(ctx);
	if (r < 0)
		return r;
	r = load_pstree(ctx);
	if (r < 0)
		return r;
	r = load_files(ctx);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		struct rst_task *t = &ctx->tasks[i];

		if (t->pe->state == TASK_STATE__TASK_ZOMBIE)
			continue;
		r = load_core(ctx, t);
		if (r == 0)
			r = load_mm(ctx, t);
		if (r == 0)
			r = load_pagemap(ctx, t);
		if (r == 0)
			r = load_fs(ctx, t);
		if (r == 0)
			r = check_fds(ctx, t);
		if (r == 0)	/* every earlier task's fds are loaded */
			r = rst_anon_check(ctx, t);
		if (r == 0)
			r = rst_check_mm(ctx, t);
		if (r < 0)
			return r;
	}
	return check_ghosts(ctx);
}

int rst_check_files(struct rst_ctx *ctx)
{
	int r;

	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		if (ctx->tasks[i].pe->state == TASK_STATE__TASK_ZOMBIE)
			continue;
		r = check_task_files(ctx, &ctx->tasks[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A pid held by a zombie is free once its parent reaps it, which may take a
 * moment (an init that reaps orphans slowly, a parent busy elsewhere): wait
 * this long at most, in all, polling. A live process fails at once. */
#define RST_ZOMBIE_WAIT_S	5u
#define RST_ZOMBIE_POLL_US	20000u

enum pid_use { PID_FREE, PID_LIVE, PID_ZOMBIE };

static bool pid_taken(pid_t id)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d", id);
	return access(path, F_OK) == 0 || kill(id, 0) == 0 || errno == EPERM;
}

/* Who holds pid (or tid) id here. A zombie waiting to be reaped has no
 * thread left but its main one: a leader that exited before its threads
 * reads "Z" too, but its process runs on. */
static enum pid_use pid_use(pid_t id, pid_t *ret_ppid)
{
	struct proc_stat st;
	pid_t *tids = NULL;
	unsigned nr = 0;
	bool lone;

	if (!pid_taken(id))
		return PID_FREE;
	if (proc_read_stat(id, &st) < 0)
		return pid_taken(id) ? PID_LIVE : PID_FREE;
	if (st.state != 'Z' && st.state != 'X')
		return PID_LIVE;
	lone = proc_read_tids(id, &tids, &nr) < 0 || nr <= 1;
	free(tids);
	if (!lone)
		return PID_LIVE;
	*ret_ppid = st.ppid;
	return PID_ZOMBIE;
}

int rst_check_pids(struct rst_ctx *ctx)
{
	uint64_t deadline = 0;

	for (unsigned i = 0; i < ctx->nr_tasks; i++) {
		PstreeEntry *pe = ctx->tasks[i].pe;

		for (size_t j = 0; j < pe->n_threads; j++) {
			pid_t id = pe->threads[j], ppid = 0;
			const char *thread = j ? " (a thread of the image needs it)" : "";
			enum pid_use u;

			while ((u = pid_use(id, &ppid)) == PID_ZOMBIE) {
				uint64_t now = now_us();

				if (!deadline)
					deadline = now + RST_ZOMBIE_WAIT_S * 1000000ull;
				if (now >= deadline)
					return ckpt_fail(ctx->err, -EBUSY,
							 "pid %d is held by a zombie (not yet reaped "
							 "by its parent pid %d); waited %u s%s", id,
							 ppid, RST_ZOMBIE_WAIT_S, thread);
				usleep(RST_ZOMBIE_POLL_US);
			}
			if (u == PID_LIVE)
				return ckpt_fail(ctx->err, -EBUSY, "pid %d is in use%s", id, thread);
		}
	}
	return 0;
}

void rst_free(struct rst_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->nr_tasks && ctx->tasks; i++) {
		struct rst_task *t = &ctx->tasks[i];

		free(t->children);
		if (t->core) {
			protobuf_c_message_free_unpacked(&t->core->base, NULL);
			for (unsigned j = 0; j < t->nr_threads; j++)
				protobuf_c_message_free_unpacked(&t->threads[j]->base, NULL);
			free(t->threads - 1);
		}
		if (t->mm) {
			protobuf_c_message_free_unpacked(&t->mm->base, NULL);
			for (unsigned j = 0; j < t->nr_vmas; j++)
				protobuf_c_message_free_unpacked(&t->vmas[j]->base, NULL);
			free(t->vmas - 1);
		}
		if (t->fs) {
			protobuf_c_message_free_unpacked(&t->fs->base, NULL);
			for (unsigned j = 0; j < t->nr_fds; j++)
				protobuf_c_message_free_unpacked(&t->fds[j]->base, NULL);
			free(t->fds - 1);
		}
		free(t->pages);
	}
	for (unsigned i = 0; i < ctx->nr_tasks && ctx->pstree; i++)
		protobuf_c_message_free_unpacked(&ctx->pstree[i]->base, NULL);
	free(ctx->pstree);
	free(ctx->tasks);
	for (unsigned i = 0; i < ctx->nr_descs; i++) {
		protobuf_c_message_free_unpacked(&ctx->descs[i].fe->base, NULL);
		if (ctx->descs[i].fd >= 0)
			close(ctx->descs[i].fd);
	}
	free(ctx->descs);
	free(ctx->shmems);
	free(ctx->ghosts);
	for (unsigned i = 0; i < ctx->nr_vmfiles; i++)
		free(ctx->vmfiles[i].path);
	free(ctx->vmfiles);
	if (ctx->inv)
		protobuf_c_message_free_unpacked(&ctx->inv->base, NULL);
}
