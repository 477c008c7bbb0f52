/* ckptctl show without --json: what an image set holds, for a person.
 *
 * It runs after show.c has read and checked the whole set (the JSON pass,
 * built aside and thrown away), so a set is refused the same way in both
 * outputs, and it reads the record files a second time to print them:
 * that costs the records again (small) but never the pages files, whose
 * blocks it only counts through the pagemaps. Plain text, aligned columns,
 * no colour and nothing that needs a terminal; every string that came
 * from the set is escaped. */
#include "client/show.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client/commands.h"
#include "common/escape.h"
#include "common/util.h"
#include "images/pages.h"
#include "core.pb-c.h"
#include "files.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pstree.pb-c.h"

#define ESC_LEN 4096

/* "12 KiB", "1.5 MiB", "2.0 GiB" */
static const char *fmt_size(char *buf, size_t len, uint64_t bytes)
{
	if (bytes < 1024)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else if (bytes < (1ull << 20))
		snprintf(buf, len, "%.*f KiB", bytes % 1024 ? 1 : 0, bytes / 1024.0);
	else if (bytes < (1ull << 30))
		snprintf(buf, len, "%.1f MiB", bytes / 1048576.0);
	else
		snprintf(buf, len, "%.1f GiB", bytes / 1073741824.0);
	return buf;
}

static const char *dump_kind(DumpKind k)
{
	switch (k) {
	case DUMP_KIND__DUMP_FULL:
		return "full dump";
	case DUMP_KIND__DUMP_INCREMENTAL:
		return "incremental dump";
	case DUMP_KIND__DUMP_PRE:
		return "pre-dump (memory only: restore needs a dump on top)";
	default:
		return "unknown kind";
	}
}

static const char *vma_kind(VmaKind k)
{
	static const char *const names[] = {
		[VMA_KIND__VMA_ANON_PRIVATE] = "anon private",
		[VMA_KIND__VMA_ANON_SHARED] = "anon shared",
		[VMA_KIND__VMA_FILE_PRIVATE] = "file private",
		[VMA_KIND__VMA_FILE_SHARED] = "file shared",
		[VMA_KIND__VMA_STACK] = "stack",
		[VMA_KIND__VMA_HEAP] = "heap",
		[VMA_KIND__VMA_VDSO] = "vdso",
		[VMA_KIND__VMA_VVAR] = "vvar",
		[VMA_KIND__VMA_VVAR_VCLOCK] = "vvar_vclock",
		[VMA_KIND__VMA_VSYSCALL] = "vsyscall",
	};

	return (unsigned)k < sizeof(names) / sizeof(names[0]) && names[k] ? names[k] : "?";
}

static const char *task_state(const PstreeEntry *p, char *buf, size_t len)
{
	switch (p->state) {
	case TASK_STATE__TASK_ALIVE:
		return "alive";
	case TASK_STATE__TASK_STOPPED:
		snprintf(buf, len, "stopped (signal %d)", p->has_stop_signal ? p->stop_signal : 0);
		return buf;
	case TASK_STATE__TASK_ZOMBIE:
		snprintf(buf, len, "zombie (status %d)", p->has_exit_code ? p->exit_code : 0);
		return buf;
	default:
		return "?";
	}
}

/* ---- the set ---- */

