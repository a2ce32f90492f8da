// SPDX-License-Identifier: GPL-2.0-or-later
/* Kernel probes for memory: userfaultfd, PAGEMAP_SCAN, async write-protect. */
#define LOG_PREFIX "kerndat: "

#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <linux/userfaultfd.h>

#include "kerndat-probe.h"
#include "kerndat.h"
#include "log.h"
#include "pagemap-scan.h"
#include "util.h"

/*
 * ABI values the Debian 12 headers may lack. They are kernel ABI, so defining
 * them here is safe; whether the running kernel knows them is what we probe.
 */
#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

/* Anonymous scratch mapping with cleanup. */
struct scratch {
	void *addr;
	size_t len;
};

static void scratch_unmap(struct scratch *s)
{
	if (s->addr && s->addr != MAP_FAILED)
		munmap(s->addr, s->len);
}

#define _cleanup_scratch_ _cleanup_(scratch_unmap)

static int scratch_map(struct scratch *s, size_t pages)
{
	s->len = pages * (size_t)getpagesize();
	s->addr = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->addr == MAP_FAILED) {
		s->addr = NULL;
		return negerrno();
	}
	return 0;
}

static int uffd_open_syscall(int flags)
{
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | flags);

	return fd < 0 ? negerrno() : fd;
}

static int uffd_open_dev(void)
{
	_cleanup_close_ int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	int fd;

	if (dev < 0)
		return negerrno();
	fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
	return fd < 0 ? negerrno() : fd;
}

/* UFFDIO_API asking for want; returns the features the kernel reports. */
static int uffd_api(int fd, uint64_t want, uint64_t *ret_features)
{
	struct uffdio_api api = {.api = UFFD_API, .features = want};

	if (ioctl(fd, UFFDIO_API, &api) < 0)
		return negerrno();
	if (ret_features)
		*ret_features = api.features;
	return 0;
}

/* Register one page for MISSING faults and fill it with UFFDIO_COPY. */
static int uffd_copy_works(int fd)
{
	_cleanup_scratch_ struct scratch dst = {0};
	_cleanup_scratch_ struct scratch src = {0};
	struct uffdio_register reg = {0};
	struct uffdio_copy copy = {0};
	int r;

	if ((r = scratch_map(&dst, 1)) < 0 || (r = scratch_map(&src, 1)) < 0)
		return r;
	memset(src.addr, 0x5a, src.len);
	reg.range.start = (uintptr_t)dst.addr;
	reg.range.len = dst.len;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(fd, UFFDIO_REGISTER, &reg) < 0)
		return negerrno();
	copy.dst = (uintptr_t)dst.addr;
	copy.src = (uintptr_t)src.addr;
	copy.len = dst.len;
	if (ioctl(fd, UFFDIO_COPY, &copy) < 0)
		return negerrno();
	/* Only touch dst now that it is filled: a missing page would block us. */
	if (copy.copy != (int64_t)dst.len || memcmp(dst.addr, src.addr, dst.len))
		return -EPROTO;
	return 0;
}

