/* Registers of a thread for core-PID.img: the general registers as caught
 * at freeze, and the xsave area (PTRACE_GETREGSET NT_X86_XSTATE). */
#ifndef CKPT_REGS_H
#define CKPT_REGS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "core.pb-c.h"

struct dump_ctx;

/* Offset of the XCR0 word in the xsave area's sw_reserved bytes. */
#define XSAVE_XCR0_OFFSET 464

void regs_to_entry(const struct user_regs_struct *r, X86Regs *e);

/* The thread's xsave area, as long as the kernel makes it (malloc'ed into
 * *ret, its length into *ret_len), and the XCR0 it was saved under into
 * *ret_xcr0. ctx only for its error slot. */
int regs_dump_xsave(struct dump_ctx *ctx, pid_t tid, uint8_t **ret, size_t *ret_len,
		    uint64_t *ret_xcr0);

#endif
