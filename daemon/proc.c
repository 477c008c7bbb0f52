/* /proc parsing for the freeze and the core dump.
 *
 * The parsers take the text the kernel wrote (fs/proc/array.c, base.c) and
 * are strict about the fields they use: a file that does not look like what
 * this kernel writes is -EBADMSG, never a silently wrong value. */
#include "daemon/proc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* A /proc file of pid: ENOENT means the process is gone. */
static int read_pid_file(pid_t pid, const char *name, char **ret)
{
	char path[128];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	r = read_file_at(AT_FDCWD, path, ret, NULL);
	return r == -ENOENT ? -ESRCH : r;
}

static int parse_u64(const char **p, int base, uint64_t *ret)
{
	char *end;

	while (**p == ' ' || **p == '\t')
		(*p)++;
	if (base == 16 ? !isxdigit((unsigned char)**p) : !isdigit((unsigned char)**p))
		return -EBADMSG;
	errno = 0;
	*ret = strtoull(*p, &end, base);
	if (errno || end == *p)
		return -EBADMSG;
	*p = end;
	return 0;
}

/* A decimal that may be negative, or a large unsigned one (stat's rsslim
 * is 2^64-1): the low bits are what the callers need. */
static int parse_long(const char **p, long *ret)
{
	char *end;

	while (**p == ' ')
		(*p)++;
	errno = 0;
	if (**p == '-')
		*ret = strtol(*p, &end, 10);
	else
		*ret = (long)strtoull(*p, &end, 10);
	if (errno || end == *p)
		return -EBADMSG;
	*p = end;
	return 0;
}

int proc_parse_stat(const char *buf, struct proc_stat *ret)
{
	struct proc_stat st = { 0 };
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')'), *p;
	size_t n;

	if (!open || !close || close < open || close[1] != ' ' || !close[2])
		return -EBADMSG;
	n = MIN((size_t)(close - open - 1), sizeof(st.comm) - 1);
	memcpy(st.comm, open + 1, n);
	st.state = close[2];
	p = close + 3;
	/* fields 4.. (ppid onwards): we need 4, 5, 6, 9, 22, 38 and 52 */
	for (int field = 4; field <= 52; field++) {
		long v;

		if (parse_long(&p, &v) < 0)
			return -EBADMSG;
		switch (field) {
		case 4: st.ppid = v; break;
		case 5: st.pgid = v; break;
		case 6: st.sid = v; break;
		case 9: st.flags = (unsigned)v; break;
		case 22: st.start_time = (unsigned long)v; break;
		case 38: st.exit_signal = v; break;
		case 52: st.exit_code = v; break;
		}
	}
	*ret = st;
	return 0;
}

int proc_read_stat(pid_t pid, struct proc_stat *ret)
{
	_cleanup_free_ char *buf = NULL;
	int r;

	r = read_pid_file(pid, "stat", &buf);
	if (r < 0)
		return r;
	return proc_parse_stat(buf, ret);
}

bool proc_dying(pid_t pid)
{
	struct proc_stat st;

	return proc_read_stat(pid, &st) < 0 || st.state == 'Z' || st.state == 'X';
}

int proc_read_start_time(pid_t pid, uint64_t *ret)
{
	struct proc_stat st;
	int r = proc_read_stat(pid, &st);

	if (r == 0)
		*ret = st.start_time;
	return r;
}

/* The value after "Key:" on its own line, or NULL. */
static const char *status_field(const char *buf, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, klen) && p[klen] == ':')
			return p + klen + 1;
	return NULL;
}

static int status_u64(const char *buf, const char *key, int base, uint64_t *ret)
{
	const char *p = status_field(buf, key);

	if (!p)
		return -EBADMSG;
	return parse_u64(&p, base, ret);
}

static int status_ids(const char *buf, const char *key, uint32_t ids[4])
{
	const char *p = status_field(buf, key);

	if (!p)
		return -EBADMSG;
	for (int i = 0; i < 4; i++) {
		uint64_t v;

		if (parse_u64(&p, 10, &v) < 0 || v > UINT32_MAX)
			return -EBADMSG;
		ids[i] = v;
	}
	return 0;
}

