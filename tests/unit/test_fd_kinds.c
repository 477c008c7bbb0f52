/* The table of fd kinds (daemon/files/kinds.c): which kind a dump gives an
 * fd, and what each kind refuses or checks when a restore reads the images
 * (daemon/restore-fds.c), on a plan built in memory; and a socket opened
 * on a port taken here. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
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
			 "signalfd, timerfd, inotify and pidfd can't be restored yet "
			 "(anon_inode:[eventfd])"), "%s", err.msg);
	desc(0, FD_TYPE__FD_ANON, "anon_inode:[eventfd]")->has_eventfd_count = true;
	desc(1, FD_TYPE__FD_ANON, "anon_inode:[eventpoll]");
	cr_assert_eq(check(2), 0, "%s", err.msg);
	desc(0, FD_TYPE__FD_ANON, "anon_inode:[signalfd]");
	cr_assert_eq(check(1), -EOPNOTSUPP);
	desc(0, FD_TYPE__FD_ANON, "anon_inode:inotify");
	cr_assert_eq(check(1), -EOPNOTSUPP);
	desc(0, FD_TYPE__FD_ANON, "anon_inode:[pidfd]");
	cr_assert_eq(check(1), -EOPNOTSUPP);
	desc(0, FD_TYPE__FD_ANON, "anon_inode:[userfaultfd]");
	cr_assert_eq(check(1), -EOPNOTSUPP);
}

Test(fd_kinds, fanotify_is_refused_by_name)
{
	desc(0, FD_TYPE__FD_ANON, "anon_inode:[fanotify]");
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 0: fanotify can't be restored yet "
			 "(anon_inode:[fanotify])"), "%s", err.msg);
}

Test(fd_kinds, pidfds_only_of_the_tree)
{
	PidfdEntry pd = PIDFD_ENTRY__INIT;

	desc(0, FD_TYPE__FD_ANON, "anon_inode:[pidfd]")->pidfd = &pd;
	pd.pid = 10;
	cr_assert_eq(check(1), 0, "%s", err.msg);
	pd.pid = 11;
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 0: pidfd of pid 11, which is not in the dumped "
			 "tree"), "%s", err.msg);
	pd.pid = -1;
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 0: pidfd of a process that had exited"), "%s",
		  err.msg);
}

Test(fd_kinds, inotify_with_events_queued_is_refused)
{
	InotifyEntry ie = INOTIFY_ENTRY__INIT;

	desc(0, FD_TYPE__FD_ANON, "anon_inode:inotify")->inotify = &ie;
	cr_assert_eq(check(1), 0, "%s", err.msg);
	ie.has_queued = true;
	ie.queued = 48;
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 0: inotify has 48 bytes of events not read"), "%s",
		  err.msg);
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

/* A watch whose fd was closed since comes back through an fd of the task
 * naming its file (via_fd), which must be one. */
Test(fd_kinds, epoll_lost_watch_needs_its_file_in_the_task)
{
	EpollLostEntry w = EPOLL_LOST_ENTRY__INIT, *wp = &w;
	FileDescEntry *ep = desc(0, FD_TYPE__FD_ANON, "anon_inode:[eventpoll]");

	ep->n_epoll_lost = 1;
	ep->epoll_lost = &wp;
	w.fd = 7;
	w.via_fd = 5;
	desc(1, FD_TYPE__FD_ANON, "anon_inode:[eventfd]")->has_eventfd_count = true;
	cr_assert_eq(check(2), -EBADMSG);
	cr_assert(strstr(err.msg, "pid 10 fd 0: epoll watch of fd 7 is kept by fd 5, which "
			 "fs-10.img lacks"), "%s", err.msg);
	w.via_fd = 1;
	cr_assert_eq(check(2), 0, "%s", err.msg);
}

/* Files by path a restore can't reopen are refused naming pid and fd. */
Test(fd_kinds, by_path_refusals)
{
	FileIdentity fi = FILE_IDENTITY__INIT;
	FileDescEntry *f = desc(0, FD_TYPE__FD_REG, NULL);

	f->file = &fi;
	fi.path = "/proc/10/status";	/* of the tree: reopened once pid 10 exists */
	cr_assert_eq(check(1), 0, "%s", err.msg);
	cr_assert(fd_proc_deferred(&ctx, f));
	fi.path = "/proc/10/task/11/stat";
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 0: /proc/10/task/11/stat is a /proc entry of a "
			 "thread"), "%s", err.msg);
	fi.path = "/proc/4242";
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 0: /proc/4242 is a /proc entry of pid 4242, which "
			 "is not a process of the dumped tree"), "%s", err.msg);
	cr_assert(!fd_proc_deferred(&ctx, f));
	fi.path = "/proc/4242/root/etc/hosts";	/* a path like any other */
	cr_assert_eq(check(1), 0, "%s", err.msg);
	fi.path = "/proc/sys/kernel/pid_max";
	cr_assert_eq(check(1), 0, "%s", err.msg);

	fi.path = "/tmp/a";
	f->has_deleted = f->deleted = true;
	f->has_deleted_nlink = true;
	f->deleted_nlink = 2;
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 0: /tmp/a was unlinked but keeps 2 other hard "
			 "link(s)"), "%s", err.msg);
}

