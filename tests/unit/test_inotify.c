/* daemon/files/inotify.c and pidfd.c: the fdinfo lines they read. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/sysmacros.h>

#include "daemon/files/inotify.h"
#include "daemon/files/pidfd.h"

Test(inotify, parses_a_watch_with_its_handle)
{
	InotifyWdEntry w = INOTIFY_WD_ENTRY__INIT;
	static const uint8_t h[] = { 0x6e, 0x40, 0x06, 0x00, 0x97, 0x23, 0xaf, 0xe9 };

	cr_assert_eq(inotify_parse_wd("inotify wd:2 ino:6406e sdev:fe00001 mask:84000002 "
				      "ignored_mask:0 fhandle-bytes:8 fhandle-type:1 "
				      "f_handle:6e4006009723afe9\ninotify wd:1", &w), 1);
	cr_assert_eq(w.wd, 2);
	cr_assert_eq(w.ino, 0x6406e);
	cr_assert_eq(w.dev, makedev(254, 1));
	cr_assert_eq(w.mask, 0x84000002);
	cr_assert(w.has_handle && w.has_handle_type);
	cr_assert_eq(w.handle_type, 1);
	cr_assert_eq(w.handle.len, 8);
	cr_assert_arr_eq(w.handle.data, h, 8);
	free(w.handle.data);
}

Test(inotify, parses_a_watch_without_a_handle)
{
	InotifyWdEntry w = INOTIFY_WD_ENTRY__INIT;

	cr_assert_eq(inotify_parse_wd("inotify wd:1a ino:10 sdev:800003 mask:100 ignored_mask:0",
				      &w), 1);
	cr_assert_eq(w.wd, 0x1a);
	cr_assert_eq(w.dev, makedev(8, 3));
	cr_assert_not(w.has_handle);
}

Test(inotify, other_lines_and_bad_watches)
{
	InotifyWdEntry w = INOTIFY_WD_ENTRY__INIT;

	cr_assert_eq(inotify_parse_wd("pos:\t0", &w), 0);
	cr_assert_eq(inotify_parse_wd("flags:\t04000", &w), 0);
	cr_assert_eq(inotify_parse_wd("inotify wd:zz", &w), -EBADMSG);
	/* the handle's bytes and its hex must agree */
	cr_assert_eq(inotify_parse_wd("inotify wd:2 ino:1 sdev:1 mask:2 ignored_mask:0 "
				      "fhandle-bytes:8 fhandle-type:1 f_handle:6e40", &w),
		     -EBADMSG);
	cr_assert_eq(inotify_parse_wd("inotify wd:2 ino:1 sdev:1 mask:2 ignored_mask:0 "
				      "fhandle-bytes:200 fhandle-type:1 f_handle:6e40", &w),
		     -EBADMSG);
}

Test(pidfd, parses_its_pid)
{
	int pid = 0;

	cr_assert(pidfd_parse_pid("Pid:\t3437", &pid));
	cr_assert_eq(pid, 3437);
	cr_assert(pidfd_parse_pid("Pid:\t-1", &pid));
	cr_assert_eq(pid, -1);
	cr_assert_not(pidfd_parse_pid("NSpid:\t3437", &pid));
	cr_assert_not(pidfd_parse_pid("flags:\t02004002", &pid));
}