static void print_set_head(struct show *s, const InventoryEntry *inv, FILE *out)
{
	char esc[ESC_LEN], when[64] = "not recorded", sz[32];
	time_t t = inv->dump_time_ns / 1000000000ull;
	struct tm tm;
	size_t n;

	if (inv->dump_time_ns && gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	ckpt_escape(esc, sizeof(esc), s->prefix);
	n = strlen(esc);
	if (n > 1 && esc[n - 1] == '/')
		esc[n - 1] = '\0';
	fprintf(out, "Image set %s\n", esc);
	fprintf(out, "  kind      %s, format %u\n", dump_kind(inv->kind), inv->format_version);
	if (inv->set_id)
		fprintf(out, "  set id    %s\n", ckpt_escape(esc, sizeof(esc), inv->set_id));
	fprintf(out, "  dumped    %s", when);
	if (inv->has_freeze_us)
		fprintf(out, ", frozen for %.1f ms", inv->freeze_us / 1000.0);
	if (inv->hostname)
		fprintf(out, ", on %s", ckpt_escape(esc, sizeof(esc), inv->hostname));
	fprintf(out, "\n  kernel    %s", ckpt_escape(esc, sizeof(esc), inv->kernel_release));
	fprintf(out, ", page size %s, ckpt %s\n", fmt_size(sz, sizeof(sz), inv->page_size),
		ckpt_escape(esc, sizeof(esc), inv->ckpt_version));
	fprintf(out, "  tracker   %s\n",
		inv->tracker ? ckpt_escape(esc, sizeof(esc), inv->tracker) : "none");
	fprintf(out, "  parent    %s\n", inv->parent && inv->parent[0] ?
		ckpt_escape(esc, sizeof(esc), inv->parent) : "none");
	fprintf(out, "  root      pid %d, %u task%s\n", inv->root_pid, inv->nr_tasks,
		inv->nr_tasks == 1 ? "" : "s");
}

/* The chain, as show --chain prints it, indented. */
static int print_chain(struct show *s, FILE *out)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	int r;

	if (!mem)
		return show_fail(s, -ENOMEM, EXIT_FAIL, "out of memory");
	r = show_chain_links(s, NULL, mem);
	fclose(mem);
	if (r < 0)
		return r;
	fputs("\nChain (this set first, then each parent):\n", out);
	for (char *line = buf, *nl; line && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		fprintf(out, "  %s\n", line);
	}
	return 0;
}

/* comm of pid, from core-PID.img (escaped into buf), or "-". */
static const char *task_comm(struct show *s, int pid, char *buf, size_t len)
{
	struct show_recs core = { 0 };

	snprintf(buf, len, "-");
	if (!show_has(s, IMG_CORE, pid) || show_load(s, IMG_CORE, pid, &core) < 0 || !core.n)
		return buf;
	ckpt_escape(buf, len, ((const TaskCoreEntry *)core.m[0])->comm);
	show_recs_free(&core);
	return buf;
}

/* The cgroups pid was dumped from (core-PID.img): cgroup2's first. */
static void print_cgroups(struct show *s, int pid, FILE *out)
{
	struct show_recs core = { 0 };
	const TaskCoreEntry *c;
	char esc[ESC_LEN];
	unsigned n = 0;

	if (!show_has(s, IMG_CORE, pid) || show_load(s, IMG_CORE, pid, &core) < 0 || !core.n)
		return;
	c = (const TaskCoreEntry *)core.m[0];
	for (int v1 = 0; v1 < 2; v1++)
		for (size_t i = 0; i < c->n_cgroups; i++)
			if ((strncmp(c->cgroups[i], "0::", 3) != 0) == v1)
				fprintf(out, "%s%s", n++ ? ", " : "  cgroups ",
					ckpt_escape(esc, sizeof(esc), c->cgroups[i]));
	if (n)
		fputc('\n', out);
	show_recs_free(&core);
}

static int print_tree(struct show *s, const struct show_recs *pst, FILE *out)
{
	char comm[64], st[64];

	fprintf(out, "\nProcess tree (%zu task%s):\n", pst->n, pst->n == 1 ? "" : "s");
	fprintf(out, "  %7s %7s %7s %7s %7s  %-20s %s\n", "PID", "PPID", "PGID", "SID",
		"THREADS", "STATE", "COMM");
	for (size_t i = 0; i < pst->n; i++) {
		const PstreeEntry *p = (const PstreeEntry *)pst->m[i];

		fprintf(out, "  %7d %7d %7d %7d %7zu  %-20s %s\n", p->pid, p->ppid, p->pgid,
			p->sid, p->n_threads, task_state(p, st, sizeof(st)),
			task_comm(s, p->pid, comm, sizeof(comm)));
	}
	/* core-PID.img was read for the comms only: a failure there is the
	 * set's, already reported by the checks */
	return s->err[0] ? -EBADMSG : 0;
}

/* ---- one task: VMAs and their pages ---- */

struct vma_pages {
	uint64_t stored, zero, parent, cow;
};

struct totals {
	uint64_t stored, zero, parent, outside;
	uint64_t cow;			/* PE_COW: the parent task's pages */
	unsigned page_size;
};

/* Attribute every pagemap entry of pid to the VMAs (both ascending). */
static int count_vma_pages(struct show *s, int pid, const struct show_recs *mm,
			   struct vma_pages *vp, struct totals *t)
{
	struct page_reader *pr = NULL;
	struct page_entry e;
	size_t v = 1;
	int r;

