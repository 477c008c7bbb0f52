/* Keepers: small processes that hold a tracker's live fd (the uffd of one
 * target task) between two rounds of an incremental dump, since neither a
 * one-shot ckptd nor a request handler of a long-lived one outlives its
 * request.
 *
 * A keeper is forked by whoever arms the tracker (double fork, setsid, comm
 * "ckpt-keeper", stdio on /dev/null, every other fd closed): fd 3 is the
 * held fd, fd 4 a pidfd of the target. It does nothing but wait: it exits
 * when the target exits (removing its registry file) or on SIGTERM.
 *
 * The registry is a root-only directory, KEEPER_DIR (0700), with one file
 * per tracked task named "<pid>-<starttime>" (starttime: /proc/PID/stat
 * field 22, so a reused pid never matches), holding the keeper's pid, its
 * own starttime, the fd number in the keeper and the tracker's name. The
 * next round finds the file, checks the keeper is the same process, and
 * takes the fd with pidfd_getfd(). Stale files (keeper or target gone) are
 * removed whenever they are come across. */
#ifndef CKPT_TRACK_KEEPER_H
#define CKPT_TRACK_KEEPER_H

#include <stdint.h>
#include <sys/types.h>

#define KEEPER_DIR	"/run/ckpt/track"
#define KEEPER_COMM	"ckpt-keeper"
#define KEEPER_FD	3	/* the held fd inside a keeper */

struct keeper {
	pid_t target;
	uint64_t target_start;	/* the target's starttime (clock ticks after boot) */
	pid_t pid;		/* the keeper */
	uint64_t start;		/* the keeper's starttime */
	int fd;			/* the held fd's number inside the keeper */
	char tracker[16];	/* track_name() of the tracker it serves */
};


/* Fork a keeper holding fd (a copy) for target, and register it (replacing
 * any registration target had). */
int keeper_start(pid_t target, int fd, const char *tracker, struct keeper *ret);
/* The live keeper registered for target: -ENOENT when there is none (a
 * stale file is removed on the way). */
int keeper_find(pid_t target, struct keeper *ret);
/* A copy of the keeper's fd in this process (O_CLOEXEC). */
int keeper_take_fd(const struct keeper *k, int *ret_fd);
/* Stop target's keeper, if any (SIGTERM, waited for up to a second), and
 * remove its registry file: 0 also when there was none. */
int keeper_stop(pid_t target);
/* Every live keeper, in *ret (malloc'ed, *ret_nr entries); stale files are
 * removed. An absent registry is an empty list. */
int keeper_list(struct keeper **ret, size_t *ret_nr);

/* The registry line for k and its parser, exposed for the unit tests. */
int keeper_format(const struct keeper *k, char *buf, size_t len);
int keeper_parse(const char *text, struct keeper *ret);

#endif
