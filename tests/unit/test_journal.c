/* daemon/journal.c: the fields of an operation's journal entry (what
 * `journalctl CKPT_OP=dump` finds), built without a journal to send to. */
#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include "daemon/journal.h"

/* The value of field name= in f, or NULL. */
static const char *field(const struct journal_fields *f, const char *name)
{
	size_t len = strlen(name);

	for (unsigned i = 0; i < f->n; i++) {
		const char *s = f->iov[i].iov_base;

		if (f->iov[i].iov_len > len && !strncmp(s, name, len) && s[len] == '=') {
			cr_assert_eq(strlen(s), f->iov[i].iov_len, "field %s: length", name);
			return s + len + 1;
		}
	}
	return NULL;
}

Test(journal, dump_begins)
{
	static struct journal_fields f;
	struct journal_op o = {
		.op = "dump", .pid = 1234, .dir = "/srv/img", .uid = 1000, .result = "started",
		.message = "dump of pid 1234 for uid 1000 (pid 77) in /srv/img: started",
	};

	journal_fields_build(&o, &f);
	cr_assert_str_eq(field(&f, "CKPT_OP"), "dump");
	cr_assert_str_eq(field(&f, "CKPT_PID"), "1234");
	cr_assert_str_eq(field(&f, "CKPT_DIR"), "/srv/img");
	cr_assert_str_eq(field(&f, "CKPT_UID"), "1000");
	cr_assert_str_eq(field(&f, "CKPT_RESULT"), "started");
	cr_assert_str_eq(field(&f, "PRIORITY"), "6");
	cr_assert_str_eq(field(&f, "MESSAGE"), o.message);
	cr_assert_null(field(&f, "ERRNO"));
}

Test(journal, failure_has_its_errno_and_no_missing_fields)
{
	static struct journal_fields f;
	struct journal_op o = {
		.op = "restore", .uid = 0, .result = "failed", .err = -ENODATA,
		.message = "restore for uid 0 (pid 5): failed: inventory.img is missing",
	};

	journal_fields_build(&o, &f);
	cr_assert_str_eq(field(&f, "CKPT_OP"), "restore");
	cr_assert_str_eq(field(&f, "CKPT_RESULT"), "failed");
	cr_assert_str_eq(field(&f, "PRIORITY"), "3");
	cr_assert_str_eq(field(&f, "ERRNO"), "61");
	cr_assert_null(field(&f, "CKPT_PID"), "no pid restored: no CKPT_PID");
	cr_assert_null(field(&f, "CKPT_DIR"));
	cr_assert_str_eq(field(&f, "CKPT_UID"), "0");
}

Test(journal, a_long_value_is_cut_not_overrun)
{
	static struct journal_fields f;
	static char dir[4000];
	struct journal_op o = { .op = "dump", .dir = dir, .result = "done", .message = "m" };

	memset(dir, 'd', sizeof(dir) - 1);
	journal_fields_build(&o, &f);
	cr_assert_eq(strlen(field(&f, "CKPT_DIR")), JOURNAL_FIELD_LEN - 1 - strlen("CKPT_DIR="));
}
