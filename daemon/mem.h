/* A task's memory for the dump: mm-PID.img, pagemap-PID.img, pages-N.img. */
#ifndef CKPT_MEM_H
#define CKPT_MEM_H

#include <stdint.h>

struct dump_ctx;
struct task;

/* What dump_task_mm found, for dump.c to record. */
struct mm_result {
	unsigned vmas;			/* VMA records written */
	uint64_t pages_written;		/* pages stored in pages-N.img */
	uint64_t pages_counted;		/* smaps said this many were to save... */
	uint64_t pages_zero;		/* ...of which these read as zeros */
};

/* Write t's mm-PID.img, pagemap-PID.img and pages-N.img (N: t->pages_id).
 * syscall_ip is the `syscall` instruction dump_task_core found in t (0:
 * none), through which brk(0) is asked; so the core runs first. Progress
 * ("pages") counts on from ctx's totals so far. *ret is set on success. */
int dump_task_mm(struct dump_ctx *ctx, struct task *t, unsigned long syscall_ip,
		 struct mm_result *ret);

#endif