void kerndat_probe_uffd(struct kerndat *kd)
{
	_cleanup_close_ int sys_fd = -1, dev_fd = -1, um_fd = -1, ev_fd = -1;
	const char *via = NULL;
	uint64_t features = 0;
	int fd = -1, r;

	sys_fd = uffd_open_syscall(0);
	if (sys_fd < 0) {
		kd_set_failed(kd, KD_UFFD_SYSCALL, "userfaultfd()", sys_fd);
	} else if ((r = uffd_api(sys_fd, 0, &features)) < 0) {
		kd_set_failed(kd, KD_UFFD_SYSCALL, "UFFDIO_API", r);
	} else {
		kd_set_item(kd, KD_UFFD_SYSCALL, true, "features 0x%llx",
			    (unsigned long long)features);
		fd = sys_fd;
		via = "userfaultfd()";
	}

	um_fd = uffd_open_syscall(UFFD_USER_MODE_ONLY);
	if (um_fd < 0)
		kd_set_failed(kd, KD_UFFD_USER_MODE, "userfaultfd(UFFD_USER_MODE_ONLY)", um_fd);
	else if ((r = uffd_api(um_fd, 0, fd < 0 ? &features : NULL)) < 0)
		kd_set_failed(kd, KD_UFFD_USER_MODE, "UFFDIO_API", r);
	else
		kd_set_item(kd, KD_UFFD_USER_MODE, true, "user-mode-only userfaultfd works");

	dev_fd = uffd_open_dev();
	if (dev_fd < 0) {
		kd_set_failed(kd, KD_UFFD_DEV, "/dev/userfaultfd", dev_fd);
	} else if ((r = uffd_api(dev_fd, 0, fd < 0 ? &features : NULL)) < 0) {
		kd_set_failed(kd, KD_UFFD_DEV, "UFFDIO_API", r);
	} else {
		kd_set_item(kd, KD_UFFD_DEV, true, "USERFAULTFD_IOC_NEW works");
		if (fd < 0) {
			fd = dev_fd;
			via = "/dev/userfaultfd";
		}
	}

	if (fd < 0) {
		/*
		 * A user-mode-only uffd still tells the features, but lazy
		 * restore cannot use it: a syscall of the restored program that
		 * touches a missing page would fail with EFAULT.
		 */
		if (kd->item[KD_UFFD_USER_MODE].present) {
			kd->uffd_api_ok = true;
			kd->uffd_features = features;
		}
		kd_set_item(
		    kd, KD_UFFD, false, "neither userfaultfd() nor /dev/userfaultfd works%s",
		    kd->uffd_api_ok ? " (only user-mode-only, which lazy restore cannot use)" : "");
		kd_set_item(kd, KD_UFFD_EVENTS, false, "not probed: no usable userfaultfd");
		return;
	}
	kd->uffd_api_ok = true;
	kd->uffd_features = features;

	r = uffd_copy_works(fd);
	if (r < 0)
		kd_set_item(kd, KD_UFFD, false, "MISSING register + UFFDIO_COPY via %s: %s", via,
			    strerror(-r));
	else
		kd_set_item(kd, KD_UFFD, true, "served a missing page with UFFDIO_COPY via %s",
			    via);

	/* Enabling the events is the real test: UFFDIO_API fails on any unknown bit. */
	ev_fd = fd == sys_fd ? uffd_open_syscall(0) : uffd_open_dev();
	if (ev_fd < 0)
		return kd_set_failed(kd, KD_UFFD_EVENTS, "userfaultfd", ev_fd);
	r = uffd_api(ev_fd, KD_UFFD_LAZY_EVENTS, NULL);
	if (r < 0)
		return kd_set_failed(kd, KD_UFFD_EVENTS,
				     "UFFDIO_API with fork/remap/remove/unmap events", r);
	kd_set_item(kd, KD_UFFD_EVENTS, true, "fork, remap, remove and unmap events enabled");
}

static int pagemap_scan(int pagemap, struct scratch *s, uint64_t flags, uint64_t category_mask,
			struct pm_region *vec, size_t vec_len)
{
	struct pm_scan arg = {
	    .size = sizeof(arg),
	    .flags = flags,
	    .start = (uintptr_t)s->addr,
	    .end = (uintptr_t)s->addr + s->len,
	    .vec = (uintptr_t)vec,
	    .vec_len = vec_len,
	    .category_mask = category_mask,
	    .return_mask = category_mask,
	};
	int n = ioctl(pagemap, PM_SCAN_IOCTL, &arg);

	if (n < 0)
		return negerrno();
	if (arg.walk_end != arg.end || (size_t)n > vec_len)
		return -EPROTO;
	return n;
}

/* One region of exactly page idx of s, as PAGEMAP_SCAN should report it. */
static bool region_is_page(const struct pm_region *r, const struct scratch *s, size_t idx)
{
	uintptr_t start = (uintptr_t)s->addr + idx * (size_t)getpagesize();

	return r->start == start && r->end == start + (size_t)getpagesize();
}

