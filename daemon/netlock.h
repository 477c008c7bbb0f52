/* The network lock of established TCP connections dumped with
 * --tcp-established (netlock.c): while the tree is down, the kernel must
 * not answer the peer's packets with a reset, so an nftables table of
 * ckpt's own drops every packet of each connection, both ways, from the
 * dump (before the tree is killed) until the restore has committed. */
#ifndef CKPT_NETLOCK_H
#define CKPT_NETLOCK_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* The table's name for the tree rooted at pid: "ckpt-PID" (family inet). */
void netlock_name(pid_t pid, char *buf, size_t len);
/* Drop the packets between local[i] and peer[i] (sockaddr_in or _in6, a
 * v4-mapped address as IPv4), both ways, for each of nr connections, in
 * table name (made if need be), in one nft run. On failure, what nft said
 * in why; -EAFNOSUPPORT with *bad the connection that is not inet. */
int netlock_add(const char *name, const struct sockaddr *const *local,
		const struct sockaddr *const *peer, unsigned nr, unsigned *bad, char *why,
		size_t len);
/* Remove table name; 0 too when there is none. */
int netlock_remove(const char *name, char *why, size_t len);
/* Whether nft can be run and can make a table here: 0, or -errno and why. */
int netlock_probe(char *why, size_t len);

#endif
