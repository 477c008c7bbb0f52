#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ckpt_fail(struct ckpt_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!e || e->msg[0])
		return code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	if (code < 0 && n < sizeof(e->msg) - 2)
		snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(-code));
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
