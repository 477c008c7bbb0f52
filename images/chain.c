/* An incremental chain: an image set and its parents, nearest first.
 *
 * The client follows each set's `parent` path (chain_open_parents) and
 * passes the directories as fds; both sides then bind the links by what a
 * path can't fake (chain_load): the ids each set gave itself and its
 * parent, the process it saved (root pid and start time, boot), the depth,
 * and no directory twice. Only inventory.img is read here: a few hundred
 * bytes per link, so checking a chain costs nothing next to restoring it.
 * Pages are resolved through the chain by whoever reads them (the daemon's
 * restore, ckptctl merge), verifying each block's checksum as it goes. */
#include "images/chain.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "common/util.h"
#include "images/img.h"

/* Read the one record of inventory.img in dirfd; on failure what was wrong
 * into why. */
static int chain_read_inventory(int dirfd, InventoryEntry **ret, char *why, size_t len)
{
	ProtobufCMessage *m = NULL, *extra = NULL;
	struct img *img = NULL;
	int r;

	r = img_open(dirfd, IMG_INVENTORY, 0, &img);
	if (r == -ENOENT) {
		/* -ENODATA: the set is incomplete, as restore says it */
		snprintf(why, len, "inventory.img is missing: not an image set, or an unfinished dump");
		r = -ENODATA;
		goto out;
	}
	if (r == 0)
		r = img_read_next(img, &m);
	if (r == 0 && !m)
		r = -EBADMSG;
	if (r == 0)
		r = img_read_next(img, &extra);
	if (r == 0 && extra)
		r = -EBADMSG;
	if (r < 0) {
		if (img_failed(img))
			snprintf(why, len, "%s", img_errmsg(img));
		else
			snprintf(why, len, "inventory.img: %s", m ? "more than one record" : "no record");
		goto out;
	}
	if (((InventoryEntry *)m)->format_version > IMG_FORMAT_VERSION) {
		snprintf(why, len, "inventory.img: format version %u is newer than this ckpt reads (%u)",
			 ((InventoryEntry *)m)->format_version, IMG_FORMAT_VERSION);
		r = -EPROTONOSUPPORT;
		goto out;
	}
	*ret = (InventoryEntry *)TAKE_PTR(m);
out:
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
	if (extra)
		protobuf_c_message_free_unpacked(extra, NULL);
	img_abort(img);
	return r;
}

static bool has_parent(const InventoryEntry *inv)
{
	return inv->parent && inv->parent[0];
}

const char *chain_link_name(const struct chain *c, unsigned i, char *buf, size_t len)
{
	if (i == 0)
		snprintf(buf, len, "link 0 (the set itself)");
	else
		snprintf(buf, len, "link %u (%s)", i,
			 has_parent(c->link[i - 1].inv) ? c->link[i - 1].inv->parent : "?");
	return buf;
}

/* What link i must agree on with link 0 (the process it saved). */
static int chain_check_same_process(const struct chain *c, unsigned i, struct ckpt_err *err)
{
	const InventoryEntry *a = c->link[0].inv, *b = c->link[i].inv;
	char name[4200];

	chain_link_name(c, i, name, sizeof(name));
	if (a->root_pid != b->root_pid)
		return ckpt_fail(err, -EBADMSG,
				 "%s: saved process %d, but the set saved process %d: the chain "
				 "mixes sets of different processes", name, b->root_pid, a->root_pid);
	if (a->has_root_start_time != b->has_root_start_time ||
	    a->root_start_time != b->root_start_time)
		return ckpt_fail(err, -EBADMSG,
				 "%s: saved another process with pid %d (start time %llu, the set's "
				 "%llu): the pid was reused", name, b->root_pid,
				 (unsigned long long)b->root_start_time,
				 (unsigned long long)a->root_start_time);
	if ((a->boot_id && b->boot_id && strcmp(a->boot_id, b->boot_id)) || !a->boot_id != !b->boot_id)
		return ckpt_fail(err, -EBADMSG, "%s: made in another boot (boot id %s, the set's %s)",
				 name, b->boot_id ? b->boot_id : "none", a->boot_id ? a->boot_id : "none");
	if (a->page_size != b->page_size)
		return ckpt_fail(err, -EBADMSG, "%s: page size %u differs from the set's %u", name,
				 b->page_size, a->page_size);
	return 0;
}

