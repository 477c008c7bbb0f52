/* Progress of a long operation (a dump, a restore), told to its requester:
 * rpc.c's on_progress sends it to the client and records it for ckptctl
 * status. */
#ifndef CKPT_PROGRESS_H
#define CKPT_PROGRESS_H

#include <stdint.h>

/* Returns 0 to go on, or -ECANCELED when the requester has given up (hung
 * up, or shut down its side of the connection): a dump then stops and
 * leaves the tree running. */
typedef int (*progress_fn)(void *opaque, const char *stage, uint64_t done, uint64_t total);

#endif