/* --- sockets: TCP listeners and UDP come back, the rest is refused by name -- */

static SocketInfo sock[NR];
static struct sockaddr_in sock_addr[NR];

static uint64_t netns_here(void)
{
	struct stat st;

	cr_assert_eq(stat("/proc/thread-self/ns/net", &st), 0);
	return st.st_ino;
}

static SocketInfo *sock_desc(unsigned i, int type, int proto, const char *ip, unsigned port)
{
	SocketInfo *si = &sock[i];

	socket_info__init(si);
	desc(i, FD_TYPE__FD_SOCKET, NULL)->socket = si;
	si->family = AF_INET;
	si->type = type;
	si->protocol = proto;
	sock_addr[i] = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, ip, &sock_addr[i].sin_addr);
	si->has_sockname = true;
	si->sockname.data = (uint8_t *)&sock_addr[i];
	si->sockname.len = sizeof(sock_addr[i]);
	si->has_rqueue = true;
	si->has_netns = true;
	si->netns = netns_here();
	if (proto == IPPROTO_TCP) {
		si->has_state = true;
		si->state = TCP_LISTEN;
		si->has_backlog = true;
		si->backlog = 4;
	}
	return si;
}

Test(fd_kinds, sockets_refused_by_kind)
{
	SocketInfo *si;

	sock_desc(0, SOCK_STREAM, IPPROTO_TCP, "127.0.0.1", 8080);
	sock_desc(1, SOCK_DGRAM, IPPROTO_UDP, "0.0.0.0", 0);
	cr_assert_eq(check(2), 0, "%s", err.msg);

	sock_desc(1, SOCK_DGRAM, IPPROTO_UDP, "127.0.0.1", 5353)->rqueue = 768;
	cr_assert_eq(check(2), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 1: UDP socket 127.0.0.1:5353 can't be restored: "
			 "datagrams waited to be received"), "%s", err.msg);
	cr_assert(strstr(err.msg, "recorded it without them; dump it again"), "%s", err.msg);

	si = sock_desc(0, SOCK_STREAM, IPPROTO_TCP, "127.0.0.1", 8080);
	si->state = TCP_ESTABLISHED;
	si->peer = "127.0.0.1:41000";
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 0: TCP connection 127.0.0.1:8080 -> 127.0.0.1:41000 "
			 "(established) can't be restored: dump and restore it with "
			 "--tcp-established"), "%s", err.msg);

	sock_desc(0, SOCK_STREAM, IPPROTO_TCP, "127.0.0.1", 8080)->rqueue = 2;
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "2 connections wait to be accepted"), "%s", err.msg);

	sock_desc(0, SOCK_STREAM, IPPROTO_TCP, "127.0.0.1", 8080)->has_sockname = false;
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "recorded without its address and options"), "%s", err.msg);

	sock_desc(0, SOCK_STREAM, IPPROTO_TCP, "127.0.0.1", 8080)->netns = 1;
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 0: TCP socket 127.0.0.1:8080 can't be restored: it "
			 "was in another network namespace (net:[1])"), "%s", err.msg);

	sock_desc(0, SOCK_STREAM, IPPROTO_TCP, "127.0.0.1", 8080)->sockname.len = 3;
	cr_assert_eq(check(1), -EBADMSG);

	/* no requester here: as if one who is not root */
	sock_desc(0, SOCK_STREAM, IPPROTO_TCP, "0.0.0.0", 80);
	cr_assert_eq(check(1), -EACCES);
	cr_assert(strstr(err.msg, "pid 10 fd 0: TCP socket 0.0.0.0:80 has a privileged port"),
		  "%s", err.msg);

	si = sock_desc(0, SOCK_STREAM, 0, "127.0.0.1", 0);
	si->family = AF_UNIX;
	si->local = "@bus";
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 0: unix stream socket (inode 0) can't be restored: "
			 "it was recorded without what sock_diag says of it"), "%s", err.msg);

	si = sock_desc(0, SOCK_RAW, 0, "127.0.0.1", 0);
	si->family = AF_NETLINK;
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 0: netlink sockets of type 3"), "%s", err.msg);
}

