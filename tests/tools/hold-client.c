/* A held dump from the client's side (t-hold.sh), until ckptctl migrate
 * drives one: dump PID into DIR with dump_req.hold through ckptctl's own
 * RPC code (rpc_client_run_hold), the verdict as MODE says.
 *
 *	hold-client PID DIR MODE [HOLD_TIMEOUT_MS]
 *
 * MODE, what held() does: go (1: the tree goes), resume (0: it runs on),
 * exit (_exit(0) inside held(), as a killed ckptctl would), sleep (sleeps
 * twice HOLD_TIMEOUT_MS, then says go: too late), signal-daemon (waits 30
 * s, then says resume, for the test to SIGKILL ckptd meanwhile), sigint
 * (SIGINT to itself, as a ^C, then says go: the ^C wins), pre (asks a
 * held pre-dump, which ckptd refuses; go if asked). held()
 * prints "held" on stdout first; the dump's end prints "dumped N tasks".
 * Exits with ckptctl's exit code for the answer. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/rpc-client.h"

static int held(void *opaque)
{
	const char *mode = ((char **)opaque)[0];
	unsigned timeout_ms = atoi(((char **)opaque)[1]);

	printf("held\n");
	fflush(stdout);
	if (!strcmp(mode, "go") || !strcmp(mode, "pre"))
		return 1;
	if (!strcmp(mode, "exit"))
		_exit(0);
	if (!strcmp(mode, "sleep")) {
		usleep(2000 * timeout_ms);
		return 1;
	}
	if (!strcmp(mode, "sigint")) {
		kill(getpid(), SIGINT);
		return 1;
	}
	if (!strcmp(mode, "signal-daemon"))
		sleep(30);
	return 0;
}

int main(int argc, char **argv)
{
	char *args[2] = { argc > 3 ? argv[3] : "", argc > 4 ? argv[4] : "120000" };
	struct rpc_hold hold = { .held = held, .opaque = args };
	RpcRequest req = RPC_REQUEST__INIT;
	DumpReq dump = DUMP_REQ__INIT;
	RpcResponse *resp;
	int dirfd, r;

	if (argc < 4) {
		fprintf(stderr, "usage: hold-client PID DIR go|resume|exit|sleep|signal-daemon|sigint|pre "
			"[HOLD_TIMEOUT_MS]\n");
		return 2;
	}
	dirfd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		perror(argv[2]);
		return 2;
	}
	dump.pid = atoi(argv[1]);
	dump.has_hold = dump.hold = true;
	dump.has_pre = dump.pre = !strcmp(argv[3], "pre");
	if (argc > 4) {
		dump.has_hold_timeout_ms = true;
		dump.hold_timeout_ms = atoi(argv[4]);
	}
	req.type = RPC_TYPE__RPC_DUMP;
	req.dump = &dump;
	r = rpc_client_run_hold("dump", false, &req, &dirfd, 1, &hold, &resp);
	close(dirfd);
	if (r)
		return r;
	printf("dumped %u tasks\n", resp->dump->tasks);
	rpc_response__free_unpacked(resp, NULL);
	return 0;
}
