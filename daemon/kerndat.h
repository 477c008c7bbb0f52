/* What this kernel and CPU offer, probed once (ckptctl check prints it).
 * Never compare version numbers: probe. */
#ifndef CKPT_KERNDAT_H
#define CKPT_KERNDAT_H

#include <stdbool.h>
#include <stdint.h>

struct kerndat {
	char release[65];
	long page_size;
	bool soft_dirty;	/* CONFIG_MEM_SOFT_DIRTY really tracks writes */
	bool pagemap_scan;	/* PAGEMAP_SCAN ioctl */
	bool uffd;		/* userfaultfd() */
	bool uffd_wp_async;	/* UFFD_FEATURE_WP_ASYNC */
	bool uffd_wp_unpopulated; /* UFFD_FEATURE_WP_UNPOPULATED (uffd-wp tracks anon VMAs) */
	bool clone3_set_tid;
	bool pidfd_getfd;
	bool ptrace_rseq;	/* PTRACE_GET_RSEQ_CONFIGURATION */
	bool ptrace_xstate;	/* PTRACE_GETREGSET NT_X86_XSTATE */
	bool process_vm_readv;
	bool guard_regions;	/* MADV_GUARD_INSTALL (a dump looks for them only then) */
	bool sock_diag;		/* NETLINK_SOCK_DIAG answers */
	uint64_t xfeatures;	/* XCR0 */
	uint32_t xsave_size;	/* bytes of an xsave area for XCR0 */
	/* vdso/vvar layout of this kernel: sizes in bytes, 0 when absent */
	uint64_t vdso_size, vvar_size, vvar_vclock_size;
};

/* Fill kd; 0 or -errno (a probe that fails marks the feature absent). */
int kerndat_probe(struct kerndat *kd);

#endif
