// SPDX-License-Identifier: GPL-2.0-or-later
/* Free-spot search among busy address ranges (scratch area, vdso transit). */
#include <errno.h>
#include <stdlib.h>

#include "restore-mm-hole.h"

#define HOLE_PAGE 4096ull

static int range_cmp(const void *a, const void *b)
{
	const struct mm_range *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

int mm_hole_pick(struct mm_range *busy, size_t nr, uint64_t len, uint64_t lo, uint64_t hi,
		 uint64_t *ret)
{
	uint64_t best_start = 0, best_len = 0, cur;

	if (!len || (len & (HOLE_PAGE - 1)) || (lo & (HOLE_PAGE - 1)) || hi <= lo)
		return -EINVAL;
	hi &= ~(HOLE_PAGE - 1);
	qsort(busy, nr, sizeof(*busy), range_cmp);
	/* Walk the holes between the busy ranges, clipped to [lo, hi). */
	cur = lo;
	for (size_t i = 0; i <= nr; i++) {
		uint64_t next = i < nr ? busy[i].start : hi;

		if (next > hi)
			next = hi;
		next &= ~(HOLE_PAGE - 1);
		if (next > cur && next - cur > best_len) {
			best_start = cur;
			best_len = next - cur;
		}
		if (i < nr && busy[i].end > cur) {
			/* round the end of a busy range up to a page */
			cur = busy[i].end > UINT64_MAX - HOLE_PAGE
				  ? UINT64_MAX & ~(HOLE_PAGE - 1)
				  : (busy[i].end + HOLE_PAGE - 1) & ~(HOLE_PAGE - 1);
			if (cur >= hi)
				break;
		}
	}
	if (best_len < len)
		return -ENOSPC;
	*ret = best_start + (((best_len - len) / 2) & ~(HOLE_PAGE - 1));
	return 0;
}
