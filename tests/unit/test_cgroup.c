/* A task's recorded cgroups (daemon/cgroup.c): cgroup_line_parse takes
 * what /proc/PID/cgroup shows, and refuses what an image could hold to
 * steer a restore's write out of a cgroup hierarchy; and the names of
 * ckptctl restore --cgroup's modes (daemon/restore-cgroup.c). */
#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include "daemon/cgroup.h"
#include "daemon/restore.h"

Test(cgroup_line, cgroup2_and_v1)
{
	struct cgroup_line l;

	cr_assert_eq(cgroup_line_parse("0::/user.slice/a b.scope", &l), 0);
	cr_assert_str_eq(l.ctl, "");
	cr_assert_str_eq(l.path, "/user.slice/a b.scope");
	cr_assert(!l.outside);
	cr_assert_eq(cgroup_line_parse("0::/", &l), 0);
	cr_assert_str_eq(l.path, "/");
	cr_assert_eq(cgroup_line_parse("11:cpu,cpuacct:/x", &l), 0);
	cr_assert_str_eq(l.ctl, "cpu,cpuacct");
	cr_assert_str_eq(l.path, "/x");
	cr_assert_eq(cgroup_line_parse("1:name=systemd:/a:b/c", &l), 0);
	cr_assert_str_eq(l.ctl, "name=systemd");
	cr_assert_str_eq(l.path, "/a:b/c");
}

Test(cgroup_line, outside_the_namespace)
{
	struct cgroup_line l;

	cr_assert_eq(cgroup_line_parse("0::/../../sibling", &l), 0);
	cr_assert(l.outside);
	cr_assert_eq(cgroup_line_parse("4:pids:/..", &l), 0);
	cr_assert(l.outside);
}

Test(cgroup_line, refused)
{
	static const char *const bad[] = {
		"",
		"0:",
		"0::",				/* no path */
		"0::relative",
		"0::/a/../../etc",		/* out of the hierarchy's mount */
		"0::/a/..",
		"0::/./a",
		"0::/a//b",
		"0::/a/",
		"0:pids:/a",			/* cgroup2 with controllers */
		"4::/a",			/* v1 without */
		"x:pids:/a",
		":pids:/a",
		"4:pids:/a\tb",			/* control characters */
		"4:pids:/a\nb",
	};
	struct cgroup_line l;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(cgroup_line_parse(bad[i], &l), -EBADMSG, "line %zu: \"%s\"", i,
			     bad[i]);
}

Test(cgroup_line, too_long)
{
	char line[CGROUP_PATH_MAX + 16] = "0::/";
	struct cgroup_line l;

	memset(line + 4, 'a', CGROUP_PATH_MAX);
	line[CGROUP_PATH_MAX + 4] = '\0';
	cr_assert_eq(cgroup_line_parse(line, &l), -ENAMETOOLONG);
}

Test(cgroup_mode, names)
{
	enum restore_cgroup_mode m = RESTORE_CG_REQUESTER;

	cr_assert_eq(restore_cgroup_mode_parse("dumped", &m), 0);
	cr_assert_eq(m, RESTORE_CG_DUMPED);
	cr_assert_eq(restore_cgroup_mode_parse("requester", &m), 0);
	cr_assert_eq(m, RESTORE_CG_REQUESTER);
	cr_assert_eq(restore_cgroup_mode_parse("Dumped", &m), -EINVAL);
	cr_assert_eq(restore_cgroup_mode_parse("", &m), -EINVAL);
	cr_assert_eq(m, RESTORE_CG_REQUESTER);
}
