/* kerndat_probe(): each probe against an independent reading of the same
 * fact, and the facts KERNEL-NOTES.md records for this machine. */
#include <criterion/criterion.h>
#include <cpuid.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/kerndat.h"

static struct kerndat kd;

static void probe(void)
{
	cr_assert_eq(kerndat_probe(&kd), 0);
}

TestSuite(kerndat, .init = probe);

Test(kerndat, release_and_page_size)
{
	struct utsname u;

	cr_assert_eq(uname(&u), 0);
	cr_expect_str_eq(kd.release, u.release);
	cr_expect_eq(kd.page_size, sysconf(_SC_PAGESIZE));
}

/* Soft-dirty must be the probe's own finding: the clear_refs write is
 * accepted on this kernel even though CONFIG_MEM_SOFT_DIRTY is off. */
Test(kerndat, soft_dirty_off_here)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");

	cr_assert_not_null(f, "clear_refs must exist for the probe to mean anything");
	cr_expect_eq(fputs("4", f) >= 0 && fclose(f) == 0, true, "clear_refs accepts 4");
	cr_expect_eq(kd.soft_dirty, false);
}

Test(kerndat, features_of_this_kernel)
{
	cr_expect(kd.pagemap_scan);
	cr_expect(kd.uffd);
	cr_expect(kd.uffd_wp_async);
	cr_expect(kd.clone3_set_tid);
	cr_expect(kd.pidfd_getfd);
	cr_expect(kd.ptrace_rseq);
	cr_expect(kd.ptrace_xstate);
	cr_expect(kd.process_vm_readv);
	cr_expect(kd.sock_diag);
}

Test(kerndat, xsave_matches_cpuid)
{
	unsigned a, b, c, d;

	__cpuid_count(0xd, 0, a, b, c, d);
	cr_expect_eq(kd.xsave_size, b);
	cr_expect_eq(kd.xfeatures & 3, 3, "x87 and SSE state are always enabled");
	cr_expect_geq(kd.xsave_size, 576u, "legacy area plus xsave header");
	/* the maximum over every feature the CPU knows bounds the enabled size */
	cr_expect_leq(kd.xsave_size, c);
}

Test(kerndat, vdso_layout)
{
	cr_expect_gt(kd.vdso_size, 0);
	cr_expect_eq(kd.vdso_size % kd.page_size, 0);
	cr_expect_eq(kd.vvar_size % kd.page_size, 0);
	cr_expect_eq(kd.vvar_vclock_size % kd.page_size, 0);
	/* the 6.13+ layout of this machine: [vvar] 16 KiB, [vvar_vclock] 8 KiB */
	cr_expect_eq(kd.vvar_size, 16384);
	cr_expect_eq(kd.vvar_vclock_size, 8192);
}

static unsigned count_children(void)
{
	char path[64], *buf = NULL;
	size_t len = 0;
	unsigned n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", getpid());
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (getdelim(&buf, &len, ' ', f) > 0)
		n++;
	free(buf);
	fclose(f);
	return n;
}

/* Probing leaves nothing behind: no child (the ptrace probe's is killed and
 * reaped, the clone3 probe creates none), no open fd, and gives the same
 * answers every time. */
Test(kerndat, leaves_nothing_and_repeats)
{
	struct kerndat again;
	DIR *d;
	unsigned fds_before = 0, fds_after = 0;
	struct dirent *de;

	d = opendir("/proc/self/fd");
	while ((de = readdir(d)))
		fds_before++;
	closedir(d);

	cr_assert_eq(kerndat_probe(&again), 0);
	cr_expect_eq(memcmp(&again, &kd, sizeof(kd)), 0);
	cr_expect_eq(count_children(), 0);
	cr_expect_eq(waitpid(-1, NULL, WNOHANG), -1, "no child left to reap");

	d = opendir("/proc/self/fd");
	while ((de = readdir(d)))
		fds_after++;
	closedir(d);
	cr_expect_eq(fds_after, fds_before);
}
