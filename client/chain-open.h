/* ckptctl's side of an incremental chain: open an image set and its
 * parents (nearest first) and check the chain, reporting a failure the way
 * every command does (restore, merge, show). */
#ifndef CKPT_CLIENT_CHAIN_OPEN_H
#define CKPT_CLIENT_CHAIN_OPEN_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "client/commands.h"
#include "images/chain.h"

/* Open dir and its parents into fds (CHAIN_MAX slots), then chain_load
 * them into *ret (restore: the set must be restorable). 0, or the exit
 * code of the failure, reported ("ckptctl CMD: DIR: link 2 (../1): ...")
 * with nothing left open. */
int client_open_chain(const char *cmd, bool json, const char *dir, bool restore, int *fds,
		      struct chain *ret);
/* Free the chain and close its fds. */
void client_close_chain(struct chain *c);
/* The exit code for a failure (-errno) reading an image set or its chain
 * (inline: show.c is also built into a unit test without the client). */
static inline int client_image_exit_code(int r)
{
	switch (r) {
	case -EBADMSG:
	case -EPROTO:
	case -ENODATA:
	case -EPROTONOSUPPORT:
	case -ENOENT:	/* a parent missing: the chain is broken */
	case -E2BIG:	/* too long */
		return EXIT_BADIMAGE;
	default:
		return EXIT_FAIL;
	}
}

#endif