static int status_groups(const char *buf, struct proc_status *st)
{
	const char *p = status_field(buf, "Groups"), *eol;
	unsigned cap = 0;

	if (!p)
		return -EBADMSG;
	eol = strchrnul(p, '\n');
	for (;;) {
		uint64_t v;

		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= eol)
			return 0;
		if (parse_u64(&p, 10, &v) < 0 || v > UINT32_MAX)
			return -EBADMSG;
		if (st->nr_groups == cap) {
			uint32_t *g = realloc(st->groups, (cap = cap ? cap * 2 : 16) * sizeof(*g));

			if (!g)
				return -ENOMEM;
			st->groups = g;
		}
		st->groups[st->nr_groups++] = v;
	}
}

int proc_parse_status(const char *buf, struct proc_status *ret)
{
	struct proc_status st = { 0 };
	const char *p = status_field(buf, "State");
	uint64_t v;
	int r;

	if (!p)
		return -EBADMSG;
	while (*p == ' ' || *p == '\t')
		p++;
	st.state = *p;
	r = status_u64(buf, "TracerPid", 10, &v);
	if (r < 0)
		return r;
	st.tracer_pid = v;
	if ((r = status_u64(buf, "Tgid", 10, &v)) < 0)
		return r;
	st.tgid = v;
	if ((r = status_u64(buf, "PPid", 10, &v)) < 0)
		return r;
	st.ppid = v;
	if ((r = status_ids(buf, "Uid", st.uid)) < 0 ||
	    (r = status_ids(buf, "Gid", st.gid)) < 0 ||
	    (r = status_u64(buf, "CapInh", 16, &st.cap_inh)) < 0 ||
	    (r = status_u64(buf, "CapPrm", 16, &st.cap_prm)) < 0 ||
	    (r = status_u64(buf, "CapEff", 16, &st.cap_eff)) < 0 ||
	    (r = status_u64(buf, "CapBnd", 16, &st.cap_bnd)) < 0 ||
	    (r = status_u64(buf, "CapAmb", 16, &st.cap_amb)) < 0 ||
	    (r = status_u64(buf, "NoNewPrivs", 10, &v)) < 0)
		return r;
	st.no_new_privs = v;
	if (status_u64(buf, "Kthread", 10, &v) == 0)
		st.kthread = v;
	if (status_u64(buf, "Seccomp", 10, &v) == 0)
		st.seccomp = v;
	r = status_groups(buf, &st);
	if (r < 0) {
		free(st.groups);
		return r;
	}
	*ret = st;
	return 0;
}

int proc_read_status(pid_t pid, struct proc_status *ret)
{
	_cleanup_free_ char *buf = NULL;
	int r;

	r = read_pid_file(pid, "status", &buf);
	if (r < 0)
		return r;
	return proc_parse_status(buf, ret);
}

void proc_status_free(struct proc_status *s)
{
	free(s->groups);
	s->groups = NULL;
	s->nr_groups = 0;
}

