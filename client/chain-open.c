/* Opening a chain for a command: see chain-open.h. */
#include "client/chain-open.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client/commands.h"
#include "client/rpc-client.h"
#include "common/util.h"

int client_open_chain(const char *cmd, bool json, const char *dir, bool restore, int *fds,
		      struct chain *ret)
{
	struct ckpt_err err = { 0 };
	_cleanup_close_ int dirfd = -EBADF;
	unsigned n = 0;
	int r;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return client_fail(cmd, json, errno, errno == ENOENT ? EXIT_BADIMAGE : EXIT_FAIL,
				   "cannot open the image directory %s: %s", dir, strerror(errno));
	r = chain_open_parents(dirfd, fds + 1, CHAIN_MAX - 1, &n, &err);
	if (r < 0)
		return client_fail(cmd, json, -r, client_image_exit_code(r), "%s: %s", dir,
				   ckpt_err_msg(&err, r));
	fds[0] = dirfd;
	r = chain_load(fds, n + 1, restore, ret, &err);
	if (r < 0) {
		for (unsigned i = 1; i <= n; i++)
			close(fds[i]);
		return client_fail(cmd, json, -r, client_image_exit_code(r), "%s: %s", dir,
				   ckpt_err_msg(&err, r));
	}
	TAKE_FD(dirfd);
	return 0;
}

void client_close_chain(struct chain *c)
{
	for (unsigned i = 0; i < c->nr; i++)
		close(c->link[i].dirfd);
	chain_free(c);
}
