/* Operations in the journal (see journal.h). Building the fields is apart
 * from sending them so that a test can read them without a journal. */
#include "daemon/journal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

static void add(struct journal_fields *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct journal_fields *f, const char *fmt, ...)
{
	char *b = f->buf[f->n];
	va_list ap;
	int n;

	if (f->n >= JOURNAL_FIELDS_MAX)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b, JOURNAL_FIELD_LEN, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	f->iov[f->n].iov_base = b;
	f->iov[f->n].iov_len = (size_t)n < JOURNAL_FIELD_LEN ? (size_t)n : JOURNAL_FIELD_LEN - 1;
	f->n++;
}

void journal_fields_build(const struct journal_op *o, struct journal_fields *f)
{
	bool failed = o->result && !strcmp(o->result, "failed");

	f->n = 0;
	add(f, "MESSAGE=%s", o->message ? o->message : "");
	add(f, "PRIORITY=%d", failed ? LOG_ERR : LOG_INFO);
	add(f, "CKPT_OP=%s", o->op ? o->op : "request");
	if (o->pid > 0)
		add(f, "CKPT_PID=%d", (int)o->pid);
	if (o->dir && o->dir[0])
		add(f, "CKPT_DIR=%s", o->dir);
	add(f, "CKPT_UID=%u", (unsigned)o->uid);
	if (o->result)
		add(f, "CKPT_RESULT=%s", o->result);
	if (failed && o->err < 0)
		add(f, "ERRNO=%d", -o->err);
}

bool journal_wanted(void)
{
	const char *s = getenv("JOURNAL_STREAM");

	return (s && s[0]) || sd_booted() > 0;
}

int journal_send_op(const struct journal_op *o)
{
	struct journal_fields *f = malloc(sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	journal_fields_build(o, f);
	r = sd_journal_sendv(f->iov, (int)f->n);
	free(f);
	return r;
}
