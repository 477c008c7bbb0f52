/* Credentials target: notes what it runs as (started by the harness under
 * setpriv: an unprivileged uid, supplementary groups, perhaps ambient
 * capabilities, a reduced bounding set, no_new_privs) in its main thread
 * and in a second thread, and checks after SIGUSR1 that each thread still
 * has exactly those credentials, then that they work: it can still make
 * files of its own groups and, without CAP_SETUID, cannot become root.
 *
 *	creds [-t]
 *
 * -t: the second thread clears its own effective capabilities with a raw
 * capset (glibc has no per-thread call), so the threads differ: each
 * must come back with its own.
 *
 * Credentials are per thread in the kernel: both threads read their own
 * (raw syscalls, so glibc answers nothing from a cache). */
#include <linux/capability.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "target.h"

#define MAX_GROUPS	64

struct creds {
	uid_t uid[4];		/* real, effective, saved, fs */
	gid_t gid[4];
	int nr_groups;
	gid_t groups[MAX_GROUPS];
	struct __user_cap_data_struct cap[2];
	uint64_t bnd, amb;
	long secbits, nnp, keepcaps, dumpable;
};

static struct creds saved_main, saved_thread;
static pthread_t thread;
static int thread_pipe[2];
static char thread_fail[512];
static volatile int thread_noted;
static int thread_differs;

static void read_creds(struct creds *c)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };

	memset(c, 0, sizeof(*c));
	syscall(SYS_getresuid, &c->uid[0], &c->uid[1], &c->uid[2]);
	syscall(SYS_getresgid, &c->gid[0], &c->gid[1], &c->gid[2]);
	c->uid[3] = syscall(SYS_setfsuid, -1);	/* returns the current fsuid */
	c->gid[3] = syscall(SYS_setfsgid, -1);
	c->nr_groups = syscall(SYS_getgroups, MAX_GROUPS, c->groups);
	syscall(SYS_capget, &hdr, c->cap);
	for (int cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			c->bnd |= 1ull << cap;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1)
			c->amb |= 1ull << cap;
	}
	c->secbits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	c->nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	c->keepcaps = prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0);
	c->dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
}

/* "" when the same, else what differs. */
static const char *compare(const struct creds *was, const struct creds *now, char *buf, size_t len)
{
	buf[0] = '\0';
	for (int i = 0; i < 4; i++) {
		if (was->uid[i] != now->uid[i])
			snprintf(buf, len, "uid[%d] %u, was %u", i, now->uid[i], was->uid[i]);
		if (was->gid[i] != now->gid[i])
			snprintf(buf, len, "gid[%d] %u, was %u", i, now->gid[i], was->gid[i]);
	}
	if (was->nr_groups != now->nr_groups ||
	    memcmp(was->groups, now->groups, sizeof(gid_t) * (was->nr_groups > 0 ? was->nr_groups : 0)))
		snprintf(buf, len, "%d supplementary groups (first %u), were %d (first %u)",
			 now->nr_groups, now->groups[0], was->nr_groups, was->groups[0]);
	for (int i = 0; i < 2; i++)
		if (was->cap[i].effective != now->cap[i].effective ||
		    was->cap[i].permitted != now->cap[i].permitted ||
		    was->cap[i].inheritable != now->cap[i].inheritable)
			snprintf(buf, len, "capabilities word %d eff/prm/inh %#x/%#x/%#x, were %#x/%#x/%#x",
				 i, now->cap[i].effective, now->cap[i].permitted, now->cap[i].inheritable,
				 was->cap[i].effective, was->cap[i].permitted, was->cap[i].inheritable);
	if (was->bnd != now->bnd)
		snprintf(buf, len, "bounding set %#llx, was %#llx",
			 (unsigned long long)now->bnd, (unsigned long long)was->bnd);
	if (was->amb != now->amb)
		snprintf(buf, len, "ambient set %#llx, was %#llx",
			 (unsigned long long)now->amb, (unsigned long long)was->amb);
	if (was->secbits != now->secbits)
		snprintf(buf, len, "securebits %#lx, were %#lx", now->secbits, was->secbits);
	if (was->nnp != now->nnp)
		snprintf(buf, len, "no_new_privs %ld, was %ld", now->nnp, was->nnp);
	if (was->keepcaps != now->keepcaps)
		snprintf(buf, len, "keepcaps %ld, was %ld", now->keepcaps, was->keepcaps);
	if (was->dumpable != now->dumpable)
		snprintf(buf, len, "dumpable %ld, was %ld", now->dumpable, was->dumpable);
	return buf;
}

