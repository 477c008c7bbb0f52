/* Seccomp filters at restore: checked against the image, laid out in the
 * blob's args area for each thread to install (restorer/seccomp.c). */
#ifndef CKPT_DAEMON_RESTORE_SECCOMP_H
#define CKPT_DAEMON_RESTORE_SECCOMP_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/restore-int.h"
#include "restorer/restorer.h"

/* Indexes in range, programs whole and not too big. */
int rst_check_seccomp(struct rst_ctx *ctx, struct rst_task *t);

/* Whether a thread of t runs under a filter once restored. */
bool rst_has_seccomp(const struct rst_task *t);

/* Bytes of the args area for the programs and for the per-thread
 * descriptor arrays (each a multiple of 8). */
uint64_t rst_seccomp_insns_len(const struct rst_task *t);
uint64_t rst_seccomp_descs_len(const struct rst_task *t);

/* Copy the programs at insns_off, the descriptors at descs_off, and point
 * each of rt[] (t->nr_threads, filled already) at its own. 0 or -ENOMEM. */
int rst_fill_seccomp(const struct rst_task *t, struct restore_args *a,
		     struct restore_thread *rt, uint64_t insns_off, uint64_t descs_off);

#endif
