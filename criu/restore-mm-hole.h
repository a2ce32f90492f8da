/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Free-spot search in an address space described by busy ranges: where the
 * restorer puts its scratch area and where the vdso cluster waits while it
 * moves. Pure code, unit-tested.
 */
#ifndef RELIVE_RESTORE_MM_HOLE_H
#define RELIVE_RESTORE_MM_HOLE_H

#include <stddef.h>
#include <stdint.h>

struct mm_range {
	uint64_t start, end; /* [start, end), end > start */
};

/*
 * Find a page-aligned spot of len bytes inside [lo, hi) that overlaps none
 * of busy[] (any order, may overlap each other; sorted in place). The spot
 * is the middle of the largest hole, as far as possible from its
 * neighbours, so nothing merges with it or grows into it. Returns 0 with
 * *ret set, -EINVAL for a zero or unaligned len or an empty range, -ENOSPC
 * when no hole is large enough.
 */
int mm_hole_pick(struct mm_range *busy, size_t nr, uint64_t len, uint64_t lo, uint64_t hi,
		 uint64_t *ret);

/* True when [a_start, a_end) and [b_start, b_end) share a byte. */
static inline int mm_ranges_overlap(uint64_t a_start, uint64_t a_end, uint64_t b_start,
				    uint64_t b_end)
{
	return a_start < b_end && b_start < a_end;
}

#endif
