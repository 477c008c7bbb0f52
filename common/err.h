/* The error slot of one request.
 *
 * Engine functions return 0 or -errno. The one that knows the detail the
 * user needs (which pid, file, offset, address) describes the failure here;
 * the first description wins, so the innermost context survives, and the
 * top layer (ckptctl's output, ckptd's RPC answer) reports it exactly once.
 * A slot may live in memory shared by several processes (a restore's
 * tasks): each description is formatted aside, and only the one that
 * claims the slot first is copied in, whole. */
#ifndef CKPT_ERR_H
#define CKPT_ERR_H

struct ckpt_err {
	int code;		/* 0 or the first -errno described */
	int claimed;		/* set atomically by the one description kept */
	char msg[1024];
};

/* Describe a failure; returns code (a negative errno) for `return ckpt_fail(...)`.
 * The message is escaped (common/escape.h): arguments read from an image
 * or /proc may go into it as they are.
 * A message ending in ": %m"-style detail is the caller's business; this
 * appends ": strerror(-code)" itself unless the message is already set. */
int ckpt_fail(struct ckpt_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The message, or strerror(-code) when nothing more was said. */
const char *ckpt_err_msg(struct ckpt_err *e, int code);

#endif
