/* XXH3-64 with seed 0 for inputs over 240 bytes, freestanding: the
 * checksum of every page block. Built into the blob and, for the unit
 * test, into the host test program, which compares it with libxxhash. */
#ifndef RST_XXH3_H
#define RST_XXH3_H

#include <linux/types.h>

/* len must be over 240 (page blocks are at least 4096 bytes) */
__u64 blob_xxh3(const void *buf, unsigned long len);

#endif
