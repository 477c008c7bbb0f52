#include "err.h"

#include "common/escape.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int ckpt_fail(struct ckpt_err *e, int code, const char *fmt, ...)
{
	char buf[sizeof(e->msg)];
	int unclaimed = 0;
	va_list ap;
	size_t n;

	if (!e || __atomic_load_n(&e->claimed, __ATOMIC_ACQUIRE) || e->msg[0])
		return code;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n = strlen(buf);
	if (code < 0 && n < sizeof(buf) - 2)
		snprintf(buf + n, sizeof(buf) - n, ": %s", strerror(-code));
	/* messages name paths, comms and names read from images and /proc:
	 * no control character reaches a log line or a terminal */
	ckpt_escape_inplace(buf, sizeof(buf));
	if (!__atomic_compare_exchange_n(&e->claimed, &unclaimed, 1, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return code;
	memcpy(e->msg, buf, strlen(buf) + 1);
	e->code = code;
	return code;
}

const char *ckpt_err_msg(struct ckpt_err *e, int code)
{
	if (e->msg[0])
		return e->msg;
	snprintf(e->msg, sizeof(e->msg), "%s", strerror(code < 0 ? -code : code));
	return e->msg;
}
