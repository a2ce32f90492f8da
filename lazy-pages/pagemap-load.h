/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading pagemap-PID.img for the page sources, checked once for both. */
#ifndef RELIVE_PAGEMAP_LOAD_H
#define RELIVE_PAGEMAP_LOAD_H

#include <stddef.h>
#include <stdint.h>

struct pagemap_run {
	uint64_t vaddr;
	uint64_t nr_pages;
	uint64_t file_page; /* index in pages-PID.img of its first page when PE_PAGES */
	uint32_t flags;
};

/*
 * Read pagemap-PID.img in dirfd, checking each entry (sorted, disjoint,
 * aligned, in user space) and the count against the head. Keeps the
 * entries whose flags hold all of want (0: every entry) in *ret_runs and
 * *ret_nr; *ret_file_pages is the PE_PAGES total of all entries and
 * *ret_head_file_pages what the head says it is. Returns 0 or -errno, logged.
 */
int pagemap_load(int dirfd, uint32_t pid, uint32_t want, struct pagemap_run **ret_runs,
		 size_t *ret_nr, uint64_t *ret_file_pages, uint64_t *ret_head_file_pages);

/* Index of the first of the sorted, disjoint runs that ends above vaddr; nr if none. */
size_t pagemap_runs_find(const struct pagemap_run *runs, size_t nr, uint64_t vaddr);

#endif
