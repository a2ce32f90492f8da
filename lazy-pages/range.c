// SPDX-License-Identifier: GPL-2.0-or-later
/* Sorted list of missing page ranges: insert, remove, split, move, find. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "range.h"

#define PAGE_MASK_4K 4095ull

void lazy_ranges_init(struct lazy_ranges *l)
{
	memset(l, 0, sizeof(*l));
}

void lazy_ranges_fini(struct lazy_ranges *l)
{
	free(l->r);
	lazy_ranges_init(l);
}

static int reserve(struct lazy_ranges *l, size_t want)
{
	struct lazy_range *n;
	size_t cap;

	if (want <= l->cap)
		return 0;
	cap = l->cap ? l->cap : 16;
	while (cap < want) {
		if (__builtin_mul_overflow(cap, 2, &cap))
			return -ENOMEM;
	}
	n = reallocarray(l->r, cap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	l->r = n;
	l->cap = cap;
	return 0;
}

int lazy_ranges_copy(struct lazy_ranges *dst, const struct lazy_ranges *src)
{
	int r;

	dst->nr = 0;
	dst->nr_pages = 0;
	r = reserve(dst, src->nr);
	if (r < 0)
		return r;
	if (src->nr)
		memcpy(dst->r, src->r, src->nr * sizeof(*src->r));
	dst->nr = src->nr;
	dst->nr_pages = src->nr_pages;
	return 0;
}

/* Index of the first range whose end is above addr (nr if none). */
static size_t first_ending_after(const struct lazy_ranges *l, uint64_t addr)
{
	size_t lo = 0, hi = l->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->r[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int valid_span(uint64_t start, uint64_t end)
{
	return start < end && !(start & PAGE_MASK_4K) && !(end & PAGE_MASK_4K);
}

int lazy_ranges_insert(struct lazy_ranges *l, uint64_t start, uint64_t end, uint64_t src)
{
	size_t i;
	int r;

	if (!valid_span(start, end) || (src & PAGE_MASK_4K) || src + (end - start) < src)
		return -EINVAL;
	i = first_ending_after(l, start);
	if (i < l->nr && l->r[i].start < end)
		return -EEXIST;

	/*
	 * Neighbours are not merged: a range then never spans two pagemap
	 * entries, which keeps each UFFDIO_COPY inside one VMA as dumped.
	 */
	r = reserve(l, l->nr + 1);
	if (r < 0)
		return r;
	memmove(&l->r[i + 1], &l->r[i], (l->nr - i) * sizeof(*l->r));
	l->r[i] = (struct lazy_range){.start = start, .end = end, .src = src};
	l->nr++;
	l->nr_pages += (end - start) / 4096;
	return 0;
}

int lazy_ranges_remove(struct lazy_ranges *l, uint64_t start, uint64_t end)
{
	size_t i, j;

	if (start >= end)
		return 0;
	i = first_ending_after(l, start);
	if (i >= l->nr || l->r[i].start >= end)
		return 0;

	/* One range strictly containing [start, end): split it in two. */
	if (l->r[i].start < start && l->r[i].end > end) {
		struct lazy_range tail = l->r[i];
		int r = reserve(l, l->nr + 1);

		if (r < 0)
			return r;
		tail.src += end - tail.start;
		tail.start = end;
		l->r[i].end = start;
		memmove(&l->r[i + 2], &l->r[i + 1], (l->nr - i - 1) * sizeof(*l->r));
		l->r[i + 1] = tail;
		l->nr++;
		l->nr_pages -= (end - start) / 4096;
		return 0;
	}
	/* Trim the head of the first range (it starts before start). */
	if (l->r[i].start < start) {
		l->nr_pages -= (l->r[i].end - start) / 4096;
		l->r[i].end = start;
		i++;
	}
	/* Whole ranges inside, then possibly the head of the last. */
	j = i;
	while (j < l->nr && l->r[j].end <= end) {
		l->nr_pages -= (l->r[j].end - l->r[j].start) / 4096;
		j++;
	}
	if (j < l->nr && l->r[j].start < end) {
		l->nr_pages -= (end - l->r[j].start) / 4096;
		l->r[j].src += end - l->r[j].start;
		l->r[j].start = end;
	}
	memmove(&l->r[i], &l->r[j], (l->nr - j) * sizeof(*l->r));
	l->nr -= j - i;
	return 0;
}

int lazy_ranges_move(struct lazy_ranges *l, uint64_t from, uint64_t to, uint64_t len)
{
	struct lazy_range *moved = NULL;
	size_t nr = 0, i;
	int r;

	if (!len || !valid_span(from, from + len) || !valid_span(to, to + len))
		return -EINVAL;
	/* Collect the pieces of [from, from + len). */
	for (i = first_ending_after(l, from); i < l->nr && l->r[i].start < from + len; i++) {
		struct lazy_range p = l->r[i];
		struct lazy_range *n;

		if (p.start < from) {
			p.src += from - p.start;
			p.start = from;
		}
		if (p.end > from + len)
			p.end = from + len;
		n = reallocarray(moved, nr + 1, sizeof(*n));
		if (!n) {
			free(moved);
			return -ENOMEM;
		}
		moved = n;
		moved[nr++] = p;
	}
	r = lazy_ranges_remove(l, from, from + len);
	if (r == 0)
		r = lazy_ranges_remove(l, to, to + len);
	for (i = 0; r == 0 && i < nr; i++)
		r = lazy_ranges_insert(l, moved[i].start - from + to, moved[i].end - from + to,
				       moved[i].src);
	free(moved);
	return r;
}

const struct lazy_range *lazy_ranges_find(const struct lazy_ranges *l, uint64_t addr)
{
	size_t i = first_ending_after(l, addr);

	if (i < l->nr && l->r[i].start <= addr)
		return &l->r[i];
	return NULL;
}

const struct lazy_range *lazy_ranges_next(const struct lazy_ranges *l, uint64_t addr)
{
	size_t i = first_ending_after(l, addr);

	return i < l->nr ? &l->r[i] : NULL;
}