static void probe_pagemap_scan(struct kerndat *kd, int pagemap)
{
	_cleanup_scratch_ struct scratch s = {0};
	struct pm_region vec[4];
	size_t ps = getpagesize();
	int n;

	if ((n = scratch_map(&s, 4)) < 0)
		return kd_set_failed(kd, KD_PAGEMAP_SCAN, "mmap", n);
	((volatile char *)s.addr)[0] = 1;
	((volatile char *)s.addr)[2 * ps] = 1;
	n = pagemap_scan(pagemap, &s, 0, PM_IS_PRESENT, vec, ARRAY_SIZE(vec));
	if (n == -EPROTO)
		return kd_set_item(kd, KD_PAGEMAP_SCAN, false, "PAGEMAP_SCAN gave a bad walk_end");
	if (n < 0)
		return kd_set_failed(kd, KD_PAGEMAP_SCAN, "PAGEMAP_SCAN", n);
	if (n != 2 || !region_is_page(&vec[0], &s, 0) || !region_is_page(&vec[1], &s, 2))
		return kd_set_item(kd, KD_PAGEMAP_SCAN, false,
				   "PAGEMAP_SCAN did not find the 2 present pages (got %d regions)",
				   n);
	kd_set_item(kd, KD_PAGEMAP_SCAN, true, "found the present pages of a scratch mapping");
}

/*
 * Dirty tracking for pre-copy: async write-protect a mapping through
 * userfaultfd, write one page, and check PAGEMAP_SCAN reports exactly it.
 */
static int dirty_tracking_works(int uffd, int pagemap)
{
	_cleanup_scratch_ struct scratch s = {0};
	struct uffdio_register reg = {0};
	struct pm_region vec[4];
	size_t ps = getpagesize();
	int r;

	r = uffd_api(uffd, KD_UFFD_FEATURE_WP_ASYNC | KD_UFFD_FEATURE_WP_UNPOPULATED, NULL);
	if (r < 0)
		return r;
	if ((r = scratch_map(&s, 4)) < 0)
		return r;
	memset(s.addr, 1, s.len);
	reg.range.start = (uintptr_t)s.addr;
	reg.range.len = s.len;
	reg.mode = UFFDIO_REGISTER_MODE_WP;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0)
		return negerrno();
	/* Protect everything and clear the written state... */
	r = pagemap_scan(pagemap, &s, PM_WP_MATCHING | PM_CHECK_WPASYNC, PM_IS_WRITTEN, vec,
			 ARRAY_SIZE(vec));
	if (r < 0)
		return r;
	/* ...so that only this write shows. */
	((volatile char *)s.addr)[ps] = 2;
	r = pagemap_scan(pagemap, &s, 0, PM_IS_WRITTEN, vec, ARRAY_SIZE(vec));
	if (r < 0)
		return r;
	if (r != 1 || !region_is_page(&vec[0], &s, 1))
		return -EPROTO;
	return 0;
}

void kerndat_probe_pagemap(struct kerndat *kd)
{
	_cleanup_close_ int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int uffd = -1;
	int r;

	if (pagemap < 0) {
		r = negerrno();
		kd_set_failed(kd, KD_PAGEMAP_SCAN, "/proc/self/pagemap", r);
		kd_set_failed(kd, KD_DIRTY_TRACK, "/proc/self/pagemap", r);
		return;
	}
	probe_pagemap_scan(kd, pagemap);
	if (!kd->item[KD_PAGEMAP_SCAN].present)
		return kd_set_item(kd, KD_DIRTY_TRACK, false, "not probed: no PAGEMAP_SCAN");
	if (!kd->item[KD_UFFD_SYSCALL].present && !kd->item[KD_UFFD_DEV].present)
		return kd_set_item(kd, KD_DIRTY_TRACK, false, "not probed: no usable userfaultfd");
	if (!kerndat_uffd_has(kd, KD_UFFD_FEATURE_WP_ASYNC))
		return kd_set_item(kd, KD_DIRTY_TRACK, false, "userfaultfd lacks WP_ASYNC");
	uffd = kd->item[KD_UFFD_SYSCALL].present ? uffd_open_syscall(0) : uffd_open_dev();
	if (uffd < 0)
		return kd_set_failed(kd, KD_DIRTY_TRACK, "userfaultfd", uffd);
	r = dirty_tracking_works(uffd, pagemap);
	if (r == -EPROTO)
		return kd_set_item(kd, KD_DIRTY_TRACK, false,
				   "PAGEMAP_SCAN did not report exactly the written page");
	if (r < 0)
		return kd_set_failed(kd, KD_DIRTY_TRACK, "WP_ASYNC + PAGEMAP_SCAN", r);
	kd_set_item(kd, KD_DIRTY_TRACK, true, "PAGEMAP_SCAN found the one page written");
}
