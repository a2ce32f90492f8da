/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Address-space rebuild of a restored task, from outside over ptrace
 * (DESIGN.md, "Address-space rebuild"). The task is a fork of relive,
 * ptrace-stopped, with relive's scratch page mapped (the page holding the
 * 0f 05 that rt->syscall_ip points at, plus room for call arguments).
 */
#ifndef RELIVE_RESTORE_MM_H
#define RELIVE_RESTORE_MM_H

#include <stdbool.h>
#include <stddef.h>

#include "mm.pb-c.h"
#include "pagemap.pb-c.h"

struct remote;
struct restore_shmem;

/* Size of the scratch area: one page of code, the rest for arguments. */
#define RESTORE_SCRATCH_SIZE (16 * 4096UL)

/* The pages of one process, as loaded (and validated) from its images. */
struct mm_pages {
	PagemapEntry **entries; /* in pagemap order */
	size_t nr_entries;
	int pages_fd; /* pages-ID.img, or -1 when no entry has PE_PAGES */
	/* The image set's shared memory objects, mapped by VMA_SHARED_ANON
	 * and VMA_MEMFD VMAs (restore-shmem.h); NULL when there are none. */
	struct restore_shmem *shmem;
};

/*
 * Pick an address for the scratch area: a hole in the final layout (mm)
 * that is also free in the calling process right now (the child is a fork
 * of it, so it has the same layout until phase B).
 */
int restore_mm_pick_scratch(const MmEntry *mm, size_t len, unsigned long *ret);

/*
 * Rebuild the address space: unregister the forked rseq area, unmap
 * everything but the scratch area and the vdso cluster, move [vvar],
 * [vvar_vclock] and [vdso] to their dumped addresses (refusing when this
 * kernel's differ in size), map every VMA, fill the pages (all of them
 * when lazy is false; when true, PE_LAZY pages of private anonymous VMAs
 * are left for the lazy-pages daemon), fix protections, replay madvise
 * state, and set the mm fields and exe with PR_SET_MM_MAP.
 * rt->scratch/scratch_len must describe the scratch area (page-aligned, at
 * least two pages, outside every dumped VMA) with rt->syscall_ip in its
 * first page; the rest of it carries call arguments.
 * Two dumped neighbours that the kernel would merge if mapped afresh (they
 * had different anon_vmas) are kept apart; for that each gets one page
 * written now, even a lazy one: the lazy-pages daemon then sees EEXIST for
 * that page, which is benign.
 * Shared anonymous memory and memfd VMAs map the object pages->shmem
 * holds (recreated by relive on first use, the same for every sharer).
 * The scratch area stays mapped. Returns 0 or -errno, logged.
 */
int restore_mm(struct remote *rt, const MmEntry *mm, const struct mm_pages *pages, bool lazy);

#endif
