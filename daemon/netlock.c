/* Network locking for --tcp-established, CRIU's nftables net lock: a
 * table "inet ckpt-PID" with an input and an output chain (priority -150,
 * before conntrack's) dropping the packets of each locked connection by
 * its 4-tuple, both ways. The nft program (Debian's nftables) is run with
 * the rules on its standard input. */
#include "daemon/netlock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
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

/* "ip saddr A" / "ip6 saddr A" for one end; false for no inet address. */
static bool addr_match(const struct sockaddr *sa, const char *dir, char *buf, size_t len,
		       unsigned *port)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		*port = ntohs(in->sin_port);
		snprintf(buf, len, "ip %s %s", dir, ip);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		*port = ntohs(in6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], ip, sizeof(ip));
			snprintf(buf, len, "ip %s %s", dir, ip);
		} else {
			inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
			snprintf(buf, len, "ip6 %s %s", dir, ip);
		}
		return true;
	}
	return false;
}

int netlock_add(const char *name, const struct sockaddr *local, const struct sockaddr *peer,
		char *why, size_t len)
{
	char ls[80], ld[80], ps[80], pd[80], script[1024];
	unsigned lp, pp;

	if (!addr_match(local, "saddr", ls, sizeof(ls), &lp) ||
	    !addr_match(local, "daddr", ld, sizeof(ld), &lp) ||
	    !addr_match(peer, "saddr", ps, sizeof(ps), &pp) ||
	    !addr_match(peer, "daddr", pd, sizeof(pd), &pp)) {
		snprintf(why, len, "not an IPv4 or IPv6 connection");
		return -EAFNOSUPPORT;
	}
	snprintf(script, sizeof(script),
		 "table inet %s {\n"
		 "\tchain in { type filter hook input priority -150; policy accept; }\n"
		 "\tchain out { type filter hook output priority -150; policy accept; }\n"
		 "}\n"
		 "add rule inet %s in %s %s tcp sport %u tcp dport %u drop\n"
		 "add rule inet %s out %s %s tcp sport %u tcp dport %u drop\n",
		 name, name, ps, ld, pp, lp, name, ls, pd, lp, pp);
	return run_nft(script, why, len);
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
	char script[256];

	snprintf(script, sizeof(script),
		 "table inet ckpt-probe-%d {\n"
		 "\tchain in { type filter hook input priority -150; policy accept; }\n"
		 "}\ndelete table inet ckpt-probe-%d\n", (int)getpid(), (int)getpid());
	return run_nft(script, why, len);
}