	r = pager_open(s->dirfd, pid, &pr);
	if (r < 0) {
		show_fail(s, r, EXIT_BADIMAGE, "%s%s", s->prefix, pager_errmsg(pr));
		pager_close(pr);
		return r;
	}
	t->page_size = pager_page_size(pr);
	while ((r = pager_next(pr, &e)) > 0) {
		uint64_t ps = pager_page_size(pr), a = e.vaddr, end = e.vaddr + e.nr_pages * ps;
		uint64_t *slot, inside = 0;

		while (v < mm->n && ((const VmaEntry *)mm->m[v])->end <= a)
			v++;
		for (size_t k = v; k < mm->n; k++) {
			const VmaEntry *vma = (const VmaEntry *)mm->m[k];
			uint64_t lo = a > vma->start ? a : vma->start;
			uint64_t hi = end < vma->end ? end : vma->end;

			if (vma->start >= end)
				break;
			if (hi <= lo)
				continue;
			slot = e.flags == PE_PRESENT ? &vp[k].stored :
			       e.flags == PE_ZERO ? &vp[k].zero :
			       e.flags == PE_COW ? &vp[k].cow : &vp[k].parent;
			*slot += (hi - lo) / ps;
			inside += (hi - lo) / ps;
		}
		/* VMAs do not overlap in a set restore takes: be safe anyway */
		t->outside += inside < e.nr_pages ? e.nr_pages - inside : 0;
		slot = e.flags == PE_PRESENT ? &t->stored : e.flags == PE_ZERO ? &t->zero :
		       e.flags == PE_COW ? &t->cow : &t->parent;
		*slot += e.nr_pages;
	}
	if (r < 0)
		show_fail(s, r, EXIT_BADIMAGE, "%s%s", s->prefix, pager_errmsg(pr));
	pager_close(pr);
	return r < 0 ? r : 0;
}

static void vma_prot(const VmaEntry *v, char buf[5])
{
	buf[0] = v->prot & PROT_READ ? 'r' : '-';
	buf[1] = v->prot & PROT_WRITE ? 'w' : '-';
	buf[2] = v->prot & PROT_EXEC ? 'x' : '-';
	buf[3] = v->flags & MAP_SHARED ? 's' : 'p';
	buf[4] = '\0';
}

static const char *vma_file(const VmaEntry *v, char *buf, size_t len)
{
	const char *what = v->file ? v->file->path : v->name ? v->name : "";

	ckpt_escape(buf, len, what);
	if (v->has_deleted && v->deleted) {
		size_t n = strlen(buf);

		snprintf(buf + n, len - n, " (deleted, kept in ghost-%u.img)", v->ghost_id);
	}
	return buf;
}

/* The VMA table; vp NULL: no pagemap (one mm file shown alone). */
static void print_vmas(const struct show_recs *mm, const struct vma_pages *vp, FILE *out)
{
	char esc[ESC_LEN], sz[32], prot[5];
	int w = 1;

	for (size_t i = 1; i < mm->n; i++) {
		const VmaEntry *v = (const VmaEntry *)mm->m[i];
		int n = snprintf(NULL, 0, "%llx", (unsigned long long)v->end);

		if (n > w)
			w = n;
	}
	fprintf(out, "  VMAs (%zu):\n", mm->n ? mm->n - 1 : 0);
	fprintf(out, "    %-*s %10s  %-4s  %-12s", 2 * w + 1, "RANGE", "SIZE", "PROT", "KIND");
	if (vp)
		fprintf(out, " %7s %7s %7s", "STORED", "ZERO", "PARENT");
	fputs("  FILE\n", out);
	for (size_t i = 1; i < mm->n; i++) {
		const VmaEntry *v = (const VmaEntry *)mm->m[i];

		vma_prot(v, prot);
		fprintf(out, "    %0*llx-%0*llx %10s  %-4s  %-12s", w, (unsigned long long)v->start,
			w, (unsigned long long)v->end, fmt_size(sz, sizeof(sz), v->end - v->start),
			prot, vma_kind(v->kind));
		if (vp)
			fprintf(out, " %7llu %7llu %7llu", (unsigned long long)vp[i].stored,
				(unsigned long long)vp[i].zero, (unsigned long long)vp[i].parent);
		vma_file(v, esc, sizeof(esc));
		fprintf(out, "%s%s\n", esc[0] ? "  " : "", esc);
	}
}

/* ---- one task: fds ---- */

