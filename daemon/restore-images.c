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
#include "daemon/restore-cgroup.h"
#include "daemon/restore-creds.h"
#include "images/chain.h"
#include "images/img.h"


#define RST_MAX_TASKS	4096u
#define RST_MAX_THREADS	4096u
#define RST_MAX_VMAS	65536u
#define RST_XSAVE_MAX	(64u << 10)

static int push_record(ProtobufCMessage ***v, unsigned *n, unsigned *cap, ProtobufCMessage *m)
{
	if (*n == *cap) {
		ProtobufCMessage **nv;

		*cap = *cap ? *cap * 2 : 16;
		nv = realloc(*v, *cap * sizeof(**v));
		if (!nv)
			return -ENOMEM;
		*v = nv;
	}
	(*v)[(*n)++] = m;
	return 0;
}

int rst_read_records(struct rst_ctx *ctx, enum img_kind kind, unsigned id, unsigned max,
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
		r = push_record(&v, &n, &cap, m);
		if (r < 0) {
			protobuf_c_message_free_unpacked(m, NULL);
			goto out;
		}
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

	r = rst_read_records(ctx, IMG_INVENTORY, 0, 1, &v, &n);
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

/* Every tid is unique across the tree. */
static int check_tids(struct rst_ctx *ctx)
{
	unsigned n = ctx->nr_tasks;

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

static int check_root(struct rst_ctx *ctx, PstreeEntry *pe)
{
	if (pe->pid != ctx->inv->root_pid || pe->ppid != 0)
		return ckpt_fail(ctx->err, -EBADMSG,
				 "pstree.img: the first task %d (ppid %d) is not the "
				 "root %d", pe->pid, pe->ppid, ctx->inv->root_pid);
	if (pe->state == TASK_STATE__TASK_ZOMBIE)
		return ckpt_fail(ctx->err, -EBADMSG,
				 "pstree.img: the root %d is a zombie", pe->pid);
	return 0;
}

static int load_pstree(struct rst_ctx *ctx)
{
	ProtobufCMessage **v;
	unsigned n;
	int r;

	r = rst_read_records(ctx, IMG_PSTREE, 0, RST_MAX_TASKS, &v, &n);
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
			r = check_root(ctx, pe);
			if (r < 0)
				return r;
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
	return check_tids(ctx);
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

	r = rst_read_records(ctx, IMG_CORE, t->pe->pid, RST_MAX_THREADS + 1, &v, &n);
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
	return rst_cgroup_check(ctx, t);
}

int rst_check_abs_path(struct rst_ctx *ctx, const char *file, const char *rec,
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
		return rst_check_abs_path(ctx, file, rec, "file.path", v->file->path);
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

	r = rst_read_records(ctx, IMG_MM, t->pe->pid, RST_MAX_VMAS + 1, &v, &n);
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
		r = rst_check_abs_path(ctx, file, "mm_entry", "exe.path", t->mm->exe->path);
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

/* link: the chain link whose pages file holds e's data (0: this set). */
static int add_page_entry(struct rst_task *t, const struct page_entry *e, unsigned link,
			  size_t *cap)
{
	if (t->nr_pages == *cap) {
		struct page_entry *np;
		uint8_t *nl;

		*cap = *cap ? *cap * 2 : 64;
		np = realloc(t->pages, *cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		t->pages = np;
		nl = realloc(t->page_link, *cap);
		if (!nl)
			return -ENOMEM;
		t->page_link = nl;
	}
	t->page_link[t->nr_pages] = link;
	t->pages[t->nr_pages++] = *e;
	if (e->flags & PE_PRESENT)
		t->nr_present += e->nr_pages;
	return 0;
}

/* Each entry the blob gets lies inside one VMA: a block that spans several
 * is verified whole here and split, each piece with its own checksum. */
static int add_split(struct rst_ctx *ctx, struct rst_task *t, struct page_reader *pr,
		     const struct page_entry *e, unsigned link, size_t *cap)
{
	_cleanup_free_ uint8_t *buf = NULL;
	uint64_t ps = ctx->page_size, a = e->vaddr, end = e->vaddr + (uint64_t)e->nr_pages * ps;
	int r;

	if (e->flags == PE_PRESENT) {	/* a PE_RST_PIECE is hashed later */
		buf = malloc((size_t)e->nr_pages * ps);
		if (!buf)
			return -ENOMEM;
		r = pager_read(pr, e, buf);
		if (r < 0 && link) {
			char name[4200];

			return ckpt_fail(ctx->err, r, "%s: %s",
					 chain_link_name(ctx->chain, link, name, sizeof(name)),
					 pager_errmsg(pr));
		}
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
		if (e->flags & PE_PRESENT)
			piece.data_off = e->data_off + (a - e->vaddr);
		if (buf)
			piece.xxh3 = pages_block_hash(buf + (a - e->vaddr), pend - a);
		r = add_page_entry(t, &piece, link, cap);
		if (r < 0)
			return r;
		a = pend;
	}
	return 0;
}

/* An entry (or a piece of a parent's, link > 0) for the blob: split where
 * it spans VMAs. */
static int add_entry(struct rst_ctx *ctx, struct rst_task *t, struct page_reader *pr,
		     const struct page_entry *e, unsigned link, void *cap)
{
	uint64_t len = (uint64_t)e->nr_pages * ctx->page_size;
	VmaEntry *v = data_vma(t, e->vaddr);

	if (v && e->vaddr + len <= v->end)
		return add_page_entry(t, e, link, cap);
	return add_split(ctx, t, pr, e, link, cap);
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
		if (e.flags & PE_IN_PARENT)	/* restore-chain.c */
			r = rst_resolve_in_parent(ctx, t, &t->parents, &e, add_entry, &cap);
		else
			r = add_entry(ctx, t, pr, &e, 0, &cap);
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

int rst_load(struct rst_ctx *ctx)
{
	int r;

	r = load_inventory(ctx);
	if (r < 0)
		return r;
	r = rst_load_chain(ctx);
	if (r < 0)
		return r;
	r = load_pstree(ctx);
	if (r < 0)
		return r;
	r = rst_load_files(ctx);
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
			r = rst_load_fs(ctx, t);
		if (r == 0)	/* every earlier task's fds are loaded */
			r = rst_check_fds(ctx, t);
		if (r == 0)
			r = rst_check_mm(ctx, t);
		if (r < 0)
			return r;
	}
	r = rst_check_ghosts(ctx);
	if (r == 0)	/* the pools, for the whole tree's hugetlb memory */
		r = rst_check_hugetlb(ctx);
	if (r == 0)	/* every task's pagemap: PE_COW entries against the parent's */
		r = rst_cow_plan(ctx);
	return r;
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
		free(t->page_link);
		free(t->srcs);
		rst_parents_free(ctx, t->parents);
		free(t->link_pages_id);
		free(t->lazy);
		free(t->cow_at);
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
	rst_free_chain(ctx);
}