static int pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static int pids_add(pid_t **v, unsigned *nr, unsigned *cap, pid_t pid)
{
	if (*nr == *cap) {
		unsigned ncap = *cap ? *cap * 2 : 16;
		pid_t *n = realloc(*v, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		*v = n;
		*cap = ncap;
	}
	(*v)[(*nr)++] = pid;
	return 0;
}

/* Append the pids of buf to *v. */
static int parse_pids_into(const char *buf, pid_t **v, unsigned *nr, unsigned *cap)
{
	const char *p = buf;

	for (;;) {
		uint64_t x;
		int r;

		while (*p == ' ' || *p == '\n' || *p == '\t')
			p++;
		if (!*p)
			return 0;
		if (parse_u64(&p, 10, &x) < 0 || x == 0 || x > INT32_MAX)
			return -EBADMSG;
		r = pids_add(v, nr, cap, (pid_t)x);
		if (r < 0)
			return r;
	}
}

int proc_parse_pids(const char *buf, pid_t **ret, unsigned *ret_nr)
{
	_cleanup_free_ pid_t *v = NULL;
	unsigned nr = 0, cap = 0;
	int r;

	r = parse_pids_into(buf, &v, &nr, &cap);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(v);
	*ret_nr = nr;
	return 0;
}

int proc_read_tids(pid_t pid, pid_t **ret, unsigned *ret_nr)
{
	_cleanup_free_ pid_t *v = NULL;
	unsigned nr = 0, cap = 0;
	struct dirent *de;
	char path[64];
	DIR *d;
	int r = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : negerrno();
	while ((de = readdir(d))) {
		long tid = strtol(de->d_name, NULL, 10);

		if (tid <= 0)
			continue;
		r = pids_add(&v, &nr, &cap, tid);
		if (r < 0)
			break;
	}
	closedir(d);
	if (r < 0)
		return r;
	if (nr == 0)
		return -ESRCH;
	qsort(v, nr, sizeof(*v), pid_cmp);
	/* the main thread first */
	for (unsigned i = 0; i < nr; i++)
		if (v[i] == pid) {
			memmove(v + 1, v, i * sizeof(*v));
			v[0] = pid;
		}
	*ret = TAKE_PTR(v);
	*ret_nr = nr;
	return 0;
}

int proc_read_fdinfo(pid_t pid, int fd, char **ret)
{
	char name[32];

	snprintf(name, sizeof(name), "fdinfo/%d", fd);
	return read_pid_file(pid, name, ret);
}

int proc_read_children(pid_t pid, pid_t **ret, unsigned *ret_nr)
{
	_cleanup_free_ pid_t *tids = NULL, *v = NULL;
	unsigned nr_tids, nr = 0, cap = 0;
	int r;

	r = proc_read_tids(pid, &tids, &nr_tids);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < nr_tids; i++) {
		_cleanup_free_ char *buf = NULL;
		char name[64];

		snprintf(name, sizeof(name), "task/%d/children", tids[i]);
		r = read_pid_file(pid, name, &buf);
		if (r == -ESRCH)
			continue;	/* that thread has exited meanwhile */
		if (r < 0)
			return r;
		r = parse_pids_into(buf, &v, &nr, &cap);
		if (r < 0)
			return r;
	}
	if (nr)
		qsort(v, nr, sizeof(*v), pid_cmp);
	*ret = TAKE_PTR(v);
	*ret_nr = nr;
	return 0;
}

/* The names of fs/proc/base.c's lnames[], indexed by RLIMIT_*. */
static const char *const rlimit_names[PROC_NR_RLIMITS] = {
	"Max cpu time", "Max file size", "Max data size", "Max stack size",
	"Max core file size", "Max resident set", "Max processes",
	"Max open files", "Max locked memory", "Max address space",
	"Max file locks", "Max pending signals", "Max msgqueue size",
	"Max nice priority", "Max realtime priority", "Max realtime timeout",
};

static int parse_limit(const char **p, uint64_t *ret)
{
	while (**p == ' ')
		(*p)++;
	if (!strncmp(*p, "unlimited", 9)) {
		*p += 9;
		*ret = UINT64_MAX;
		return 0;
	}
	return parse_u64(p, 10, ret);
}

int proc_parse_limits(const char *buf, struct proc_rlimit lim[PROC_NR_RLIMITS])
{
	bool seen[PROC_NR_RLIMITS] = { false };
	const char *line = strchr(buf, '\n');	/* skip the header */

	if (!line || strncmp(buf, "Limit ", 6))
		return -EBADMSG;
	for (line++; *line; line = strchrnul(line, '\n'), line += !!*line) {
		const char *p = NULL;
		int i;

		for (i = 0; i < PROC_NR_RLIMITS; i++) {
			size_t n = strlen(rlimit_names[i]);

			if (!strncmp(line, rlimit_names[i], n) && line[n] == ' ') {
				p = line + n;
				break;
			}
		}
		if (!p || seen[i])
			return -EBADMSG;
		if (parse_limit(&p, &lim[i].cur) < 0 || parse_limit(&p, &lim[i].max) < 0)
			return -EBADMSG;
		seen[i] = true;
	}
	for (int i = 0; i < PROC_NR_RLIMITS; i++)
		if (!seen[i])
			return -EBADMSG;
	return 0;
}