static const char *fd_kind(FdType t)
{
	static const char *const names[] = {
		[FD_TYPE__FD_REG] = "file", [FD_TYPE__FD_DIR] = "dir",
		[FD_TYPE__FD_PIPE] = "pipe", [FD_TYPE__FD_FIFO] = "fifo",
		[FD_TYPE__FD_CHR] = "char", [FD_TYPE__FD_SOCKET] = "socket",
		[FD_TYPE__FD_TTY] = "tty", [FD_TYPE__FD_MEMFD] = "memfd",
		[FD_TYPE__FD_ANON] = "anon", [FD_TYPE__FD_OTHER] = "other",
		[FD_TYPE__FD_PATH] = "o_path",
	};

	return (unsigned)t < sizeof(names) / sizeof(names[0]) && names[t] ? names[t] : "?";
}

static const char *fd_flags(const FileDescEntry *d, bool cloexec, char *buf, size_t len)
{
	unsigned acc = d->flags & O_ACCMODE;

	snprintf(buf, len, "%s%s%s%s", d->flags & O_PATH ? "path" :
		 acc == O_RDONLY ? "r" : acc == O_WRONLY ? "w" : "rw",
		 d->flags & O_APPEND ? ",append" : "", d->flags & O_NONBLOCK ? ",nonblock" : "",
		 cloexec ? ",cloexec" : "");
	return buf;
}

static const char *sock_family(unsigned f)
{
	return f == AF_UNIX ? "unix" : f == AF_INET ? "inet" : f == AF_INET6 ? "inet6" :
	       f == AF_NETLINK ? "netlink" : "family ?";
}

static const char *sock_type(unsigned t)
{
	return t == SOCK_STREAM ? "stream" : t == SOCK_DGRAM ? "dgram" :
	       t == SOCK_SEQPACKET ? "seqpacket" : t == SOCK_RAW ? "raw" : "type ?";
}

/* What the fd names, escaped into buf. */
static const char *fd_target(const FileDescEntry *d, char *buf, size_t len)
{
	char a[ESC_LEN], b[ESC_LEN];
	size_t n;

	switch (d->type) {
	case FD_TYPE__FD_PIPE:
		snprintf(buf, len, "pipe:[%llu]", (unsigned long long)d->pipe_ino);
		if (d->has_pipe_data && d->pipe_data.len) {
			n = strlen(buf);
			snprintf(buf + n, len - n, ", %zu bytes buffered", d->pipe_data.len);
		}
		return buf;
	case FD_TYPE__FD_SOCKET:
		if (!d->socket) {
			snprintf(buf, len, "socket");
			return buf;
		}
		snprintf(buf, len, "%s %s %s -> %s", sock_family(d->socket->family),
			 sock_type(d->socket->type),
			 d->socket->local && d->socket->local[0] ?
			 ckpt_escape(a, sizeof(a), d->socket->local) : "(unbound)",
			 d->socket->peer && d->socket->peer[0] ?
			 ckpt_escape(b, sizeof(b), d->socket->peer) : "(none)");
		return buf;
	case FD_TYPE__FD_MEMFD:
		snprintf(buf, len, "memfd:%s", d->memfd_name ?
			 ckpt_escape(a, sizeof(a), d->memfd_name) : "");
		return buf;
	case FD_TYPE__FD_ANON:
		return ckpt_escape(buf, len, d->anon_name ? d->anon_name : "anon_inode");
	case FD_TYPE__FD_TTY:
		if (d->tty && d->tty->name)
			return ckpt_escape(buf, len, d->tty->name);
		break;
	default:
		break;
	}
	ckpt_escape(buf, len, d->file ? d->file->path : d->anon_name ? d->anon_name : "?");
	n = strlen(buf);
	if (d->has_deleted && d->deleted)
		snprintf(buf + n, len - n, " (deleted)");
	n = strlen(buf);
	if (d->type == FD_TYPE__FD_REG && d->has_pos)
		snprintf(buf + n, len - n, ", offset %llu", (unsigned long long)d->pos);
	return buf;
}

static const FileDescEntry *find_desc(const struct show_recs *files, uint32_t id)
{
	for (size_t i = 0; i < files->n; i++)
		if (((const FileDescEntry *)files->m[i])->id == id)
			return (const FileDescEntry *)files->m[i];
	return NULL;
}