/* A unix socket of inode ino, connected to peer (0: none). */
static SocketInfo *unix_desc(unsigned i, int type, uint64_t ino, uint64_t peer)
{
	SocketInfo *si = &sock[i];

	socket_info__init(si);
	desc(i, FD_TYPE__FD_SOCKET, NULL)->socket = si;
	si->family = AF_UNIX;
	si->type = type;
	si->has_state = true;
	si->state = peer ? TCP_ESTABLISHED : TCP_CLOSE;
	si->has_ino = si->has_shutdown = true;
	si->ino = ino;
	si->has_peer_ino = peer != 0;
	si->peer_ino = peer;
	return si;
}

static uint8_t unix_path[] = "/run/x.sock", unix_rel[] = "x.sock";

Test(fd_kinds, unix_sockets_checked_by_peer_queue_and_name)
{
	uint64_t icon = 7, far = 99;
	SocketInfo *si;

	/* a pair inside the tree, of each type */
	for (int type = SOCK_STREAM; type <= SOCK_SEQPACKET; type++) {
		if (type == SOCK_RAW || type == SOCK_RDM)
			continue;
		unix_desc(0, type, 1, 2);
		unix_desc(1, type, 2, 1);
		cr_assert_eq(check(2), 0, "type %d: %s", type, err.msg);
	}

	/* its peer outside, by name or by inode */
	unix_desc(0, SOCK_STREAM, 1, 3)->peer = "/run/bus";
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 0: unix stream socket (inode 1) is connected to "
			 "/run/bus (inode 3) held outside the tree"), "%s", err.msg);
	unix_desc(0, SOCK_DGRAM, 1, 3);
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "unix datagram socket (inode 1) is connected to inode 3 held "
			 "outside the tree"), "%s", err.msg);

	/* fds in flight */
	unix_desc(0, SOCK_STREAM, 1, 2)->scm_rights = 2;
	unix_desc(1, SOCK_STREAM, 2, 1);
	cr_assert_eq(check(2), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 0: unix stream socket (inode 1) has 2 file "
			 "descriptors in flight"), "%s", err.msg);

	/* a listener: its pending clients must be in the tree */
	si = unix_desc(0, SOCK_STREAM, 1, 0);
	si->state = TCP_LISTEN;
	si->has_backlog = si->has_name = true;
	si->backlog = 4;
	si->name = (ProtobufCBinaryData){ sizeof(unix_path), unix_path };
	si->n_icons = 1;
	si->icons = &icon;
	unix_desc(1, SOCK_STREAM, 7, 0)->state = TCP_ESTABLISHED;
	cr_assert_eq(check(2), 0, "%s", err.msg);
	si->icons = &far;
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 0: unix stream socket listening on /run/x.sock has "
			 "a connection not accepted yet from a client outside the tree (inode "
			 "99)"), "%s", err.msg);

	/* a client whose listener (not in the tree) has not accepted it */
	unix_desc(0, SOCK_STREAM, 7, 0)->state = TCP_ESTABLISHED;
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "is connected to a listener outside the tree that has not "
			 "accepted the connection yet"), "%s", err.msg);

	/* bound to a relative path */
	si = unix_desc(0, SOCK_DGRAM, 1, 0);
	si->has_name = true;
	si->name = (ProtobufCBinaryData){ sizeof(unix_rel), unix_rel };
	cr_assert_eq(check(1), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "its path is relative"), "%s", err.msg);
}

/* A port taken here: the open names the address, pid and fd. */
Test(fd_kinds, socket_open_names_a_port_in_use)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(in);
	struct fd_open_state st = { 0 };
	int busy, fd;

	busy = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(busy, 0);
	cr_assert_eq(bind(busy, (struct sockaddr *)&in, sizeof(in)), 0);
	cr_assert_eq(listen(busy, 1), 0);
	cr_assert_eq(getsockname(busy, (struct sockaddr *)&in, &len), 0);

	sock_desc(0, SOCK_STREAM, IPPROTO_TCP, "127.0.0.1", ntohs(in.sin_port));
	plan(1);
	fd = fd_kind_of_desc(&fe[0])->open(&ctx, &fe[0], &st);
	cr_assert_eq(fd, -EADDRINUSE);
	cr_assert(strstr(err.msg, "pid 10 fd 0: cannot bind its TCP socket: 127.0.0.1:") &&
		  strstr(err.msg, " is in use here"), "%s", err.msg);

	close(busy);
	plan(1);
	fd = fd_kind_of_desc(&fe[0])->open(&ctx, &fe[0], &st);
	cr_assert_geq(fd, 0, "%s", err.msg);
	len = sizeof(busy);
	cr_assert_eq(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &busy, &len), 0);
	cr_assert_eq(busy, 1);
	close(fd);
}
