/* Audit login uid (Documentation/restore.md): a task may write its own
 * /proc/self/loginuid once while it is unset, and again only with
 * CAP_AUDIT_CONTROL; nobody writes another task's. So the restored task
 * sets it on itself before the blob (its threads inherit it), and the
 * dump warns when the ckptd dumping could not do so. A non-root requester
 * gets only its own loginuid back: choosing one would fool the audit. */
#include "daemon/loginuid.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/util.h"

int loginuid_read(pid_t pid, uint32_t *ret)
{
	_cleanup_free_ char *s = NULL;
	char path[48], *end;
	unsigned long v;
	int r;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/loginuid", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/loginuid");
	r = read_file_at(AT_FDCWD, path, &s, NULL);
	if (r < 0)
		return r;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || v > UINT32_MAX)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

bool loginuid_restorable(uint32_t want, uid_t requester_uid, pid_t requester)
{
	uint32_t own, rq;

	if (loginuid_read(0, &own) < 0)
		return false;
	if (own == want)
		return true;
	if (own != LOGINUID_UNSET)
		return false;
	if (requester_uid == 0)
		return true;
	return requester > 0 && loginuid_read(requester, &rq) == 0 && rq == want;
}

int loginuid_set_self(uint32_t uid)
{
	_cleanup_close_ int fd = open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
	char buf[16];
	ssize_t w;
	int n;

	if (fd < 0)
		return negerrno();
	n = snprintf(buf, sizeof(buf), "%u", uid);
	w = write(fd, buf, n);
	if (w < 0)
		return negerrno();
	return w == n ? 0 : -EIO;
}
