/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PAGEMAP_SCAN (Linux 6.7): the kernel walks the page tables and returns runs
 * of pages by category, far cheaper than 8 bytes of pagemap per page. Our own
 * names: the build host's headers may predate it; the layout is the kernel's
 * ABI (include/uapi/linux/fs.h), and whether the running kernel knows it is
 * what kerndat probes.
 */
#ifndef RELIVE_PAGEMAP_SCAN_H
#define RELIVE_PAGEMAP_SCAN_H

#include <stdint.h>
#include <sys/ioctl.h>

struct pm_region {
	uint64_t start, end, categories;
};

struct pm_scan {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define PM_SCAN_IOCTL _IOWR('f', 16, struct pm_scan)

/* Page categories. */
#define PM_IS_WRITTEN (1u << 1)
#define PM_IS_FILE    (1u << 2)
#define PM_IS_PRESENT (1u << 3)
#define PM_IS_SWAPPED (1u << 4)
#define PM_IS_PFNZERO (1u << 5)

/* Flags: write-protect the written pages found; fail unless async WP. */
#define PM_WP_MATCHING	 (1u << 0)
#define PM_CHECK_WPASYNC (1u << 1)

#endif
