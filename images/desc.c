/* The table of image kinds: file-name patterns, magics, record types.
 * A new kind is one line here and one .proto. */
#include "img.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.pb-c.h"
#include "core.pb-c.h"
#include "files.pb-c.h"
#include "hashes.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"

static const struct img_desc descs[IMG__MAX] = {
	[IMG_INVENTORY] = { IMG_INVENTORY, "inventory", "inventory.img", false, 0x564e4901,
			    &inventory_entry__descriptor, &inventory_entry__descriptor },
	[IMG_PSTREE] = { IMG_PSTREE, "pstree", "pstree.img", false, 0x45525402,
			 &pstree_entry__descriptor, &pstree_entry__descriptor },
	[IMG_CORE] = { IMG_CORE, "core", "core-%u.img", true, 0x45524f03,
		       &task_core_entry__descriptor, &thread_core_entry__descriptor },
	[IMG_MM] = { IMG_MM, "mm", "mm-%u.img", true, 0x004d4d04,
		     &mm_entry__descriptor, &vma_entry__descriptor },
	[IMG_PAGEMAP] = { IMG_PAGEMAP, "pagemap", "pagemap-%u.img", true, 0x50414d05,
			  &pagemap_head__descriptor, &pagemap_entry__descriptor },
	[IMG_PAGES] = { IMG_PAGES, "pages", "pages-%u.img", true, 0x47415006, NULL, NULL },
	[IMG_FILES] = { IMG_FILES, "files", "files.img", false, 0x4c494607,
			&file_desc_entry__descriptor, &file_desc_entry__descriptor },
	[IMG_FS] = { IMG_FS, "fs", "fs-%u.img", true, 0x00534608,
		     &fs_entry__descriptor, &fd_entry__descriptor },
	[IMG_GHOST] = { IMG_GHOST, "ghost", "ghost-%u.img", true, 0x4f484709,
			&ghost_head__descriptor, &ghost_chunk__descriptor },
	[IMG_HASHES] = { IMG_HASHES, "hashes", "hashes-%u.img", true, 0x5348480a,
			 &hashes_head__descriptor, &hashes_run__descriptor },
};

const struct img_desc *img_desc_get(enum img_kind kind)
{
	if ((unsigned)kind >= IMG__MAX)
		return NULL;
	return &descs[kind];
}

const struct img_desc *img_desc_by_magic(uint32_t magic)
{
	for (unsigned i = 0; i < IMG__MAX; i++)
		if (descs[i].magic == magic)
			return &descs[i];
	return NULL;
}

int img_filename(enum img_kind kind, unsigned id, char *buf, size_t len)
{
	const struct img_desc *d = img_desc_get(kind);
	int n;

	if (!d)
		return -EINVAL;
	if (d->per_id)
		n = snprintf(buf, len, d->fmt, id);
	else
		n = snprintf(buf, len, "%s", d->fmt);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int img_parse_name(const char *name, enum img_kind *ret_kind, unsigned *ret_id)
{
	for (unsigned i = 0; i < IMG__MAX; i++) {
		const struct img_desc *d = &descs[i];
		size_t plen = strcspn(d->fmt, "%");
		unsigned long id;
		char *end;

		if (!d->per_id) {
			if (strcmp(name, d->fmt))
				continue;
			*ret_kind = d->kind;
			*ret_id = 0;
			return 0;
		}
		/* "core-%u.img": the prefix, a plain decimal id, ".img" */
		if (strncmp(name, d->fmt, plen) || !isdigit((unsigned char)name[plen]))
			continue;
		if (name[plen] == '0' && isdigit((unsigned char)name[plen + 1]))
			continue;
		errno = 0;
		id = strtoul(name + plen, &end, 10);
		if (errno || id > UINT32_MAX || strcmp(end, ".img"))
			continue;
		*ret_kind = d->kind;
		*ret_id = id;
		return 0;
	}
	return -EINVAL;
}
