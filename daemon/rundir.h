/* ckptd's state that outlives a daemon, under /run/ckpt: root-only
 * directories (the uffd-wp keepers' registry, the incremental rounds'
 * records) holding small files written whole or not at all. */
#ifndef CKPT_RUNDIR_H
#define CKPT_RUNDIR_H

#include <stdbool.h>
#include <stddef.h>

#define RUNDIR_PARENT	"/run/ckpt"

/* Open the directory path (under RUNDIR_PARENT), creating it 0700 (and
 * /run, /run/ckpt: a minimal system may lack /run itself) if create. It is
 * refused (-EPERM) unless it belongs to us and is closed to everyone else;
 * -ENOENT when absent and not created. */
int rundir_open(const char *path, bool create, int *ret_fd);
/* Write len bytes of text as name in dirfd: into a temporary file, then
 * renamed, so a reader sees the old file or the new one, never half. */
int rundir_write(int dirfd, const char *name, const char *text, size_t len);

#endif
