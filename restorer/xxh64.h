/* XXH64 (seed given), freestanding: the checksum the page store gives
 * every block. Built into the blob and, for the unit test, into the host
 * test program, which compares it with libxxhash. */
#ifndef RST_XXH64_H
#define RST_XXH64_H

#include <linux/types.h>

__u64 rst_xxh64(const void *buf, unsigned long len, __u64 seed);

#endif
