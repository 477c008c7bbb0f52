/* An incremental chain: an image set and its parent sets, nearest first
 * (Documentation/incremental.md). Each set's inventory names its parent
 * twice: `parent`, the path relative to the set's directory that the
 * client follows to open it, and `parent_set_id`, the random id the parent
 * gave itself, which is what binds a link (a path can be pointed anywhere;
 * an id can't be forged by moving directories around).
 *
 * The client opens the chain (chain_open_parents) and passes the fds; the
 * daemon never resolves a path an image names. Both sides check it with
 * chain_load. */
#ifndef CKPT_CHAIN_H
#define CKPT_CHAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "common/protocol.h"
#include "inventory.pb-c.h"

#define CHAIN_MAX RPC_FDS_MAX	/* links, the set itself included */
#define CHAIN_SET_ID_LEN 33	/* 32 hex digits and the NUL */

struct chain_link {
	int dirfd;		/* not owned */
	InventoryEntry *inv;	/* owned */
};

struct chain {
	unsigned nr;		/* [0] the set itself, [nr - 1] the full dump */
	struct chain_link link[CHAIN_MAX];
};

/* Read and check the inventories of dirfds[0..n): link i's parent_set_id
 * is link i+1's set_id, all share root_pid and root_start_time, no
 * directory appears twice (dev/ino), the last has no parent and is not
 * itself incremental, depths count down by one. restore: [0] must be
 * restorable (not a pre-dump). A failure names the link (its position and
 * directory) and what is wrong. */
int chain_load(const int *dirfds, unsigned n, bool restore, struct chain *ret,
	       struct ckpt_err *err);
void chain_free(struct chain *c);
/* "link 2 (../1)": link i as messages name it, by its position and the
 * parent path its child gave (link 0 is "the set itself"); into buf. */
const char *chain_link_name(const struct chain *c, unsigned i, char *buf, size_t len);

/* A new random set id (16 bytes from getrandom, as 32 hex digits) into
 * buf (CHAIN_SET_ID_LEN bytes). */
int chain_new_set_id(char *buf);

/* Client side: follow `parent` paths from dirfd (not included), opening
 * each parent directory (O_DIRECTORY|O_CLOEXEC) into fds, nearest first;
 * at most max. Stops at a set without parent. A missing, unreadable or
 * cyclic link fails, naming it. On failure nothing is left open. */
int chain_open_parents(int dirfd, int *fds, unsigned max, unsigned *nr, struct ckpt_err *err);

#endif