/* Link i against its parent, link i + 1 (if any). */
static int chain_check_link(const struct chain *c, unsigned i, struct ckpt_err *err)
{
	const InventoryEntry *inv = c->link[i].inv;
	const InventoryEntry *p = i + 1 < c->nr ? c->link[i + 1].inv : NULL;
	uint32_t depth = inv->has_chain_depth ? inv->chain_depth : 0;
	char name[4200], pname[4200];

	chain_link_name(c, i, name, sizeof(name));
	if (inv->kind < DUMP_KIND__DUMP_FULL || inv->kind > DUMP_KIND__DUMP_PRE)
		return ckpt_fail(err, -EBADMSG, "%s: inventory.img: unknown dump kind %d", name,
				 inv->kind);
	if (has_parent(inv) && (!inv->set_id || !inv->parent_set_id))
		return ckpt_fail(err, -EBADMSG,
				 "%s: inventory.img names a parent (%s) but lacks the set ids that "
				 "bind it", name, inv->parent);
	if (!p) {
		if (has_parent(inv))
			return ckpt_fail(err, -ENOENT,
					 "%s: its parent %s was not opened: the chain is incomplete",
					 name, inv->parent);
		if (inv->kind == DUMP_KIND__DUMP_INCREMENTAL)
			return ckpt_fail(err, -EBADMSG,
					 "%s: is an incremental dump without a parent", name);
		if (depth)
			return ckpt_fail(err, -EBADMSG,
					 "%s: inventory.img says chain depth %u, but it has no parent",
					 name, depth);
		return 0;
	}
	chain_link_name(c, i + 1, pname, sizeof(pname));
	if (!has_parent(inv))
		return ckpt_fail(err, -EBADMSG, "%s: has no parent, yet %s follows it", name, pname);
	if (!p->set_id || strcmp(p->set_id, inv->parent_set_id))
		return ckpt_fail(err, -EBADMSG,
				 "%s: is set %s, not the parent set %s that %s names: the directory "
				 "was replaced, or the path points to another set", pname,
				 p->set_id ? p->set_id : "without id", inv->parent_set_id, name);
	if (depth != (p->has_chain_depth ? p->chain_depth : 0) + 1)
		return ckpt_fail(err, -EBADMSG,
				 "%s: inventory.img says chain depth %u, its parent %u (one less "
				 "expected)", name, depth, p->has_chain_depth ? p->chain_depth : 0);
	return 0;
}

static int chain_check_distinct(const struct chain *c, struct ckpt_err *err)
{
	struct stat st[CHAIN_MAX];
	char name[4200], other[4200];

	for (unsigned i = 0; i < c->nr; i++) {
		if (fstat(c->link[i].dirfd, &st[i]) < 0)
			return ckpt_fail(err, negerrno(), "%s: cannot stat its directory",
					 chain_link_name(c, i, name, sizeof(name)));
		for (unsigned j = 0; j < i; j++)
			if (st[i].st_dev == st[j].st_dev && st[i].st_ino == st[j].st_ino)
				return ckpt_fail(err, -EBADMSG,
						 "%s: is the same directory as %s: the chain is "
						 "cyclic", chain_link_name(c, i, name, sizeof(name)),
						 chain_link_name(c, j, other, sizeof(other)));
	}
	return 0;
}

int chain_load(const int *dirfds, unsigned n, bool restore, struct chain *ret,
	       struct ckpt_err *err)
{
	char why[1024], name[4200];
	int r;

	memset(ret, 0, sizeof(*ret));
	if (n == 0)
		return ckpt_fail(err, -EINVAL, "no image set given");
	if (n > CHAIN_MAX)
		return ckpt_fail(err, -E2BIG, "a chain of %u sets is longer than the %u allowed", n,
				 CHAIN_MAX);
	for (unsigned i = 0; i < n; i++) {
		ret->link[i].dirfd = dirfds[i];
		r = chain_read_inventory(dirfds[i], &ret->link[i].inv, why, sizeof(why));
		if (r < 0) {
			ckpt_fail(err, r, "%s: %s", chain_link_name(ret, i, name, sizeof(name)), why);
			goto fail;
		}
		ret->nr = i + 1;
	}
	r = chain_check_distinct(ret, err);
	for (unsigned i = 0; r == 0 && i < n; i++)
		r = chain_check_link(ret, i, err);
	for (unsigned i = 1; r == 0 && i < n; i++)
		r = chain_check_same_process(ret, i, err);
	if (r < 0)
		goto fail;
	if (restore && ret->link[0].inv->kind == DUMP_KIND__DUMP_PRE) {
		r = ckpt_fail(err, -EINVAL,
			      "the set is a pre-dump: it holds memory only; restore the final "
			      "dump made with --prev");
		goto fail;
	}
	return 0;
fail:
	chain_free(ret);
	return r;
}

