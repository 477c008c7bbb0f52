/* uapi constants newer than the 6.1 headers Debian 12 ships, defined once.
 * Every definition is guarded so newer headers win. */
#ifndef CKPT_COMPAT_H
#define CKPT_COMPAT_H

#include <linux/fs.h>
#include <linux/types.h>
#include <sys/ioctl.h>

/* PAGEMAP_SCAN (Linux 6.7), include/uapi/linux/fs.h */
#ifndef PAGEMAP_SCAN
#define PAGE_IS_WPALLOWED	(1 << 0)
#define PAGE_IS_WRITTEN		(1 << 1)
#define PAGE_IS_FILE		(1 << 2)
#define PAGE_IS_PRESENT		(1 << 3)
#define PAGE_IS_SWAPPED		(1 << 4)
#define PAGE_IS_PFNZERO		(1 << 5)
#define PAGE_IS_HUGE		(1 << 6)
#define PAGE_IS_SOFT_DIRTY	(1 << 7)

struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

#define PM_SCAN_WP_MATCHING	(1 << 0)
#define PM_SCAN_CHECK_WPASYNC	(1 << 1)

struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

/* Guard regions (Linux 6.13+): madvise advice, and how the pagemap shows
 * them (PAGEMAP_SCAN category and pagemap bit, Linux 6.14+) */
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL	102
#endif
#ifndef PAGE_IS_GUARD
#define PAGE_IS_GUARD		(1 << 8)
#endif
#define PM_GUARD_REGION		(1ull << 58)

/* userfaultfd write-protect features newer than 6.1 */
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif

/* /proc/PID/stat flags */
#ifndef PF_KTHREAD
#define PF_KTHREAD 0x00200000
#endif

/* pidfd_open() of one thread (Linux 6.9), include/uapi/linux/pidfd.h: the
 * pidfd's f_flags show it as O_EXCL */
#ifndef PIDFD_THREAD
#define PIDFD_THREAD	O_EXCL
#endif

#endif
