/* ckptctl receive --post-copy and the lazy server it restores with: the
 * final round's page data is still arriving while the tree runs. Before
 * the server reads a block of one of that round's pages files (the
 * "feed" files), it asks receive over the feed socket (SOCK_SEQPACKET, one
 * struct a message, both ways); receive answers once those bytes are in
 * the file, asking the source to send them next if they are not, or with
 * an error when they never will be (the migration failed: the server then
 * fails, which kills the tree). A block's bytes are still checked against
 * its pagemap entry's XXH3 once read. Both ends are one build (the
 * migration's hello checks the version). */
#ifndef CKPT_LAZY_FEED_H
#define CKPT_LAZY_FEED_H

#include <stdint.h>

#define LAZY_FEED_MAGIC	0x64656546u	/* "Feed" */
/* status of a message receive sends unasked, last: every byte of every fed
 * file is in; the server asks no more (receive may be gone by then) */
#define LAZY_FEED_ALL	1

struct lazy_feed_msg {
	uint32_t magic;
	int32_t status;		/* answer: 0 the bytes are in; -errno never */
	char name[32];		/* "pages-N.img" of the final round */
	uint64_t off, len;	/* bytes of the file */
};

#endif
