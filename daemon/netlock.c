/* Network locking for --tcp-established, CRIU's nftables net lock: a
 * table "inet ckpt-PID" with an input and an output chain (priority -150,
 * before conntrack's) dropping the packets whose 4-tuple (saddr . sport .
 * daddr . dport) is in the set c4 or c6: each locked connection is two
 * elements, one a way. One nft run (Debian's nftables, the script on its
 * standard input) locks every connection of a dump: a run costs ~15 ms,
 * and a set keeps the per-packet cost flat however many there are. */
#include "daemon/netlock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

extern char **environ;

static const char *const nft_paths[] = { "/usr/sbin/nft", "/sbin/nft", "/usr/local/sbin/nft",
					  "/usr/bin/nft" };

void netlock_name(pid_t pid, char *buf, size_t len)
{
	snprintf(buf, len, "ckpt-%d", (int)pid);
}

static const char *nft_path(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(nft_paths); i++)
		if (access(nft_paths[i], X_OK) == 0)
			return nft_paths[i];
	return NULL;
}

/* nft -f - with script on its stdin; its stderr into why. */
static int run_nft(const char *script, char *why, size_t len)
{
	const char *nft = nft_path();
	char *argv[] = { (char *)"nft", (char *)"-f", (char *)"-", NULL };
	posix_spawn_file_actions_t fa;
	int in[2], err[2], st, r;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (len)
		why[0] = 0;
	if (!nft) {
		snprintf(why, len, "no nft program (install the nftables package)");
		return -ENOENT;
	}
	if (pipe2(in, O_CLOEXEC) < 0)
		return negerrno();
	if (pipe2(err, O_CLOEXEC) < 0) {
		r = negerrno();
		close(in[0]);
		close(in[1]);
		return r;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, err[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	r = -posix_spawn(&pid, nft, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(err[1]);
	if (r == 0) {
		(void)write_full(in[1], script, strlen(script));
		close(in[1]);
		while (len > 1 && got < len - 1 && (n = read(err[0], why + got, len - 1 - got)) > 0)
			got += n;
		if (len)
			why[got] = 0;
		while (got && (why[got - 1] == '\n' || why[got - 1] == ' '))
			why[--got] = 0;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			r = -EPERM;
	} else {
		close(in[1]);
		snprintf(why, len, "cannot run %s: %s", nft, strerror(-r));
	}
	close(err[0]);
	return r;
}

/* One end as nft writes it in a set element: "A . PORT"; 4 or 6 (the
 * family, v4-mapped IPv6 as 4), 0 for no inet address. */
static int end_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s . %u", ip, ntohs(in->sin_port));
		return 4;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		bool v4 = IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr);

		inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? (const void *)&in6->sin6_addr.s6_addr[12]
						      : (const void *)&in6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s . %u", ip, ntohs(in6->sin6_port));
		return v4 ? 4 : 6;
	}
	return 0;
}

#define NL_MATCH(v) "ip" v " saddr . tcp sport . ip" v " daddr . tcp dport"

int netlock_add(const char *name, const struct sockaddr *const *local,
		const struct sockaddr *const *peer, unsigned nr, unsigned *bad, char *why,
		size_t len)
{
	_cleanup_free_ char *script = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&script, &size);
	int r;

	if (!f)
		return -ENOMEM;
	fprintf(f, "table inet %s {\n"
		"\tset c4 { type ipv4_addr . inet_service . ipv4_addr . inet_service; }\n"
		"\tset c6 { type ipv6_addr . inet_service . ipv6_addr . inet_service; }\n"
		"\tchain in { type filter hook input priority -150; policy accept; }\n"
		"\tchain out { type filter hook output priority -150; policy accept; }\n"
		"}\n", name);
	/* the table may stand from an earlier dump: its rules once */
	for (unsigned c = 0; c < 2; c++)
		fprintf(f, "flush chain inet %s %s\n"
			"add rule inet %s %s " NL_MATCH("") " @c4 drop\n"
			"add rule inet %s %s " NL_MATCH("6") " @c6 drop\n",
			name, c ? "out" : "in", name, c ? "out" : "in", name, c ? "out" : "in");
	for (unsigned i = 0; i < nr; i++) {
		char l[80], p[80];
		int fl = end_str(local[i], l, sizeof(l)), fp = end_str(peer[i], p, sizeof(p));

		if (!fl || fl != fp) {
			fclose(f);
			*bad = i;
			snprintf(why, len, "not an IPv4 or IPv6 connection");
			return -EAFNOSUPPORT;
		}
		fprintf(f, "add element inet %s c%d { %s . %s, %s . %s }\n", name, fl, l, p, p, l);
	}
	r = fclose(f) ? -ENOMEM : 0;
	return r < 0 ? r : run_nft(script, why, len);
}

int netlock_remove(const char *name, char *why, size_t len)
{
	char script[256];

	/* "table" first makes it when there is none: delete then never fails */
	snprintf(script, sizeof(script), "table inet %s\ndelete table inet %s\n", name, name);
	return run_nft(script, why, len);
}

int netlock_probe(char *why, size_t len)
{
	char script[512];

	snprintf(script, sizeof(script),
		 "table inet ckpt-probe-%d {\n"
		 "\tset c4 { type ipv4_addr . inet_service . ipv4_addr . inet_service; }\n"
		 "\tchain in { type filter hook input priority -150; policy accept; "
		 NL_MATCH("") " @c4 drop; }\n"
		 "}\ndelete table inet ckpt-probe-%d\n", (int)getpid(), (int)getpid());
	return run_nft(script, why, len);
}