int proc_read_limits(pid_t pid, struct proc_rlimit lim[PROC_NR_RLIMITS])
{
	_cleanup_free_ char *buf = NULL;
	int r;

	r = read_pid_file(pid, "limits", &buf);
	if (r < 0)
		return r;
	return proc_parse_limits(buf, lim);
}

/* fs/proc/base.c show_timer(): nstr[] names of sigev_notify. */
static int parse_notify(const char *p, struct proc_timer *t)
{
	static const struct { const char *name; int val; } kinds[] = {
		{ "signal", 0 /* SIGEV_SIGNAL */ },
		{ "none", 1 /* SIGEV_NONE */ },
		{ "thread", 2 /* SIGEV_THREAD */ },
	};
	long pid;

	for (unsigned i = 0; i < ARRAY_SIZE(kinds); i++) {
		size_t n = strlen(kinds[i].name);

		if (strncmp(p, kinds[i].name, n) || p[n] != '/')
			continue;
		p += n + 1;
		if (!strncmp(p, "tid.", 4))
			t->notify = kinds[i].val | 4 /* SIGEV_THREAD_ID */;
		else if (!strncmp(p, "pid.", 4))
			t->notify = kinds[i].val;
		else
			return -EBADMSG;
		p += 4;
		if (parse_long(&p, &pid) < 0)
			return -EBADMSG;
		t->notify_pid = pid;
		return 0;
	}
	return -EBADMSG;
}

/* One timer: the four lines "ID:", "signal:", "notify:", "ClockID:". */
static int parse_timer(const char **pp, struct proc_timer *t)
{
	const char *p = *pp;
	uint64_t v;
	long l;

	if (strncmp(p, "ID: ", 4) || (p += 4, parse_long(&p, &l)) < 0 || *p != '\n')
		return -EBADMSG;
	t->id = l;
	p++;
	if (strncmp(p, "signal: ", 8) || (p += 8, parse_long(&p, &l)) < 0 || *p++ != '/')
		return -EBADMSG;
	t->signo = l;
	if (parse_u64(&p, 16, &v) < 0 || *p++ != '\n')
		return -EBADMSG;
	t->sival = v;
	if (strncmp(p, "notify: ", 8) || parse_notify(p + 8, t) < 0)
		return -EBADMSG;
	p = strchr(p, '\n');
	if (!p)
		return -EBADMSG;
	p++;
	if (strncmp(p, "ClockID: ", 9) || (p += 9, parse_long(&p, &l)) < 0)
		return -EBADMSG;
	t->clock_id = l;
	if (*p == '\n')
		p++;
	else if (*p)
		return -EBADMSG;
	*pp = p;
	return 0;
}

int proc_parse_timers(const char *buf, struct proc_timer **ret, unsigned *ret_nr)
{
	_cleanup_free_ struct proc_timer *v = NULL;
	unsigned nr = 0, cap = 0;
	const char *p = buf;

	while (*p) {
		int r;

		if (nr == cap) {
			struct proc_timer *n = realloc(v, (cap = cap ? cap * 2 : 8) * sizeof(*n));

			if (!n)
				return -ENOMEM;
			v = n;
		}
		memset(&v[nr], 0, sizeof(v[nr]));
		r = parse_timer(&p, &v[nr]);
		if (r < 0)
			return r;
		nr++;
	}
	*ret = TAKE_PTR(v);
	*ret_nr = nr;
	return 0;
}

int proc_read_timers(pid_t pid, struct proc_timer **ret, unsigned *ret_nr)
{
	_cleanup_free_ char *buf = NULL;
	int r;

	r = read_pid_file(pid, "timers", &buf);
	if (r < 0)
		return r;
	return proc_parse_timers(buf, ret, ret_nr);
}

int proc_parse_hex32(const char *buf, uint32_t *ret)
{
	const char *p = buf;
	uint64_t v;

	if (parse_u64(&p, 16, &v) < 0 || v > UINT32_MAX || (*p && *p != '\n'))
		return -EBADMSG;
	*ret = v;
	return 0;
}
