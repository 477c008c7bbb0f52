/* ckptctl's commands: one file each, dispatched by client/ckptctl.c.
 * Each returns the process exit code (see EXIT STATUS in ckptctl(1)). */
#ifndef CKPT_COMMANDS_H
#define CKPT_COMMANDS_H

#include <stdbool.h>

/* Exit codes that mean something (ckptctl(1) EXIT STATUS). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* the operation failed; the message says why */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_EXISTS = 3,	/* the image directory already holds a set */
	EXIT_NOTARGET = 4,	/* no such process, or not one ckpt may touch */
	EXIT_BADIMAGE = 5,	/* an image is corrupt, truncated or foreign */
	EXIT_NODAEMON = 6,	/* ckptd could not be reached or started */
	EXIT_PROTOCOL = 7,	/* ckptd and ckptctl do not understand each other */
	EXIT_UNRESTORABLE = 8,	/* dump: restore would refuse the tree; it runs on */
	EXIT_CANCELLED = 9,	/* cancelled (^C, ckptctl cancel): the tree runs on, no set */

};

int cmd_dump(int argc, char **argv);
int cmd_pre_dump(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_cancel(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_receive(int argc, char **argv);

#endif
