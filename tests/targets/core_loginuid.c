/* loginuid target: sets its own audit login uid (allowed once while it is
 * unset, or with CAP_AUDIT_CONTROL), and after SIGUSR1 checks it still
 * has it.
 *
 *	core_loginuid UID */
#include <fcntl.h>

#include "target.h"

static long read_loginuid(void)
{
	char buf[32] = "";
	int fd = open("/proc/self/loginuid", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		target_fail("open loginuid: %s", strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		target_fail("read loginuid");
	return strtol(buf, NULL, 10);
}

int main(int argc, char **argv)
{
	long want = argc > 1 ? strtol(argv[1], NULL, 10) : 1234;
	int fd;

	target_init();
	fd = open("/proc/self/loginuid", O_WRONLY);
	if (fd < 0 || dprintf(fd, "%ld", want) < 0)
		target_fail("set loginuid %ld: %s", want, strerror(errno));
	close(fd);
	if (read_loginuid() != want)
		target_fail("loginuid is %ld, not %ld", read_loginuid(), want);
	target_ready();
	target_wait();
	if (read_loginuid() != want)
		target_fail("loginuid is %ld after, not %ld", read_loginuid(), want);
	target_pass();
}