void chain_free(struct chain *c)
{
	for (unsigned i = 0; i < c->nr; i++)
		if (c->link[i].inv)
			protobuf_c_message_free_unpacked(&c->link[i].inv->base, NULL);
	memset(c, 0, sizeof(*c));
}

static void close_all(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
}

/* The path a link is named by: link 0 is the set, link i the parent path
 * link i - 1 gave. */
static void open_name(char *buf, size_t len, unsigned i, const char *path)
{
	if (i == 0)
		snprintf(buf, len, "link 0 (the set itself)");
	else
		snprintf(buf, len, "link %u (%s)", i, path);
}

/* A parent path is followed as the set gives it, relative to the set's own
 * directory; an absolute path (the user gave --prev so) is followed too:
 * this runs as the user, opening what the user could open anyway, and
 * chain_load binds each link by its set id whatever the path was. */
int chain_new_set_id(char *buf)
{
	uint8_t rnd[16];

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -errno;
	for (unsigned i = 0; i < sizeof(rnd); i++)
		snprintf(buf + 2 * i, 3, "%02x", rnd[i]);
	return 0;
}

/* Link n (fd) is no directory links 0..n-1 were: a chain never loops. */
static int check_new_link(int fd, struct stat *seen, unsigned n, const char *name,
			  struct ckpt_err *err)
{
	if (fstat(fd, &seen[n]) < 0)
		return ckpt_fail(err, negerrno(), "%s: cannot stat its directory", name);
	for (unsigned j = 0; j < n; j++)
		if (seen[j].st_dev == seen[n].st_dev && seen[j].st_ino == seen[n].st_ino)
			return ckpt_fail(err, -EBADMSG, "%s: is the same directory as link %u: "
					 "the chain is cyclic", name, j);
	return 0;
}

int chain_open_parents(int dirfd, int *fds, unsigned max, unsigned *nr, struct ckpt_err *err)
{
	struct stat seen[CHAIN_MAX];
	_cleanup_free_ char *path = NULL;
	char why[1024], name[4200];
	unsigned n = 0;
	int cur = dirfd, r;

	if (max > CHAIN_MAX - 1)
		max = CHAIN_MAX - 1;
	if (fstat(dirfd, &seen[0]) < 0)
		return ckpt_fail(err, negerrno(), "link 0 (the set itself): cannot stat its directory");
	for (;;) {
		InventoryEntry *inv = NULL;
		int fd;

		open_name(name, sizeof(name), n, path);
		r = chain_read_inventory(cur, &inv, why, sizeof(why));
		if (r < 0) {
			ckpt_fail(err, r, "%s: %s", name, why);
			goto fail;
		}
		if (!has_parent(inv)) {
			protobuf_c_message_free_unpacked(&inv->base, NULL);
			break;
		}
		free(path);
		path = strdup(inv->parent);
		protobuf_c_message_free_unpacked(&inv->base, NULL);
		if (!path) {
			r = ckpt_fail(err, -ENOMEM, "%s: out of memory", name);
			goto fail;
		}
		open_name(name, sizeof(name), n + 1, path);
		if (n == max) {
			r = ckpt_fail(err, -E2BIG,
				      "%s: the chain is longer than the %u sets allowed; merge it "
				      "(ckptctl merge) into one set", name, max + 1);
			goto fail;
		}
		fd = openat(cur, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			r = negerrno();
			ckpt_fail(err, r, "%s: cannot open the parent set%s", name,
				  r == -ENOENT ? " (moved or removed?)" : "");
			goto fail;
		}
		fds[n++] = fd;
		r = check_new_link(fd, seen, n, name, err);
		if (r < 0)
			goto fail;
		cur = fd;
	}
	*nr = n;
	return 0;
fail:
	close_all(fds, n);
	return r;
}
