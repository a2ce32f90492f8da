// SPDX-License-Identifier: GPL-2.0-or-later
/* Lazy restore: rewrite lazy pages that a reader populated before registration. */
#define LOG_PREFIX "uffd: "
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "img.h"
#include "inject.h"
#include "log.h"
#include "pagemap-scan.h"
#include "restore-mm.h"
#include "uffd-repair.h"
#include "util.h"

#define PAGE 4096ull

#define REPAIR_NR_REGIONS 256u
#define PM_PRESENT	  (1ull << 63)

struct repair_ctx {
	pid_t pid;
	const struct mm_pages *pages;
	/* first_page[i]: index in the pages file of entry i's first page */
	uint64_t *first_page;
	unsigned long fixed;
};

/* The pagemap entry holding addr, or -1 (a hole). Entries are sorted. */
static long find_entry(const struct mm_pages *pg, uint64_t addr)
{
	size_t lo = 0, hi = pg->nr_entries;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const PagemapEntry *e = pg->entries[mid];

		if (addr < e->vaddr)
			hi = mid;
		else if (addr >= e->vaddr + e->nr_pages * PAGE)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

static int repair_page(struct repair_ctx *c, uint64_t addr)
{
	const struct mm_pages *pg = c->pages;
	unsigned char buf[PAGE];
	long i = find_entry(pg, addr);
	const PagemapEntry *e;
	int r;

	if (i < 0)
		return 0; /* a hole: zeros are its contents */
	e = pg->entries[i];
	if (!(e->flags & PAGEMAP_FLAG__PE_PAGES)) {
		pr_err("task %d: page %#llx was read by another process (ps reading "
		       "/proc/PID/cmdline, say) before lazy memory was registered, and its "
		       "contents are only on the page server: restore aborted, try again\n",
		       c->pid, (unsigned long long)addr);
		return -EAGAIN;
	}
	if (pg->pages_fd < 0)
		return -EINVAL;
	r = pread_all(pg->pages_fd, buf, PAGE,
		      (off_t)img_pages_offset(c->first_page[i] + (addr - e->vaddr) / PAGE));
	if (r < 0)
		return pr_err_ret(r, "task %d: cannot read the image's page %#llx", c->pid,
				  (unsigned long long)addr);
	/* A write to the zero page breaks COW: no missing fault, no daemon. */
	r = remote_write(c->pid, addr, buf, PAGE);
	if (r < 0)
		return r;
	c->fixed++;
	return 0;
}

static int repair_range(struct repair_ctx *c, uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a < end; a += PAGE) {
		int r = repair_page(c, a);

		if (r < 0)
			return r;
	}
	return 0;
}

/* Present pages of [start, end) through PAGEMAP_SCAN; -ENOTTY without it. */
static int scan_vma_fast(struct repair_ctx *c, int pagemap, uint64_t start, uint64_t end)
{
	struct pm_region vec[REPAIR_NR_REGIONS];
	uint64_t at = start;

	while (at < end) {
		struct pm_scan a = {
		    .size = sizeof(a),
		    .start = at,
		    .end = end,
		    .vec = (uint64_t)(uintptr_t)vec,
		    .vec_len = REPAIR_NR_REGIONS,
		    .category_mask = PM_IS_PRESENT,
		    .return_mask = PM_IS_PRESENT,
		};
		long n = ioctl(pagemap, PM_SCAN_IOCTL, &a);

		if (n < 0) {
			/* A kernel without PAGEMAP_SCAN fails the first call. */
			if ((errno == ENOTTY || errno == EINVAL) && at == start)
				return -ENOTTY;
			return -errno;
		}
		if (n > (long)REPAIR_NR_REGIONS)
			return -EIO;
		for (long k = 0; k < n; k++) {
			if (vec[k].start < at || vec[k].end > end || vec[k].start >= vec[k].end)
				return -EIO;
			int r = repair_range(c, vec[k].start, vec[k].end);

			if (r < 0)
				return r;
		}
		if (a.walk_end <= at)
			return -EIO;
		at = a.walk_end;
	}
	return 0;
}

/* The same by reading 8 bytes of pagemap per page. */
static int scan_vma_slow(struct repair_ctx *c, int pagemap, uint64_t start, uint64_t end)
{
	uint64_t ents[512];

	for (uint64_t a = start; a < end;) {
		uint64_t n = (end - a) / PAGE;
		int r;

		if (n > ARRAY_SIZE(ents))
			n = ARRAY_SIZE(ents);
		r = pread_all(pagemap, ents, n * sizeof(ents[0]), (off_t)(a / PAGE * 8));
		if (r < 0)
			return r;
		for (uint64_t k = 0; k < n; k++) {
			if (ents[k] & PM_PRESENT) {
				r = repair_page(c, a + k * PAGE);
				if (r < 0)
					return r;
			}
		}
		a += n * PAGE;
	}
	return 0;
}

int uffd_repair_early_pages(pid_t pid, const MmEntry *mm, const struct mm_pages *pages)
{
	_cleanup_free_ uint64_t *first = NULL;
	_cleanup_close_ int pagemap = -1;
	struct repair_ctx c = {.pid = pid, .pages = pages};
	char path[64];
	bool fast = true;
	uint64_t n = 0;

	if (!pages || !pages->nr_entries)
		return 0;
	first = calloc(pages->nr_entries, sizeof(*first));
	if (!first)
		return -ENOMEM;
	for (size_t i = 0; i < pages->nr_entries; i++) {
		first[i] = n;
		if (pages->entries[i]->flags & PAGEMAP_FLAG__PE_PAGES)
			n += pages->entries[i]->nr_pages;
	}
	c.first_page = first;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	pagemap = open(path, O_RDONLY | O_CLOEXEC);
	if (pagemap < 0)
		return pr_err_ret(-errno, "task %d: cannot open %s", pid, path);
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];
		int r = -ENOTTY;

		if (v->kind != VMA_KIND__VMA_ANON)
			continue;
		if (fast)
			r = scan_vma_fast(&c, pagemap, v->start, v->end);
		if (r == -ENOTTY) {
			fast = false;
			r = scan_vma_slow(&c, pagemap, v->start, v->end);
		}
		if (r < 0)
			return r == -EAGAIN
				   ? r
				   : pr_err_ret(r, "task %d: cannot scan lazy memory at %#llx", pid,
						(unsigned long long)v->start);
	}
	if (c.fixed)
		pr_info("task %d: %lu lazy pages were populated before registration (a reader of "
			"/proc/PID/...); rewritten from the image\n",
			pid, c.fixed);
	return (int)(c.fixed > 0x7fffffff ? 0x7fffffff : c.fixed);
}
