/* SPDX-License-Identifier: GPL-2.0-or-later */
/* userfaultfd definitions newer than the build host's kernel headers. */
#ifndef RELIVE_UFFD_COMPAT_H
#define RELIVE_UFFD_COMPAT_H

#include <linux/userfaultfd.h>
#include <sys/ioctl.h>

/* UFFDIO_POISON (Linux 6.6): touching a poisoned page raises SIGBUS. */
#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON (1 << 14)
#define _UFFDIO_POISON	    (0x08)
struct uffdio_poison {
	struct uffdio_range range;
#define UFFDIO_POISON_MODE_DONTWAKE ((__u64)1 << 0)
	__u64 mode;
	__s64 updated;
};
#define UFFDIO_POISON _IOWR(UFFDIO, _UFFDIO_POISON, struct uffdio_poison)
#endif

/* What the lazy restore needs from the kernel, and what it uses if offered. */
#define LP_UFFD_REQUIRED_FEATURES                                                                  \
	(UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE |          \
	 UFFD_FEATURE_EVENT_UNMAP)
#define LP_UFFD_OPTIONAL_FEATURES UFFD_FEATURE_POISON

#endif
