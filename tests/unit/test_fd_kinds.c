/* The table of fd kinds (daemon/files/kinds.c): which kind a dump gives an
 * fd, and what each kind refuses or checks when a restore reads the images
 * (daemon/restore-fds.c), on a plan built in memory. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "daemon/files/kinds.h"
#include "daemon/restore-int.h"

/* --- dump: the first kind whose match takes the fd ------------------------- */

static FdType kind_of(const char *link, mode_t mode, dev_t rdev)
{
	struct fd_parms p = { .link = (char *)link };

	p.st.st_mode = mode;
	p.st.st_rdev = rdev;
	return fd_kind_of_fd(&p)->type;
}

Test(fd_kinds, dump_picks_by_name_then_by_file_type)
{
	struct stat null;

	cr_assert_eq(stat("/dev/null", &null), 0);
	cr_assert_eq(kind_of("anon_inode:[eventfd]", 0600, 0), FD_TYPE__FD_ANON);
	cr_assert_eq(kind_of("anon_inode:inotify", 0600, 0), FD_TYPE__FD_ANON);
	cr_assert_eq(kind_of("/tmp/x", S_IFREG | 0600, 0), FD_TYPE__FD_REG);
	cr_assert_eq(kind_of("/tmp", S_IFDIR | 0700, 0), FD_TYPE__FD_DIR);
	cr_assert_eq(kind_of("pipe:[123]", S_IFIFO | 0600, 0), FD_TYPE__FD_PIPE);
	cr_assert_eq(kind_of("/tmp/fifo", S_IFIFO | 0600, 0), FD_TYPE__FD_FIFO);
	cr_assert_eq(kind_of("/dev/pts/3", S_IFCHR | 0620, makedev(136, 3)), FD_TYPE__FD_TTY);
	cr_assert_eq(kind_of("/dev/null", null.st_mode, null.st_rdev), FD_TYPE__FD_CHR);
	cr_assert_eq(kind_of("socket:[9]", S_IFSOCK | 0777, 0), FD_TYPE__FD_SOCKET);
	cr_assert_eq(kind_of("/dev/sda", S_IFBLK | 0660, makedev(8, 0)), FD_TYPE__FD_OTHER);
}

Test(fd_kinds, opath_fds_before_the_kinds_by_file_type)
{
	struct fd_parms p = { .link = "/tmp/x", .flags = O_PATH | O_NOFOLLOW };

	p.st.st_mode = S_IFLNK | 0777;
	cr_assert_eq(fd_kind_of_fd(&p)->type, FD_TYPE__FD_PATH);
	p.st.st_mode = S_IFREG | 0600;
	cr_assert_eq(fd_kind_of_fd(&p)->type, FD_TYPE__FD_PATH);
	p.flags = O_RDONLY;
	cr_assert_eq(fd_kind_of_fd(&p)->type, FD_TYPE__FD_REG);
}

Test(fd_kinds, every_type_has_a_kind)
{
	FileDescEntry fe = FILE_DESC_ENTRY__INIT;

	for (int t = FD_TYPE__FD_REG; t <= FD_TYPE__FD_PATH; t++) {
		fe.type = t;
		cr_assert_not_null(fd_kind_of_desc(&fe), "type %d", t);
	}
	fe.type = FD_TYPE__FD_PATH + 1;
	cr_assert_null(fd_kind_of_desc(&fe));
}

/* --- restore: one task, pid 10, holding description i at fd i ------------- */

#define NR 3

#include "tests/unit/rst-fds-fixture.h"

static FileDescEntry *desc(unsigned i, FdType type, const char *anon_name)
{
	file_desc_entry__init(&fe[i]);
	fe[i].id = 100 + i;
	fe[i].type = type;
	fe[i].anon_name = (char *)anon_name;
	return &fe[i];
}

static int check(unsigned n)
{
	plan(n);
	return rst_check_fds(&ctx, &task);
}

Test(fd_kinds, refused_kinds_name_themselves)
{
	desc(0, FD_TYPE__FD_OTHER, NULL);
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert_str_eq(err.msg, "pid 10 fd 0: files of this kind can't be restored yet: "
			 "Operation not supported");
	desc(0, FD_TYPE__FD_SOCKET, NULL);
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 0: sockets can't be restored yet"), "%s", err.msg);
	desc(0, FD_TYPE__FD_TTY, NULL);
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 0: terminals can't be restored yet"), "%s", err.msg);
}

Test(fd_kinds, anon_kinds_need_their_state)
{
	desc(0, FD_TYPE__FD_ANON, "anon_inode:[eventfd]");
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 0: anonymous-inode files other than eventfd, epoll, "
			 "signalfd and timerfd can't be restored yet (anon_inode:[eventfd])"),
		  "%s", err.msg);
	desc(0, FD_TYPE__FD_ANON, "anon_inode:[eventfd]")->has_eventfd_count = true;
	desc(1, FD_TYPE__FD_ANON, "anon_inode:[eventpoll]");
	cr_assert_eq(check(2), 0, "%s", err.msg);
	desc(0, FD_TYPE__FD_ANON, "anon_inode:[signalfd]");
	cr_assert_eq(check(1), -EOPNOTSUPP);
	desc(0, FD_TYPE__FD_ANON, "anon_inode:inotify");
	cr_assert_eq(check(1), -EOPNOTSUPP);
}

Test(fd_kinds, kinds_check_their_fields)
{
	desc(0, FD_TYPE__FD_PIPE, NULL);
	cr_assert_eq(check(1), -EBADMSG);
	cr_assert(strstr(err.msg, "files.img: pipe 100 has no pipe inode"), "%s", err.msg);
	desc(0, FD_TYPE__FD_REG, NULL);
	cr_assert_eq(check(1), -EBADMSG);
	cr_assert(strstr(err.msg, "files.img: file description 100 names no file"), "%s", err.msg);
	desc(0, FD_TYPE__FD_MEMFD, NULL);
	cr_assert_eq(check(1), -EBADMSG);
	cr_assert(strstr(err.msg, "files.img: memfd 100 has no ghost image"), "%s", err.msg);
}

Test(fd_kinds, epoll_watches_fds_of_its_task)
{
	EpollTfdEntry w = EPOLL_TFD_ENTRY__INIT, *wp = &w;
	FileDescEntry *ep = desc(0, FD_TYPE__FD_ANON, "anon_inode:[eventpoll]");

	ep->n_epoll_tfds = 1;
	ep->epoll_tfds = &wp;
	w.fd = 5;
	desc(1, FD_TYPE__FD_ANON, "anon_inode:[eventfd]")->has_eventfd_count = true;
	cr_assert_eq(check(2), -EBADMSG);
	cr_assert(strstr(err.msg, "pid 10 fd 0: epoll watches fd 5, which fs-10.img lacks"),
		  "%s", err.msg);
	w.fd = 1;
	cr_assert_eq(check(2), 0, "%s", err.msg);
}
