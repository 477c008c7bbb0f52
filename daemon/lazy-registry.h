/* The lazy servers' registry (lazy.h describes the files): the server's
 * side, writing its own entry; lazy_list() reads them all back. */
#ifndef CKPT_LAZY_REGISTRY_H
#define CKPT_LAZY_REGISTRY_H

#include <stddef.h>
#include <sys/types.h>

struct lazy_entry;

/* One entry as its file's text; the length, or -ENAMETOOLONG. */
int lazy_entry_format(const struct lazy_entry *e, char *buf, size_t len);
/* The text of one file back; -EBADMSG if it is not one. */
int lazy_entry_parse(const char *text, struct lazy_entry *ret);

/* Write e as the entry of e->root in LAZY_DIR (dirfd, from
 * rundir_open(LAZY_DIR, true, ...)), replacing the old one whole. */
int lazy_registry_write(int dirfd, const struct lazy_entry *e);
/* Remove root's entry; 0 when there was none. */
int lazy_registry_remove(int dirfd, pid_t root);


#endif
