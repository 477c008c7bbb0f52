/* ckptctl show's parts: show.c decodes a set or a file, show-chain.c
 * lists an incremental set's chain. */
#ifndef CKPT_CLIENT_SHOW_H
#define CKPT_CLIENT_SHOW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "images/json.h"

struct show_pid {
	int pid;
	off_t at;		/* its record in pstree.img */
	bool zombie;		/* no per-task files */
};

struct show {
	int dirfd;
	char prefix[4096];	/* "DIR/" to put before file names, or "" */
	bool verify;
	bool predump;		/* a pre-dump set may lack core and fs files */
	bool incremental;	/* it has a parent: show the chain too */
	bool have_inventory;
	struct json j;
	int exit_code;
	char err[2048];
	uint8_t *block;		/* one page block, for verification */
	size_t block_len;
	struct show_pid *pids;	/* every record of pstree.img */
	size_t nr_pids, cap_pids;
};

/* Describe the first failure (file names escaped); returns r. */
int show_fail(struct show *s, int r, int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A file that is corrupt, truncated or foreign: the message says it all. */
bool is_format_error(int r);

/* show-chain.c: open and check the chain from s->dirfd, then one line
 * (text) or one object (into the array open in j) per link. */
int show_chain_links(struct show *s, struct json *j, FILE *text);

#endif
