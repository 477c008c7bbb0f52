/* Where a restored tree goes (daemon/restore-cgroup.c): the parsers of
 * /proc/PID/cgroup and /proc/self/mountinfo that find the requester's
 * cgroup and its directory, on a cgroup v1 hybrid, a pure cgroup2 host and
 * inside a cgroup namespace's mount; and the slice of a systemd path. */
#include <criterion/criterion.h>

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "daemon/restore-cgroup.h"

static const char hybrid_cgroup[] =
	"12:pids:/user.slice/user-1000.slice/session-3.scope\n"
	"11:cpu,cpuacct:/user.slice\n"
	"10:name=systemd:/user.slice/user-1000.slice/session-3.scope\n"
	"4:memory:/process_api/0878c4a3\n"
	"0::/user.slice/user-1000.slice/session-3.scope\n";

static const char hybrid_mountinfo[] =
	"22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
	"30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup "
	"rw,cpu,cpuacct\n"
	"34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
	"39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
	"rw,xattr,name=systemd\n"
	"40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n";

static const char pure_mountinfo[] =
	"22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
	"25 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 "
	"cgroup2 rw,nsdelegate,memory_recursiveprot\n";

Test(cgroup, path_of_each_hierarchy)
{
	char p[256];

	cr_assert_eq(rst_cgroup_path(hybrid_cgroup, "", p, sizeof(p)), 0);
	cr_assert_str_eq(p, "/user.slice/user-1000.slice/session-3.scope");
	cr_assert_eq(rst_cgroup_path(hybrid_cgroup, "pids", p, sizeof(p)), 0);
	cr_assert_str_eq(p, "/user.slice/user-1000.slice/session-3.scope");
	cr_assert_eq(rst_cgroup_path(hybrid_cgroup, "cpu,cpuacct", p, sizeof(p)), 0);
	cr_assert_str_eq(p, "/user.slice");
	cr_assert_eq(rst_cgroup_path(hybrid_cgroup, "memory", p, sizeof(p)), 0);
	cr_assert_str_eq(p, "/process_api/0878c4a3");
	/* a controller that shares a hierarchy is not a hierarchy of its own */
	cr_assert_eq(rst_cgroup_path(hybrid_cgroup, "cpu", p, sizeof(p)), -ENOENT);
	cr_assert_eq(rst_cgroup_path(hybrid_cgroup, "blkio", p, sizeof(p)), -ENOENT);
}

Test(cgroup, path_bad_input)
{
	char p[8];

	cr_assert_eq(rst_cgroup_path("0::/a/b/c/d/e/f\n", "", p, sizeof(p)), -ENAMETOOLONG);
	cr_assert_eq(rst_cgroup_path("0::relative\n", "", p, sizeof(p)), -EBADMSG);
	cr_assert_eq(rst_cgroup_path("0::\n", "", p, sizeof(p)), -EBADMSG);
	cr_assert_eq(rst_cgroup_path("garbage\n0:", "", p, sizeof(p)), -ENOENT);
	cr_assert_eq(rst_cgroup_path("", "", p, sizeof(p)), -ENOENT);
	/* no final newline; a ':' in the path is the path's */
	cr_assert_eq(rst_cgroup_path("0::/a:b", "", p, sizeof(p)), 0);
	cr_assert_str_eq(p, "/a:b");
}

Test(cgroup, dir_on_a_hybrid)
{
	char d[PATH_MAX];

	cr_assert_eq(rst_cgroup_dir(hybrid_mountinfo, "", "/ckpt/x", d, sizeof(d)), 0);
	cr_assert_str_eq(d, "/sys/fs/cgroup/unified/ckpt/x");
	cr_assert_eq(rst_cgroup_dir(hybrid_mountinfo, "pids", "/ckpt", d, sizeof(d)), 0);
	cr_assert_str_eq(d, "/sys/fs/cgroup/pids/ckpt");
	cr_assert_eq(rst_cgroup_dir(hybrid_mountinfo, "cpu,cpuacct", "/", d, sizeof(d)), 0);
	cr_assert_str_eq(d, "/sys/fs/cgroup/cpu,cpuacct");
	cr_assert_eq(rst_cgroup_dir(hybrid_mountinfo, "name=systemd", "/a", d, sizeof(d)), 0);
	cr_assert_str_eq(d, "/sys/fs/cgroup/systemd/a");
	/* the tmpfs at /sys/fs/cgroup is no hierarchy */
	cr_assert_eq(rst_cgroup_dir(hybrid_mountinfo, "blkio", "/a", d, sizeof(d)), -ENOENT);
}

Test(cgroup, dir_on_pure_cgroup2)
{
	char d[PATH_MAX];

	cr_assert_eq(rst_cgroup_dir(pure_mountinfo, "", "/user.slice", d, sizeof(d)), 0);
	cr_assert_str_eq(d, "/sys/fs/cgroup/user.slice");
	cr_assert_eq(rst_cgroup_dir(pure_mountinfo, "", "/", d, sizeof(d)), 0);
	cr_assert_str_eq(d, "/sys/fs/cgroup");
	cr_assert_eq(rst_cgroup_dir(pure_mountinfo, "pids", "/a", d, sizeof(d)), -ENOENT);
}

/* A mount of part of the hierarchy (a container's), with an escaped
 * space in its mount point: a path outside its root is not there. */
Test(cgroup, dir_under_a_mount_root)
{
	static const char mi[] =
		"40 30 0:37 /machine/c1 /srv/my\\040root/cg rw - cgroup2 cgroup2 rw\n";
	char d[PATH_MAX];

	cr_assert_eq(rst_cgroup_dir(mi, "", "/machine/c1/app", d, sizeof(d)), 0);
	cr_assert_str_eq(d, "/srv/my root/cg/app");
	cr_assert_eq(rst_cgroup_dir(mi, "", "/machine/c1", d, sizeof(d)), 0);
	cr_assert_str_eq(d, "/srv/my root/cg");
	cr_assert_eq(rst_cgroup_dir(mi, "", "/machine/c10", d, sizeof(d)), -ENOENT);
	cr_assert_eq(rst_cgroup_dir(mi, "", "/machine", d, sizeof(d)), -ENOENT);
	cr_assert_eq(rst_cgroup_dir(mi, "", "/machine/c1/app", d, 8), -ENAMETOOLONG);
}

Test(cgroup, slice)
{
	char s[64];

	cr_assert_eq(rst_cgroup_slice("/user.slice/user-1000.slice/session-3.scope", s,
				      sizeof(s)), 0);
	cr_assert_str_eq(s, "user-1000.slice");
	cr_assert_eq(rst_cgroup_slice("/system.slice/ckptd.service", s, sizeof(s)), 0);
	cr_assert_str_eq(s, "system.slice");
	cr_assert_eq(rst_cgroup_slice("/", s, sizeof(s)), -ENOENT);
	cr_assert_eq(rst_cgroup_slice("/ckpt-test", s, sizeof(s)), -ENOENT);
	cr_assert_eq(rst_cgroup_slice("/.slice", s, sizeof(s)), -ENOENT);
}
