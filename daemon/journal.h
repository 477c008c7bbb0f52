/* ckptd under systemd: each operation's begin and end go to the journal
 * with fields of their own (CKPT_OP, CKPT_PID, CKPT_DIR, CKPT_UID,
 * CKPT_RESULT), so `journalctl CKPT_OP=restore` finds them. */
#ifndef CKPT_JOURNAL_H
#define CKPT_JOURNAL_H

#include <stdbool.h>
#include <sys/types.h>
#include <sys/uio.h>

struct journal_op {
	const char *op;		/* "dump", "restore", "check", "cancel" */
	pid_t pid;		/* dump: the target; restore: the root restored; 0: none */
	const char *dir;	/* the image directory, or NULL */
	uid_t uid;		/* the requester */
	const char *result;	/* "started", "done" or "failed" */
	const char *message;	/* the line a person reads (MESSAGE=) */
	int err;		/* "failed": its negative errno */
};

#define JOURNAL_FIELDS_MAX	9
#define JOURNAL_FIELD_LEN	1400

/* The fields of one journal entry: iov[0..n) points into buf. */
struct journal_fields {
	struct iovec iov[JOURNAL_FIELDS_MAX];
	char buf[JOURNAL_FIELDS_MAX][JOURNAL_FIELD_LEN];
	unsigned n;
};

/* Fill f with o's fields (MESSAGE, PRIORITY, the CKPT_* ones; a field
 * without a value is left out; values too long are cut). */
void journal_fields_build(const struct journal_op *o, struct journal_fields *f);

/* Whether systemd runs ckptd (its stderr is a journal stream, or the
 * system was booted with systemd). */
bool journal_wanted(void);

/* Send o to the journal: 0 or -errno (nobody to tell: ckptd goes on). */
int journal_send_op(const struct journal_op *o);

#endif
