// SPDX-License-Identifier: GPL-2.0-or-later
/* Reading pagemap-PID.img for the page sources, checked once for both. */
#define LOG_PREFIX "lazy-pages: "
#include "pagemap-load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "img.h"
#include "log.h"
#include "page-xfer.h"
#include "pagemap.pb-c.h"
#include "util.h"

/* A pagemap can't make us allocate more than this many entries. */
#define MAX_ENTRIES (1u << 24)

int pagemap_load(int dirfd, uint32_t pid, uint32_t want, struct pagemap_run **ret_runs,
		 size_t *ret_nr, uint64_t *ret_file_pages, uint64_t *ret_head_file_pages)
{
	_cleanup_img_ struct img *img = NULL;
	_cleanup_msg_ ProtobufCMessage *hm = NULL;
	_cleanup_free_ struct pagemap_run *runs = NULL;
	uint64_t file_pages = 0, prev_end = 0;
	size_t nr = 0, seen = 0;
	PagemapHead *head;
	char name[64];
	int r;

	snprintf(name, sizeof(name), "pagemap-%u.img", pid);
	r = img_open_read(dirfd, name, IMG_PAGEMAP, &img);
	if (r < 0)
		return r;
	r = img_read_msg(img, &hm);
	if (r < 0)
		return r;
	if (r == 0)
		return pr_err_ret(-EINVAL, "%s: no pagemap head", name);
	head = (PagemapHead *)hm;
	if (head->id != pid)
		return pr_err_ret(-EINVAL, "%s: belongs to id %llu", name,
				  (unsigned long long)head->id);
	if (head->nr_entries > MAX_ENTRIES)
		return pr_err_ret(-EINVAL, "%s: %llu entries, too many", name,
				  (unsigned long long)head->nr_entries);
	runs = calloc(head->nr_entries ? head->nr_entries : 1, sizeof(*runs));
	if (!runs)
		return -ENOMEM;
	for (;;) {
		_cleanup_msg_ ProtobufCMessage *m = NULL;
		const char *why = NULL;
		PagemapEntry *pe;

		r = img_read_msg(img, &m);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		pe = (PagemapEntry *)m;
		if (seen >= head->nr_entries)
			return pr_err_ret(-EINVAL, "%s: more entries than the head says (%llu)",
					  name, (unsigned long long)head->nr_entries);
		if (px_run_next_ok(pe->vaddr, pe->nr_pages, &prev_end, &why) < 0)
			return pr_err_ret(-EINVAL, "%s: entry %zu at %#llx (%llu pages): %s", name,
					  seen, (unsigned long long)pe->vaddr,
					  (unsigned long long)pe->nr_pages, why);
		if ((pe->flags & want) == want)
			runs[nr++] = (struct pagemap_run){pe->vaddr, pe->nr_pages, file_pages,
							  pe->flags};
		if (pe->flags & PAGEMAP_FLAG__PE_PAGES)
			file_pages += pe->nr_pages;
		seen++;
	}
	if (seen != head->nr_entries)
		return pr_err_ret(-EINVAL, "%s: %zu entries, the head says %llu", name, seen,
				  (unsigned long long)head->nr_entries);
	*ret_runs = TAKE_PTR(runs);
	*ret_nr = nr;
	*ret_file_pages = file_pages;
	*ret_head_file_pages = head->nr_file_pages;
	return 0;
}

size_t pagemap_runs_find(const struct pagemap_run *runs, size_t nr, uint64_t vaddr)
{
	size_t lo = 0, hi = nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (runs[mid].vaddr + runs[mid].nr_pages * PX_PAGE <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