static void print_fds(const struct show_recs *fs, const struct show_recs *files, FILE *out)
{
	char tgt[ESC_LEN], fl[64];

	fprintf(out, "  fds (%zu):\n", fs->n ? fs->n - 1 : 0);
	if (fs->n < 2)
		return;
	fprintf(out, "    %5s  %-7s %-22s %s\n", "FD", "KIND", "FLAGS", "TARGET");
	for (size_t i = 1; i < fs->n; i++) {
		const FdEntry *f = (const FdEntry *)fs->m[i];
		const FileDescEntry *d = find_desc(files, f->desc_id);

		if (!d) {
			fprintf(out, "    %5u  %-7s %-22s (description %u not in files.img)\n",
				f->fd, "?", f->cloexec ? "cloexec" : "", f->desc_id);
			continue;
		}
		fprintf(out, "    %5u  %-7s %-22s %s\n", f->fd, fd_kind(d->type),
			fd_flags(d, f->cloexec, fl, sizeof(fl)), fd_target(d, tgt, sizeof(tgt)));
	}
}

static int print_task(struct show *s, const PstreeEntry *p, const struct show_recs *files,
		      struct totals *t, FILE *out)
{
	struct show_recs mm = { 0 }, fs = { 0 };
	_cleanup_free_ struct vma_pages *vp = NULL;
	struct totals mine = { 0 };
	char comm[64], esc[ESC_LEN], sz[32];
	int r;

	r = show_load(s, IMG_MM, p->pid, &mm);
	if (r < 0)
		return r;
	vp = calloc(mm.n ? mm.n : 1, sizeof(*vp));
	r = vp ? count_vma_pages(s, p->pid, &mm, vp, &mine) :
		 show_fail(s, -ENOMEM, EXIT_FAIL, "out of memory");
	if (r == 0 && show_has(s, IMG_FS, p->pid))
		r = show_load(s, IMG_FS, p->pid, &fs);
	if (r < 0)
		goto out;
	fprintf(out, "\nTask %d (%s), %zu thread%s:", p->pid,
		task_comm(s, p->pid, comm, sizeof(comm)), p->n_threads,
		p->n_threads == 1 ? "" : "s");
	for (size_t i = 0; i < p->n_threads && i < 16; i++)
		fprintf(out, " %d", p->threads[i]);
	fputs(p->n_threads > 16 ? " ...\n" : "\n", out);
	if (fs.n) {
		const FsEntry *f = (const FsEntry *)fs.m[0];

		fprintf(out, "  cwd %s", ckpt_escape(esc, sizeof(esc), f->cwd));
		fprintf(out, ", root %s, umask %03o\n", ckpt_escape(esc, sizeof(esc), f->root),
			f->umask);
	}
	print_cgroups(s, p->pid, out);
	print_vmas(&mm, vp, out);
	fprintf(out, "  pages: %llu stored (%s), %llu zero, %llu in parent",
		(unsigned long long)mine.stored,
		fmt_size(sz, sizeof(sz), mine.stored * mine.page_size),
		(unsigned long long)mine.zero, (unsigned long long)mine.parent);
	if (mine.cow)
		fprintf(out, ", %llu shared with the parent task (COW)",
			(unsigned long long)mine.cow);
	if (mine.outside)
		fprintf(out, "; %llu outside every VMA", (unsigned long long)mine.outside);
	fputc('\n', out);
	if (fs.n)
		print_fds(&fs, files, out);
	else
		fputs("  fds: none recorded (a pre-dump saves memory only)\n", out);
	t->stored += mine.stored;
	t->zero += mine.zero;
	t->parent += mine.parent;
	t->cow += mine.cow;
	t->page_size = mine.page_size;
out:
	show_recs_free(&mm);
	show_recs_free(&fs);
	return r;
}

/* ---- sizes and checks ---- */

struct dir_sizes {
	uint64_t files, bytes, pages_files, pages_bytes;
};

static int dir_sizes(struct show *s, struct dir_sizes *ret)
{
	struct dirent *de;
	DIR *d = NULL;	/* set by show_opendir; for -Wmaybe-uninitialized */
	int r = show_opendir(s, &d);

	if (r < 0)
		return r;
	while ((de = readdir(d))) {
		enum img_kind kind;
		struct stat st;
		unsigned id;

		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		ret->files++;
		ret->bytes += st.st_size;
		if (img_parse_name(de->d_name, &kind, &id) == 0 && kind == IMG_PAGES) {
			ret->pages_files++;
			ret->pages_bytes += st.st_size;
		}
	}
	closedir(d);
	return 0;
}

