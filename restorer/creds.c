/* Credentials, applied by every thread for itself (they are per-thread in
 * the kernel and the blob has no libc to broadcast setuid; a thread that
 * had its own gets its own, restore_thread.creds): groups, the
 * gids and uids under SECBIT_NO_SETUID_FIXUP so changing them cannot drop
 * the capabilities still needed, then securebits, the bounding set
 * (needs CAP_SETPCAP), capset, ambient capabilities, no_new_privs. */
#include <linux/capability.h>
#include <linux/errno.h>
#include <linux/prctl.h>
#include <linux/securebits.h>
#include <stdbool.h>

#include "blob.h"
#include "syscall.h"

#define FAIL(r, what, ...) \
	blob_fail(a, RSTEP_CREDS, r, 0, "thread %d: " what, (int)sys_gettid(), ##__VA_ARGS__)

/* setgroups needs CAP_SETGID even to set the same list: skip it when the
 * engine (say, restoring a user's process as that user) got them right. */
static bool same_groups(struct restore_args *a, const struct restore_creds *c)
{
	const __u32 *want = blob_at(a, c->groups_off);
	__u32 have[64];
	long n = sys_getgroups(64, have);

	if (n != (long)c->nr_groups)
		return false;
	for (long i = 0; i < n; i++) {
		bool found = false;

		for (unsigned j = 0; j < c->nr_groups && !found; j++)
			found = have[i] == want[j];
		if (!found)
			return false;
	}
	return true;
}

static int set_ids(struct restore_args *a, const struct restore_creds *c)
{
	long r;

	if (!same_groups(a, c)) {
		r = sys_setgroups((int)c->nr_groups, blob_at(a, c->groups_off));
		if (r < 0)
			return (int)FAIL(r, "setgroups(%u groups)", c->nr_groups);
	}
	r = sys_setresgid(c->gid, c->egid, c->sgid);
	if (r < 0)
		return (int)FAIL(r, "setresgid(%u, %u, %u)", c->gid, c->egid, c->sgid);
	sys_setfsgid(c->fsgid);
	if ((__u32)sys_setfsgid((__u32)-1) != c->fsgid)	/* returns the current one */
		return (int)FAIL(-EPERM, "setfsgid(%u)", c->fsgid);
	r = sys_setresuid(c->uid, c->euid, c->suid);
	if (r < 0)
		return (int)FAIL(r, "setresuid(%u, %u, %u)", c->uid, c->euid, c->suid);
	sys_setfsuid(c->fsuid);
	if ((__u32)sys_setfsuid((__u32)-1) != c->fsuid)
		return (int)FAIL(-EPERM, "setfsuid(%u)", c->fsuid);
	return 0;
}

static int set_bounding(struct restore_args *a, __u64 bnd)
{
	for (int cap = 0; cap < 64; cap++) {
		long in = sys_prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0);
		long r;

		if (in < 0)
			break;	/* past the last capability this kernel knows */
		if (!in || (bnd & (1ULL << cap)))
			continue;
		r = sys_prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0);
		if (r < 0)
			return (int)FAIL(r, "PR_CAPBSET_DROP(%d)", cap);
	}
	return 0;
}

static int set_caps(struct restore_args *a, const struct restore_creds *c)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = {
		{ (__u32)c->cap_eff, (__u32)c->cap_prm, (__u32)c->cap_inh },
		{ (__u32)(c->cap_eff >> 32), (__u32)(c->cap_prm >> 32), (__u32)(c->cap_inh >> 32) },
	};
	long r = sys_capset(&hdr, data);

	if (r < 0)
		return (int)FAIL(r, "capset(eff 0x%llx, prm 0x%llx, inh 0x%llx)",
				 (unsigned long long)c->cap_eff, (unsigned long long)c->cap_prm,
				 (unsigned long long)c->cap_inh);
	r = sys_prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (int cap = 0; cap < 64 && r >= 0; cap++)
		if (c->cap_amb & (1ULL << cap))
			r = sys_prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)cap, 0, 0);
	if (r < 0)
		return (int)FAIL(r, "ambient capabilities 0x%llx", (unsigned long long)c->cap_amb);
	return 0;
}

int blob_restore_creds(struct restore_args *a, const struct restore_creds *c)
{
	long r;
	int e;

	if (c->nr_groups > RESTORE_MAX_GROUPS || (c->nr_groups && (c->groups_off & 3 ||
	    c->groups_off < sizeof(*a) || c->groups_off > a->args_len ||
	    c->nr_groups > (a->args_len - c->groups_off) / 4)))
		return (int)blob_fail(a, RSTEP_ARGS, -EINVAL, 0, "restore_args: thread %d: "
				     "%u groups outside the area", (int)sys_gettid(), c->nr_groups);

	/* Needs CAP_SETPCAP; without it there are no capabilities to keep. */
	sys_prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP, 0, 0, 0);
	e = set_ids(a, c);
	if (e)
		return e;
	r = sys_prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	if (r != (long)c->secbits) {
		r = sys_prctl(PR_SET_SECUREBITS, c->secbits, 0, 0, 0);
		if (r < 0)
			return (int)FAIL(r, "PR_SET_SECUREBITS(0x%x)", c->secbits);
	}
	e = set_bounding(a, c->cap_bnd);
	if (!e)
		e = set_caps(a, c);
	if (e || !c->no_new_privs)
		return e;
	r = sys_prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return r < 0 ? (int)FAIL(r, "PR_SET_NO_NEW_PRIVS") : 0;
}
