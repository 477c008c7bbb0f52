/* The audit login uid (/proc/PID/loginuid): read at dump, set again by
 * the restored task itself, when the kernel lets this ckptd do it. */
#ifndef CKPT_DAEMON_LOGINUID_H
#define CKPT_DAEMON_LOGINUID_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define LOGINUID_UNSET	4294967295u

/* pid's loginuid (0 = self): 0, -ENOENT on a kernel without audit. */
int loginuid_read(pid_t pid, uint32_t *ret);

/* Whether a task forked by this process can be given want: it already
 * has it (ours), or ours is unset (the kernel allows one change without
 * CAP_AUDIT_CONTROL, which ckptd drops) and the requester (requester_uid,
 * its pid) is root or has that loginuid itself. */
bool loginuid_restorable(uint32_t want, uid_t requester_uid, pid_t requester);

/* Set our own loginuid: 0 or -errno. */
int loginuid_set_self(uint32_t uid);

#endif
