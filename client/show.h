/* ckptctl show's parts: show.c decodes a set or a file (JSON) and checks
 * it, show-summary.c prints what it decoded for a person, show-pages.c
 * dumps one page as hex, show-chain.c lists an incremental set's chain. */
#ifndef CKPT_CLIENT_SHOW_H
#define CKPT_CLIENT_SHOW_H

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "images/img.h"
#include "images/json.h"

struct ProtobufCMessage;
struct chain;

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
	/* what the checks covered, for the summary's last line */
	uint64_t nr_files;	/* record files read whole */
	uint64_t nr_records;	/* records, each with its checksum */
	uint64_t nr_entries;	/* pagemap entries */
	uint64_t nr_blocks;	/* page blocks read and verified */
	uint64_t block_bytes;
};

/* Every record of one image file, kept (show-summary.c, show-pages.c). */
struct show_recs {
	struct ProtobufCMessage **m;
	size_t n;
};

/* Describe the first failure (file names escaped); returns r. */
int show_fail(struct show *s, int r, int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A file that is corrupt, truncated or foreign: the message says it all. */
bool is_format_error(int r);

/* Read every record of (kind, id) in s->dirfd into *ret (a failure
 * reported into s); free with show_recs_free. */
int show_load(struct show *s, enum img_kind kind, unsigned id, struct show_recs *ret);
void show_recs_free(struct show_recs *r);
/* Whether (kind, id) exists in s->dirfd. */
bool show_has(struct show *s, enum img_kind kind, unsigned id);
/* s->dirfd holds an image set (an inventory.img); else a bad set
 * (ckptctl(1), exit 5) reported into s. */
int show_need_set(struct show *s);
/* s->dirfd open for readdir into *ret (closedir it); a failure reported
 * into s. */
int show_opendir(struct show *s, DIR **ret);

/* show-summary.c: what show_set (name NULL) or show_file decoded and
 * checked, for a person, to out. */
int show_summary(struct show *s, const char *name, FILE *out);

/* show-pages.c: the page at addr of task pid (0: the first task that has
 * it), resolved through the chain and verified, as a hex dump to out (or
 * JSON into s->j). No page there: -ENXIO, reported into s. */
int show_page(struct show *s, uint64_t addr, int pid, bool json, FILE *out);

/* show-chain.c: open and check the chain from s->dirfd, then one line
 * (text) or one object (into the array open in j) per link. */
int show_chain_links(struct show *s, struct json *j, FILE *text);
/* Open and check the chain of s->dirfd: fds[0] is s->dirfd, fds[1..*n]
 * its parents (close with show_chain_close); top gets the set's path as
 * given, without a trailing slash, for messages. A failure is reported
 * into s. */
int show_chain_open(struct show *s, char *top, size_t top_len, int *fds, unsigned *n,
		    struct chain *c);
void show_chain_close(struct chain *c, int *fds, unsigned n);
/* The directory of link i of c as the user reaches it from top (the set's
 * path): top, then each parent path in turn. */
void show_link_path(const struct chain *c, unsigned i, const char *top, char *buf, size_t len);

#endif