/* The second thread: notes its credentials, waits on a pipe (a
 * restartable read), then checks them. */
static void *thread_main(void *arg)
{
	struct creds now;
	char c, buf[400];

	if (thread_differs) {
		struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct cap[2];

		if (syscall(SYS_capget, &hdr, cap))
			snprintf(thread_fail, sizeof(thread_fail), "capget: %s", strerror(errno));
		cap[0].effective = cap[1].effective = 0;
		if (syscall(SYS_capset, &hdr, cap))
			snprintf(thread_fail, sizeof(thread_fail), "capset: %s", strerror(errno));
	}
	read_creds(&saved_thread);
	__atomic_store_n(&thread_noted, 1, __ATOMIC_RELEASE);
	if (read(thread_pipe[0], &c, 1) != 1)
		snprintf(thread_fail, sizeof(thread_fail), "thread: read: %s", strerror(errno));
	read_creds(&now);
	if (compare(&saved_thread, &now, buf, sizeof(buf))[0])
		snprintf(thread_fail, sizeof(thread_fail), "thread %ld: %s", syscall(SYS_gettid), buf);
	return NULL;
}

/* What the credentials allow: a file made now belongs to the fs ids. */
static void check_use(const struct creds *c)
{
	char path[4200];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/creds-file.%d", target_dir(), getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		target_fail("cannot create %s: %s", path, strerror(errno));
	if (fstat(fd, &st))
		target_fail("fstat: %s", strerror(errno));
	close(fd);
	unlink(path);
	if (st.st_uid != c->uid[3] || st.st_gid != c->gid[3])
		target_fail("a new file belongs to %u:%u, want %u:%u", st.st_uid, st.st_gid,
			    c->uid[3], c->gid[3]);
	if (c->uid[1] != 0 && !(c->cap[0].effective & (1u << CAP_SETUID)) &&
	    syscall(SYS_setresuid, 0, 0, 0) == 0)
		target_fail("became root without CAP_SETUID");
}

int main(int argc, char **argv)
{
	struct creds now;
	char buf[400];

	thread_differs = argc > 1 && !strcmp(argv[1], "-t");
	target_init();
	if (pipe2(thread_pipe, O_CLOEXEC))
		target_fail("pipe2: %s", strerror(errno));
	read_creds(&saved_main);
	if (pthread_create(&thread, NULL, thread_main, NULL))
		target_fail("pthread_create");
	/* the thread must have read its credentials before ready */
	while (!__atomic_load_n(&thread_noted, __ATOMIC_ACQUIRE))
		usleep(1000);
	if (thread_fail[0])
		target_fail("%s", thread_fail);
	if (compare(&saved_main, &saved_thread, buf, sizeof(buf))[0] && !thread_differs)
		target_fail("the threads differ before the dump: %s", buf);
	if (thread_differs && saved_main.cap[0].effective == saved_thread.cap[0].effective)
		target_fail("-t: the thread's effective capabilities did not change");
	target_ready();
	target_wait();

	read_creds(&now);
	if (compare(&saved_main, &now, buf, sizeof(buf))[0])
		target_fail("main thread: %s", buf);
	if (write(thread_pipe[1], "g", 1) != 1)
		target_fail("write: %s", strerror(errno));
	pthread_join(thread, NULL);
	if (thread_fail[0])
		target_fail("%s", thread_fail);
	check_use(&now);
	target_pass();
}
