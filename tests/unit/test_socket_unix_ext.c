/* --ext-unix-sk (daemon/files/socket-unix-ext.c): what the dump keeps of a
 * peer outside the tree, and each refusal's message at restore. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/files/socket-unix-ext.h"
#include "daemon/restore-int.h"
#include "daemon/restore.h"

static struct ckpt_err err;
static struct restore_opts opts;
static struct rst_ctx ctx = { .err = &err, .opts = &opts };
static const char what[] = "unix stream socket (inode 1)";

static void reset(SocketInfo *si, int type, bool with_opt)
{
	socket_info__init(si);
	si->family = AF_UNIX;
	si->type = type;
	si->has_peer_ino = true;
	si->peer_ino = 3;
	memset(&err, 0, sizeof(err));
	opts.ext_unix_sk = with_opt;
}

static int check(const SocketInfo *si)
{
	memset(&err, 0, sizeof(err));	/* the first failure is kept */
	return sock_unix_ext_check(&ctx, 10, 4, si, what);
}

Test(socket_unix_ext, dump_keeps_a_reachable_name_only)
{
	static const uint8_t path[] = "/run/x.sock";
	SocketInfo si;

	reset(&si, SOCK_STREAM, true);
	cr_assert_eq(sock_unix_ext_describe(&si, path, sizeof(path) - 1, false), 0);
	cr_assert(si.ext_unix_sk && !si.has_peer_name);
	cr_assert_eq(sock_unix_ext_describe(&si, path, sizeof(path) - 1, true), 0);
	cr_assert(si.has_peer_name && si.peer_name.len == sizeof(path) - 1);
	cr_assert_eq(memcmp(si.peer_name.data, path, si.peer_name.len), 0);
	free(si.peer_name.data);
}

Test(socket_unix_ext, refusals_name_the_option_and_the_path)
{
	static uint8_t path[] = "/run/x.sock", abstract[] = "\0bus";
	SocketInfo si;
	uint8_t q[] = "abc";
	ProtobufCBinaryData msg = { .len = 3, .data = q };

	/* dumped without the option */
	reset(&si, SOCK_STREAM, false);
	si.peer = "/run/x.sock";
	cr_assert_eq(check(&si), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 4: unix stream socket (inode 1) is connected to "
			 "/run/x.sock (inode 3) held outside the tree: dump and restore it with "
			 "--ext-unix-sk"), "%s", err.msg);

	/* an unnamed peer: the option can't help, and says so */
	reset(&si, SOCK_DGRAM, true);
	cr_assert_eq(check(&si), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "is connected to inode 3 held outside the tree: a restore "
			 "can't connect it again, with --ext-unix-sk or without"), "%s", err.msg);

	/* a stream peer no listener is bound to */
	reset(&si, SOCK_STREAM, true);
	si.peer = "/run/x.sock";
	si.has_ext_unix_sk = si.ext_unix_sk = true;
	cr_assert_eq(check(&si), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "no listener is bound to /run/x.sock"), "%s", err.msg);

	/* dumped with it, restored without */
	reset(&si, SOCK_STREAM, false);
	si.has_peer_name = true;
	si.peer_name = (ProtobufCBinaryData){ .len = sizeof(path) - 1, .data = path };
	cr_assert_eq(check(&si), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "restore it with --ext-unix-sk to have it connected to "
			 "/run/x.sock again (a new connection)"), "%s", err.msg);

	/* with it: fine; an abstract name too */
	opts.ext_unix_sk = true;
	cr_assert_eq(check(&si), 0, "%s", err.msg);
	si.peer_name = (ProtobufCBinaryData){ .len = sizeof(abstract) - 1, .data = abstract };
	cr_assert_eq(check(&si), 0, "%s", err.msg);

	/* bytes the outside peer sent, not read */
	si.peer_name = (ProtobufCBinaryData){ .len = sizeof(path) - 1, .data = path };
	si.n_rcv_queue = 1;
	si.rcv_queue = &msg;
	cr_assert_eq(check(&si), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "pid 10 fd 4: unix stream socket (inode 1) has 3 bytes its "
			 "peer /run/x.sock outside the tree sent, not read yet"), "%s", err.msg);
	si.type = SOCK_DGRAM;
	cr_assert_eq(check(&si), -EOPNOTSUPP);
	cr_assert(strstr(err.msg, "has 1 messages (3 bytes) its peer"), "%s", err.msg);
}
