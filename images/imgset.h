/* An image set is a directory. A dump writes into a hidden temporary
 * directory inside it and moves the files up only when all are complete,
 * inventory.img last: a set without inventory.img is not a set, so a failed
 * or interrupted dump never leaves anything that looks complete. */
#ifndef CKPT_IMGSET_H
#define CKPT_IMGSET_H

#include <stdbool.h>
#include <stddef.h>

#define IMGSET_TMP_PREFIX ".ckpt-tmp-"

/* 1 if dirfd holds an image set (inventory.img or any *.img), 0 if not. */
int imgset_probe(int dirfd);
/* Create the temporary directory; its name into name (>= 32 bytes). First
 * sweeps (imgset_sweep) what dumps that died left behind. */
int imgset_begin(int dirfd, char *name, size_t len, int *ret_fd);
/* Remove the temporary directories (".ckpt-tmp-PID-X") in dirfd whose dump,
 * process PID, no longer exists: a dump killed half way leaves its own.
 * Best effort: what cannot be removed stays. */
void imgset_sweep(int dirfd);
/* Move the finished set from tmp up into dirfd: every file but
 * inventory.img, fsync the directory, then inventory.img. With replace, an
 * existing set's *.img files are removed first (inventory.img before any
 * other); without, an existing set is -EEXIST. Removes tmp on success; on
 * failure the caller calls imgset_discard. */
int imgset_commit(int dirfd, const char *tmp, bool replace);
/* Remove the temporary directory and everything in it. */
void imgset_discard(int dirfd, const char *tmp);

#endif