static void print_checks(struct show *s, FILE *out)
{
	char sz[32];

	fprintf(out, "Checked:  %llu record checksums in %llu files, %llu pagemap entries",
		(unsigned long long)s->nr_records, (unsigned long long)s->nr_files,
		(unsigned long long)s->nr_entries);
	if (s->verify)
		fprintf(out, ", %llu page block checksums (%s): all good\n",
			(unsigned long long)s->nr_blocks, fmt_size(sz, sizeof(sz), s->block_bytes));
	else
		fputs(": all good; page blocks not read (--no-verify)\n", out);
	if (s->incremental)
		fputs("          parents: inventories and pagemap entries checked; their "
		      "blocks are verified as restore or merge reads them\n", out);
}

static int print_sizes(struct show *s, const struct totals *t, FILE *out)
{
	struct dir_sizes ds = { 0 };
	char a[32], b[32], c[32];
	int r;

	r = dir_sizes(s, &ds);
	if (r < 0)
		return r;
	fprintf(out, "\nSizes:    %llu pages stored (%s), %llu zero, %llu left in the parent; "
		"pages files %s; the set %s in %llu files\n", (unsigned long long)t->stored,
		fmt_size(a, sizeof(a), t->stored * t->page_size), (unsigned long long)t->zero,
		(unsigned long long)t->parent, fmt_size(b, sizeof(b), ds.pages_bytes),
		fmt_size(c, sizeof(c), ds.bytes), (unsigned long long)ds.files);
	return 0;
}

static int summary_set(struct show *s, FILE *out)
{
	struct show_recs inv = { 0 }, pst = { 0 }, files = { 0 };
	struct totals t = { 0 };
	int r;

	r = show_load(s, IMG_INVENTORY, 0, &inv);
	if (r == 0)
		r = show_load(s, IMG_PSTREE, 0, &pst);
	if (r == 0 && show_has(s, IMG_FILES, 0))
		r = show_load(s, IMG_FILES, 0, &files);
	if (r < 0 || !inv.n) {
		r = r < 0 ? r : show_fail(s, -EBADMSG, EXIT_BADIMAGE, "%sinventory.img: no record",
					  s->prefix);
		goto out;
	}
	print_set_head(s, (const InventoryEntry *)inv.m[0], out);
	if (s->incremental)
		r = print_chain(s, out);
	if (r == 0)
		r = print_tree(s, &pst, out);
	for (size_t i = 0; r == 0 && i < pst.n; i++) {
		const PstreeEntry *p = (const PstreeEntry *)pst.m[i];

		if (p->state != TASK_STATE__TASK_ZOMBIE)
			r = print_task(s, p, &files, &t, out);
	}
	if (r == 0)
		r = print_sizes(s, &t, out);
	if (r == 0)
		print_checks(s, out);
out:
	show_recs_free(&inv);
	show_recs_free(&pst);
	show_recs_free(&files);
	return r;
}

/* ---- one file ---- */

static int summary_file(struct show *s, const char *name, FILE *out)
{
	struct show_recs recs = { 0 };
	char esc[ESC_LEN];
	enum img_kind kind;
	unsigned id;
	int r = 0;

	fprintf(out, "Image file %s%s\n", ckpt_escape(esc, sizeof(esc), s->prefix), name);
	if (img_parse_name(name, &kind, &id) < 0) {
		fputs("  (a name that is no image file's: use --json to see its records)\n", out);
	} else if (kind == IMG_PAGES) {
		fputs("  raw page data: its blocks are listed and verified through the pagemap "
		      "that names it (show the set, or pagemap-PID.img)\n", out);
	} else if (kind == IMG_PSTREE || kind == IMG_MM) {
		r = show_load(s, kind, id, &recs);
		if (r == 0 && kind == IMG_PSTREE)
			r = print_tree(s, &recs, out);
		else if (r == 0)
			print_vmas(&recs, NULL, out);
		show_recs_free(&recs);
	} else {
		fputs("  use --json to see its records\n", out);
	}
	if (r == 0) {
		fputc('\n', out);
		print_checks(s, out);
	}
	return r;
}

int show_summary(struct show *s, const char *name, FILE *out)
{
	return name ? summary_file(s, name, out) : summary_set(s, out);
}
